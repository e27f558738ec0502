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

@testset "fit_seed_expressions: only the given trees, with covariance" begin
    rng = MersenneTwister(2)
    X = rand(rng, 200, 1) .* 3
    y = 1.5 .* X[:, 1] .- 0.7 .+ 0.05 .* randn(rng, 200)
    w = 0.5 .+ rand(rng, 200)
    data = K.Dataset(X, y, w)
    # a*x + b, a poor start; and a worse formula, kept although a constant would beat it
    t1 = add(mul(c(0.1), x(1)), c(3.0))
    t2 = mul(c(1.0), K.unary_node(1, mul(c(5.0), x(1))))
    r = K.fit_seed_expressions(data, opts_(), [t1, t2])
    @test r.stop_reason == "fit_only" && length(r.front) == 2
    e = r.front[1]
    a, b = K.encode_tree(e.tree)[2]
    # weighted least squares by hand
    A = hcat(X[:, 1], ones(200))
    W = w ./ (sum(w) / 200)
    coef = (A' * (W .* A)) \ (A' * (W .* y))
    @test [a, b] ≈ coef rtol = 1e-6
    res = A * coef .- y
    s2 = sum(W .* res .^ 2) / (200 - 2)
    cov = s2 .* inv(A' * (W .* A))
    @test e.constants_covariance ≈ cov rtol = 1e-6
    @test e.constants_stderr ≈ sqrt.([cov[1, 1], cov[2, 2]]) rtol = 1e-6
    @test K.encode_tree(r.front[2].tree)[1] == K.encode_tree(t2)[1]
    rec = K.front_record(e, OPS, ["x"])
    @test length(rec["constants_covariance"]) == 2
    # absolute convention (weights = 1/σ²): (J'WJ)⁻¹, not rescaled by the residuals
    dabs = K.Dataset(data.X, data.y, data.w; absolute_weights=true)
    ra = K.fit_seed_expressions(dabs, opts_(), [t1, t2])
    cova = inv(A' * (w .* A))
    @test ra.front[1].constants_covariance ≈ cova rtol = 1e-6
    @test ra.front[1].constants_stderr ≈ sqrt.([cova[1, 1], cova[2, 2]]) rtol = 1e-6
    @test K.constant_uncertainties(e.tree, dabs, opts_()) ≈ ra.front[1].constants_stderr
    @test_throws ArgumentError K.Dataset(data.X, data.y; absolute_weights=true)
    # search fronts carry no covariance
    @test !haskey(K.front_record(K.FrontEntry(e.tree, 1, 0.0, 0.0, [1.0, 1.0]), OPS, ["x"]), "constants_covariance")
end
