# Islands: the populations of a search and where they evolve. The main loop
# (julia/search/run.jl) talks to an `IslandRunner`; `LocalIslands` evolves its
# islands in this process (serially or on Julia threads), and
# `DistributedIslands` (julia/parallel/) spreads them over worker processes,
# each of which holds a `LocalIslands` of its own.
#
# An iteration of an island depends only on its members, its RNG (re-seeded
# at the start of every iteration from the island's seed and the iteration
# number, `reseed!`), the hall-of-fame losses and complexity frequencies the
# coordinator sends, and the migrants it receives: so a seeded deterministic
# search gives the same front whatever the layout, and a checkpoint needs no
# RNG state beyond the seeds.

"""What one island sends back to the coordinator after an iteration (or its start)."""
struct IslandReport
    island::Int
    best::Vector{Union{Nothing,PopMember}}   # best candidate per complexity this iteration
    freq::Vector{Float64}                    # complexity counts of its births this iteration
    pool::Vector{PopMember}                  # its `topn` members by score (migrant pool)
    evals::Int                               # candidate evaluations so far (cumulative)
    eval_ns::UInt64                          # evaluator time so far
    node_rows::Int                           # node-rows evaluated so far
    batched::Bool
end

"""
What an iteration of the islands takes besides their states: the hall of
fame's losses and the complexity frequencies (both as they were one iteration
earlier than the iteration before it) and the migrants (`moves[i]`: slot =>
member for island i; empty: none). `will_run`: whether the iteration these
are for will run (false after the last one: nothing may start ahead).
"""
struct IterationInputs
    hof_loss::Vector{Float64}
    freq::Vector{Float64}
    moves::Vector{Vector{Pair{Int,PopMember}}}
    will_run::Bool
end

"""The migrants of island `i` in `inp` (none when the plan is empty)."""
moves_of(inp::IterationInputs, i::Int)::Vector{Pair{Int,PopMember}} =
    isempty(inp.moves) ? Pair{Int,PopMember}[] : inp.moves[i]

"""The state of one island between iterations: enough to rebuild it (checkpoints, moving it to another process)."""
struct IslandSnapshot
    seed::UInt
    members::Vector{PopMember}
    births::Int
    evals::Int
end

"""
Where the islands evolve. A runner implements

    start_islands!(r, data, opts, seeds, popseeds, hof_loss, snapshots) -> Vector{IslandReport}
    iterate_islands!(r, iteration, hof_loss, freq, should_stop, next) -> Vector{IslandReport}
        # runs `iteration` with `hof_loss` and `freq`; `next::IterationInputs`: what the
        # iteration after takes (its migrants go in after this one; it may start early)
    island_snapshots(r) -> Vector{IslandSnapshot}
    islands_lost(r) -> Union{Nothing,String}   # why the iteration could not complete (all processes lost)
    layout_status(r) -> String           # "" or a note for the progress line
    close_islands!(r)

Reports and snapshots come in island order.
"""
abstract type IslandRunner end

"""Re-seed `rng` for `iteration` of the island with seed `seed` (same stream on any layout)."""
reseed!(rng::MersenneTwister, seed::UInt, iteration::Int) =
    Random.seed!(rng, UInt32[seed % UInt32, (seed >> 32) % UInt32, UInt32(iteration), 0x00006b53])

"""The `topn` members of a population by score (the migrant pool it offers)."""
function migrant_pool(ps::PopulationState, opts::Options)::Vector{PopMember}
    sorted = sort(ps.pop.members; by=m -> m.score)
    return sorted[1:min(opts.migration.topn, length(sorted))]
end

island_report(i::Int, ps::PopulationState, opts::Options) =
    IslandReport(i, copy(ps.best), copy(ps.freq), migrant_pool(ps, opts), ps.evals, eval_ns(ps),
                 node_rows(ps), ps.batched)

"""
    LocalIslands(; threaded = true)

Islands in this process: evolved one after the other (`threaded = false`,
parallelism "serial") or as one task each on Julia's threads. `ids` are the
global island numbers it holds (all of them, unless it serves a worker
process of a `DistributedIslands`).
"""
mutable struct LocalIslands <: IslandRunner
    threaded::Bool
    ids::Vector{Int}
    seeds::Vector{UInt}
    states::Vector{PopulationState}
    data::Union{Nothing,Dataset}
    opts::Union{Nothing,Options}
    stop::StopSignal
end
LocalIslands(; threaded::Bool=true) =
    LocalIslands(threaded, Int[], UInt[], PopulationState[], nothing, nothing,
                 StopSignal(Threads.Atomic{Bool}(false), Inf))

"""Set the deadline after which islands stop mid-iteration (timed, non-deterministic runs)."""
function set_deadline!(r::LocalIslands, deadline::Float64)
    r.stop = StopSignal(r.stop.flag, deadline)
    return r
end

"""Ask the islands to end the current iteration early (an interrupt)."""
request_stop!(r::LocalIslands) = (r.stop.flag[] = true; r)

"""Was the current iteration cut short by a stop request?"""
islands_stopped(r::LocalIslands) = r.stop.flag[]

"""Run `f(k)` for k in 1:n, on threads when `threaded`; returns the results in order."""
function run_each(f, n::Int, threaded::Bool, should_stop::Function, r::LocalIslands)
    threaded || return [f(k) for k in 1:n]
    tasks = [Threads.@spawn f(k) for k in 1:n]
    # polling the caller's stop request so an interrupt takes effect mid-iteration
    wait_polling(tasks) do
        !r.stop.flag[] && should_stop() && (r.stop.flag[] = true)
    end
    return [fetch(t) for t in tasks]   # rethrows an island's exception
end

"""
    wait_polling(poll, tasks)

Wait until every task of `tasks` has ended, calling `poll()` about every 10 ms
meanwhile (stop requests). Returns when the last task ends, not at the next
tick of the poll (with 8 islands of ~25 ms an iteration, waiting for a tick
cost ~5 ms an iteration). A task's error is left for `fetch`.
"""
function wait_polling(poll::Function, tasks::Vector{Task})
    finished = Ref(false)
    @async while !finished[]
        poll()
        sleep(0.01)
    end
    for t in tasks
        try
            wait(t)
        catch
        end
    end
    finished[] = true
    return nothing
end

"""A population state from a snapshot (members kept as they are, counters restored)."""
function restore_population_state(s::IslandSnapshot, data::Dataset, opts::Options,
                                  hof_loss::Vector{Float64})::PopulationState
    ps = PopulationState(s.seed, data, opts)
    snapshot_hof!(ps, hof_loss)
    append!(ps.pop.members, s.members)
    ps.births = s.births
    ps.evals = s.evals
    return ps
end

function start_islands!(r::LocalIslands, data::Dataset, opts::Options, ids::Vector{Int},
                        seeds::Vector{UInt}, popseeds::Vector{Vector{Node}}, hof_loss::Vector{Float64},
                        snapshots::Union{Nothing,Vector{IslandSnapshot}}=nothing)
    r.ids = copy(ids); r.seeds = copy(seeds); r.data = data; r.opts = opts
    init(k) = snapshots === nothing ?
        init_population_state(seeds[k], data, opts, popseeds[k], hof_loss) :
        restore_population_state(snapshots[k], data, opts, hof_loss)
    r.states = run_each(init, length(ids), r.threaded, () -> false, r)
    return [island_report(r.ids[k], r.states[k], opts) for k in eachindex(r.states)]
end

start_islands!(r::LocalIslands, data::Dataset, opts::Options, seeds::Vector{UInt},
               popseeds::Vector{Vector{Node}}, hof_loss::Vector{Float64},
               snapshots::Union{Nothing,Vector{IslandSnapshot}}=nothing) =
    start_islands!(r, data, opts, collect(1:length(seeds)), seeds, popseeds, hof_loss, snapshots)

"""
    iterate_island!(ps, island, seed, iteration, data, opts, hof_loss, freq, stop) -> IslandReport

One iteration of the island `island` (number `island`, seed `seed`) whose
state is `ps`: its RNG re-seeded for `iteration`, its per-iteration records
cleared, the hall-of-fame losses taken, then `evolve!`. The same call on any
layout, so an island's iteration does not depend on where it runs.
"""
function iterate_island!(ps::PopulationState, island::Int, seed::UInt, iteration::Int, data::Dataset,
                         opts::Options, hof_loss::Vector{Float64}, freq::Vector{Float64},
                         stop::StopSignal)::IslandReport
    reseed!(ps.rng, seed, iteration)
    fill!(ps.best, nothing)
    fill!(ps.freq, 0.0)
    snapshot_hof!(ps, hof_loss)
    evolve!(ps, data, opts, freq, stop)
    return island_report(island, ps, opts)
end

function iterate_islands!(r::LocalIslands, iteration::Int, hof_loss::Vector{Float64},
                          freq::Vector{Float64}, should_stop::Function=() -> false,
                          next::Union{Nothing,IterationInputs}=nothing)
    data = r.data::Dataset; opts = r.opts::Options
    step(k) = iterate_island!(r.states[k], r.ids[k], r.seeds[k], iteration, data, opts, hof_loss, freq, r.stop)
    reports = run_each(step, length(r.states), r.threaded, should_stop, r)
    # the migrants of the next iteration go in now (a distributed runner may start it earlier)
    next === nothing || isempty(next.moves) || migrate_islands!(r, next.moves[r.ids])
    return reports
end

"""Apply `plan` (indexed like the islands `r` holds)."""
function migrate_islands!(r::LocalIslands, plan::Vector{Vector{Pair{Int,PopMember}}})
    for (k, ps) in enumerate(r.states)
        apply_migrants!(ps, plan[k])
    end
    return r
end

"""The snapshot of one island's state (its members copied)."""
island_snapshot(ps::PopulationState, seed::UInt) = IslandSnapshot(seed, copy(ps.pop.members), ps.births, ps.evals)

island_snapshots(r::LocalIslands) = [island_snapshot(ps, r.seeds[k]) for (k, ps) in enumerate(r.states)]

islands_lost(r::LocalIslands) = nothing
layout_status(r::LocalIslands) = ""
close_islands!(r::LocalIslands) = (r.states = PopulationState[]; r)
