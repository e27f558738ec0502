# Unit tests of dimensional analysis (julia/dimensions/) and of the units
# keys of the options message. Run: julia --startup-file=no tests/julia/test_dimensions.jl

using Test

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/", "^", "hyp"],
    ["sin", "sqrt", "square", "cube", "inv", "neg", "exp", "log", "abs", "myf"],
    ["myf(x) = x + 1", "hyp(x, y) = sqrt(x^2 + y^2)"])
B(name, l, r) = K.binary_node(findfirst(==(name), OPS.binnames), l, r)
U(name, l) = K.unary_node(findfirst(==(name), OPS.unanames), l)
C(v=1.5) = K.const_node(v)

# features: m [kg], a [m s^-2], x [m], t [s], z [dimensionless]
const UNITS = [[0, 0, 1, 0, 0], [1, -2, 0, 0, 0], [1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]]
m, a, x, t, z = (K.var_node(j) for j in 1:5)
const FORCE = [1, -2, 1, 0, 0]

function opts_with(; y=FORCE, dco=false, penalty=1000.0)
    spec = K.DimensionSpec(UNITS, y, OPS; penalty=penalty, constants_dimensionless=dco)
    return K.Options(OPS; dims=spec)
end
viol(tree; kw...) = K.dimensional_violation(tree, opts_with(; kw...))
dimof(tree; dco=false) = K.tree_dimension(tree, K.DimensionSpec(UNITS, nothing, OPS;
                                                                 constants_dimensionless=dco), OPS)
D(v) = K.Dim(v)

@testset "Dim arithmetic and parsing" begin
    @test D([1, 0, 0, 0, 0]) == K.Dim((1, 0, 0, 0, 0), 1)
    @test D([0.5, 0, 0, 0, 0]) == K.Dim((1, 0, 0, 0, 0), 2)
    @test D([1 / 3, 2 / 3, 0, 0, 0]) == K.Dim((1, 2, 0, 0, 0), 3)
    @test D([1 // 2, 0, 0, 0, 0]) == D([0.5, 0, 0, 0, 0])
    @test K.dim_mul(D([0.5, 0, 0, 0, 0]), D([0.5, 0, 0, 0, 0])) == D([1, 0, 0, 0, 0])   # 2/2 -> 1
    @test K.dim_div(D(FORCE), D(UNITS[2])) == D(UNITS[1])
    @test K.dim_pow(D([1, -2, 0, 0, 0]), 1, 2) == D([0.5, -1, 0, 0, 0])
    @test sprint(show, D(FORCE)) == "m*s^-2*kg"
    @test sprint(show, D([0.5, 0, 0, 0, -1])) == "m^(1/2)*V^-1"
    @test sprint(show, K.DIMENSIONLESS_DIM) == "1"
    @test_throws ArgumentError D([0.123456789, 0, 0, 0, 0])
    @test_throws ArgumentError D([1, 0, 0, 0])
    @test_throws ArgumentError D(Any[true, 0, 0, 0, 0])
end

@testset "products and sums" begin
    F = B("*", m, a)
    @test !viol(F)                                   # F = m a
    @test dimof(F).dim == D(FORCE) && !dimof(F).wild
    @test viol(F; y=[2, -2, 1, 0, 0])                # m a is not an energy
    @test !viol(F; y=nothing)
    @test viol(B("+", m, a); y=nothing)               # kg + m/s^2
    @test viol(B("-", m, a); y=nothing)
    @test !viol(B("+", F, B("/", B("*", m, x), B("*", t, t))))   # m a + m x / t^2
    # c*m + a: the constant takes the dimension (m/s^2)/kg
    cma = B("+", B("*", C(), m), a)
    @test !viol(cma; y=UNITS[2])
    @test dimof(cma).dim == D(UNITS[2])
    @test viol(cma; y=UNITS[2], dco=true)            # dimensionless constants cannot
    @test !viol(B("+", B("*", C(), a), a); y=UNITS[2], dco=true)
    # a bare constant or constant * anything matches any target unless constants are dimensionless
    @test !viol(C(); y=FORCE) && viol(C(); y=FORCE, dco=true)
    @test !viol(B("*", C(), x); y=FORCE) && viol(B("*", C(), x); y=FORCE, dco=true)
    @test !viol(C(); y=[0, 0, 0, 0, 0], dco=true)
end

@testset "transcendental and user operators" begin
    @test !viol(U("sin", B("/", x, C())); y=nothing)                 # sin(x/c), c in metres
    @test viol(U("sin", B("/", x, C())); y=nothing, dco=true)
    @test viol(U("sin", x); y=nothing)
    @test !viol(U("sin", B("/", x, x)); y=[0, 0, 0, 0, 0], dco=true)
    @test dimof(U("exp", B("*", C(), t))).dim == K.DIMENSIONLESS_DIM
    @test !dimof(U("exp", B("*", C(), t))).wild           # exp(...) is a pure number
    @test viol(B("+", U("exp", B("*", C(), t)), x); y=nothing)
    @test viol(U("log", m); y=nothing) && !viol(U("log", z); y=nothing)
    @test viol(U("myf", x); y=nothing) && !viol(U("myf", z); y=nothing)
    @test !viol(U("myf", C()); y=nothing)
    @test viol(B("hyp", x, x); y=nothing)                 # user binary: pure numbers only
    @test !viol(B("hyp", z, C()); y=[0, 0, 0, 0, 0])
    @test !viol(U("neg", U("abs", B("*", m, a))))      # neg/abs keep the dimension
end

@testset "sqrt, square, cube, inv" begin
    @test dimof(U("sqrt", U("square", x))).dim == D(UNITS[3])
    @test dimof(U("sqrt", B("^", x, C(2.0)))).dim == D(UNITS[3])
    @test dimof(U("sqrt", x)).dim == D([0.5, 0, 0, 0, 0])
    @test !viol(B("+", B("*", U("sqrt", x), U("sqrt", x)), x); y=UNITS[3])
    @test viol(B("+", U("sqrt", x), x); y=nothing)
    @test dimof(U("cube", a)).dim == D([3, -6, 0, 0, 0])
    @test dimof(U("inv", t)).dim == D([0, -1, 0, 0, 0])
    @test dimof(U("sqrt", B("*", C(), x))).wild           # sqrt of a wildcard stays free
    # period of a pendulum: 2 pi sqrt(x / a) is a time
    @test !viol(B("*", C(6.28), U("sqrt", B("/", x, a))); y=[0, 1, 0, 0, 0], dco=true)
    @test viol(B("*", C(6.28), U("sqrt", B("/", a, x))); y=[0, 1, 0, 0, 0], dco=true)
    # exponents beyond the cap (cube^13: 3^13 > 2^20) count as a violation, no overflow
    deep = x
    for _ in 1:13
        deep = U("cube", deep)
    end
    @test viol(deep; y=nothing)
    @test !viol(U("cube", U("cube", x)); y=[9, 0, 0, 0, 0])
end

@testset "powers" begin
    @test dimof(B("^", x, C(2.0))).dim == D([2, 0, 0, 0, 0])
    @test dimof(B("^", x, C(0.5))).dim == D([0.5, 0, 0, 0, 0])
    @test dimof(B("^", x, C(-1.5))).dim == D([-1.5, 0, 0, 0, 0])
    @test dimof(B("^", x, C(2.0 + 1e-12))).dim == D([2, 0, 0, 0, 0])   # float noise tolerated
    @test dimof(B("^", x, U("neg", C(2.0)))).dim == D([-2, 0, 0, 0, 0])  # constant subtree exponent
    @test dimof(B("^", x, U("sqrt", C(4.0)))).dim == D([2, 0, 0, 0, 0])
    @test dimof(B("^", x, B("-", C(2.0), C(1.5)))).dim == D([0.5, 0, 0, 0, 0])
    @test dimof(B("^", x, U("myf", C(2.0)))).dim == D([3, 0, 0, 0, 0])   # user op, called
    @test dimof(B("^", x, B("^", C(2.0), C(-1.0)))).dim == D([0.5, 0, 0, 0, 0])
    @test viol(B("^", x, C(0.123)); y=nothing)           # not a simple fraction
    @test viol(B("^", x, C(1.9997)); y=nothing)          # fitted drift is not x^2
    @test viol(B("^", x, C(NaN)); y=nothing)
    @test viol(B("^", x, z); y=nothing)                  # dimensioned base, variable exponent
    @test viol(B("^", z, x); y=nothing)                  # dimensioned exponent
    @test viol(B("^", C(), x); y=nothing)
    @test !viol(B("^", z, z); y=[0, 0, 0, 0, 0], dco=true)
    @test !viol(B("^", z, C(0.123)); y=[0, 0, 0, 0, 0], dco=true)
    # c^z forces c dimensionless; (c*x)^2 stays free
    @test viol(B("+", B("^", C(), z), x); y=nothing)
    @test !viol(B("+", B("^", C(), z), z); y=nothing)
    @test dimof(B("^", B("*", C(), x), C(2.0))).wild
    @test !viol(B("*", m, B("^", t, C(-2.0))); y=[0, -2, 1, 0, 0])
end

@testset "penalty and options plumbing" begin
    plain = K.Options(OPS)
    bad = B("+", m, a)
    @test K.dimension_penalty(bad, plain) == 0.0
    @test !K.dimensional_violation(bad, plain)
    @test K.dimension_penalty(bad, opts_with()) == 1000.0
    @test K.dimension_penalty(bad, opts_with(penalty=7.5)) == 7.5
    @test K.dimension_penalty(B("*", m, a), opts_with()) == 0.0
    # linear scaling: a*f only needs f consistent, unless constants are dimensionless
    @test K.dimension_penalties(B("*", m, x), opts_with()) == (1000.0, 0.0)
    @test K.dimension_penalties(B("*", m, x), opts_with(dco=true)) == (1000.0, 1000.0)
    @test K.dimension_penalties(B("*", m, a), opts_with(dco=true)) == (0.0, 0.0)
    @test K.dimension_penalties(bad, opts_with()) == (1000.0, 1000.0)
    @test K.dimension_penalties(bad, plain) == (0.0, 0.0)
    @test_throws ArgumentError K.DimensionSpec(UNITS, FORCE, OPS; penalty=-1.0)
    # a spec built for another operator set is refused (indices would mean other operators)
    other = K.build_operator_set(["*", "+"], String[])
    o = K.Options(other; dims=K.DimensionSpec(UNITS, FORCE, OPS))
    @test_throws ArgumentError K.dimensional_violation(K.binary_node(1, m, a), o)
    # allocation-free once compiled
    o2 = opts_with()
    tree = B("+", B("*", B("^", x, C(2.0)), U("sqrt", m)), B("*", C(), U("sin", B("/", t, C()))))
    K.dimensional_violation(tree, o2)
    @test (@allocated K.dimensional_violation(tree, o2)) == 0
    K.dimension_penalties(tree, o2)
    @test (@allocated K.dimension_penalties(tree, o2)) == 0
end

@testset "protocol conversion" begin
    base() = Dict{String,Any}("binary_operators" => ["+", "*", "/"], "unary_operators" => ["sin"])
    d = base()
    d["X_units"] = Any[Any[0.0, 0.0, 1.0, 0.0, 0.0], Any[1.0, -2.0, 0.0, 0.0, 0.0]]
    d["y_units"] = Any[1.0, -2.0, 1.0, 0.0, 0.0]
    d["dimensional_constraint_penalty"] = 50.0
    d["dimensionless_constants_only"] = true
    o = K.options_from_dict(d, 2)
    @test o.dims isa K.DimensionSpec
    @test o.dims.xdims == [D([0, 0, 1, 0, 0]), D([1, -2, 0, 0, 0])]
    @test o.dims.has_ydim && o.dims.ydim == D(FORCE)
    @test o.dims.penalty == 50.0 && o.dims.constants_dimensionless
    @test !K.dimensional_violation(K.binary_node(2, K.var_node(1), K.var_node(2)), o)
    @test K.dimension_penalty(K.binary_node(1, K.var_node(1), K.var_node(2)), o) == 50.0
    # defaults; fractional exponents sent as floats
    d2 = base(); d2["X_units"] = Any[Any[1 / 3, 0, 0, 0, 0], Any[0.5, 0, 0, 0, 0]]
    o2 = K.options_from_dict(d2, 2)
    @test !o2.dims.has_ydim && o2.dims.penalty == 1000.0 && !o2.dims.constants_dimensionless
    @test o2.dims.xdims[1] == K.Dim((1, 0, 0, 0, 0), 3)
    @test K.options_from_dict(base(), 2).dims === nothing
    d3 = base(); d3["X_units"] = nothing
    @test K.options_from_dict(d3, 2).dims === nothing

    function errmsg(mod!)
        dd = base()
        dd["X_units"] = Any[Any[0, 0, 1, 0, 0], Any[1, -2, 0, 0, 0]]
        mod!(dd)
        try
            K.options_from_dict(dd, 2)
        catch err
            return err
        end
        return nothing
    end
    cases = [
        (dd -> dd["X_units"] = Any[Any[0, 0, 1, 0, 0]], "X_units"),                # one per feature
        (dd -> dd["X_units"] = "kg", "X_units"),
        (dd -> dd["X_units"][2] = Any[1, -2, 0], "X_units[2]"),                       # 3 exponents
        (dd -> dd["X_units"][1] = Any[0, 0, "kg", 0, 0], "X_units[1]"),
        (dd -> dd["X_units"][1] = Any[0.1234567, 0, 0, 0, 0], "X_units[1]"),
        (dd -> dd["y_units"] = Any[1, 2], "y_units"),
        (dd -> dd["y_units"] = 3.0, "y_units"),
        (dd -> dd["dimensional_constraint_penalty"] = -1.0, "dimensional_constraint_penalty"),
        (dd -> dd["dimensional_constraint_penalty"] = "big", "dimensional_constraint_penalty"),
        (dd -> dd["dimensional_constraint_penalty"] = Inf, "dimensional_constraint_penalty"),
        (dd -> dd["dimensionless_constants_only"] = 1, "dimensionless_constants_only"),
        (dd -> (delete!(dd, "X_units"); dd["y_units"] = Any[1, 0, 0, 0, 0]), "y_units"),
        (dd -> (delete!(dd, "X_units"); dd["dimensionless_constants_only"] = true),
         "dimensionless_constants_only"),
    ]
    for (mod!, key) in cases
        err = errmsg(mod!)
        @test err isa ArgumentError
        @test err isa ArgumentError && occursin(key, err.msg)
    end
    @test errmsg(dd -> nothing) === nothing      # the unmodified message is valid
end
