# The state of one population while it evolves on its own thread
# (`PopulationState`), its mini-batch of rows when batching is on, the
# instrumentation of its evaluations, and the stop signal shared by the
# population tasks.
#
# Batching (options `batching`, `batch_size`): a batched population draws a
# fresh random sample of `batch_size` rows (without replacement) from its
# own RNG at the start of every iteration, re-scores its members on it, and
# scores every candidate and fits constants on it; so the members compared
# within an iteration share one batch, and a seeded run gives the same
# result on any number of threads. The per-complexity best of the iteration
# (`best`) is re-scored on the full data before it reaches the hall of fame
# (julia/search/scoring.jl: `rescore_best!`).

"""Everything one population needs while it evolves on its own thread."""
mutable struct PopulationState
    pop::Population
    rng::MersenneTwister
    lw::LossWorkspace                        # scoring rows (the batch, or all rows)
    lwx::LossWorkspace                       # for explicit (scaled) trees offered to `best`
    cw::ConstantWorkspace                    # constant fits on the scoring rows
    idxbuf::Vector{Int}
    best::Vector{Union{Nothing,PopMember}}   # best seen per complexity this iteration
    freq::Vector{Float64}                    # complexity frequencies (adaptive parsimony)
    births::Int
    evals::Int
    scaling::Bool
    scale_ops::ScalingOps
    # hall-of-fame loss per complexity when the iteration started (Inf: empty):
    # a candidate that does not beat it is not kept in `best`
    hof_loss::Vector{Float64}
    batched::Bool
    batch::Union{Nothing,Dataset}            # the current batch (batched only)
    perm::Vector{Int}                        # row permutation the batches are drawn from
    flw::LossWorkspace                       # full-data re-scoring (batched only; else 1 row)
    last_yield::UInt64                       # time_ns() of the last yield to other tasks
end

"""
    batching_active(opts, nrows) -> Bool

Does a search on `nrows` rows score on mini-batches? `batching = :on`: when
`batch_size < nrows`; `:auto`: when also `nrows > BATCHING_AUTO_ROWS`;
`:off`: never.
"""
function batching_active(opts::Options, nrows::Int)::Bool
    b = opts.batches
    b.batching === :off && return false
    b.batch_size < nrows || return false
    return b.batching === :on || nrows > BATCHING_AUTO_ROWS
end

"""
    PopulationState(seed, data, opts; batched = batching_active(opts, data.n))

An empty population with its RNG and workspaces. A batched one also holds
its batch (drawn by `draw_batch!`), sized `opts.batches.batch_size`.
"""
function PopulationState(seed::UInt, data::Dataset, opts::Options;
                         batched::Bool=batching_active(opts, data.n))
    maxsize = opts.constraints.maxsize
    m = batched ? opts.batches.batch_size : data.n
    batch = batched ? Dataset(Matrix{Float64}(undef, m, data.nfeatures), Vector{Float64}(undef, m),
                              isempty(data.w) ? Float64[] : Vector{Float64}(undef, m), m, data.nfeatures,
                              data.varnames, data.baseline_loss, data.absolute_weights) : nothing
    return PopulationState(Population(PopMember[]), MersenneTwister(seed), LossWorkspace(m),
        LossWorkspace(m), ConstantWorkspace(m), Int[],
        Union{Nothing,PopMember}[nothing for _ in 1:maxsize], zeros(maxsize), 0, 0,
        scaling_active(opts), ScalingOps(opts.ops), fill(Inf, maxsize), batched, batch,
        batched ? collect(1:data.n) : Int[], LossWorkspace(batched ? data.n : 1), time_ns())
end

"""The rows a population scores candidates on: its current batch, or all of `data`."""
@inline scoring_data(ps::PopulationState, data::Dataset)::Dataset =
    ps.batched ? ps.batch::Dataset : data

"""
    draw_batch!(ps, data)

A fresh batch: `batch_size` distinct rows drawn uniformly from `ps.rng`
(partial Fisher–Yates on `ps.perm`, reset to the identity first), copied
into `ps.batch`.
"""
function draw_batch!(ps::PopulationState, data::Dataset)
    bd = ps.batch::Dataset
    b = bd.n; n = data.n; perm = ps.perm
    # start from the identity, so a batch depends only on the RNG (checkpoints hold no permutation)
    @inbounds for i in 1:n
        perm[i] = i
    end
    @inbounds for i in 1:b
        j = rand(ps.rng, i:n)
        perm[i], perm[j] = perm[j], perm[i]
    end
    X = data.X; Xb = bd.X
    @inbounds for k in 1:data.nfeatures, i in 1:b
        Xb[i, k] = X[perm[i], k]
    end
    @inbounds for i in 1:b
        bd.y[i] = data.y[perm[i]]
    end
    if !isempty(data.w)
        @inbounds for i in 1:b
            bd.w[i] = data.w[perm[i]]
        end
    end
    bd.baseline_loss = data.baseline_loss
    return bd
end

"""Take the hall of fame's loss per complexity (the bar for `best` this iteration)."""
function snapshot_hof!(ps::PopulationState, hof_loss::Vector{Float64})
    copyto!(ps.hof_loss, hof_loss)
    return ps
end

"""Let other tasks (progress, interrupts) run, at most about once a millisecond."""
@inline function maybe_yield(ps::PopulationState)
    t = time_ns()
    if t - ps.last_yield >= 1_000_000
        ps.last_yield = t
        yield()
    end
    return nothing
end

"""The evaluation workspaces of a population (for the instrumentation)."""
eval_workspaces(ps::PopulationState) = (ps.lw.ws, ps.lwx.ws, ps.cw.lw.ws, ps.cw.wsd, ps.flw.ws)

"""Nanoseconds the population has spent in the evaluator (`eval_tree!`, Float64 and Dual)."""
eval_ns(ps::PopulationState)::UInt64 = sum(ws -> ws.eval_ns, eval_workspaces(ps))

"""Node-rows the population has evaluated (nodes x rows, per evaluation)."""
node_rows(ps::PopulationState)::Int = sum(ws -> ws.node_rows, eval_workspaces(ps))

"""Flags shared between the coordinating task and population tasks."""
struct StopSignal
    flag::Threads.Atomic{Bool}
    deadline::Float64      # time() after which populations stop (Inf: none)
end
stop_requested(s::StopSignal) = s.flag[] || time() > s.deadline
