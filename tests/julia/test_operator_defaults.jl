# Tests of the defaults that keep a large operator set from burying simple
# formulas: the engine's default nesting limits (julia/core/complexity.jl)
# and the arity sampling of new operator nodes (julia/evolution/mutation.jl).
# Run: julia --startup-file=no tests/julia/test_operator_defaults.jl
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
const K = Main.KeplerSR

const FEYNMAN_UNARY = ["sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]
const OPS9 = K.build_operator_set(["+", "-", "*", "/"], FEYNMAN_UNARY)

x(i) = K.var_node(i)
c(v) = K.const_node(v)
una(ops, name, a) = K.unary_node(findfirst(==(name), ops.unanames), a)
bin(ops, name, a, b) = K.binary_node(findfirst(==(name), ops.binnames), a, b)
pairs_of(o::K.Options) = Set((o.ops.unanames[e[2]], o.ops.unanames[e[4]], e[5])
                             for e in o.constraints.nested_constraints)

@testset "default nesting limits: only the operators of the set" begin
    o = K.Options(OPS9)
    p = pairs_of(o)
    for (outer, inner) in [("tanh", "tanh"), ("sin", "sin"), ("sin", "cos"), ("exp", "log"),
                           ("log", "exp"), ("log", "log"), ("asin", "acos"), ("acos", "asin"),
                           ("sin", "log"), ("tanh", "sin"), ("asin", "exp")]
        @test (outer, inner, 0) in p
    end
    # not limited: algebraic operators, trig inside exp, trig inside inverse trig
    for (outer, inner) in [("sqrt", "sqrt"), ("square", "square"), ("sqrt", "square"),
                           ("square", "sin"), ("sqrt", "cos"), ("exp", "sin"), ("exp", "cos"),
                           ("asin", "sin"), ("acos", "cos"), ("sin", "sqrt"), ("exp", "square")]
        @test !any(e -> e[1] == outer && e[2] == inner, p)
    end
    # every entry is unary-in-unary with limit 0, and names an operator of the set
    @test all(e -> e[1] == 1 && e[3] == 1 && e[5] == 0 &&
                   1 <= e[2] <= 9 && 1 <= e[4] <= 9, o.constraints.nested_constraints)

    # only operators present get entries; indices follow this set's order
    ops2 = K.build_operator_set(["+", "*"], ["square", "cos", "sqrt"])
    o2 = K.Options(ops2)
    @test o2.constraints.nested_constraints == [(1, 2, 1, 2, 0)]       # cos(cos(.)) only
    @test isempty(K.Options(K.build_operator_set(["+", "*"], ["sqrt", "square"])).constraints.nested_constraints)
    @test isempty(K.Options(K.build_operator_set(["+", "*"], String[])).constraints.nested_constraints)
    # user operators (unknown names) get none
    opsu = K.build_operator_set(["+"], ["inv2", "sin"], ["inv2(x) = 1/x^2"])
    @test K.Options(opsu).constraints.nested_constraints == [(1, 2, 1, 2, 0)]
end

@testset "default nesting limits: what they reject and allow" begin
    o = K.Options(OPS9; maxsize=30)
    ok(t) = K.check_constraints(t, o)
    u(name, a) = una(OPS9, name, a)
    b(name, l, r) = bin(OPS9, name, l, r)
    @test !ok(u("tanh", u("tanh", x(1))))
    @test !ok(u("tanh", b("*", x(1), u("tanh", u("sin", x(2))))))        # anywhere inside
    @test !ok(u("exp", u("log", x(1))))
    @test !ok(u("log", u("exp", x(1))))
    @test !ok(u("sin", u("log", u("sqrt", x(1)))))
    @test !ok(u("asin", u("acos", x(1))))
    @test !ok(u("log", u("log", b("+", x(1), c(102.0)))))
    # physics forms stay allowed
    @test ok(u("asin", b("*", x(1), u("sin", x(2)))))                     # Snell: asin(n sin(theta))
    @test ok(u("exp", b("*", c(2.0), u("cos", x(1)))))                    # Boltzmann factor with cos
    @test ok(b("/", u("square", u("sin", x(1))), u("square", u("sin", x(2)))))   # I.30.3
    @test ok(u("sqrt", b("-", x(1), b("*", x(2), u("cos", x(3))))))       # I.29.16
    @test ok(u("sqrt", u("sqrt", x(1)))) && ok(u("square", u("square", x(1))))
    @test ok(b("/", u("exp", b("/", u("square", x(1)), c(-2.0))), c(2.5)))   # I.6.2a
end

@testset "a user's nested_constraints override the defaults" begin
    isin = findfirst(==("sin"), OPS9.unanames); icos = findfirst(==("cos"), OPS9.unanames)
    itanh = findfirst(==("tanh"), OPS9.unanames)
    user = [(1, isin, 1, isin, 1), (1, itanh, 1, itanh, 99)]
    o = K.Options(OPS9; nested_constraints=user)
    nc = o.constraints.nested_constraints
    @test nc[1:2] == user                                          # user's entries first, unchanged
    @test count(e -> e[2] == isin && e[4] == isin, nc) == 1         # the default for the pair is dropped
    @test count(e -> e[2] == itanh && e[4] == itanh, nc) == 1
    @test (1, isin, 1, icos, 0) in nc                               # other defaults kept
    s(a) = K.unary_node(isin, a)
    @test K.check_constraints(s(s(x(1))), o)                        # one sin inside sin: allowed
    @test !K.check_constraints(s(s(s(x(1)))), o)                    # two: not
    @test K.check_constraints(K.unary_node(itanh, K.unary_node(itanh, K.unary_node(itanh, x(1)))), o)
    @test !K.check_constraints(s(K.unary_node(icos, x(1))), o)
    # a user limit on a pair without a default is kept as given
    isq = findfirst(==("sqrt"), OPS9.unanames)
    o2 = K.Options(OPS9; nested_constraints=[(1, isq, 1, isq, 0)])
    @test !K.check_constraints(K.unary_node(isq, K.unary_node(isq, x(1))), o2)
    # merging is idempotent (an Options rebuilt from its own constraints is unchanged)
    o3 = K.Options(OPS9; nested_constraints=o.constraints.nested_constraints)
    @test o3.constraints.nested_constraints == nc
    # through the options message (what Python sends: an empty list by default)
    d = Dict{String,Any}("binary_operators" => Any["+", "*"], "unary_operators" => Any["sin", "sqrt"],
                         "nested_constraints" => Any[])
    @test K.options_from_dict(d, 1).constraints.nested_constraints == [(1, 1, 1, 1, 0)]
    d["nested_constraints"] = Any[Any["unary", "sin", "unary", "sin", 3]]
    @test K.options_from_dict(d, 1).constraints.nested_constraints == [(1, 1, 1, 1, 3)]
end

@testset "arity sampling of new operator nodes" begin
    @test K.unary_probability(4, 9) == 1 / 3
    @test K.unary_probability(4, 2) ≈ 1 / 3
    @test K.unary_probability(4, 1) ≈ 1 / 5
    @test K.unary_probability(4, 0) == 0.0
    @test K.unary_probability(0, 3) == 1.0
    function frequencies(ops, n)
        o = K.Options(ops)
        rng = MersenneTwister(11)
        nu = zeros(Int, length(ops.unaops)); nb = zeros(Int, length(ops.binops))
        for _ in 1:n
            t = K.random_operator_node(x(1), o, 2, rng)
            t.degree == 1 ? (nu[t.op] += 1) : (nb[t.op] += 1)
        end
        return nu, nb
    end
    n = 30_000
    for unary in (FEYNMAN_UNARY, ["sin", "cos"])
        nu, nb = frequencies(K.build_operator_set(["+", "-", "*", "/"], unary), n)
        @test abs(sum(nu) / n - 1 / 3) < 0.015                       # binaries are not drowned
        @test all(abs.(nu ./ sum(nu) .- 1 / length(nu)) .< 0.02)      # uniform within an arity
        @test all(abs.(nb ./ sum(nb) .- 1 / 4) .< 0.02)
    end
    nu, nb = frequencies(K.build_operator_set(["+", "*", "-", "/"], ["exp"]), n)
    @test abs(sum(nu) / n - 1 / 5) < 0.015                            # below the cap: by count
    nu, nb = frequencies(K.build_operator_set(String[], ["exp", "sin"]), 2000)
    @test sum(nb) == 0
    nu, nb = frequencies(K.build_operator_set(["+"], String[]), 2000)
    @test sum(nu) == 0
    # random trees of the 9-unary set are mostly binary structure
    o = K.Options(OPS9)
    rng = MersenneTwister(5)
    counts = [0, 0]
    for _ in 1:500
        for m in K.collect_nodes(K.random_tree(9, o, 3, rng))
            m.degree >= 1 && (counts[m.degree] += 1)
        end
    end
    @test counts[1] / sum(counts) < 0.45
    # seeded: the same RNG state gives the same tree
    t1 = K.random_tree(9, o, 3, MersenneTwister(42)); t2 = K.random_tree(9, o, 3, MersenneTwister(42))
    @test K.tree_equal(t1, t2)
end
