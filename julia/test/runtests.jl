# All Julia unit tests of the engine: `julia --startup-file=no julia/test/runtests.jl`
# (run by the Python test suite too, see tests/test_julia_engine.py).
using Test

const TESTDIR = @__DIR__
@testset "KeplerSR engine" begin
    for f in sort(readdir(TESTDIR))
        if startswith(f, "test_") && endswith(f, ".jl")
            @testset "$f" begin
                # each file includes the engine itself; run it in a fresh module
                m = Module(Symbol(f[1:end-3]))
                Core.eval(m, :(include(x) = Base.include($m, x)))
                Base.include(m, joinpath(TESTDIR, f))
            end
        end
    end
end
