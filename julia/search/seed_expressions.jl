# Seed expressions given with a fit (the candidates of decomposition, or
# formulas the caller already suspects): their constants are fitted on all
# rows, they are offered to the hall of fame like any candidate, and those
# within the search's constraints start the populations. A seed may be larger
# than `maxsize` (a decomposed law written in the original variables often
# is): the hall of fame is made large enough to hold it, while evolution
# keeps to `maxsize`.

"""
    seed_members(trees, ps, data, opts) -> Vector{PopMember}

Score each tree of `trees` (a copy) on all rows of `data` after a full
constant fit (with restarts) on `ps`. Members with a non-finite loss, or
that are dimensionally inconsistent under `opts.dims`, are dropped: the
front never shows them. Returned best score first.
"""
function seed_members(trees::Vector{Node}, ps::PopulationState, data::Dataset, opts::Options)::Vector{PopMember}
    out = PopMember[]
    for t in trees
        m = new_member(copy_tree(t), ps, data, opts)
        count_constants(t) > 0 && (m = optimized_member(m, ps, data, opts))
        isfinite(m.loss) || continue
        dimension_penalties(m.tree, opts)[1] == 0.0 || continue
        push!(out, m)
    end
    return sort!(out; by=m -> (m.score, m.complexity))
end

"""Complexity the hall of fame must hold: `maxsize`, or more for larger seeds."""
hof_capacity(seeds::Vector{PopMember}, maxsize::Int)::Int =
    max(maxsize, mapreduce(m -> m.complexity, max, seeds; init=0))

"""Seed members the populations can hold: within every size, depth and operator constraint."""
evolvable(seeds::Vector{PopMember}, opts::Options)::Vector{PopMember} =
    PopMember[m for m in seeds if check_constraints(m.tree, opts)]

"""
    fit_seed_expressions(data, opts, trees) -> SearchResult

Fit the constants of each tree of `trees` (a copy, structure unchanged) on
all rows of `data`, with restarts as for a seed, and nothing else: no
evolution, no enumeration, no Pareto filtering. The result's "front" holds
one entry per tree, in the given order (loss `Inf` when it cannot be
evaluated), each with the standard errors and the covariance matrix of its
constants. Its stop reason is "fit_only". The `fit_only` fit message
(docs/PROTOCOL.md) runs this instead of the search.
"""
function fit_seed_expressions(data::Dataset, opts::Options, trees::Vector{Node})::SearchResult
    t0 = time()
    data.baseline_loss = baseline_loss(data, opts)
    ps = PopulationState(UInt(opts.control.seed), data, opts; batched=false)
    entries = FrontEntry[]
    for t in trees
        m = new_member(copy_tree(t), ps, data, opts)
        count_constants(t) > 0 && (m = optimized_member(m, ps, data, opts))
        k = count_constants(m.tree)
        ok = isfinite(m.loss)
        se = ok ? constant_uncertainties(m.tree, data, opts) : fill(NaN, k)
        cov = ok ? constant_covariance(m.tree, data, opts) : fill(NaN, k, k)
        push!(entries, FrontEntry(m.tree, m.complexity, m.loss, m.score, se, cov))
    end
    return SearchResult(entries, "fit_only", 0, ps.evals, time() - t0, 0.0, 0)
end
