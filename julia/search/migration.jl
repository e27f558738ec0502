# Migration between populations after each iteration: members are replaced
# by copies from the best of all populations, from the hall of fame and from
# the user's guesses (their constants fitted once, at the start). The
# coordinator draws the plan (`migration_plan`, from the islands' migrant
# pools); each island applies its part (`apply_migrants!`) wherever it lives.

"""
    migration_plan(pools, popsize, hof, opts, rng, guesses=PopMember[]) -> plan

`plan[i]`: `slot => migrant` pairs for island `i`. Each slot of each island is
replaced with probability `fraction_replaced` by a copy of a random member of
the pool (the `topn` best members of every island, `pools[i]`), else with
probability `fraction_replaced_hof` by a copy of a random front member, else
with probability `fraction_replaced_guesses` by a copy of a random member of
`guesses` (the fitted guesses within the constraints). One uniform draw per
slot decides, so without guesses the plan (and the RNG stream) is what it
was before guesses existed; a guess drawn for a slot costs one more draw.
"""
function migration_plan(pools::Vector{Vector{PopMember}}, popsize::Int, hof::HallOfFame,
                        opts::Options, rng::AbstractRNG,
                        guesses::Vector{PopMember}=PopMember[])::Vector{Vector{Pair{Int,PopMember}}}
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
        elseif r < mig.fraction_replaced + mig.fraction_replaced_hof + mig.fraction_replaced_guesses &&
               !isempty(guesses)
            src = guesses[rand(rng, 1:length(guesses))]
        else
            continue
        end
        push!(plan[i], slot => copy_member(src))
    end
    return plan
end

"""
Put the migrants of `moves` (slot => member) into `members` (a population's,
or a snapshot's: the same result); a migrant takes its slot's age.
"""
function apply_migrants!(members::Vector{PopMember}, moves::Vector{Pair{Int,PopMember}})
    for (slot, src) in moves
        slot <= length(members) || continue
        m = copy_member(src)
        m.birth = members[slot].birth
        members[slot] = m
    end
    return members
end
apply_migrants!(ps::PopulationState, moves::Vector{Pair{Int,PopMember}}) = (apply_migrants!(ps.pop.members, moves); ps)
