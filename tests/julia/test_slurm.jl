# Tests of SlurmManager (julia/parallel/slurm.jl) with a stand-in for srun
# (tests/julia/fake_srun, which starts the tasks on this machine): workers
# started, their SLURM_PROCID, and a failed launch that errors at once.
# Run: julia --startup-file=no tests/julia/test_slurm.jl
using Test
using Distributed

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

const FAKE_SRUN = joinpath(@__DIR__, "fake_srun")
const JULIA_EXE = get(ENV, "KEPLERSR_JULIA_EXE", joinpath(Sys.BINDIR, Base.julia_exename()))

"""Run `f()` with a temporary folder first on PATH holding `srun` (a symlink to `target`) or a script `body`."""
function with_srun(f; target=FAKE_SRUN, body=nothing)
    mktempdir() do dir
        srun = joinpath(dir, "srun")
        if body === nothing
            symlink(target, srun)
        else
            write(srun, "#!/bin/sh\n" * body * "\n")
            chmod(srun, 0o755)
        end
        withenv(f, "PATH" => dir * ":" * get(ENV, "PATH", ""))
    end
end

"""`(seconds, error)` of `addprocs(manager)`, which must fail: the launch's error, unwrapped
from the TaskFailedException `addprocs` wraps it in."""
function failed_addprocs(manager)
    t0 = time()
    try
        pids = addprocs(manager)
        rmprocs(pids)
        return time() - t0, nothing
    catch e
        while e isa TaskFailedException
            e = e.task.exception
        end
        return time() - t0, e
    end
end

@testset "srun command" begin
    m = K.SlurmManager(3; exename="/opt/julia", exeflags=`-t 2 --startup-file=no`)
    withenv("SLURM_CPUS_PER_TASK" => nothing) do
        @test collect(K.srun_command(m, "abc").exec) == ["srun", "--ntasks=3", "--kill-on-bad-exit=0",
            "--wait=0", "/opt/julia", "-t", "2", "--startup-file=no", "--worker=abc"]
    end
    withenv("SLURM_CPUS_PER_TASK" => "4") do
        @test "--cpus-per-task=4" in K.srun_command(m, "abc").exec
    end
    @test "--overlap" in K.srun_command(m, "abc"; overlap=true).exec
    @test K.parse_slurm_version("slurm-wlm 22.05.8\n") == v"22.5"
    @test K.parse_slurm_version("slurm 20.11.4") == v"20.11"
    @test K.parse_slurm_version("slurm 19.05.5") < v"20.11"
    @test K.parse_slurm_version("fake_srun: no command to run") === nothing
    @test K.parse_worker_address("julia_worker:9012#10.1.2.3") == ("10.1.2.3", 9012)
    @test K.parse_worker_address("0: julia_worker:9012#10.1.2.3\r") == ("10.1.2.3", 9012)
    @test K.parse_worker_address("julia_worker:#10.1.2.3") === nothing
    @test K.parse_worker_address("hello") === nothing
    @test_throws ArgumentError K.SlurmManager(0; exename="julia")
    @test_throws ArgumentError K.SlurmManager(1; exename="julia", timeout=0)
end

@testset "two workers through srun" begin
    with_srun() do
        pids = addprocs(K.SlurmManager(2; exename=JULIA_EXE, exeflags=`--startup-file=no`, timeout=120))
        try
            @test length(pids) == 2 && all(p -> p in workers(), pids)
            @test sort([remotecall_fetch(myid, p) for p in pids]) == sort(pids)
            # (expressions, not closures: a closure of this test module cannot be sent to a worker)
            env(p, name) = Distributed.remotecall_eval(Main, p, :(ENV[$name]))
            @test sort([env(p, "SLURM_PROCID") for p in pids]) == ["0", "1"]
            @test all(p -> env(p, "SLURM_NTASKS") == "2", pids)
            # both workers hold a reference to the same srun process
            configs = [Distributed.worker_from_id(p).config for p in pids]
            @test configs[1].userdata isa Base.Process && configs[1].userdata === configs[2].userdata
        finally
            rmprocs(pids; waitfor=30)
        end
        @test all(p -> !(p in workers()), pids)
    end
end

@testset "srun of Slurm >= 20.11 gets --overlap" begin
    # the fake srun has no version: no --overlap
    @test K.srun_version(FAKE_SRUN) === nothing && !K.srun_overlaps(FAKE_SRUN)
    @test K.srun_version("/nonexistent/srun") === nothing
    mktempdir() do dir
        log = joinpath(dir, "args")
        body = "case \"\$1\" in --version) echo 'slurm 22.05.8'; exit 0 ;; esac\n" *
               "echo \"\$@\" > '$(log)'\n" *
               "exec '$(FAKE_SRUN)' \"\$@\""
        with_srun(body=body) do
            @test K.srun_version("srun") == v"22.5" && K.srun_overlaps("srun")
            pids = addprocs(K.SlurmManager(1; exename=JULIA_EXE, exeflags=`--startup-file=no`, timeout=120))
            try
                @test length(pids) == 1
                @test "--overlap" in split(read(log, String))
            finally
                rmprocs(pids; waitfor=30)
            end
        end
        # an srun whose --version hangs costs at most the probe's timeout
        with_srun(body="exec sleep 60") do
            t = @elapsed v = K.srun_version("srun"; timeout=1)
            @test v === nothing && t < 5
        end
    end
end

@testset "srun that fails" begin
    before = procs()
    # srun exits at once, with a message on stderr
    with_srun(body="echo 'srun: error: Unable to allocate resources: no allocation' >&2; exit 1") do
        t, err = failed_addprocs(K.SlurmManager(2; exename=JULIA_EXE, timeout=30))
        @test t < 20
        @test err isa ErrorException
        msg = sprint(showerror, err)
        @test occursin("srun started 0 of 2 KeplerSR worker processes", msg)
        @test occursin("Unable to allocate resources", msg) && occursin("status 1", msg)
        @test !occursin(cluster_cookie(), msg)
    end
    # srun runs but no worker ever prints its address: the timeout
    with_srun(body="echo 'srun: job step creation temporarily disabled, retrying' >&2; exec sleep 60") do
        t, err = failed_addprocs(K.SlurmManager(1; exename=JULIA_EXE, timeout=1.5))
        @test t < 15
        @test err isa ErrorException
        msg = sprint(showerror, err)
        @test occursin("srun started 0 of 1", msg) && occursin("timed out", msg)
        @test occursin("temporarily disabled", msg)
    end
    # one worker of two starts: the other task's command fails (not a Julia program)
    with_srun() do
        script = """if [ "\$SLURM_PROCID" = 0 ]; then echo julia_worker:9#127.0.0.1; fi; echo task \$SLURM_PROCID gone >&2"""
        t, err = failed_addprocs(K.SlurmManager(2; exename="/bin/sh", exeflags=`-c $script sh`, timeout=30))
        @test err isa ErrorException
        @test occursin("srun started 1 of 2", sprint(showerror, err)) && occursin("gone", sprint(showerror, err))
    end
    # no srun at all
    t, err = failed_addprocs(K.SlurmManager(1; exename=JULIA_EXE, srun="/nonexistent/srun", timeout=5))
    @test err isa ErrorException && occursin("/nonexistent/srun", sprint(showerror, err))
    @test t < 10 && !occursin(cluster_cookie(), sprint(showerror, err))
    @test procs() == before   # no worker left behind by the failures
end
