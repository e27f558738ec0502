# `DistributedIslands`: the islands of a search spread over worker processes
# (Julia's Distributed). Each worker process holds a `LocalIslands` with its
# share of the islands (round-robin) and evolves them on its own threads; the
# coordinator (this process) sends the hall-of-fame losses, complexity
# frequencies and migrants every iteration and gets the islands' reports back.
#
# A worker process that dies mid-search is dropped: its islands are re-seeded
# from the hall of fame on the remaining processes, and the progress line
# says so (`layout_status`). When none remains the search ends with the
# front found so far (`AllWorkersLost`, stop reason "workers_lost").

# ------------------------------------------------------------ worker side

"""The islands each worker process holds, by run key."""
const REMOTE_ISLANDS = Dict{String,LocalIslands}()

function remote_islands(key::String)::LocalIslands
    r = get(REMOTE_ISLANDS, key, nothing)
    r === nothing && error("no islands for search $(key) on worker process $(Distributed.myid())")
    return r
end

"""
Worker side: build the options from their plain-data spec, then start (or restore) the
islands `ids`; they stop mid-iteration `seconds_left` seconds from now (Inf: never).
"""
function remote_start(key::String, spec::OptionsSpec, data::Dataset, ids::Vector{Int}, seeds::Vector{UInt},
                      popseeds::Vector{Vector{Node}}, hof_loss::Vector{Float64},
                      snaps::Union{Nothing,Vector{IslandSnapshot}}, seconds_left::Float64)
    opts = Options(spec)
    # the deadline on this host's clock (hosts' clocks may differ from the coordinator's)
    r = set_deadline!(LocalIslands(threaded=Threads.nthreads() > 1), time() + seconds_left)
    REMOTE_ISLANDS[key] = r
    return start_islands!(r, data, opts, ids, seeds, popseeds, hof_loss, snaps)
end

"""Worker side: start more islands (re-seeded ones of a lost process) beside those held."""
function remote_add(key::String, ids::Vector{Int}, seeds::Vector{UInt}, popseeds::Vector{Vector{Node}},
                    hof_loss::Vector{Float64})
    r = remote_islands(key)
    extra = set_deadline!(LocalIslands(threaded=r.threaded), r.stop.deadline)
    reports = start_islands!(extra, r.data::Dataset, r.opts::Options, ids, seeds, popseeds, hof_loss)
    append!(r.ids, extra.ids); append!(r.seeds, extra.seeds); append!(r.states, extra.states)
    return reports
end

remote_iterate(key::String, iteration::Int, hof_loss::Vector{Float64}, freq::Vector{Float64}) =
    iterate_islands!(remote_islands(key), iteration, hof_loss, freq)
remote_migrate(key::String, plan::Vector{Vector{Pair{Int,PopMember}}}) =
    (migrate_islands!(remote_islands(key), plan); nothing)
remote_snapshots(key::String) = island_snapshots(remote_islands(key))
remote_stop(key::String) = (haskey(REMOTE_ISLANDS, key) && request_stop!(REMOTE_ISLANDS[key]); nothing)
remote_close(key::String) = (delete!(REMOTE_ISLANDS, key); nothing)

# ------------------------------------------------------------ coordinator side

"""
    DistributedIslands(pids, spec; owns = true, requested = length(pids))

Islands on the worker processes `pids`, whose options are rebuilt from the
`OptionsSpec` `spec` (so user operators and losses are compiled there too).
`owns`: remove the processes when the search ends. `requested`: how many
processes were asked for (the status line tells when fewer started).
"""
mutable struct DistributedIslands <: IslandRunner
    pids::Vector{Int}                      # live worker processes
    held::Dict{Int,Vector{Int}}            # pid => its islands, in the order it holds them
    key::String
    spec::OptionsSpec
    seeds::Vector{UInt}
    deadline::Float64
    stopped::Bool
    lost::Vector{Int}                      # islands of processes lost this iteration
    nprocs::Int                            # processes at the start
    status::String
    owns::Bool
end
function DistributedIslands(pids::Vector{Int}, spec::OptionsSpec; owns::Bool=true,
                            requested::Int=length(pids))
    status = length(pids) < requested ?
        "$(requested - length(pids)) of $(requested) worker processes died while starting; " *
        "the islands run on the other $(length(pids))" : ""
    return DistributedIslands(copy(pids), Dict{Int,Vector{Int}}(), string(rand(UInt64); base=16), spec,
                              UInt[], Inf, false, Int[], requested, status, owns)
end

set_deadline!(r::DistributedIslands, deadline::Float64) = (r.deadline = deadline; r)
islands_stopped(r::DistributedIslands) = r.stopped
layout_status(r::DistributedIslands) = r.status

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

"""
Call `f(pid)` on every live process concurrently, polling `should_stop`;
returns pid => result for the processes that answered. Processes that are
gone are dropped from `r.pids`, their islands added to `r.lost`; any other
error is rethrown.
"""
function on_each_process(f::Function, r::DistributedIslands, should_stop::Function=() -> false)
    tasks = [(pid, @async f(pid)) for pid in r.pids]
    results = Dict{Int,Any}()
    for (pid, t) in tasks
        while !istaskdone(t)
            if !r.stopped && should_stop()
                r.stopped = true
                for p in r.pids
                    try
                        Distributed.remote_do(remote_stop, p, r.key)
                    catch
                    end
                end
            end
            sleep(0.005)
        end
        try
            results[pid] = fetch(t)
        catch err
            process_lost(err) || rethrow()
            drop_process!(r, pid)
        end
    end
    return results
end

function drop_process!(r::DistributedIslands, pid::Int)
    filter!(!=(pid), r.pids)
    append!(r.lost, get(r.held, pid, Int[]))
    delete!(r.held, pid)
    n = length(r.lost)
    r.status = "worker process $(pid) lost ($(r.nprocs - length(r.pids)) of $(r.nprocs) gone); " *
               (isempty(r.pids) ? "no process left" :
                "its $(n) island$(n == 1 ? "" : "s") re-seeded from the hall of fame on the other $(length(r.pids))")
    return r
end

function start_islands!(r::DistributedIslands, data::Dataset, opts::Options, seeds::Vector{UInt},
                        popseeds::Vector{Vector{Node}}, hof_loss::Vector{Float64},
                        snaps::Union{Nothing,Vector{IslandSnapshot}}=nothing)
    r.seeds = copy(seeds)
    isempty(r.pids) && throw(AllWorkersLost("no worker process to run the islands on"))
    for (k, pid) in enumerate(r.pids)
        r.held[pid] = collect(k:length(r.pids):length(seeds))
    end
    results = on_each_process(r) do pid
        ids = r.held[pid]
        Distributed.remotecall_fetch(remote_start, pid, r.key, r.spec, data, ids, seeds[ids], popseeds[ids],
                                     hof_loss, snaps === nothing ? nothing : snaps[ids], r.deadline - time())
    end
    reports = IslandReport[rep for res in values(results) for rep in res]
    # islands of processes lost while starting: start them (same seeds) on the others
    while !isempty(r.lost)
        isempty(r.pids) && throw(AllWorkersLost("every worker process was lost while the islands started"))
        append!(reports, add_islands!(r, copy(r.lost), seeds[r.lost], popseeds[r.lost], hof_loss))
    end
    return sort!(reports; by=x -> x.island)
end

"""Start islands `ids` round-robin on the live processes; returns their reports."""
function add_islands!(r::DistributedIslands, ids::Vector{Int}, seeds::Vector{UInt},
                      popseeds::Vector{Vector{Node}}, hof_loss::Vector{Float64})
    empty!(r.lost)
    share = Dict(pid => Int[] for pid in r.pids)
    for (j, i) in enumerate(ids)
        push!(share[r.pids[mod1(j, length(r.pids))]], j)
    end
    results = on_each_process(r) do pid
        js = share[pid]
        isempty(js) && return IslandReport[]
        reps = Distributed.remotecall_fetch(remote_add, pid, r.key, ids[js], seeds[js], popseeds[js], hof_loss)
        append!(r.held[pid], ids[js])
        return reps
    end
    return IslandReport[rep for res in values(results) for rep in res]
end

function iterate_islands!(r::DistributedIslands, iteration::Int, hof_loss::Vector{Float64},
                          freq::Vector{Float64}, should_stop::Function=() -> false)
    results = on_each_process(r, should_stop) do pid
        Distributed.remotecall_fetch(remote_iterate, pid, r.key, iteration, hof_loss, freq)
    end
    return IslandReport[rep for res in values(results) for rep in res]
end

function reseed_lost_islands!(r::DistributedIslands, iteration::Int, front::Vector{PopMember},
                              hof_loss::Vector{Float64})
    reports = IslandReport[]
    while !isempty(r.lost)
        isempty(r.pids) && throw(AllWorkersLost(
            "all $(r.nprocs) worker processes were lost; the front holds what was found before"))
        ids = sort(r.lost)
        seeds = UInt[replacement_seed(r.seeds[i], iteration) for i in ids]
        r.seeds[ids] .= seeds
        trees = Node[m.tree for m in front]
        append!(reports, add_islands!(r, ids, seeds, [copy(trees) for _ in ids], hof_loss))
    end
    return reports
end

function migrate_islands!(r::DistributedIslands, plan::Vector{Vector{Pair{Int,PopMember}}})
    on_each_process(r) do pid
        Distributed.remotecall_fetch(remote_migrate, pid, r.key, plan[r.held[pid]])
    end
    return r
end

function island_snapshots(r::DistributedIslands)
    results = on_each_process(r) do pid
        Distributed.remotecall_fetch(remote_snapshots, pid, r.key)
    end
    byisland = Dict{Int,IslandSnapshot}()
    for (pid, snaps) in results
        for (i, s) in zip(r.held[pid], snaps)
            byisland[i] = s
        end
    end
    return IslandSnapshot[byisland[i] for i in sort(collect(keys(byisland)))]
end

function close_islands!(r::DistributedIslands)
    for pid in r.pids
        try
            Distributed.remotecall_fetch(remote_close, pid, r.key)
        catch
        end
    end
    r.owns && stop_worker_processes(copy(r.pids))
    return r
end
