# The layout of a search from its options: where its islands evolve.

"""
    island_runner(opts, spec) -> IslandRunner

`parallelism = :serial`: `LocalIslands(threaded = false)`; `:multithreading`:
`LocalIslands()` on this process's threads; `:multiprocessing`: the worker
processes of the pool (julia/parallel/process_pool.jl: kept across fits,
started when the layout changes) holding the islands, with options rebuilt
there from `spec` (the `OptionsSpec` that `opts` was built from).
"""
function island_runner(opts::Options, spec::OptionsSpec)::IslandRunner
    l = opts.layout
    l.parallelism === :serial && return LocalIslands(threaded=false)
    l.parallelism === :multithreading && return LocalIslands(threaded=true)
    pids, requested = pooled_processes(l)
    return DistributedIslands(pids, spec; owns=false, requested=requested)
end
