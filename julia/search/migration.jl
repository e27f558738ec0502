# Migration between populations after each iteration: members are replaced
# by copies from the best of all populations and from the hall of fame. The
# coordinator draws the plan (`migration_plan`, from the islands' migrant
# pools); each island applies its part (`apply_migrants!`) wherever it lives.

"""
    migration_plan(pools, popsize, hof, opts, rng) -> plan

`plan[i]`: `slot => migrant` pairs for island `i`. Each slot of each island is
replaced with probability `fraction_replaced` by a copy of a random member of
the pool (the `topn` best members of every island, `pools[i]`), else with
probability `fraction_replaced_hof` by a copy of a random front member.
"""
function migration_plan(pools::Vector{Vector{PopMember}}, popsize::Int, hof::HallOfFame,
                        opts::Options, rng::AbstractRNG)::Vector{Vector{Pair{Int,PopMember}}}
    pool = reduce(vcat, pools; init=PopMember[])
    # seed expressions above maxsize stay in the hall of fame, out of the populations
    front = filter(m -> m.complexity <= opts.constraints.maxsize, pareto_front(hof))
    mig = opts.migration
    plan = [Pair{Int,PopMember}[] for _ in pools]
    for i in eachindex(pools), slot in 1:popsize
        r = rand(rng)
        if r < mig.fraction_replaced && !isempty(pool)
            src = pool[rand(rng, 1:length(pool))]
        elseif r < mig.fraction_replaced + mig.fraction_replaced_hof && !isempty(front)
            src = front[rand(rng, 1:length(front))]
        else
            continue
        end
        push!(plan[i], slot => copy_member(src))
    end
    return plan
end

"""Put the migrants of `moves` (slot => member) into `ps`; a migrant takes its slot's age."""
function apply_migrants!(ps::PopulationState, moves::Vector{Pair{Int,PopMember}})
    for (slot, src) in moves
        slot <= length(ps.pop.members) || continue
        m = copy_member(src)
        m.birth = ps.pop.members[slot].birth
        ps.pop.members[slot] = m
    end
    return ps
end
