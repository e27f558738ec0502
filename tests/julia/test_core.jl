# Core engine: evaluation against direct formulas, the Dual-number Jacobian,
# the prefix encoding, complexity and constraints, losses, and a small search.
using Test, Random, Statistics
isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

ops = K.build_operator_set(["+", "-", "*", "/", "^"], ["cos", "exp", "log", "inv2"], ["inv2(x) = 1/x^2"])
x(j) = K.var_node(j); c(v) = K.const_node(v)
X = randn(MersenneTwister(1), 500, 5)
# 2.5382*cos(x3) + x0^2 - 0.5
t = K.binary_node(2, K.binary_node(1, K.binary_node(3, c(2.5382), K.unary_node(1, x(4))),
        K.binary_node(3, x(1), x(1))), c(0.5))

@testset "evaluation" begin
    out = zeros(500); ws = K.EvalWorkspace{Float64}(500)
    @test K.eval_tree!(out, t, X, ops, ws)
    @test out ≈ 2.5382 .* cos.(X[:, 4]) .+ X[:, 1] .^ 2 .- 0.5
    # user operator
    u = K.unary_node(4, x(2))
    @test K.eval_tree!(out, u, X, ops, ws)
    @test out ≈ 1 ./ X[:, 2] .^ 2
    # log of negatives -> early exit with false
    @test !K.eval_tree!(out, K.unary_node(3, x(1)), X, ops, ws)
    # division by zero -> false
    @test !K.eval_tree!(out, K.binary_node(4, x(1), c(0.0)), X, ops, ws)
    # no allocations in the hot path after warm-up (beyond the dynamic-dispatch box)
    K.eval_tree!(out, t, X, ops, ws)
    @test (@allocated K.eval_tree!(out, t, X, ops, ws)) <= 256
end

@testset "jacobian" begin
    J = zeros(500, 2); pred = zeros(500)
    dws = K.EvalWorkspace{K.Dual}(500); dout = Vector{K.Dual}(undef, 500)
    @test K.eval_jacobian!(J, pred, t, X, ops, dws, dout)
    @test J[:, 1] ≈ cos.(X[:, 4])
    @test all(J[:, 2] .== -1.0)
    # derivative through a power and a user operator: d/dc inv2(c*x) = -2/(c^3 x^2)
    tt = K.unary_node(4, K.binary_node(3, c(1.7), x(2)))
    J1 = zeros(500, 1)
    @test K.eval_jacobian!(J1, pred, tt, X, ops, dws, dout)
    @test J1[:, 1] ≈ -2 ./ (1.7^3 .* X[:, 2] .^ 2)
end

@testset "encoding" begin
    codes, consts = K.encode_tree(t)
    @test K.tree_equal(K.decode_tree(codes, consts), t)
    @test consts == [2.5382, 0.5]
    @test_throws ArgumentError K.decode_tree(Int32[-1000, 1], Float64[])
end

@testset "complexity and constraints" begin
    o = K.Options(ops; maxsize=9, complexity_of_unaops=[3, 1, 1, 1],
                  nested_constraints=[(1, 1, 1, 1, 0)], bin_constraints=[(-1, -1), (-1, -1), (-1, -1), (-1, -1), (-1, 1)])
    @test K.compute_complexity(t, o) == 12   # 10 nodes, cos counts 3
    @test !K.check_constraints(t, o)                                  # too big
    cc = K.unary_node(1, K.unary_node(1, x(1)))
    @test !K.check_constraints(cc, o)                                 # cos(cos(x)) nested
    @test K.check_constraints(K.unary_node(1, x(1)), o)
    @test !K.check_constraints(K.binary_node(5, x(1), K.binary_node(1, x(2), c(1.0))), o)   # ^ exponent too big
    @test K.check_constraints(K.binary_node(5, x(1), c(2.0)), o)
end

@testset "losses" begin
    d = K.Dataset(X, X[:, 1] .* 2.0)
    lw = K.LossWorkspace(500)
    for (loss, expect) in ((:L2, mean((X[:, 1] .- 2 .* X[:, 1]) .^ 2)), (:L1, mean(abs.(X[:, 1]))))
        o = K.Options(ops; loss=loss)
        @test K.eval_loss(x(1), d, o, lw) ≈ expect
    end
    w = rand(MersenneTwister(3), 500)
    dw = K.Dataset(X, X[:, 1] .* 2.0, w)
    @test K.eval_loss(x(1), dw, K.Options(ops), lw) ≈ sum(w .* X[:, 1] .^ 2) / sum(w)
    cl = K.compile_custom_loss("myloss(p, t) = abs(p - t)^3")
    o = K.Options(ops; loss=:custom, custom_loss=cl)
    @test K.eval_loss(x(1), d, o, lw) ≈ mean(abs.(X[:, 1]) .^ 3)
    @test_throws ArgumentError K.Dataset(X, zeros(3))
    @test_throws ArgumentError K.build_operator_set(["+"], ["nosuchop"])
end

@testset "pareto front ignores rounding-noise improvements" begin
    hof = K.HallOfFame(6)
    for (c, l) in ((1, 1.0), (3, 4e-30), (5, 1e-30), (6, 2.0))
        K.offer!(hof, K.PopMember(x(1), l, l, c, 0))
    end
    @test [m.complexity for m in K.pareto_front(hof)] == [1, 3, 5]
    @test [m.complexity for m in K.pareto_front(hof; noise_floor=1e-15)] == [1, 3]
end
