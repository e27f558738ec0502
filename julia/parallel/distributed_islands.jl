# `DistributedIslands`: the islands of a search spread over worker processes
# (Julia's Distributed), balanced as they run. The coordinator (this process)
# keeps every island's last state (`IslandSnapshot`, with the migrants
# planned for it) and hands out island iterations one at a time: a process
# that is free takes the next island it holds, else an island no process
# holds, else one still waiting on the busiest other process (work
# stealing; the island moves with its snapshot); with nothing of the current
# iteration left, it starts the next iteration of an island it holds that has
# ended this one (its inputs are known a call ahead: migration is one
# iteration late, julia/search/run.jl), so no process waits for the slowest
# island. Each process evolves as many islands at once as it has threads
# (julia/parallel/island_host.jl).
#
# An island's iteration depends only on its state, its seed and the
# iteration number, and what the coordinator sends (julia/search/islands.jl),
# so where it runs changes nothing: with a seed, the front is the same on
# any layout and however the islands moved.
#
# A worker process that dies mid-search is dropped: its islands continue
# from their last state on the other processes (the iteration that was lost
# is run again, with the same result), and the progress line says so
# (`layout_status`). When none remains the search ends with the front found
# so far (`islands_lost`, stop reason "workers_lost").

"""
    DistributedIslands(pids, spec; owns = true, requested = length(pids))

Islands on the worker processes `pids`, whose options are rebuilt from the
`OptionsSpec` `spec` (so user operators and losses are compiled there too).
`owns`: remove the processes when the search ends (false for a kept pool,
julia/parallel/process_pool.jl). `requested`: how many processes were asked
for (the status line tells when fewer started).
"""
mutable struct DistributedIslands <: IslandRunner
    pids::Vector{Int}                      # live worker processes
    origin::Dict{Int,Tuple{String,Union{Nothing,Base.Process}}}  # pid => its host and local process
    slots::Dict{Int,Int}                   # pid => islands it evolves at once (its threads)
    holder::Vector{Int}                    # island => the process holding its state (0: none)
    snaps::Vector{IslandSnapshot}          # island => its last state, planned migrants included
    stale::Dict{Int,Vector{Int}}           # pid => islands it may forget (moved elsewhere)
    counts::Vector{Tuple{UInt64,Int}}      # island => evaluator time and node-rows, as last reported
    offsets::Vector{Tuple{UInt64,Int}}     # island => the same before its last move (a moved state restarts at 0)
    done::Vector{Int}                      # island => the last iteration it ended
    running::Vector{Bool}                  # island => an iteration of it is running
    inputs::Dict{Int,IterationInputs}      # iteration => what it takes (known one call ahead)
    results::Dict{Tuple{Int,Int},IslandReport}  # (island, iteration) => its report, until collected
    ended::Dict{Tuple{Int,Int},IslandSnapshot}  # (island, iteration) => its state after it, until collected
    cut::Vector{IslandSnapshot}            # island => its state after the last collected iteration (checkpoints)
    limit::Int                             # the last iteration that may start
    busy::Dict{Int,Int}                    # pid => slots taking islands now
    wake::Condition                        # notified when an island ends an iteration
    failed::Vector{Any}                    # an error of a slot that is not a lost process (rethrown)
    key::String
    spec::OptionsSpec
    deadline::Float64
    stopped::Bool
    lost::Union{Nothing,String}            # set when no process is left to finish an iteration
    nprocs::Int                            # processes at the start
    status::String
    owns::Bool
end
function DistributedIslands(pids::Vector{Int}, spec::OptionsSpec; owns::Bool=true,
                            requested::Int=length(pids))
    status = length(pids) < requested ?
        "$(requested - length(pids)) of $(requested) worker processes died while starting; " *
        "the islands run on the other $(length(pids))" : ""
    origin = Dict(pid => worker_origin(pid) for pid in pids)
    return DistributedIslands(copy(pids), origin, Dict{Int,Int}(), Int[], IslandSnapshot[],
                              Dict{Int,Vector{Int}}(), Tuple{UInt64,Int}[], Tuple{UInt64,Int}[],
                              Int[], Bool[], Dict{Int,IterationInputs}(), Dict{Tuple{Int,Int},IslandReport}(),
                              Dict{Tuple{Int,Int},IslandSnapshot}(), IslandSnapshot[], 0,
                              Dict{Int,Int}(), Condition(), Any[], string(rand(UInt64); base=16), spec, Inf, false, nothing, length(pids), status, owns)
end

set_deadline!(r::DistributedIslands, deadline::Float64) = (r.deadline = deadline; r)
islands_stopped(r::DistributedIslands) = r.stopped
layout_status(r::DistributedIslands) = r.status
islands_lost(r::DistributedIslands) = r.lost
island_snapshots(r::DistributedIslands) =
    IslandSnapshot[IslandSnapshot(s.seed, copy(s.members), s.births, s.evals) for s in r.cut]

"""`s` with the migrants `moves` put in (a new snapshot; `s` is left as it was)."""
with_migrants(s::IslandSnapshot, moves::Vector{Pair{Int,PopMember}})::IslandSnapshot =
    isempty(moves) ? s : IslandSnapshot(s.seed, apply_migrants!(copy(s.members), moves), s.births, s.evals)

"""Did `err` come from a worker process that is gone (rather than from an error in its code)?"""
function process_lost(err)
    err isa Distributed.ProcessExitedException && return true
    err isa Base.IOError && return true
    err isa EOFError && return true
    if err isa Distributed.RemoteException
        return process_lost(err.captured.ex)
    end
    @static if isdefined(Base, :TaskFailedException)
        err isa TaskFailedException && return process_lost(err.task.exception)
    end
    return false
end

"""Drop the lost process `pid`: the islands it held have no holder now (their snapshots stay)."""
function drop_process!(r::DistributedIslands, pid::Int)
    pid in r.pids || return r
    filter!(!=(pid), r.pids)
    delete!(r.stale, pid)
    held = count(==(pid), r.holder)
    replace!(r.holder, pid => 0)
    r.status = "worker process $(pid) $(loss_description(get(r.origin, pid, ("?", nothing))...)) was lost; " *
               "$(r.nprocs - length(r.pids)) of $(r.nprocs) gone; " *
               (isempty(r.pids) ? "no process left" :
                "its $(held) island$(held == 1 ? "" : "s") continue from their last iteration on the other " *
                "$(length(r.pids))")
    return r
end

"""Ask every live process to end its islands' iteration early (never throws)."""
function stop_all!(r::DistributedIslands)
    r.stopped = true
    for p in r.pids
        try
            Distributed.remote_do(host_stop, p, r.key)
        catch
        end
    end
    return r
end

"""
    next_island!(r, pid, waiting) -> island or 0

The island `pid` runs next, taken out of `waiting` (the islands of this round
not handed out yet): one it holds, else one nobody holds, else the last one
waiting on the process with the most islands waiting (it moves to `pid`).
"""
function next_island!(r::DistributedIslands, pid::Int, waiting::Vector{Int})::Int
    isempty(waiting) && return 0
    k = findfirst(i -> r.holder[i] == pid, waiting)
    k === nothing && (k = findfirst(i -> r.holder[i] == 0, waiting))
    if k === nothing
        counts = Dict{Int,Int}()
        for i in waiting
            counts[r.holder[i]] = get(counts, r.holder[i], 0) + 1
        end
        busiest = first(sort!(collect(counts); by=c -> (-c[2], c[1])))[1]
        k = findlast(i -> r.holder[i] == busiest, waiting)
    end
    return splice!(waiting, k)
end

"""
    dispatch!(r, run, islands, should_stop) -> Dict{Int,IslandReport}

Run `run(pid, island, snapshot_or_nothing)` (a remote call returning the
island's report and new snapshot) for every island in `islands`: each live
process takes islands as it frees a slot (`next_island!`); an island goes
with its snapshot unless its process holds it. Polls `should_stop` (then
asks the processes to stop). Islands of a lost process are handed out again
from their snapshots; when no process is left, `r.lost` says so and the
reports of the islands that finished are returned.
"""
function dispatch!(run::Function, r::DistributedIslands, islands::Vector{Int},
                   should_stop::Function=() -> false)::Dict{Int,IslandReport}
    waiting = copy(islands)
    reports = Dict{Int,IslandReport}()
    while length(reports) < length(islands) && !isempty(r.pids)
        workers = [@async worker_loop(run, r, pid, waiting, reports) for pid in copy(r.pids)
                   for _ in 1:get(r.slots, pid, 1)]
        wait_polling(workers) do
            !r.stopped && should_stop() && stop_all!(r)
        end
        foreach(fetch, workers)            # rethrows an error that is not a lost process
        # islands that were running on a lost process: again, on the others
        append!(waiting, [i for i in islands if !haskey(reports, i) && !(i in waiting)])
    end
    if length(reports) < length(islands)
        r.lost = "all $(r.nprocs) worker processes were lost (the last: $(r.status)); " *
                 "the front holds what was found before"
    end
    return reports
end

"""One slot of process `pid`: take islands until none is waiting (or `pid` is lost)."""
function worker_loop(run::Function, r::DistributedIslands, pid::Int, waiting::Vector{Int},
                     reports::Dict{Int,IslandReport})
    while pid in r.pids
        i = next_island!(r, pid, waiting)
        i == 0 && return nothing
        send = hand_over!(r, pid, i)
        try
            rep, snap = run(pid, i, send)
            reports[i] = take_report!(r, i, rep, snap, send !== nothing)
        catch err
            process_lost(err) || rethrow()
            drop_process!(r, pid)
            return nothing
        end
    end
    return nothing
end

"""
Island `i` goes to `pid`: the snapshot to send it (`nothing` when `pid`
holds it already); a previous holder may forget it.
"""
function hand_over!(r::DistributedIslands, pid::Int, i::Int)::Union{Nothing,IslandSnapshot}
    from = r.holder[i]
    from == pid && return nothing
    from != 0 && push!(get!(r.stale, from, Int[]), i)
    r.holder[i] = pid
    return r.snaps[i]
end

"""
Record island `i`'s report `rep` and new state `snap` (`moved`: it ran from a
sent snapshot, whose counters restarted at 0); the report with its counters
made cumulative over moves.
"""
function take_report!(r::DistributedIslands, i::Int, rep::IslandReport, snap::IslandSnapshot,
                      moved::Bool)::IslandReport
    moved && (r.offsets[i] = r.counts[i])
    rep = with_offset(rep, r.offsets[i])
    r.counts[i] = (rep.eval_ns, rep.node_rows)
    r.snaps[i] = snap
    return rep
end

"""`rep` with the evaluator time and node-rows of the island before its last move added."""
with_offset(rep::IslandReport, off::Tuple{UInt64,Int}) = off == (UInt64(0), 0) ? rep :
    IslandReport(rep.island, rep.best, rep.freq, rep.pool, rep.evals, rep.eval_ns + off[1],
                 rep.node_rows + off[2], rep.batched)

"""The islands `pid` may forget, now handed to it (and no longer remembered)."""
take_stale!(r::DistributedIslands, pid::Int)::Vector{Int} = (s = get(r.stale, pid, Int[]); delete!(r.stale, pid); s)

function start_islands!(r::DistributedIslands, data::Dataset, opts::Options, seeds::Vector{UInt},
                        popseeds::Vector{Vector{Node}}, hof_loss::Vector{Float64},
                        snaps::Union{Nothing,Vector{IslandSnapshot}}=nothing)
    n = length(seeds)
    r.holder = zeros(Int, n)
    r.snaps = snaps === nothing ? [IslandSnapshot(seeds[i], PopMember[], 0, 0) for i in 1:n] : copy(snaps)
    r.counts = [(UInt64(0), 0) for _ in 1:n]
    r.offsets = copy(r.counts)
    r.done = Int[]; r.running = Bool[]; empty!(r.inputs); empty!(r.results); empty!(r.ended); r.limit = 0
    # every process holds the data and options of this search
    tasks = [(pid, @async Distributed.remotecall_fetch(host_open, pid, r.key, r.spec, data, r.deadline - time()))
             for pid in r.pids]
    for (pid, t) in tasks
        try
            r.slots[pid] = max(1, fetch(t))
        catch err
            process_lost(err) || rethrow()
            drop_process!(r, pid)
        end
    end
    isempty(r.pids) && throw(AllWorkersLost("no worker process to run the islands on"))
    fresh = snaps === nothing
    reports = dispatch!(r, collect(1:n)) do pid, i, _
        Distributed.remotecall_fetch(host_start, pid, r.key, i, seeds[i], fresh ? popseeds[i] : Node[],
                                     hof_loss, fresh ? nothing : r.snaps[i])
    end
    r.lost === nothing || throw(AllWorkersLost("every worker process was lost while the islands started"))
    r.cut = copy(r.snaps)
    return IslandReport[reports[i] for i in 1:n]
end

"""
    iterate_islands!(r, iteration, hof_loss, freq, should_stop, next) -> Vector{IslandReport}

Run `iteration` of every island and return its reports; meanwhile an island
that has ended it may already start the next iteration (with `next`, the
inputs of that one) on a process that has nothing of this iteration left to
take, so no process waits at the end of an iteration for the slowest
island. Whatever runs ahead goes on after this returns; the next call
collects it.
"""
function iterate_islands!(r::DistributedIslands, iteration::Int, hof_loss::Vector{Float64},
                          freq::Vector{Float64}, should_stop::Function=() -> false,
                          next::Union{Nothing,IterationInputs}=nothing)
    n = length(r.snaps)
    if isempty(r.done)
        r.done = fill(iteration - 1, n); r.running = fill(false, n)
    end
    haskey(r.inputs, iteration) ||
        (r.inputs[iteration] = IterationInputs(hof_loss, freq, Vector{Pair{Int,PopMember}}[], true))
    if next !== nothing
        r.inputs[iteration + 1] = next
    end
    r.limit = next !== nothing && next.will_run ? iteration + 1 : iteration
    finished = Ref(false)
    @async while !finished[]
        !r.stopped && should_stop() && stop_all!(r)
        sleep(0.01)
        notify(r.wake)
    end
    try
        while any(d -> d < iteration, r.done) && !isempty(r.pids)
            isempty(r.failed) || throw(r.failed[1])
            fill_slots!(r)
            wait(r.wake)
        end
    finally
        finished[] = true
    end
    isempty(r.failed) || throw(r.failed[1])
    delete!(r.inputs, iteration - 1)
    if any(d -> d < iteration, r.done)
        r.lost = "all $(r.nprocs) worker processes were lost (the last: $(r.status)); " *
                 "the front holds what was found before"
    end
    reports = IslandReport[]
    for i in 1:n
        rep = pop!(r.results, (i, iteration), nothing)
        rep === nothing || push!(reports, rep)
        ended = pop!(r.ended, (i, iteration), nothing)
        # the state a checkpoint of this iteration holds: the next iteration's migrants in
        ended === nothing || (r.cut[i] = next === nothing ? ended : with_migrants(ended, moves_of(next, i)))
    end
    return reports
end

"""Start a slot on every live process with threads free and islands to take."""
function fill_slots!(r::DistributedIslands)
    for pid in copy(r.pids)
        for _ in 1:(get(r.slots, pid, 1) - get(r.busy, pid, 0))
            r.busy[pid] = get(r.busy, pid, 0) + 1
            @async slot_loop(r, pid)
        end
    end
    return r
end

"""
The island `pid` runs next and its iteration, or `(0, 0)`: the lowest
iteration any island can start (the current one before any ahead), and in it
the island `next_island!` picks, but no stealing ahead (an island's own
process runs it next soon enough).
"""
function next_task!(r::DistributedIslands, pid::Int)::Tuple{Int,Int}
    ready = [i for i in eachindex(r.done) if !r.running[i] && r.done[i] < r.limit && haskey(r.inputs, r.done[i] + 1)]
    isempty(ready) && return (0, 0)
    j = minimum(r.done[i] for i in ready) + 1
    waiting = [i for i in ready if r.done[i] + 1 == j]
    j > minimum(r.done) + 1 && filter!(i -> r.holder[i] == pid || r.holder[i] == 0, waiting)
    i = next_island!(r, pid, waiting)
    return i == 0 ? (0, 0) : (i, j)
end

"""One slot of process `pid`: take island iterations until none can start (or `pid` is lost)."""
function slot_loop(r::DistributedIslands, pid::Int)
    try
        while pid in r.pids && isempty(r.failed)
            i, j = next_task!(r, pid)
            i == 0 && break
            run_island!(r, pid, i, j) || break
        end
    catch err
        push!(r.failed, CapturedException(err, catch_backtrace()))
    finally
        r.busy[pid] = get(r.busy, pid, 1) - 1
        notify(r.wake)
    end
    return nothing
end

"""Run iteration `j` of island `i` on `pid`; false when `pid` was lost."""
function run_island!(r::DistributedIslands, pid::Int, i::Int, j::Int)::Bool
    r.running[i] = true
    inp = r.inputs[j]
    moves = moves_of(inp, i)
    # the coordinator's copy takes the migrants now (so a lost iteration restarts from it)
    r.snaps[i] = with_migrants(r.snaps[i], moves)
    send = hand_over!(r, pid, i)
    try
        rep, snap = Distributed.remotecall_fetch(host_iterate, pid, r.key, i, j, inp.hof_loss, inp.freq,
                                                 send === nothing ? moves : Pair{Int,PopMember}[], send,
                                                 take_stale!(r, pid))
        r.results[(i, j)] = take_report!(r, i, rep, snap, send !== nothing)
        r.ended[(i, j)] = snap
        r.done[i] = j
        return true
    catch err
        process_lost(err) || rethrow()
        drop_process!(r, pid)
        return false
    finally
        r.running[i] = false
        notify(r.wake)
    end
end

function close_islands!(r::DistributedIslands)
    # an iteration still running ahead (the search stopped early) ends first, cut short
    if any(>(0), values(r.busy))
        stop_all!(r)
        t0 = time()
        while any(>(0), values(r.busy)) && time() - t0 < 30
            sleep(0.01)
        end
    end
    for pid in r.pids
        try
            Distributed.remotecall_fetch(host_close, pid, r.key)
        catch
        end
    end
    r.owns && stop_worker_processes(copy(r.pids))
    return r
end
