# The evolution step of one population: its initialisation, one mutation
# attempt, and one iteration (`evolve!`: `ncycles_per_iteration` rounds of
# tournament selection, mutation or crossover, annealing acceptance and
# age-regularised replacement, then simplification and constant fitting).

"""A random tree that satisfies the constraints (falls back to a single leaf)."""
function random_valid_tree(nnodes::Int, opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    for _ in 1:20
        t = random_tree(nnodes, opts, nfeatures, rng)
        check_constraints(t, opts) && return t
    end
    return random_leaf(nfeatures, rng)
end

"""
A population of `opts.evolution.population_size`: copies of `seeds` first,
then random trees. `hof_loss`: the hall of fame's loss per complexity (the
bar for the population's `best`). A batched population draws its first
batch here, and its `best` is re-scored on the full data.
"""
function init_population_state(seed::UInt, data::Dataset, opts::Options,
                               seeds::Vector{Node}=Node[],
                               hof_loss::Vector{Float64}=fill(Inf, opts.constraints.maxsize))::PopulationState
    ps = PopulationState(seed, data, opts)
    snapshot_hof!(ps, hof_loss)
    ps.batched && draw_batch!(ps, data)
    rng = ps.rng
    for i in 1:opts.evolution.population_size
        t = i <= length(seeds) ? copy_tree(seeds[i]) :
            random_valid_tree(rand(rng, 1:min(5, opts.constraints.maxsize)), opts, data.nfeatures, rng)
        push!(ps.pop.members, new_member(t, ps, data, opts))
    end
    rescore_best!(ps, data, opts)
    return ps
end

"""
The parent again as a new member (a new birth) after a rejected or empty
step. It shares the parent's tree: member trees are never modified in place
(mutation, crossover, simplification and constant fitting all work on
copies), so no copy is needed, and none is made (most steps are rejected;
copying the tree each time was a large share of the search's allocations).
"""
function parent_again(parent::PopMember, ps::PopulationState)::PopMember
    ps.births += 1
    return PopMember(parent.tree, parent.loss, parent.score, parent.complexity, ps.births)
end

"""One mutation attempt of `parent`; returns the child (or the parent again, `parent_again`, if rejected)."""
function mutation_step(parent::PopMember, temperature::Float64, ps::PopulationState,
                       data::Dataset, opts::Options, freq::Vector{Float64})::PopMember
    rng = ps.rng
    kind = choose_mutation(parent.tree, opts, data.nfeatures, rng)
    kind === :do_nothing && return parent_again(parent, ps)
    tree = mutate(parent.tree, kind, temperature, opts, data.nfeatures, rng)
    check_constraints(tree, opts) || return parent_again(parent, ps)
    child = if kind === :optimize
        om = optimized_member(parent, ps, data, opts)
        om === parent ? parent_again(parent, ps) : om
    else
        new_member(tree, ps, data, opts)
    end
    if accept_candidate(child.score, parent.score, child.complexity, parent.complexity,
                        temperature, freq, opts, rng)
        return child
    end
    return parent_again(parent, ps)
end

"""Replace the oldest member by `m` and account for it."""
function replace_oldest!(ps::PopulationState, m::PopMember)
    ps.pop.members[oldest_index(ps.pop)] = m
    1 <= m.complexity <= length(ps.freq) && (ps.freq[m.complexity] += 1.0)
end

"""
    evolve!(ps, data, opts, freq, stop)

One iteration of one population: `ncycles_per_iteration` temperature steps
(T from 1 down to 0), each a round of tournament selection, mutation or
crossover, annealing acceptance and age-regularised replacement; then
constant optimisation of members with probability `optimize_probability`.
With batching the iteration starts on a fresh batch (members re-scored on
it) and ends with `best` re-scored on the full data.
"""
function evolve!(ps::PopulationState, data::Dataset, opts::Options,
                 freq::Vector{Float64}, stop::StopSignal)
    rng = ps.rng
    if ps.batched
        draw_batch!(ps, data)
        rescore_members!(ps, data, opts)
    end
    nc = opts.evolution.ncycles_per_iteration
    rounds = cld(opts.evolution.population_size, opts.selection.tournament_selection_n)
    for cycle in 1:nc
        temperature = nc > 1 ? 1.0 - (cycle - 1) / (nc - 1) : 1.0
        for _ in 1:rounds
            if rand(rng) < opts.evolution.crossover_probability
                a = tournament(ps.pop, freq, opts, rng, ps.idxbuf)
                b = tournament(ps.pop, freq, opts, rng, ps.idxbuf)
                ta, tb = crossover_trees(a.tree, b.tree, rng)
                if check_constraints(ta, opts) && check_constraints(tb, opts)
                    replace_oldest!(ps, new_member(ta, ps, data, opts))
                    replace_oldest!(ps, new_member(tb, ps, data, opts))
                end
            else
                parent = tournament(ps.pop, freq, opts, rng, ps.idxbuf)
                replace_oldest!(ps, mutation_step(parent, temperature, ps, data, opts, freq))
            end
        end
        if stop_requested(stop)
            break
        end
        maybe_yield(ps)   # let the coordinating task (progress, interrupts) run
    end
    # constant optimisation (and simplification) of a random subset
    for (i, m) in enumerate(ps.pop.members)
        if opts.evolution.should_simplify && m.tree.degree > 0
            s = simplify_tree(m.tree, opts)
            if count_nodes(s) < count_nodes(m.tree) && check_constraints(s, opts)
                m = new_member(s, ps, data, opts)
                ps.pop.members[i] = m
            end
        end
        if rand(rng) < opts.constant_fitting.optimize_probability && count_constants(m.tree) > 0
            ps.pop.members[i] = optimized_member(m, ps, data, opts)
        end
    end
    rescore_best!(ps, data, opts)
    return ps
end

