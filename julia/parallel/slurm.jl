# SlurmManager: a Distributed cluster manager that starts the worker
# processes with one `srun` job step inside a Slurm allocation (a batch job
# from `sbatch`, or an interactive `salloc`).
#
# How it works: `launch` runs
#
#     srun --ntasks=n --kill-on-bad-exit=0 --wait=0 [--cpus-per-task=c] [--overlap] \
#          <exename> <exeflags> --worker=<cluster cookie>
#
# (`--cpus-per-task` only when SLURM_CPUS_PER_TASK is set; `--overlap` when
# `srun --version` says Slurm 20.11 or later: the workers' step may share
# CPUs with a step this process runs in, e.g. `srun -n1 python search.py`,
# whose CPU would otherwise leave the workers' step waiting for resources
# until `timeout`; the coordinator mostly waits for the workers). Slurm places the
# n tasks on the allocation's nodes. Started with `--worker`, each Julia
# process listens on a free TCP port of its node's first non-loopback IPv4
# address (Sockets.getipaddr) and prints `julia_worker:<port>#<ip>` on its
# stdout, which srun gathers into its own stdout. `launch` reads those
# lines (anywhere in a line, so `srun --label` prefixes are fine) and hands
# Distributed one WorkerConfig per worker with that host and port; the
# master then connects to each worker over TCP, and the workers to each
# other. The srun process is kept in each config's `userdata`; once all
# workers are up, background tasks copy srun's further output (the
# workers' stdout and stderr) to this process's stderr, prefixed "srun: ",
# so that no worker ever blocks on a full pipe.
#
# Assumptions: this process runs inside the allocation (on its first node,
# typically) so that `srun` can start a job step there; every node sees
# Julia, the system image and the KeplerSR sources at the same paths as
# this node (srun passes the environment on, KEPLERSR_* included); the
# nodes' addresses printed by the workers are reachable over TCP from this
# process and from each other (no tunnel, no firewall between the
# allocation's hostnames). `--kill-on-bad-exit=0` and `--wait=0` keep the
# other workers running when one of them exits or dies.
#
# Failure: if srun ends, or `timeout` seconds pass, before all n workers
# printed their address (srun not found, not inside an allocation, a step
# waiting for resources, a worker that cannot start Julia, ...), `launch`
# kills srun and throws an ErrorException quoting the last lines srun
# printed. `interrupt(pid)` does nothing here: srun takes one SIGINT as a
# request for status and two in a second as an order to cancel the step.

"""
    SlurmManager(n; exename, exeflags=``, srun="srun", timeout=60)

A Distributed cluster manager starting `n` Julia worker processes as the
`n` tasks of one `srun` job step: `Distributed.addprocs(SlurmManager(n; ...))`.
`exename` is the Julia executable on the nodes, `exeflags` extra Julia flags,
`srun` the srun executable and `timeout` the seconds all workers may take
to start. See the comment at the top of julia/parallel/slurm.jl.
"""
struct SlurmManager <: Distributed.ClusterManager
    ntasks::Int
    exename::String
    exeflags::Cmd
    srun::String
    timeout::Float64
    function SlurmManager(n::Integer; exename::String, exeflags::Cmd=``, srun::String="srun", timeout::Real=60)
        n >= 1 || throw(ArgumentError("SlurmManager: the number of worker processes must be >= 1, got $n"))
        timeout > 0 || throw(ArgumentError("SlurmManager: timeout must be > 0, got $timeout"))
        return new(Int(n), exename, exeflags, srun, Float64(timeout))
    end
end

Base.show(io::IO, m::SlurmManager) = print(io, "SlurmManager(", m.ntasks, ")")

"""
The `srun` command starting the workers of `m` with the cluster cookie `cookie`;
`overlap`: with `--overlap` (see the top of this file).
"""
function srun_command(m::SlurmManager, cookie::AbstractString; overlap::Bool=false)::Cmd
    flags = ["--ntasks=$(m.ntasks)", "--kill-on-bad-exit=0", "--wait=0"]
    cpus = tryparse(Int, strip(get(ENV, "SLURM_CPUS_PER_TASK", "")))
    cpus !== nothing && cpus >= 1 && push!(flags, "--cpus-per-task=$(cpus)")
    overlap && push!(flags, "--overlap")
    return `$(m.srun) $(flags) $(m.exename) $(m.exeflags) --worker=$(cookie)`
end

"""`major.minor` of the Slurm version in `srun --version` output (`slurm 23.02.1`, `slurm-wlm 22.05.8`), else `nothing`."""
function parse_slurm_version(text::AbstractString)
    r = match(r"^\s*slurm\S*\s+(\d+)\.(\d+)", text)
    r === nothing && return nothing
    return VersionNumber(parse(Int, r.captures[1]), parse(Int, r.captures[2]))
end

"""The Slurm version of `srun` (`srun --version`, given `timeout` seconds), else `nothing`."""
function srun_version(srun::AbstractString; timeout::Real=5)
    out = Pipe()
    proc = try
        run(pipeline(`$srun --version`; stdin=devnull, stdout=out, stderr=devnull); wait=false)
    catch
        return nothing
    end
    close(out.in)
    reader = @async read(out, String)
    if timedwait(() -> istaskdone(reader) && !process_running(proc), Float64(timeout)) !== :ok
        process_running(proc) && kill(proc)
        return nothing
    end
    text = fetch(reader)
    return success(proc) ? parse_slurm_version(text) : nothing
end

"""Does this `srun` know `--overlap` (Slurm 20.11 and later)?"""
function srun_overlaps(srun::AbstractString)::Bool
    v = srun_version(srun)
    return v !== nothing && v >= v"20.11"
end

"""`(host, port)` from a line holding `julia_worker:<port>#<host>`, else `nothing`."""
function parse_worker_address(line::AbstractString)
    r = match(r"julia_worker:(\d+)#(\S+)", line)
    r === nothing && return nothing
    port = tryparse(Int, r.captures[1])
    (port === nothing || !(1 <= port <= 65535)) && return nothing
    return (String(r.captures[2]), port)
end

"""Write `line` of srun's output to stderr, prefixed "srun: " (unless it already is)."""
function forward_srun_line(line::AbstractString)
    println(stderr, startswith(line, "srun: ") ? line : "srun: " * line)
end

# Runs srun, waits for the n workers' addresses and hands them to Distributed
# (all at once: on a failure, no worker of this launch gets registered).
function Distributed.launch(m::SlurmManager, params::Dict, launched::Array, c)
    cookie = Distributed.cluster_cookie()
    overlap = srun_overlaps(m.srun)
    cmd = srun_command(m, cookie; overlap=overlap)
    out, err = Pipe(), Pipe()
    t0 = time()
    proc = try
        run(pipeline(cmd; stdin=devnull, stdout=out, stderr=err); wait=false)
    catch e
        throw(ErrorException("cannot run `$(m.srun)` to start $(m.ntasks) KeplerSR worker processes " *
            "(is Slurm installed and is this inside a Slurm allocation?): " *
            replace(sprint(showerror, e), cookie => "<cookie>")))   # the cookie stays secret
    end
    close(out.in); close(err.in)

    # Until the workers are up, srun's output goes to `events` (stdout lines)
    # and `tail` (the last lines of both streams, for an error message);
    # afterwards it is forwarded to stderr.
    forwarding = Ref(false)
    tail = String[]
    remember(line) = (push!(tail, line); length(tail) > 20 && popfirst!(tail))
    events = Channel{Any}(Inf)
    @async begin
        for line in eachline(out)
            forwarding[] ? forward_srun_line(line) : put!(events, line)
        end
        forwarding[] || put!(events, :eof)
    end
    stderr_reader = @async for line in eachline(err)
        forwarding[] ? forward_srun_line(line) : remember(line)
    end
    timer = Timer(_ -> put!(events, :timeout), m.timeout)

    addresses = Tuple{String,Int}[]
    reason = :eof
    try
        while length(addresses) < m.ntasks
            ev = take!(events)
            if ev isa Symbol
                reason = ev
                break
            end
            a = parse_worker_address(ev)
            a === nothing ? remember(ev) : push!(addresses, a)
        end
    finally
        close(timer)
    end

    if length(addresses) < m.ntasks
        process_running(proc) && kill(proc)
        timedwait(() -> istaskdone(stderr_reader) && !process_running(proc), 5.0)
        what, secs = reason === :timeout ? ("timed out", m.timeout) :
            (process_exited(proc) ? "srun exited with status $(proc.exitcode)" : "srun closed its output",
             round(time() - t0; digits=1))
        lines = isempty(tail) ? "no output" : join(tail[max(1, end - 9):end], "\n")
        throw(ErrorException("srun started $(length(addresses)) of $(m.ntasks) KeplerSR worker processes " *
            "within $(secs) s ($(what)): $(lines)\n(command: $(srun_command(m, "<cookie>"; overlap=overlap)))"))
    end

    # All up: pass on whatever srun prints from now on (`events` is left
    # open, so a reader that has just seen `forwarding[] == false` cannot fail).
    forwarding[] = true
    while isready(events)
        ev = take!(events)
        ev isa String && forward_srun_line(ev)
    end
    for (host, port) in addresses
        config = Distributed.WorkerConfig()
        config.host = host
        config.port = port
        config.userdata = proc
        push!(launched, config)
    end
    notify(c)
    return nothing
end

function Distributed.manage(m::SlurmManager, id::Integer, config::Distributed.WorkerConfig, op::Symbol)
    # :register, :deregister, :finalize: nothing to do; srun ends when its last
    # task (worker) exits. :interrupt: see the top of this file.
    return nothing
end
