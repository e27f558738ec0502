# Migration between populations after each iteration: members are replaced
# by copies from the best of all populations and from the hall of fame.

"""Move migrants into each population: from the best of all populations and from the hall of fame."""
function migrate!(states::Vector{PopulationState}, hof::HallOfFame, opts::Options,
                  rng::AbstractRNG)
    # pool: the topn members (by score) of each population
    pool = PopMember[]
    for ps in states
        sorted = sort(ps.pop.members; by=m -> m.score)
        append!(pool, sorted[1:min(opts.migration.topn, length(sorted))])
    end
    front = pareto_front(hof)
    for ps in states
        n = length(ps.pop.members)
        for i in 1:n
            r = rand(rng)
            if r < opts.migration.fraction_replaced && !isempty(pool)
                src = pool[rand(rng, 1:length(pool))]
            elseif r < opts.migration.fraction_replaced + opts.migration.fraction_replaced_hof && !isempty(front)
                src = front[rand(rng, 1:length(front))]
            else
                continue
            end
            m = copy_member(src)
            m.birth = ps.pop.members[i].birth     # migrant takes the slot's age
            ps.pop.members[i] = m
        end
    end
end

