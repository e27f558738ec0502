# The layout of a search from its options: where its islands evolve.

"""
    island_runner(opts, spec) -> IslandRunner

`parallelism = :serial`: `LocalIslands(threaded = false)`; `:multithreading`:
`LocalIslands()` on this process's threads; `:multiprocessing`: worker
processes started now (julia/parallel/processes.jl, removed when the search
ends) holding the islands, with options rebuilt there from `spec`
(the `OptionsSpec` that `opts` was built from).
"""
function island_runner(opts::Options, spec::OptionsSpec)::IslandRunner
    l = opts.layout
    l.parallelism === :serial && return LocalIslands(threaded=false)
    l.parallelism === :multithreading && return LocalIslands(threaded=true)
    pids, requested = start_worker_processes(l)
    return DistributedIslands(pids, spec; requested=requested)
end
