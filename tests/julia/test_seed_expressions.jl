# Tests of seed expressions (julia/search/seed_expressions.jl, io/fit_message.jl):
# formulas given with a fit start the search, even above maxsize.
#   julia --startup-file=no tests/julia/test_seed_expressions.jl
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/"], ["sin", "exp"])
x(j) = K.var_node(j); c(v) = K.const_node(v)
add(a, b) = K.binary_node(1, a, b); mul(a, b) = K.binary_node(3, a, b); dv(a, b) = K.binary_node(4, a, b)

opts_(; kw...) = K.Options(OPS; populations=2, population_size=20, ncycles_per_iteration=20, niterations=2,
                           seed=3, deterministic=true, enumerate_max_complexity=3, maxsize=9, kw...)

@testset "a seed larger than maxsize enters the front with refitted constants" begin
    rng = MersenneTwister(1)
    X = 1 .+ rand(rng, 300, 4)
    y = X[:, 1] .* X[:, 2] .+ 2.5 .* X[:, 3] ./ X[:, 4] .+ exp.(X[:, 1] ./ X[:, 4])
    data = K.Dataset(X, y)
    # x1*x2 + c*x3/x4 + exp(x1/x4): complexity 14 > maxsize 9; the constant starts wrong
    seed = add(add(mul(x(1), x(2)), mul(c(1.0), dv(x(3), x(4)))), K.unary_node(2, dv(x(1), x(4))))
    opts = opts_()
    r = K.run_search(data, opts; seed_trees=[seed])
    best = r.front[end]
    @test best.complexity == 14
    @test best.loss < 1e-20
    @test K.encode_tree(best.tree)[2] ≈ [2.5]
    # without the seed nothing that good is found in two iterations at maxsize 9
    r0 = K.run_search(data, opts)
    @test r0.front[end].loss > 1e-6
    # a resumed search keeps it
    saved = Ref{Any}(nothing)
    K.run_search(data, opts; seed_trees=[seed], on_checkpoint=s -> (saved[] = s))
    r2 = K.run_search(data, opts; resume=saved[])
    @test r2.front[end].complexity == 14 && r2.front[end].loss < 1e-20
end

@testset "seeds within the constraints start the populations" begin
    rng = MersenneTwister(2)
    X = 1 .+ rand(rng, 200, 2)
    data = K.Dataset(X, 3.0 .* X[:, 1] ./ X[:, 2])
    seed = mul(c(1.0), dv(x(1), x(2)))
    r = K.run_search(data, opts_(enumerate_max_complexity=0, niterations=1); seed_trees=[seed])
    @test any(e -> e.loss < 1e-20 && e.complexity == 5, r.front)
end

@testset "seed expressions from a fit message: decoded, or a clear error" begin
    opts = opts_()
    codes, consts = K.encode_tree(add(x(1), mul(c(2.0), x(2))))
    trees = K.seed_trees_from_list(Any[Dict{String,Any}("codes" => Any[Int(v) for v in codes],
                                                        "constants" => Any[v for v in consts])], opts, 2)
    @test length(trees) == 1 && K.tree_equal(trees[1], add(x(1), mul(c(2.0), x(2))))
    @test isempty(K.seed_trees_from_list(nothing, opts, 2))
    bad(list, nf=2) = K.seed_trees_from_list(list, opts, nf)
    @test_throws ArgumentError bad("x")
    @test_throws ArgumentError bad(Any[Dict{String,Any}("codes" => Any[1])])
    # feature 3 of a 2-feature search; unary operator 9 of 2
    @test_throws ArgumentError bad(Any[Dict{String,Any}("codes" => Any[3], "constants" => Any[])])
    @test_throws ArgumentError bad(Any[Dict{String,Any}("codes" => Any[-9, 1], "constants" => Any[])])
    # truncated: a binary operator with one operand
    err = try
        bad(Any[Dict{String,Any}("codes" => Any[-1000, 1], "constants" => Any[])]); nothing
    catch e
        e
    end
    @test err isa ArgumentError && occursin("seed_expressions[1]", err.msg)
end
