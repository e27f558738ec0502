# The pool of worker processes: the processes of a multiprocessing search
# are kept when it ends, for the next fit of this worker (a notebook fitting
# ten models starts them once, like the persistent Julia worker itself). The
# pool is started again when what it was started for changes: the layout
# (`procs`, `hosts`, `cluster_manager`, `heap_size_hint_in_bytes`), this
# process's thread count, the environment that says where and how processes
# start (`KEPLERSR_JULIA_EXE`, `KEPLERSR_SSH_FLAGS`, the Slurm allocation),
# or when one of its processes has died. Its processes end with this one
# (Distributed removes them at exit; a worker process whose coordinator is
# gone, even killed, exits when the connection closes).

"""The kept worker processes: what they were started for (`key`), their ids, how many were asked for."""
mutable struct ProcessPool
    key::Any
    pids::Vector{Int}
    requested::Int
end

const PROCESS_POOL = ProcessPool(nothing, Int[], 0)

"""Environment variables that decide where and how worker processes start."""
const POOL_ENV = ("KEPLERSR_JULIA_EXE", "KEPLERSR_ENGINE_DIR", "KEPLERSR_SSH_FLAGS", "SLURM_JOB_ID",
                  "SLURM_NTASKS", "SLURM_CPUS_PER_TASK", "SLURM_NODELIST", "PATH")

"""What a pool started for `layout` on `threads` threads depends on."""
pool_key(layout::Layout, threads::Int) =
    (layout.procs, copy(layout.hosts), layout.cluster_manager, layout.heap_size_hint_in_bytes, threads,
     Tuple(get(ENV, k, nothing) for k in POOL_ENV))

"""
    pooled_processes(layout; threads = Threads.nthreads()) -> (pids, requested)

The worker processes for `layout`: those of the pool when it was started for
the same (all of them started and are alive), else new ones (`start_worker_processes`),
which become the pool; the processes of an older pool are removed first.
"""
function pooled_processes(layout::Layout; threads::Int=Threads.nthreads())::Tuple{Vector{Int},Int}
    key = pool_key(layout, threads)
    pool = PROCESS_POOL
    if pool.key == key && length(pool.pids) == pool.requested && all(p -> p in Distributed.workers(), pool.pids)
        return copy(pool.pids), pool.requested
    end
    release_process_pool!()
    pids, requested = start_worker_processes(layout; threads=threads)
    pool.key = key; pool.pids = copy(pids); pool.requested = requested
    return pids, requested
end

"""Remove the pool's processes (those still alive); the next multiprocessing fit starts new ones."""
function release_process_pool!()
    pool = PROCESS_POOL
    pids = pool.pids
    pool.key = nothing; pool.pids = Int[]; pool.requested = 0
    isempty(pids) || stop_worker_processes(pids)
    return nothing
end

"""The ids of the pool's processes (empty when there is none)."""
process_pool_pids()::Vector{Int} = copy(PROCESS_POOL.pids)
