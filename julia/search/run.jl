# The main loop of the search: the islands (populations) evolve, in this
# process or on worker processes (an `IslandRunner`, julia/search/islands.jl);
# after every iteration (a barrier) the hall of fame is updated, the
# coordinator draws the migration plan, progress is reported, a checkpoint
# may be taken, and the stopping rules are checked.
# Every island re-seeds its RNG from its seed and the iteration, so with a
# seed the result depends neither on thread scheduling nor on the layout
# (deterministic mode also disables time-based stopping).

"""Thrown by an `IslandRunner` when no worker process is left to evolve the islands."""
struct AllWorkersLost <: Exception
    msg::String
end
Base.showerror(io::IO, e::AllWorkersLost) = print(io, e.msg)

"""
    run_search(data, opts; on_progress, should_stop, islands, resume, on_checkpoint, seed_trees) -> SearchResult

Run the evolutionary search. `on_progress(p::SearchProgress)` is called on
the calling task roughly every `opts.control.progress_interval` seconds (and
once before the first iteration). `should_stop()` is polled on the calling
task; returning true ends the search cleanly and the result holds everything
found so far.

`islands`: where the populations evolve (`LocalIslands()`: this process's
threads; see julia/parallel/ for worker processes). `resume`: a
`SearchSnapshot` to continue from (warm start; `niterations` more
iterations are run). `on_checkpoint(s::SearchSnapshot)` is called every
`opts.control.checkpoint_interval` seconds (<= 0: never during the run) and
once at the end, with the state after the last completed iteration.
`seed_trees`: expressions to start from (julia/search/seed_expressions.jl): their
constants are fitted, they enter the hall of fame (even above `maxsize`) and
start the populations ahead of the enumerated ones (ignored on resume).
"""
function run_search(data::Dataset, opts::Options;
                    on_progress::Function=p -> nothing, should_stop::Function=() -> false,
                    islands::IslandRunner=LocalIslands(), resume::Union{Nothing,SearchSnapshot}=nothing,
                    on_checkpoint::Union{Nothing,Function}=nothing, seed_trees::Vector{Node}=Node[])
    try
        return _run_search(data, opts, on_progress, should_stop, islands, resume, on_checkpoint, seed_trees)
    finally
        close_islands!(islands)
    end
end

function _run_search(data::Dataset, opts::Options, on_progress::Function, should_stop::Function,
                     islands::IslandRunner, resume::Union{Nothing,SearchSnapshot},
                     on_checkpoint::Union{Nothing,Function}, seed_trees::Vector{Node})
    t0 = time()
    data.baseline_loss = baseline_loss(data, opts)
    control = opts.control
    npop = opts.evolution.populations
    timed = control.timeout_in_seconds > 0 && !control.deterministic
    deadline = timed ? t0 + control.timeout_in_seconds : Inf
    set_deadline!(islands, deadline)
    maxsize = opts.constraints.maxsize

    if resume === nothing
        master_seed = UInt(control.seed)
        master = MersenneTwister(master_seed)
        seeds = [rand(master, UInt) for _ in 1:npop]
        # seeding from exhaustive enumeration: the best distinct small expressions
        # go round-robin into the populations (a quarter of each at most), after
        # the given seed expressions
        enum_state = PopulationState(rand(master, UInt), data, opts; batched=false)
        given = seed_members(seed_trees, enum_state, data, opts)
        hof = HallOfFame(hof_capacity(given, maxsize))
        ranked = enumeration_seeds(data, opts, enum_state, t0)
        for m in enum_state.best
            m === nothing || offer!(hof, m)
        end
        foreach(m -> offer!(hof, m), given)
        popseeds = population_seeds(vcat(evolvable(given, opts), ranked), opts)
        other = (evals=enum_state.evals, eval_ns=eval_ns(enum_state), node_rows=node_rows(enum_state))
        freq = zeros(maxsize)
        it0 = 0; elapsed0 = 0.0
        snaps = nothing
    else
        check_resumable(resume, opts)
        master_seed = resume.master_seed
        seeds = UInt[s.seed for s in resume.islands]
        hof = snapshot_hof(resume, maxsize)
        popseeds = [Node[] for _ in 1:npop]
        other = (evals=resume.other_evals, eval_ns=UInt64(0), node_rows=0)
        freq = length(resume.freq) == maxsize ? copy(resume.freq) : zeros(maxsize)
        it0 = resume.iteration; elapsed0 = resume.elapsed
        snaps = resume.islands
    end
    mig_rng = MersenneTwister(master_seed)

    hof_loss = hof_losses!(Vector{Float64}(undef, maxsize), hof)   # what evolution can reach
    reports = start_islands!(islands, data, opts, seeds, popseeds, hof_loss, snaps)
    for r in reports, m in r.best
        m === nothing || offer!(hof, m)
    end

    latest = Dict{Int,IslandReport}(r.island => r for r in reports)
    evals() = other.evals + reduce(+, (r.evals for r in values(latest)); init=0)
    rate_evals0 = evals()
    last_progress = 0.0
    lost_message = ""
    function report(iter)
        el = time() - t0
        front = pareto_front(hof)
        on_progress(SearchProgress(iter - it0, control.niterations, evals(),
            el > 0 ? (evals() - (resume === nothing ? 0 : rate_evals0)) / el : 0.0, elapsed0 + el,
            isempty(front) ? Inf : front[end].loss,
            front_entries(hof, data, opts; uncertainties=false),
            isempty(lost_message) ? layout_status(islands) : lost_message))
        last_progress = time()
    end
    # a checkpoint only of a complete state (an island of a lost process may be missing until re-seeded)
    function checkpoint(iter)
        s = snapshot(iter)
        length(s.islands) == npop && on_checkpoint(s)
    end
    snapshot(iter) = SearchSnapshot(iter, master_seed, island_snapshots(islands),
        PopMember[m for m in hof.members if m !== nothing], copy(freq), other.evals, elapsed0 + time() - t0)
    last_checkpoint = time()
    report(it0)

    stop_reason = "niterations"
    iter = it0
    while iter < it0 + control.niterations
        if should_stop()
            stop_reason = "interrupted"; break
        end
        iter += 1
        hof_losses!(hof_loss, hof)
        reports = iterate_islands!(islands, iter, hof_loss, freq, should_stop)
        lost = false
        try
            append!(reports, reseed_lost_islands!(islands, iter,
                                                  filter(m -> m.complexity <= maxsize, pareto_front(hof)), hof_loss))
        catch err
            err isa AllWorkersLost || rethrow()
            stop_reason = "workers_lost"
            lost = true
            lost_message = err.msg
        end
        sort!(reports; by=r -> r.island)
        # barrier: merge in a fixed order (deterministic)
        for r in reports
            latest[r.island] = r
            for m in r.best
                m === nothing || offer!(hof, m)
            end
        end
        lost && break
        total = zeros(maxsize)
        for r in reports
            total .+= r.freq
        end
        s = sum(total)
        s > 0 && (freq .= total ./ s)
        reseed!(mig_rng, master_seed, iter)
        migrate_islands!(islands, migration_plan([r.pool for r in reports],
                                                 opts.evolution.population_size, hof, opts, mig_rng))

        front = pareto_front(hof)
        if islands_stopped(islands)
            stop_reason = "interrupted"; break
        end
        if on_checkpoint !== nothing && control.checkpoint_interval > 0 &&
           time() - last_checkpoint >= control.checkpoint_interval
            checkpoint(iter)
            last_checkpoint = time()
        end
        if time() > deadline
            stop_reason = "timeout"; break
        end
        if control.max_evals > 0 && evals() >= control.max_evals
            stop_reason = "max_evals"; break
        end
        if !isnan(control.early_stop_condition) && !isempty(front) &&
           front[end].loss <= control.early_stop_condition
            stop_reason = "early_stop_condition"; break
        end
        if time() - last_progress >= control.progress_interval
            report(iter)
        end
    end
    # the state to continue from: the last completed iteration, before the final polish
    on_checkpoint !== nothing && stop_reason != "workers_lost" && checkpoint(iter)
    # batching: the front's constants were fitted on batches; refit them on all rows
    any(r -> r.batched, values(latest)) && polish_constants!(hof, data, opts, MersenneTwister(master_seed))
    report(iter)
    return SearchResult(front_entries(hof, data, opts), stop_reason, iter - it0, evals(), time() - t0,
                        (other.eval_ns + reduce(+, (r.eval_ns for r in values(latest)); init=UInt64(0))) / 1e9,
                        other.node_rows + reduce(+, (r.node_rows for r in values(latest)); init=0))
end

"""
    polish_constants!(hof, data, opts, rng)

Refit the constants of every hall-of-fame formula on all rows of `data`
(one run from its current constants, no restarts); a refit replaces the
entry when it lowers the loss. Used after a batched search, whose constant
fits saw only batches.
"""
function polish_constants!(hof::HallOfFame, data::Dataset, opts::Options, rng::AbstractRNG)
    cf = opts.constant_fitting
    popts = copy(opts)
    popts.constant_fitting = ConstantFitting(cf.optimize_probability, cf.optimizer_iterations, 0)
    cw = ConstantWorkspace(data.n)
    for (c, m) in enumerate(hof.members)
        (m === nothing || count_constants(m.tree) == 0) && continue
        t = copy_tree(m.tree)
        f = optimize_constants!(t, data, popts, rng, cw)
        if isfinite(f) && f < m.loss
            hof.members[c] = PopMember(t, f, member_score(f, c, data.baseline_loss, opts), c, m.birth)
        end
    end
    return hof
end
