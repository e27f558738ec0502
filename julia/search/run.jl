# The main loop of the search. Its state between iterations is a
# `SearchState` (julia/search/search_state.jl), and `run_search` reads:
#
#     state = init_search(...)      the hall of fame and the islands' first members, fresh
#                                   (seed expressions, enumeration) or from a `SearchSnapshot`
#     report_progress!(state, ...)
#     while stop_reason(...) === nothing        the stop rules
#         iterate!(state, ...)      one iteration: the islands (populations) evolve, in this
#                                   process or on worker processes (an `IslandRunner`,
#                                   julia/search/islands.jl); then a barrier: the hall of fame
#                                   is updated, the coordinator draws the migration plan, a
#                                   checkpoint may be taken, the limits are checked, progress
#                                   is reported
#     end
#     finish(state, ...)            the final checkpoint, the constants polished, a SearchResult
#
# Every island re-seeds its RNG from its seed and the iteration, so with a
# seed the result depends neither on thread scheduling nor on the layout
# (deterministic mode also disables time-based stopping).

"""Thrown by an `IslandRunner` when no worker process is left to evolve the islands."""
struct AllWorkersLost <: Exception
    msg::String
end
Base.showerror(io::IO, e::AllWorkersLost) = print(io, e.msg)

"""
    run_search(data, opts; on_progress, should_stop, islands, resume, on_checkpoint, seed_trees, guess_trees)
        -> SearchResult

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
`guess_trees`: the user's guesses: seed expressions too (after `seed_trees`),
and those within the constraints, constants fitted, keep replacing a
fraction `fraction_replaced_guesses` of every population after each
iteration's migration (also on resume, where they are fitted again).
"""
function run_search(data::Dataset, opts::Options;
                    on_progress::Function=p -> nothing, should_stop::Function=() -> false,
                    islands::IslandRunner=LocalIslands(), resume::Union{Nothing,SearchSnapshot}=nothing,
                    on_checkpoint::Union{Nothing,Function}=nothing, seed_trees::Vector{Node}=Node[],
                    guess_trees::Vector{Node}=Node[])
    try
        state = init_search(data, opts, islands, resume, seed_trees, guess_trees)
        report_progress!(state, data, opts, islands, on_progress)
        while (state.stop_reason = stop_reason(state, opts, should_stop)) === nothing
            iterate!(state, data, opts, islands, should_stop, on_checkpoint, on_progress)
        end
        return finish(state, data, opts, islands, on_checkpoint, on_progress)
    finally
        close_islands!(islands)
    end
end

"""
    init_search(data, opts, islands, resume, seed_trees, guess_trees=Node[]) -> SearchState

Set the data's baseline loss and the deadline, and
start the search: fresh (`resume === nothing`: `fresh_search`) or from the
snapshot `resume` (`resumed_search`). The islands hold their first members
and the hall of fame their best.
"""
function init_search(data::Dataset, opts::Options, islands::IslandRunner,
                     resume::Union{Nothing,SearchSnapshot}, seed_trees::Vector{Node},
                     guess_trees::Vector{Node}=Node[])::SearchState
    t0 = time()
    data.baseline_loss = baseline_loss(data, opts)
    control = opts.control
    timed = control.timeout_in_seconds > 0 && !control.deterministic
    deadline = timed ? t0 + control.timeout_in_seconds : Inf
    set_deadline!(islands, deadline)
    state = resume === nothing ? fresh_search(data, opts, islands, seed_trees, guess_trees, t0, deadline) :
                                 resumed_search(data, opts, islands, resume, guess_trees, t0, deadline)
    state.last_checkpoint = time()
    return state
end

"""
A new search: the island seeds drawn from `opts.control.seed`, the given
seed expressions and the exhaustive enumeration into the hall of fame; the
best distinct small expressions go round-robin into the populations (a
quarter of each at most), after the given seed expressions and guesses.
"""
function fresh_search(data::Dataset, opts::Options, islands::IslandRunner, seed_trees::Vector{Node},
                      guess_trees::Vector{Node}, t0::Float64, deadline::Float64)::SearchState
    maxsize = opts.constraints.maxsize
    master_seed = UInt(opts.control.seed)
    master = MersenneTwister(master_seed)
    seeds = [rand(master, UInt) for _ in 1:opts.evolution.populations]
    enum_state = PopulationState(rand(master, UInt), data, opts; batched=false)
    given = seed_members(seed_trees, enum_state, data, opts)
    guessed = seed_members(guess_trees, enum_state, data, opts)    # none: no RNG draw, nothing changes
    given = vcat(given, guessed)
    hof = HallOfFame(hof_capacity(given, maxsize))
    ranked = enumeration_seeds(data, opts, enum_state, t0)
    for m in enum_state.best
        m === nothing || offer!(hof, m)
    end
    foreach(m -> offer!(hof, m), given)
    popseeds = population_seeds(vcat(evolvable(given, opts), ranked), opts)
    state = SearchState(t0, deadline, master_seed, hof, zeros(maxsize), 0, 0.0,
                        enum_state.evals, eval_ns(enum_state), node_rows(enum_state))
    state.guesses = evolvable(guessed, opts)
    launch_islands!(state, data, opts, islands, seeds, popseeds, nothing)
    return state
end

"""
A search continued from the snapshot `resume`: its islands, hall of fame,
frequencies and counters; the progress rate counts only this run's
evaluations.
"""
function resumed_search(data::Dataset, opts::Options, islands::IslandRunner, resume::SearchSnapshot,
                        guess_trees::Vector{Node}, t0::Float64, deadline::Float64)::SearchState
    check_resumable(resume, opts)
    maxsize = opts.constraints.maxsize
    freq = length(resume.freq) == maxsize ? copy(resume.freq) : zeros(maxsize)
    state = SearchState(t0, deadline, resume.master_seed, snapshot_hof(resume, maxsize), freq,
                        resume.iteration, resume.elapsed, resume.other_evals, UInt64(0), 0)
    if !isempty(guess_trees)
        # fitted again (a state of their own, seeded from the run's seed): they keep migrating in
        gs = PopulationState(hash((resume.master_seed, resume.iteration, :guesses)), data, opts; batched=false)
        state.guesses = evolvable(seed_members(guess_trees, gs, data, opts), opts)
        foreach(m -> offer!(state.hof, m), state.guesses)
    end
    launch_islands!(state, data, opts, islands, UInt[s.seed for s in resume.islands],
                    [Node[] for _ in 1:opts.evolution.populations], resume.islands)
    # what the next iterations take from before the checkpoint (an older checkpoint has none: the current)
    length(resume.lag_hof_loss) == maxsize && (state.lag_hof_loss = copy(resume.lag_hof_loss))
    length(resume.lag_freq) == maxsize && (state.lag_freq = copy(resume.lag_freq))
    length(resume.pending) == opts.evolution.populations && (state.pending = resume.pending)
    state.rate_evals0 = total_evals(state)
    return state
end

"""Start the islands (from seeds, or from snapshots) and take their first reports."""
function launch_islands!(state::SearchState, data::Dataset, opts::Options, islands::IslandRunner,
                         seeds::Vector{UInt}, popseeds::Vector{Vector{Node}},
                         snapshots::Union{Nothing,Vector{IslandSnapshot}})
    reports = start_islands!(islands, data, opts, seeds, popseeds, state.hof_loss, snapshots)
    for r in reports, m in r.best
        m === nothing || offer!(state.hof, m)
    end
    for r in reports
        state.latest[r.island] = r
    end
    hof_losses!(state.lag_hof_loss, state.hof)
    state.lag_freq = copy(state.freq)
    return state
end

"""
    iterate!(state, data, opts, islands, should_stop, on_checkpoint, on_progress)

One iteration: the islands evolve; at the barrier their reports are merged
in island order into the hall of fame, the complexity frequencies are
updated, the coordinator draws the migration plan, a checkpoint is taken
when one is due, the limits are checked (`limit_reached`) and, unless one
ends the search, progress is reported when due. Sets `state.stop_reason`
when the iteration ends the search (all worker processes lost, the islands
stopped by an interrupt, a limit).
"""
function iterate!(state::SearchState, data::Dataset, opts::Options, islands::IslandRunner,
                  should_stop::Function, on_checkpoint::Union{Nothing,Function}, on_progress::Function)
    control = opts.control
    maxsize = opts.constraints.maxsize
    hof = state.hof
    state.iteration += 1
    iter = state.iteration
    hof_losses!(state.hof_loss, hof)
    # this iteration takes the hall of fame and frequencies of one iteration earlier and the plan drawn
    # two iterations earlier, so an island can start it before the others have ended the last one
    next = IterationInputs(copy(state.hof_loss), copy(state.freq), state.pending,
                           iter < state.first_iteration + control.niterations)
    reports = iterate_islands!(islands, iter, state.lag_hof_loss, state.lag_freq, should_stop, next)
    state.lag_hof_loss = next.hof_loss
    state.lag_freq = next.freq
    lost = islands_lost(islands)
    if lost !== nothing
        state.stop_reason = "workers_lost"
        state.status = lost
    end
    sort!(reports; by=r -> r.island)
    # barrier: merge in a fixed order (deterministic)
    for r in reports
        state.latest[r.island] = r
        for m in r.best
            m === nothing || offer!(hof, m)
        end
    end
    lost === nothing || return state
    total = zeros(maxsize)
    for r in reports
        total .+= r.freq
    end
    s = sum(total)
    s > 0 && (state.freq .= total ./ s)
    reseed!(state.mig_rng, state.master_seed, iter)
    plan = migration_plan([r.pool for r in reports], opts.evolution.population_size, hof, opts,
                          state.mig_rng, state.guesses)
    # copies: the plan is used one iteration later, and a local island changes its members meanwhile
    state.pending = [Pair{Int,PopMember}[slot => copy_member(m) for (slot, m) in moves] for moves in plan]
    if islands_stopped(islands)
        state.stop_reason = "interrupted"
        return state
    end
    if on_checkpoint !== nothing && control.checkpoint_interval > 0 &&
       time() - state.last_checkpoint >= control.checkpoint_interval
        checkpoint!(state, opts, islands, on_checkpoint)
        state.last_checkpoint = time()
    end
    state.stop_reason = limit_reached(state, opts)
    # when a limit ends the search, `finish` reports
    if state.stop_reason === nothing && time() - state.last_progress >= control.progress_interval
        report_progress!(state, data, opts, islands, on_progress)
    end
    return state
end

"""
    stop_reason(state, opts, should_stop) -> Union{Nothing,String}

The stop rules, before an iteration: the reason the last iteration gave
(`iterate!`: "workers_lost", "interrupted", or a limit: `limit_reached`),
"niterations" when this run has done its iterations, "interrupted" when
`should_stop()`; `nothing`: go on.
"""
function stop_reason(state::SearchState, opts::Options, should_stop::Function)::Union{Nothing,String}
    state.stop_reason === nothing || return state.stop_reason
    state.iteration >= state.first_iteration + opts.control.niterations && return "niterations"
    should_stop() && return "interrupted"
    return nothing
end

"""
    limit_reached(state, opts) -> Union{Nothing,String}

The limits, checked after every iteration: "timeout" past the deadline,
"max_evals" at `max_evals` evaluations, "early_stop_condition" when the
lowest loss in the hall of fame reaches it; `nothing`: none reached.
"""
function limit_reached(state::SearchState, opts::Options)::Union{Nothing,String}
    control = opts.control
    time() > state.deadline && return "timeout"
    control.max_evals > 0 && total_evals(state) >= control.max_evals && return "max_evals"
    if !isnan(control.early_stop_condition)
        front = pareto_front(state.hof)
        !isempty(front) && front[end].loss <= control.early_stop_condition && return "early_stop_condition"
    end
    return nothing
end

"""
    finish(state, data, opts, islands, on_checkpoint, on_progress) -> SearchResult

The end of the search: the final checkpoint (the state after the last
completed iteration, before the polish; none when all worker processes were
lost), the constants of the front refitted on all rows after a batched
search, the final progress report, and the result.
"""
function finish(state::SearchState, data::Dataset, opts::Options, islands::IslandRunner,
                on_checkpoint::Union{Nothing,Function}, on_progress::Function)::SearchResult
    stop = state.stop_reason::String
    on_checkpoint !== nothing && stop != "workers_lost" && checkpoint!(state, opts, islands, on_checkpoint)
    # batching: the front's constants were fitted on batches; refit them on all rows
    any(r -> r.batched, values(state.latest)) &&
        polish_constants!(state.hof, data, opts, MersenneTwister(state.master_seed))
    report_progress!(state, data, opts, islands, on_progress)
    return SearchResult(front_entries(state.hof, data, opts), stop, state.iteration - state.first_iteration,
                        total_evals(state), time() - state.t0, eval_seconds(state), total_node_rows(state))
end

"""Report progress: iterations done in this run, evaluations and their rate, the front."""
function report_progress!(state::SearchState, data::Dataset, opts::Options, islands::IslandRunner,
                          on_progress::Function)
    el = time() - state.t0
    front = pareto_front(state.hof)
    on_progress(SearchProgress(state.iteration - state.first_iteration, opts.control.niterations,
        total_evals(state), el > 0 ? (total_evals(state) - state.rate_evals0) / el : 0.0, state.elapsed0 + el,
        isempty(front) ? Inf : front[end].loss,
        front_entries(state.hof, data, opts; uncertainties=false),
        isempty(state.status) ? layout_status(islands) : state.status))
    state.last_progress = time()
    return state
end

"""A checkpoint, only of a complete state (every island present)."""
function checkpoint!(state::SearchState, opts::Options, islands::IslandRunner, on_checkpoint::Function)
    s = search_snapshot(state, islands)
    length(s.islands) == opts.evolution.populations && on_checkpoint(s)
    return state
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
