# All Julia unit tests of the engine (julia/): `julia --startup-file=no tests/julia/runtests.jl`
# (run by the Python test suite too, see tests/test_julia_engine.py).
#
# The engine (and the worker module) are loaded once, into Main; each
# test_*.jl runs in a fresh module of its own and uses `Main.KeplerSR`. A
# test file can also be run alone: it then loads the engine itself.
using Test

const TESTDIR = @__DIR__
const ENGINE = joinpath(TESTDIR, "..", "..", "julia")
include(joinpath(ENGINE, "KeplerSR.jl"))
include(joinpath(ENGINE, "worker.jl"))   # Main.KeplerSRWorker; its main() is not run

@testset "KeplerSR engine" begin
    for f in sort(readdir(TESTDIR))
        if startswith(f, "test_") && endswith(f, ".jl")
            @testset "$f" begin
                m = Module(Symbol(f[1:end-3]))
                Core.eval(m, :(include(x) = Base.include($m, x)))
                Base.include(m, joinpath(TESTDIR, f))
            end
        end
    end
end
