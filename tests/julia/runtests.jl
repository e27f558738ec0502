# All Julia unit tests of the engine (julia/), from the repository's root:
#
#   julia --startup-file=no -t 2 tests/julia/runtests.jl [test_x.jl ...] [--report DIR]
#
# The engine (and the worker module) are loaded once, into Main; each
# test_*.jl of this folder (or each one named) runs in a fresh module of its
# own and uses `Main.KeplerSR`. A test file can also be run alone: it then
# loads the engine itself. The exit status is non-zero when any test fails.
#
# `--report DIR` (used by tests/test_julia_engine.py, which makes each file a
# pytest item): each file's output goes to `DIR/<file>.log` instead of the
# terminal, and `DIR/report.tsv` gets one line per finished file,
#   <file> <TAB> pass|fail <TAB> passed <TAB> failed <TAB> errored <TAB> broken <TAB> seconds
# written as soon as the file ends, then a last line `done` once every file
# ran. A file that crashes the process has no line.
using Test
using Logging: ConsoleLogger, with_logger

const TESTDIR = @__DIR__
const ENGINE = joinpath(TESTDIR, "..", "..", "julia")

"""(file names to run, report folder or nothing) from the command line."""
function parse_args(args)
    files, report = String[], nothing
    i = 1
    while i <= length(args)
        a = args[i]
        if a == "--report"
            i < length(args) || error("runtests.jl: --report needs a folder")
            report = args[i + 1]
            i += 2
            continue
        elseif startswith(a, "--report=")
            report = a[length("--report=") + 1:end]
        elseif startswith(a, "-")
            error("runtests.jl: unknown option $a (usage: runtests.jl [test_x.jl ...] [--report DIR])")
        else
            f = basename(a)
            isfile(joinpath(TESTDIR, f)) || error("runtests.jl: no test file $f in $TESTDIR")
            push!(files, f)
        end
        i += 1
    end
    if isempty(files)
        files = sort([f for f in readdir(TESTDIR) if startswith(f, "test_") && endswith(f, ".jl")])
    end
    return files, report
end

const FILES, REPORT = parse_args(ARGS)

include(joinpath(ENGINE, "KeplerSR.jl"))
include(joinpath(ENGINE, "worker.jl"))   # Main.KeplerSRWorker; its main() is not run

"""Run test file `f` in a module of its own (inside the caller's testset)."""
function run_file(f)
    m = Module(Symbol(f[1:end-3]))
    Core.eval(m, :(include(x) = Base.include($m, x)))
    Base.include(m, joinpath(TESTDIR, f))
end

"""`body()`, with stdout, stderr and log messages into `log` when one is given."""
function output_to(body, log::Union{IOStream,Nothing})
    log === nothing && return body()
    return redirect_stdout(log) do
        redirect_stderr(log) do
            with_logger(body, ConsoleLogger(log))
        end
    end
end

function report_line(f, ts, seconds)
    counts = Test.get_test_counts(ts)   # own and children's pass, fail, error, broken
    passed, failed, errored, broken = (counts[k] + counts[k + 4] for k in 1:4)
    status = failed == 0 && errored == 0 ? "pass" : "fail"
    return join((f, status, passed, failed, errored, broken, round(seconds; digits=2)), '\t')
end

REPORT === nothing || mkpath(REPORT)
report = REPORT === nothing ? nothing : open(joinpath(REPORT, "report.tsv"), "w")

@testset "KeplerSR engine" begin
    for f in FILES
        log = REPORT === nothing ? nothing : open(joinpath(REPORT, f * ".log"), "w")
        t0 = time()
        ts = output_to(log) do    # the file's failures are printed into its log too
            @testset "$f" begin
                run_file(f)
            end
        end
        log === nothing || close(log)
        if report !== nothing
            println(report, report_line(f, ts, time() - t0))
            flush(report)
        end
    end
    report === nothing || (println(report, "done"); close(report))
end
