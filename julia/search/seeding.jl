# Seeding of the populations from exhaustive enumeration: every distinct small
# expression is scored (the best of each complexity reaches the hall of
# fame), and the best ones start the populations.

"""Rows of the subsample that enumerated expressions are first scored on (when the data has more)."""
const ENUM_SCORE_ROWS = 500

"""Per complexity, this many of the best expressions on the subsample are also scored on all rows."""
const ENUM_KEEP_PER_COMPLEXITY = 3

"""The rows `rows` of `data` as a dataset (same names and baseline loss)."""
function row_subset(data::Dataset, rows::Vector{Int})::Dataset
    w = isempty(data.w) ? Float64[] : data.w[rows]
    return Dataset(data.X[rows, :], data.y[rows], w, length(rows), data.nfeatures, data.varnames,
                   data.baseline_loss, data.absolute_weights)
end

"""Score `tree` on `ps`'s rows, after a quick constant fit when it has constants."""
function scored_seed(tree::Node, ps::PopulationState, data::Dataset, opts::Options, qopts::Options)::PopMember
    m = new_member(tree, ps, data, opts)
    count_constants(tree) > 0 && (m = optimized_member(m, ps, data, qopts))
    return m
end

"""
    enumeration_seeds(data, opts, ps, t0) -> Vector{PopMember}

Seeding from exhaustive enumeration: every value-distinct expression up to
`opts.enumeration.enumerate_max_complexity` (at most `opts.enumeration.enumerate_max_candidates`,
within `opts.enumeration.enumerate_time_budget` seconds of `t0` unless deterministic;
see julia/evolution/enumeration.jl) is scored, those with constants after a
quick constant fit (no restarts). With linear scaling, expressions equal up
to `a*f + b` are scored once.

On more than `ENUM_SCORE_ROWS` rows the expressions are first scored on an
evenly spread subsample of that many rows; only the survivors (the best by
score, enough to seed every population; the best `ENUM_KEEP_PER_COMPLEXITY`
of each complexity; the best scaled variants) are then scored, and their
constants refitted, on all rows by `new_member` on `ps` (so the best
formula of each complexity lands in `ps.best` with its full-data loss).
`ps` must not be batched. Returns the members scored on all rows, best
score first.
"""
function enumeration_seeds(data::Dataset, opts::Options, ps::PopulationState, t0::Float64)::Vector{PopMember}
    K = opts.enumeration.enumerate_max_complexity
    K > 0 || return PopMember[]
    ps.batched && throw(ArgumentError("enumeration_seeds needs an unbatched population state"))
    deadline = opts.control.deterministic ? Inf : t0 + opts.enumeration.enumerate_time_budget
    en = enumerate_expressions(data.X, opts; max_complexity=K,
                               max_candidates=opts.enumeration.enumerate_max_candidates, deadline=deadline)
    idx = ps.scaling ? affine_distinct(en) : collect(eachindex(en.trees))
    # a quick constant fit: no restarts
    qopts = copy(opts)
    cf = opts.constant_fitting
    qopts.constant_fitting = ConstantFitting(cf.optimize_probability, cf.optimizer_iterations, 0)
    out = PopMember[]
    # the best constant (weighted mean of y) is the complexity-1 formula
    wm = isempty(data.w) ? mean(data.y) : sum(data.w .* data.y) / sum(data.w)
    push!(out, new_member(const_node(wm), ps, data, opts))
    candidates = Node[]
    for i in idx
        t = en.trees[i]
        (t.degree == 0 && t.isconst) || push!(candidates, t)
    end
    if data.n > ENUM_SCORE_ROWS
        candidates = subsample_survivors(candidates, data, opts, qopts, ps, deadline)
    end
    return score_candidates!(out, candidates, ps, data, opts, qopts, deadline)
end

"""
Score each of `candidates` (a copy, after a quick constant fit) on `ps`'s rows of
`data` until `deadline`; the finite ones are appended to `out`, returned best first.
"""
function score_candidates!(out::Vector{PopMember}, candidates::Vector{Node}, ps::PopulationState,
                           data::Dataset, opts::Options, qopts::Options, deadline::Float64)
    for t in candidates
        time() > deadline && break
        m = scored_seed(copy_tree(t), ps, data, opts, qopts)
        isfinite(m.score) && push!(out, m)
    end
    return sort!(out; by=m -> (m.score, m.complexity, m.birth))
end

"""
The enumerated `candidates` worth scoring on all rows, best first: each is
scored (after a quick constant fit) on an evenly spread subsample of
`ENUM_SCORE_ROWS` rows, and the best by score (enough to seed every
population), the best `ENUM_KEEP_PER_COMPLEXITY` of each complexity and the
best scaled variants (linear scaling) survive, with their fitted constants.
This phase stops at 70% of the time left before `deadline` (the rest is for
the survivors). The subsample's evaluations are accounted to `ps`.
"""
function subsample_survivors(candidates::Vector{Node}, data::Dataset, opts::Options, qopts::Options,
                             ps::PopulationState, deadline::Float64)::Vector{Node}
    sub = row_subset(data, subsample_rows(data.n, ENUM_SCORE_ROWS))
    sps = PopulationState(UInt(0), sub, opts; batched=false)
    # leave a share of the time budget to the survivors' scoring on all rows
    now = time()
    sdeadline = isfinite(deadline) ? now + 0.7 * (deadline - now) : Inf
    scored = score_candidates!(PopMember[], candidates, sps, sub, opts, qopts, sdeadline)
    nseed = opts.evolution.populations * max(1, opts.evolution.population_size ÷ 4)
    kept = falses(length(scored))
    per = zeros(Int, opts.constraints.maxsize)
    for (j, m) in enumerate(scored)
        c = m.complexity
        if j <= nseed || (1 <= c <= length(per) && per[c] < ENUM_KEEP_PER_COMPLEXITY)
            kept[j] = true
        end
        1 <= c <= length(per) && (per[c] += 1)
    end
    survivors = Node[m.tree for (j, m) in enumerate(scored) if kept[j]]
    if sps.scaling       # linear scaling: the best explicit variants (else sps.best is among `scored`)
        for m in sps.best
            m === nothing || push!(survivors, m.tree)
        end
    end
    # account the subsample's work to ps (evaluations, evaluator time, node-rows)
    ps.evals += sps.evals
    ps.lwx.ws.eval_ns += eval_ns(sps)
    ps.lwx.ws.node_rows += node_rows(sps)
    return survivors
end


"""
    population_seeds(ranked, opts) -> Vector{Vector{Node}}

The seed trees of each population: the best `ranked` members go round-robin
into the populations, a quarter of each population at most.
"""
function population_seeds(ranked::Vector{PopMember}, opts::Options)::Vector{Vector{Node}}
    npop = opts.evolution.populations
    popseeds = [Node[] for _ in 1:npop]
    nseed = max(1, opts.evolution.population_size ÷ 4)
    for (j, m) in enumerate(ranked)
        p = mod1(j, npop)
        length(popseeds[p]) < nseed && push!(popseeds[p], m.tree)
        j >= nseed * npop && break
    end
    return popseeds
end
