# The main loop of the search: several populations evolved in parallel on
# Julia threads (julia/search/evolve.jl); after every iteration (a barrier)
# the hall of fame is updated, populations exchange migrants, progress is
# reported and the stopping rules are checked.
# Each population owns its RNG, so with a seed the result does not depend on
# thread scheduling (deterministic mode also disables time-based stopping).

"""
    run_search(data, opts; on_progress = p -> nothing, should_stop = () -> false) -> SearchResult

Run the evolutionary search. `on_progress(p::SearchProgress)` is called on
the calling task roughly every `opts.control.progress_interval` seconds (and
once before the first iteration).
`should_stop()` is polled on the calling task; returning true ends the search
cleanly and the result holds everything found so far.
"""
function run_search(data::Dataset, opts::Options;
                    on_progress::Function=p -> nothing, should_stop::Function=() -> false)
    t0 = time()
    validate_options(opts)
    data.baseline_loss = baseline_loss(data, opts)
    master = MersenneTwister(UInt(opts.control.seed))
    npop = opts.evolution.populations
    seeds = [rand(master, UInt) for _ in 1:npop]
    control = opts.control
    timed = control.timeout_in_seconds > 0 && !control.deterministic
    deadline = timed ? t0 + control.timeout_in_seconds : Inf
    stop = StopSignal(Threads.Atomic{Bool}(false), deadline)
    hof = HallOfFame(opts.constraints.maxsize)

    # seeding from exhaustive enumeration: the best distinct small expressions
    # go round-robin into the populations (a quarter of each at most)
    enum_state = PopulationState(rand(master, UInt), data, opts; batched=false)
    ranked = enumeration_seeds(data, opts, enum_state, t0)
    for m in enum_state.best
        m === nothing || offer!(hof, m)
    end
    popseeds = population_seeds(ranked, opts)

    states = Vector{PopulationState}(undef, npop)
    hof_loss = hof_losses(hof)
    tasks = [Threads.@spawn init_population_state(seeds[i], data, opts, popseeds[i], hof_loss) for i in 1:npop]
    for i in 1:npop
        states[i] = fetch(tasks[i])
    end
    for ps in states, m in ps.best
        m === nothing || offer!(hof, m)
    end

    freq = zeros(opts.constraints.maxsize)
    evals() = enum_state.evals + sum(ps.evals for ps in states)
    last_progress = 0.0
    function report(iter)
        el = time() - t0
        front = pareto_front(hof)
        on_progress(SearchProgress(iter, control.niterations, evals(),
            el > 0 ? evals() / el : 0.0, el, isempty(front) ? Inf : front[end].loss,
            front_entries(hof, data, opts; uncertainties=false)))
        last_progress = time()
    end
    report(0)

    stop_reason = "niterations"
    iter = 0
    while iter < control.niterations
        if should_stop()
            stop_reason = "interrupted"; break
        end
        iter += 1
        hof_losses!(hof_loss, hof)
        for ps in states
            fill!(ps.best, nothing)
            fill!(ps.freq, 0.0)
            snapshot_hof!(ps, hof_loss)
        end
        ptasks = [Threads.@spawn evolve!(states[i], data, opts, freq, stop) for i in 1:npop]
        # wait, polling the caller's stop request so an interrupt takes effect mid-iteration
        for t in ptasks
            while !istaskdone(t)
                if !stop.flag[] && should_stop()
                    stop.flag[] = true
                end
                sleep(0.01)
            end
            fetch(t)   # rethrows a population's exception
        end
        # barrier: merge in a fixed order (deterministic)
        for ps in states, m in ps.best
            m === nothing || offer!(hof, m)
        end
        total = zeros(opts.constraints.maxsize)
        for ps in states
            total .+= ps.freq
        end
        s = sum(total)
        s > 0 && (freq .= total ./ s)
        migrate!(states, hof, opts, master)

        front = pareto_front(hof)
        if stop.flag[]
            stop_reason = "interrupted"; break
        end
        if time() > stop.deadline
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
    # batching: the front's constants were fitted on batches; refit them on all rows
    any(ps -> ps.batched, states) && polish_constants!(hof, data, opts, master)
    report(iter)
    allstates = (enum_state, states...)
    return SearchResult(front_entries(hof, data, opts), stop_reason, iter, evals(), time() - t0,
                        sum(eval_ns, allstates) / 1e9, sum(node_rows, allstates))
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
