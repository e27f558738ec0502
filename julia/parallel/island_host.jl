# `IslandHost`: the worker-process side of `DistributedIslands`. A worker
# process holds, per search (a run key), the data, the options rebuilt from
# their plain-data spec and the states of the islands it last evolved. The
# coordinator hands it one island iteration at a time; an island it does not
# hold (new to it, or moved from another process) comes with its snapshot,
# and one it holds comes with the migrants planned for it since.

"""The islands of one search on this worker process."""
mutable struct IslandHost
    data::Dataset
    opts::Options
    stop::StopSignal
    states::Dict{Int,PopulationState}     # island => its state
    seeds::Dict{Int,UInt}
    lock::ReentrantLock                   # `states`/`seeds` change from several threads' tasks
end

"""The island hosts of this process, by run key."""
const ISLAND_HOSTS = Dict{String,IslandHost}()

function island_host(key::String)::IslandHost
    h = get(ISLAND_HOSTS, key, nothing)
    h === nothing && error("no islands for search $(key) on worker process $(Distributed.myid())")
    return h
end

"""
Run `f()` on one of this process's threads (so the task serving remote calls
stays free for the next request and for stop messages), or here with one thread.
"""
on_a_thread(f) = Threads.nthreads() > 1 ? fetch(Threads.@spawn f()) : f()

"""
    host_open(key, spec, data, seconds_left) -> Int

Worker side: hold the islands of search `key` on `data` with the options
built from `spec`; they stop mid-iteration `seconds_left` seconds from now
(on this host's clock; Inf: never). Returns this process's thread count: how
many islands it evolves at once.
"""
function host_open(key::String, spec::OptionsSpec, data::Dataset, seconds_left::Float64)::Int
    ISLAND_HOSTS[key] = IslandHost(data, Options(spec), StopSignal(Threads.Atomic{Bool}(false), time() + seconds_left),
                                   Dict{Int,PopulationState}(), Dict{Int,UInt}(), ReentrantLock())
    return Threads.nthreads()
end

"""
    host_start(key, island, seed, popseeds, hof_loss, snapshot) -> (IslandReport, IslandSnapshot)

Worker side: start island `island`, fresh from `seed` and the seed trees
`popseeds`, or restored from `snapshot`.
"""
function host_start(key::String, island::Int, seed::UInt, popseeds::Vector{Node}, hof_loss::Vector{Float64},
                    snapshot::Union{Nothing,IslandSnapshot})
    h = island_host(key)
    return on_a_thread() do
        ps = snapshot === nothing ? init_population_state(seed, h.data, h.opts, popseeds, hof_loss) :
                                    restore_population_state(snapshot, h.data, h.opts, hof_loss)
        lock(h.lock) do
            h.states[island] = ps; h.seeds[island] = seed
        end
        (island_report(island, ps, h.opts), island_snapshot(ps, seed))
    end
end

"""
    host_iterate(key, island, iteration, hof_loss, freq, moves, snapshot, drop) -> (IslandReport, IslandSnapshot)

Worker side: forget the islands `drop` (moved elsewhere); take island
`island` from `snapshot` when given (else the state held, with the migrants
`moves` put in), and run its iteration `iteration`.
"""
function host_iterate(key::String, island::Int, iteration::Int, hof_loss::Vector{Float64}, freq::Vector{Float64},
                      moves::Vector{Pair{Int,PopMember}}, snapshot::Union{Nothing,IslandSnapshot},
                      drop::Vector{Int})
    h = island_host(key)
    return on_a_thread() do
        ps, seed = lock(h.lock) do
            for i in drop
                delete!(h.states, i); delete!(h.seeds, i)
            end
            if snapshot !== nothing
                h.states[island] = restore_population_state(snapshot, h.data, h.opts, hof_loss)
                h.seeds[island] = snapshot.seed
            end
            haskey(h.states, island) ||
                error("worker process $(Distributed.myid()) does not hold island $(island) of search $(key)")
            (h.states[island], h.seeds[island])
        end
        apply_migrants!(ps, moves)
        report = iterate_island!(ps, island, seed, iteration, h.data, h.opts, hof_loss, freq, h.stop)
        VERSION < v"1.9" && heap_hint_collect(h.opts.layout.heap_size_hint_in_bytes)
        (report, island_snapshot(ps, seed))
    end
end

"""
On Julias without `--heap-size-hint` (before 1.9), the hint's effect after
each island iteration: past `heap` bytes of heap (0: no hint), collect garbage.
"""
function heap_hint_collect(heap::Int)
    heap > 0 && Base.gc_live_bytes() > heap && GC.gc()
    return nothing
end

host_stop(key::String) = (haskey(ISLAND_HOSTS, key) && (ISLAND_HOSTS[key].stop.flag[] = true); nothing)
host_close(key::String) = (delete!(ISLAND_HOSTS, key); nothing)
