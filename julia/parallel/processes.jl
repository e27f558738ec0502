# Worker processes for `parallelism = :multiprocessing`, on Julia's
# Distributed standard library: local processes, processes on SSH hosts
# (Distributed's SSH manager), or processes launched by `srun` inside a
# Slurm allocation (`SlurmManager`, julia/parallel/slurm.jl). Each worker
# runs the same Julia, system image and engine sources as this process
# (on other hosts: at the same paths).

"""Seconds an SSH connection may take before the host counts as unreachable."""
const SSH_CONNECT_TIMEOUT = 10

"""
Seconds a started worker process may take to report and connect back
(Distributed's `JULIA_WORKER_TIMEOUT`): on this machine, and on hosts or
Slurm nodes. A local process killed while starting costs at most this long.
"""
const WORKER_CONNECT_TIMEOUT = (local_=20, remote=60)

"""The Julia executable for worker processes: `KEPLERSR_JULIA_EXE` (set by Python), else this one."""
julia_executable()::String = get(ENV, "KEPLERSR_JULIA_EXE", joinpath(Sys.BINDIR, Base.julia_exename()))

"""The folder of the engine's sources (`KEPLERSR_ENGINE_DIR`, set by Python, else where they were loaded from)."""
engine_dir()::String = get(ENV, "KEPLERSR_ENGINE_DIR", dirname(@__DIR__))

"""
Command-line flags of a worker process: this system image, the engine's
project, `threads` threads and, on a Julia that has the flag (1.9 and
later), `--heap-size-hint` (`heap` bytes; 0: Julia's default; on older
Julias the island host collects garbage itself, julia/parallel/island_host.jl).
"""
function worker_exeflags(threads::Int, heap::Int=0)::Cmd
    image = unsafe_string(Base.JLOptions().image_file)
    flags = `-J $(image) --project=$(engine_dir()) -t $(threads) --startup-file=no --history-file=no`
    heap > 0 && VERSION >= v"1.9" && (flags = `$(flags) --heap-size-hint=$(heap)`)
    return flags
end

"""
    parse_hosts(hosts) -> Vector{Tuple{String,Int}}

`hosts`: entries `"host"` or `"host:n"` (n worker processes, default 1;
`user@host` allowed), or a single entry naming an existing file: a Julia
machine file (`[n*][user@]host[:port]` per line, `#` comments). Host and
user names must pass `host_problem` (julia/parallel/host_names.jl): a host
beginning with '-' would reach `ssh` as an option. Anything else is an
`ArgumentError` naming the entry (and the file's line).
"""
function parse_hosts(hosts::Vector{String})::Vector{Tuple{String,Int}}
    isempty(hosts) && throw(ArgumentError("hosts is empty"))
    if length(hosts) == 1 && isfile(hosts[1])
        out = Tuple{String,Int}[]
        for (k, raw) in enumerate(eachline(hosts[1]))
            line = strip(split(raw, '#')[1])
            isempty(line) && continue
            where_ = "machine file $(hosts[1]), line $(k): $(repr(String(strip(raw))))"
            n = 1
            if occursin('*', line)
                a, b = split(line, '*'; limit=2)
                n = tryparse(Int, strip(a))
                (n === nothing || n < 1) && throw(ArgumentError(
                    "$(where_): the count before '*' must be an integer >= 1"))
                line = strip(b)
            end
            # the host, then optionally the address workers bind to (not used)
            words = split(line)
            p = isempty(words) ? "no host" : length(words) > 2 ? "more than a host and a bind address" :
                machine_word_problem(words[1])
            p === nothing && length(words) == 2 && (p = machine_word_problem(words[2]; bind=true))
            p === nothing || throw(ArgumentError("$(where_): $(p) (expected \"[n*][user@]host[:port]\")"))
            push!(out, (String(words[1]), n))
        end
        isempty(out) && throw(ArgumentError("machine file $(hosts[1]) names no host"))
        return out
    end
    out = Tuple{String,Int}[]
    for h in hosts
        parts = split(h, ':')
        (length(parts) <= 2 && !isempty(parts[1])) ||
            throw(ArgumentError("hosts entry $(repr(h)): expected \"host\" or \"host:n\" (or a machine file path)"))
        p = host_problem(parts[1])
        p === nothing || throw(ArgumentError("hosts entry $(repr(h)): $(p)"))
        n = length(parts) == 2 ? tryparse(Int, parts[2]) : 1
        (n === nothing || n < 1) &&
            throw(ArgumentError("hosts entry $(repr(h)): the process count after ':' must be an integer >= 1"))
        push!(out, (String(parts[1]), n))
    end
    return out
end

"""The first line of the error behind a failed `addprocs` (unwrapping task failures)."""
function launch_error_message(err)::String
    @static if isdefined(Base, :TaskFailedException)
        while err isa TaskFailedException
            err = err.task.exception
        end
    end
    while err isa CompositeException && !isempty(err.exceptions)
        err = first(err.exceptions)
        @static if isdefined(Base, :TaskFailedException)
            err isa TaskFailedException && (err = err.task.exception)
        end
    end
    return String(first(split(sprint(showerror, err), '\n')))
end

"""Extra `ssh` flags: `KEPLERSR_SSH_FLAGS` (split on spaces), e.g. `-p 2222 -i ~/.ssh/cluster_key`."""
ssh_flags()::Cmd = Cmd(String[split(get(ENV, "KEPLERSR_SSH_FLAGS", ""))...])

"""Load the engine on `pids` unless their system image already holds it."""
function load_engine_on(pids::Vector{Int})
    src = joinpath(engine_dir(), "KeplerSR.jl")
    tasks = [(p, @async Distributed.remotecall_eval(Main, p, :(isdefined(Main, :KeplerSR) || include($src))))
             for p in pids]
    for (p, t) in tasks
        try
            fetch(t)
        catch err
            process_lost(err) || rethrow()     # a process that died meanwhile: the islands go elsewhere
            filter!(!=(p), pids)
        end
    end
    isempty(pids) && throw(WorkerStartError("every worker process died while the engine was loading"))
    return pids
end

"""
    start_worker_processes(layout; threads = Threads.nthreads()) -> (pids, requested)

Start the worker processes of `layout` and load the engine on them; returns
their ids and how many were asked for (more than started when some died
while starting: the search goes on with the others). Local: `layout.procs` processes (0: `threads`) sharing this
process's `threads` threads (each gets `max(1, threads ÷ procs)`). Hosts: one thread per process.
Slurm: `procs` when given, else the tasks of the allocation (`SLURM_NTASKS`), one
thread each unless `SLURM_CPUS_PER_TASK` says more. A host that cannot be
reached fails within `SSH_CONNECT_TIMEOUT` seconds with an error naming it.
"""
function start_worker_processes(layout::Layout; threads::Int=Threads.nthreads())::Tuple{Vector{Int},Int}
    remote = layout.cluster_manager === :slurm || !isempty(layout.hosts)
    timeout = remote ? WORKER_CONNECT_TIMEOUT.remote : WORKER_CONNECT_TIMEOUT.local_
    withenv("JULIA_WORKER_TIMEOUT" => string(timeout)) do
        before = Set(Distributed.workers())
        requested = requested_processes(layout, threads)
        # a process that dies while the others start: go on with those that did
        pids = survivors_if_failed(before) do
            launch_workers(layout, threads)
        end
        try
            load_engine_on(pids)
        catch
            stop_worker_processes(pids)
            rethrow()
        end
        return pids, requested
    end
end

"""How many worker processes `layout` asks for."""
function requested_processes(layout::Layout, threads::Int)::Int
    layout.cluster_manager === :slurm &&
        return layout.procs > 0 ? layout.procs : parse(Int, get(ENV, "SLURM_NTASKS", string(threads)))
    isempty(layout.hosts) || return sum(last, parse_hosts(layout.hosts))
    return layout.procs > 0 ? layout.procs : threads
end

"""
Run `launch()` (an `addprocs`); if it throws but some worker processes did
start (those not in `before`), return them with a note on stderr, else rethrow.
"""
function survivors_if_failed(launch::Function, before::Set{Int})::Vector{Int}
    try
        return launch()
    catch err
        got = sort!([p for p in Distributed.workers() if p != 1 && !(p in before)])
        isempty(got) && rethrow()
        println(stderr, "keplersr: some worker processes did not start (", launch_error_message(err),
                "); going on with ", length(got))
        return got
    end
end

"""The `addprocs` of `layout` (see `start_worker_processes`)."""
function launch_workers(layout::Layout, threads::Int)::Vector{Int}
    n = requested_processes(layout, threads)
    pids = if layout.cluster_manager === :slurm
        t = parse(Int, get(ENV, "SLURM_CPUS_PER_TASK", "1"))
        try
            Distributed.addprocs(SlurmManager(n; exename=julia_executable(), exeflags=worker_exeflags(t, layout.heap_size_hint_in_bytes)))
        catch err
            throw(WorkerStartError("cannot start worker processes with srun: " * launch_error_message(err)))
        end
    elseif !isempty(layout.hosts)
        machines = parse_hosts(layout.hosts)
        flags = `-o BatchMode=yes -o ConnectTimeout=$(SSH_CONNECT_TIMEOUT) $(ssh_flags())`
        try
            Distributed.addprocs(machines; exename=julia_executable(), exeflags=worker_exeflags(1, layout.heap_size_hint_in_bytes),
                                 dir=engine_dir(), sshflags=flags, tunnel=false,
                                 max_parallel=length(machines))
        catch err
            throw(WorkerStartError("cannot start worker processes on hosts " *
                join(("$(h):$(n)" for (h, n) in machines), ", ") * " over SSH (ssh -o BatchMode=yes, " *
                "connect timeout $(SSH_CONNECT_TIMEOUT) s): " * launch_error_message(err) *
                ". Check that each host is reachable with `ssh` without a password and has Julia and " *
                "KeplerSR at the same paths as this machine."))
        end
    else
        Distributed.addprocs(n; exename=julia_executable(), exeflags=worker_exeflags(max(1, threads ÷ n), layout.heap_size_hint_in_bytes),
                             dir=engine_dir())
    end
    return pids
end

"""Remove worker processes (those already gone are skipped); never throws."""
function stop_worker_processes(pids::Vector{Int})
    alive = filter(p -> p in Distributed.workers() && p != 1, pids)
    isempty(alive) && return nothing
    try
        Distributed.rmprocs(alive; waitfor=10.0)
    catch err
        println(stderr, "keplersr: removing worker processes: ", sprint(showerror, err))
    end
    return nothing
end

"""
    worker_origin(pid) -> (host, process)

Where worker process `pid` runs: its host name (this machine's for a local
process) and, for a local process, its `Base.Process` (else `nothing`).
Taken while it is alive, for the note when it is lost (`loss_description`).
"""
function worker_origin(pid::Int)::Tuple{String,Union{Nothing,Base.Process}}
    try
        config = Distributed.worker_from_id(pid).config
        proc = config.process
        host = config.host === nothing ? gethostname() : String(something(config.host))
        return host, proc isa Base.Process ? proc : nothing
    catch
        return "?", nothing
    end
end

"""
How a lost worker process ended, in words: "on host h", and for a local
process its exit code or signal (waited for up to `wait` seconds). A
SIGKILL is what the kernel's out-of-memory killer (and a batch system's
memory limit) sends, so the note says so and names `heap_size_hint_in_bytes`.
"""
function loss_description(host::String, proc::Union{Nothing,Base.Process}; wait::Float64=2.0)::String
    where_ = "on host $(host)"
    proc === nothing && return where_
    t0 = time()
    while process_running(proc) && time() - t0 < wait
        sleep(0.05)
    end
    process_running(proc) && return where_
    proc.termsignal == 9 && return where_ * " (killed by SIGKILL: what the out-of-memory killer or a " *
        "memory limit does; heap_size_hint_in_bytes makes worker processes collect garbage sooner)"
    proc.termsignal > 0 && return where_ * " (killed by signal $(proc.termsignal))"
    return where_ * " (exit code $(proc.exitcode))"
end
