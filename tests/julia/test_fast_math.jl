# Tests of the fast transcendental kernels (julia/core/fast_math.jl): their
# error in ulp against BigFloat over the whole domain, the edge cases (±0,
# subnormals, huge arguments, NaN, ±Inf, overflow, domain errors -> NaN), the
# evaluator's row loops over them (vectorised; huge sin/cos arguments finished
# in a second pass), and their Dual numbers.
# Run: julia --startup-file=no tests/julia/test_fast_math.jl
using Test
using Random
using InteractiveUtils: code_llvm

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
const K = Main.KeplerSR

setprecision(BigFloat, 256)

"""Error of `y` in ulp of the correctly rounded reference (0 when both are the same NaN/Inf/0)."""
function ulp_error(y::Float64, ref::BigFloat)
    r = Float64(ref)
    (isnan(r) || isnan(y)) && return isnan(r) == isnan(y) ? 0.0 : Inf
    (isinf(r) || isinf(y)) && return r == y ? 0.0 : Inf
    return Float64(abs(big(y) - ref) / eps(r))
end

"""`n` magnitudes log-uniform in [lo, hi], with random signs if `signs`."""
function logspaced(rng, lo, hi, n; signs=true)
    x = exp10.(log10(lo) .+ rand(rng, n) .* (log10(hi) - log10(lo)))
    return signs ? x .* rand(rng, (-1.0, 1.0), n) : x
end

"""Largest ulp error of `f` against `ref` (on BigFloat) over `xs`, and where."""
function max_ulp(f, ref, xs)
    worst = 0.0; at = NaN
    for x in xs
        e = ulp_error(f(x), ref(big(x)))
        if !(e <= worst)
            worst = e; at = x
        end
    end
    return worst, at
end

const MAX_ULP = 4.0
const N = 100_000
rng = MersenneTwister(20240611)

# BigFloat references with the engine's domain semantics
ref_log(x) = x > 0 ? log(x) : big(NaN)
ref_asin(x) = abs(x) <= 1 ? asin(x) : big(NaN)
ref_acos(x) = abs(x) <= 1 ? acos(x) : big(NaN)
ref_trig(g) = x -> isfinite(x) ? g(x) : big(NaN)

# (name, fast, BigFloat reference, Base with the same semantics, samples): 10^5
# points log-spaced over the whole finite domain (subnormals to 1e308, both
# signs), plus a uniform sample of the range where the function varies most
const CASES = [
    ("sin", K.fast_sin, ref_trig(sin), sin, vcat(logspaced(rng, 1e-310, 1e308, N), 20 .* rand(rng, 20_000) .- 10)),
    ("cos", K.fast_cos, ref_trig(cos), cos, vcat(logspaced(rng, 1e-310, 1e308, N), 20 .* rand(rng, 20_000) .- 10)),
    ("exp", K.fast_exp, exp, exp, vcat(logspaced(rng, 1e-310, 1e308, N), 1500 .* rand(rng, 20_000) .- 750)),
    ("log", K.fast_log, ref_log, K.safe_log, vcat(logspaced(rng, 5e-324, 1.7e308, N; signs=false),
                                      logspaced(rng, 1e-300, 1e300, 1_000), 2 .* rand(rng, 20_000))),
    ("tanh", K.fast_tanh, tanh, tanh, vcat(logspaced(rng, 1e-310, 1e308, N), 8 .* rand(rng, 20_000) .- 4)),
    ("asin", K.fast_asin, ref_asin, K.safe_asin, vcat(logspaced(rng, 1e-310, 1.0, N), logspaced(rng, 1.0, 1e308, 1_000),
                                         2 .* rand(rng, 20_000) .- 1)),
    ("acos", K.fast_acos, ref_acos, K.safe_acos, vcat(logspaced(rng, 1e-310, 1.0, N), logspaced(rng, 1.0, 1e308, 1_000),
                                         2 .* rand(rng, 20_000) .- 1)),
]

@testset "ulp error against BigFloat over the whole domain" begin
    for (name, f, ref, base, xs) in CASES
        worst, at = max_ulp(f, ref, xs)
        base_worst = max_ulp(base, ref, xs)[1]
        # sin, cos: also the points their kernel computes (the others go to Base)
        kernel = name in ("sin", "cos") ?
            " ($(round(max_ulp(f, ref, filter(x -> abs(x) <= K.TRIG_FAST_MAX, xs))[1], digits=3)) ulp " *
            "for |x| <= $(K.TRIG_FAST_MAX))" : ""
        @info "fast_$(name): max error $(round(worst, digits=3)) ulp$(kernel) (at x = $(at)) over " *
              "$(length(xs)) points; Base: $(round(base_worst, digits=3)) ulp"
        @test worst <= MAX_ULP
    end
end

@testset "sin/cos: argument reduction near multiples of π/2 and at the fast-range bound" begin
    # the doubles nearest to k π/2 (where the reduction cancels most), for k in the fast range
    ks = vcat(1:5000, rand(rng, 5000:floor(Int, K.TRIG_FAST_MAX / (π / 2)), 5000))
    xs = Float64[]
    for k in ks
        x = Float64(k * big(π) / 2)
        append!(xs, (x, prevfloat(x), nextfloat(x), -x))
    end
    es, ec = max_ulp(K.fast_sin, sin, xs)[1], max_ulp(K.fast_cos, cos, xs)[1]
    @info "near multiples of π/2: fast_sin $(round(es, digits=3)) ulp, fast_cos $(round(ec, digits=3)) ulp " *
          "over $(length(xs)) points"
    @test es <= MAX_ULP && ec <= MAX_ULP
    m = K.TRIG_FAST_MAX
    bound = [m, prevfloat(m), nextfloat(m), -m, -nextfloat(m), 2m, 1e7, 1e15, 1e300, floatmax(Float64)]
    @test max_ulp(K.fast_sin, sin, bound)[1] <= MAX_ULP
    @test max_ulp(K.fast_cos, cos, bound)[1] <= MAX_ULP
    # π/2 in four parts, log(2) in two
    @test abs(big(K.PIO2_1) + big(K.PIO2_2) + big(K.PIO2_3) + big(K.PIO2_3T) - big(π) / 2) < 1e-45
    @test abs(big(K.LN2_HI) + big(K.LN2_LO) - log(big(2))) < 1e-25
end

@testset "edge cases" begin
    tiny = nextfloat(0.0); sub = 1.5e-310; huge = floatmax(Float64)
    # sin, cos
    @test K.fast_sin(0.0) === 0.0 && K.fast_sin(-0.0) === -0.0
    @test K.fast_cos(0.0) === 1.0 && K.fast_cos(-0.0) === 1.0
    @test K.fast_sin(sub) === sub && K.fast_sin(-tiny) === -tiny && K.fast_cos(sub) === 1.0
    for f in (K.fast_sin, K.fast_cos)
        @test isnan(f(NaN)) && isnan(f(Inf)) && isnan(f(-Inf))
    end
    @test K.fast_sin(1e300) == sin(1e300) && K.fast_cos(-1e300) == cos(-1e300)
    @test K.fast_sin(huge) == sin(huge)
    @test K.fast_sincos(2.5) === (K.fast_sin(2.5), K.fast_cos(2.5))
    @test K.fast_sincos(3e9) === (sin(3e9), cos(3e9))
    # exp
    @test K.fast_exp(0.0) === 1.0 && K.fast_exp(-0.0) === 1.0 && K.fast_exp(sub) === 1.0
    @test ulp_error(K.fast_exp(1.0), exp(big(1.0))) <= 1
    @test K.fast_exp(710.0) === Inf && K.fast_exp(1e300) === Inf && K.fast_exp(Inf) === Inf
    @test K.fast_exp(-746.0) === 0.0 && K.fast_exp(-1e300) === 0.0 && K.fast_exp(-Inf) === 0.0
    @test isnan(K.fast_exp(NaN))
    for x in (709.78, 709.782712893384, -708.0, -709.5, -740.0, -745.0, -745.1332191019411)
        @test ulp_error(K.fast_exp(x), exp(big(x))) <= MAX_ULP    # near overflow, subnormal results
    end
    @test K.fast_exp(-745.1332191019411) == tiny
    # log: NaN for x <= 0 (the engine's safe_log), Inf for Inf
    @test K.fast_log(1.0) === 0.0
    @test isnan(K.fast_log(0.0)) && isnan(K.fast_log(-0.0)) && isnan(K.fast_log(-1.0))
    @test isnan(K.fast_log(-tiny)) && isnan(K.fast_log(-Inf)) && isnan(K.fast_log(NaN))
    @test K.fast_log(Inf) === Inf
    for x in (tiny, sub, 2.2250738585072014e-308, prevfloat(2.2250738585072014e-308), huge, 2.0, 0.5,
              prevfloat(1.0), nextfloat(1.0), sqrt(2.0), sqrt(0.5))
        @test ulp_error(K.fast_log(x), log(big(x))) <= MAX_ULP
    end
    # tanh: ±1 exactly for large |x|, sign of zero kept
    @test K.fast_tanh(0.0) === 0.0 && K.fast_tanh(-0.0) === -0.0
    @test K.fast_tanh(sub) === sub && K.fast_tanh(-tiny) === -tiny
    for x in (20.0, 25.0, 1e3, 1e300, huge, Inf)
        @test K.fast_tanh(x) === 1.0 && K.fast_tanh(-x) === -1.0
    end
    @test isnan(K.fast_tanh(NaN))
    # asin, acos: NaN outside [-1, 1]
    @test K.fast_asin(0.0) === 0.0 && K.fast_asin(-0.0) === -0.0 && K.fast_asin(sub) === sub
    @test K.fast_asin(1.0) === π / 2 && K.fast_asin(-1.0) === -π / 2
    @test K.fast_acos(1.0) === 0.0 && K.fast_acos(-1.0) === Float64(π) && K.fast_acos(0.0) === π / 2
    @test K.fast_acos(-0.0) === π / 2
    for f in (K.fast_asin, K.fast_acos), x in (nextfloat(1.0), prevfloat(-1.0), 2.0, -1e300, Inf, -Inf, NaN)
        @test isnan(f(x))
    end
    for x in (0.5, prevfloat(0.5), 0.975, prevfloat(0.975), prevfloat(1.0), 1e-9)
        for s in (1.0, -1.0)
            @test ulp_error(K.fast_asin(s * x), asin(big(s * x))) <= MAX_ULP
            @test ulp_error(K.fast_acos(s * x), acos(big(s * x))) <= MAX_ULP
        end
    end
    # sqrt: Base's, without the domain error
    xs = logspaced(rng, 5e-324, 1.7e308, 10_000; signs=false)
    @test all(K.fast_sqrt(x) === sqrt(x) for x in xs)
    @test K.fast_sqrt(0.0) === 0.0 && K.fast_sqrt(-0.0) === -0.0 && K.fast_sqrt(Inf) === Inf
    @test isnan(K.fast_sqrt(-1.0)) && isnan(K.fast_sqrt(-tiny)) && isnan(K.fast_sqrt(-Inf)) && isnan(K.fast_sqrt(NaN))
end

const FEYNMAN_UNARY = ["sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]
const OPS = K.build_operator_set(["+", "*"], FEYNMAN_UNARY)
una(name, a) = K.unary_node(findfirst(==(name), OPS.unanames), a)
plus(a, b) = K.binary_node(1, a, b)

@testset "built-in operator table" begin
    for (name, f) in [("sin", K.fast_sin), ("cos", K.fast_cos), ("exp", K.fast_exp), ("log", K.fast_log),
                      ("sqrt", K.fast_sqrt), ("tanh", K.fast_tanh), ("asin", K.fast_asin), ("acos", K.fast_acos)]
        @test K.BUILTIN_UNARY[name] === f
    end
    # the row loop over each operator vectorises (Float64: SIMD vector types in its IR)
    for f in OPS.unaops
        ir = sprint(io -> code_llvm(io, K.loop_unary!, (typeof(f), Vector{Float64}); debuginfo=:none))
        @test occursin(r"<\d+ x double>", ir)
        ir = sprint(io -> code_llvm(io, K.loop_unary_x!, (typeof(f), Vector{Float64}, Matrix{Float64}, Int);
                                    debuginfo=:none))
        @test occursin(r"<\d+ x double>", ir)
    end
end

@testset "evaluator row loops over the fast kernels" begin
    n = 1000
    X = hcat(randn(rng, n) .* 3, rand(rng, n) .* 2 .- 1, logspaced(rng, 1e-3, 1e3, n; signs=false),
             randn(rng, n) .* 1e3)
    X[7, 4] = 1e7; X[8, 4] = -3e12; X[9, 4] = 1e300; X[10, 4] = -1e6   # beyond the fast range of sin/cos
    ws = K.EvalWorkspace{Float64}(n)
    out = zeros(n)
    for name in FEYNMAN_UNARY
        f = OPS.unaops[findfirst(==(name), OPS.unanames)]
        col = name in ("asin", "acos") ? 2 : name in ("log", "sqrt") ? 3 : name in ("sin", "cos") ? 4 : 1
        xs = X[:, col]
        expected = f.(xs)
        # the operator on a feature (loop_unary_x!) and on a subtree (loop_unary!)
        @test K.eval_tree!(out, una(name, K.var_node(col)), X, OPS, ws) == all(isfinite, expected)
        @test out == expected || !all(isfinite, expected)
        @test K.eval_tree!(out, una(name, plus(K.var_node(col), K.const_node(0.0))), X, OPS, ws) ==
              all(isfinite, expected)
        @test out == expected || !all(isfinite, expected)
    end
    # the huge arguments went through Base
    @test K.eval_tree!(out, una("sin", K.var_node(4)), X, OPS, ws)
    @test out[7] == sin(1e7) && out[8] == sin(-3e12) && out[9] == sin(1e300)
    @test K.eval_tree!(out, una("cos", plus(K.var_node(4), K.const_node(0.0))), X, OPS, ws)
    @test out[7] == cos(1e7) && out[8] == cos(-3e12) && out[9] == cos(1e300)
    @test out[10] == K.fast_cos(-1e6)
    # domain errors and overflow are rejected (early exit with false)
    @test !K.eval_tree!(out, una("log", K.var_node(1)), X, OPS, ws)          # x1 has negatives
    @test !K.eval_tree!(out, una("sqrt", K.var_node(1)), X, OPS, ws)
    @test !K.eval_tree!(out, una("asin", K.var_node(3)), X, OPS, ws)         # x3 beyond 1
    @test !K.eval_tree!(out, una("acos", K.var_node(3)), X, OPS, ws)
    @test !K.eval_tree!(out, una("exp", una("exp", K.var_node(3))), X, OPS, ws)   # overflow
    @test K.eval_tree!(out, una("tanh", K.var_node(3)), X, OPS, ws)
    @test all(==(1.0), out[X[:, 3] .> 20])
    # the loops themselves: NaN/Inf arguments, pending rows
    for f in (K.fast_sin, K.fast_cos), bad in (NaN, Inf, -Inf)
        @test !K.loop_unary!(f, [0.5, bad, 2e6])
        @test !K.loop_unary!(f, [0.5, 2e6, bad])
    end
    v = [0.5, 2e6, -3e9]
    @test K.loop_unary!(K.fast_sin, v) && v == [K.fast_sin(0.5), sin(2e6), sin(-3e9)]
end

@testset "Dual numbers: values and derivatives from the fast kernels" begin
    D = K.Dual
    for x in (0.3, -1.7, 2.5, 40.0, 3e7)
        @test K.fast_sin(D(x, 1.0)).v == K.fast_sin(x) && K.fast_sin(D(x, 1.0)).d == K.fast_cos(x)
        @test K.fast_cos(D(x, 2.0)).v == K.fast_cos(x) && K.fast_cos(D(x, 2.0)).d == -2 * K.fast_sin(x)
        @test K.fast_exp(D(x / 10, 1.0)).d == K.fast_exp(x / 10)
        @test K.fast_tanh(D(x / 10, 1.0)).d ≈ 1 - tanh(x / 10)^2
    end
    for x in (0.3, 2.5, 1e-5, 1e5)
        @test K.fast_log(D(x, 1.0)).v == K.fast_log(x) && K.fast_log(D(x, 1.0)).d ≈ 1 / x
        @test K.fast_sqrt(D(x, 1.0)).v == sqrt(x) && K.fast_sqrt(D(x, 1.0)).d ≈ 0.5 / sqrt(x)
    end
    for x in (-0.9, -0.3, 0.0, 0.6, 0.99)
        @test K.fast_asin(D(x, 1.0)).v == K.fast_asin(x) && K.fast_asin(D(x, 1.0)).d ≈ 1 / sqrt(1 - x^2)
        @test K.fast_acos(D(x, 1.0)).v == K.fast_acos(x) && K.fast_acos(D(x, 1.0)).d ≈ -1 / sqrt(1 - x^2)
    end
    # domain errors: not finite (rejected), never an exception
    for d in (K.fast_log(D(0.0, 1.0)), K.fast_log(D(-2.0, 1.0)), K.fast_sqrt(D(-1.0, 1.0)),
              K.fast_asin(D(1.5, 1.0)), K.fast_acos(D(-1.5, 1.0)), K.fast_sin(D(Inf, 1.0)))
        @test !isfinite(d)
    end
    # a Jacobian over the fast operators matches finite differences
    ops = K.build_operator_set(["+", "*"], ["sin", "exp", "tanh"])
    tree = K.binary_node(1, K.unary_node(1, K.binary_node(2, K.const_node(1.3), K.var_node(1))),
                         K.unary_node(3, K.binary_node(2, K.const_node(0.7), K.unary_node(2, K.var_node(1)))))
    X = reshape(collect(range(-1.0, 1.0, length=50)), 50, 1)
    J = zeros(50, 2); pred = zeros(50)
    @test K.eval_jacobian!(J, pred, tree, X, ops, K.EvalWorkspace{K.Dual}(50), Vector{K.Dual}(undef, 50))
    a, b = 1.3, 0.7
    @test pred ≈ sin.(a .* X[:, 1]) .+ tanh.(b .* exp.(X[:, 1]))
    @test J[:, 1] ≈ X[:, 1] .* cos.(a .* X[:, 1])
    @test J[:, 2] ≈ exp.(X[:, 1]) .* (1 .- tanh.(b .* exp.(X[:, 1])) .^ 2)
end
