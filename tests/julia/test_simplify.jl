# Tests of simplify_tree: value preservation on many random trees, the
# documented identities, operator lookup by name, and complexity never growing.
# Run: julia --startup-file=no tests/julia/test_simplify.jl
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR: Node, Options, OperatorSet, build_operator_set, const_node, var_node,
    unary_node, binary_node, copy_tree, count_nodes, collect_nodes, tree_equal,
    encode_tree, eval_tree!, EvalWorkspace, compute_complexity, random_tree,
    random_leaf, simplify_tree, set_node!, has_feature

const NF = 3
const OPS = build_operator_set(["+", "-", "*", "/"], ["neg", "sin", "cos", "square"])
const OPTS = Options(OPS; maxsize = 40)

"""Build trees by operator name for a given operator set."""
B(ops::OperatorSet, name, l, r) = binary_node(findfirst(isequal(name), ops.binnames), l, r)
U(ops::OperatorSet, name, l) = unary_node(findfirst(isequal(name), ops.unanames), l)
x(j) = var_node(j)
c(v) = const_node(v)

"""
Random tree with planted patterns the simplifier targets: a random node is
replaced by `n ∘ n`, `n ∘ k` / `k ∘ n` with k in {0, 1, -1, randn}, nested
constants `(n ∘ k1) ∘ k2`, `neg(neg(n))`, or a constant-only subtree.
"""
function planted_tree(rng, ops::OperatorSet, opts::Options)
    t = random_tree(rand(rng, 1:12), opts, NF, rng)
    binop() = rand(rng, ["+", "-", "*", "/"])
    konst() = c(rand(rng) < 0.6 ? rand(rng, [0.0, 1.0, -1.0]) : randn(rng))
    for _ in 1:rand(rng, 1:4)
        nodes = collect_nodes(t)
        n = nodes[rand(rng, 1:length(nodes))]
        sub = copy_tree(n)
        r = rand(rng, 1:6)
        new = r == 1 ? B(ops, binop(), sub, copy_tree(sub)) :
              r == 2 ? (rand(rng) < 0.5 ? B(ops, binop(), sub, konst()) : B(ops, binop(), konst(), sub)) :
              r == 3 ? B(ops, binop(), B(ops, binop(), sub, konst()), konst()) :
              r == 4 ? B(ops, binop(), konst(), B(ops, binop(), konst(), sub)) :
              r == 5 ? U(ops, "neg", U(ops, "neg", sub)) :
                       B(ops, binop(), U(ops, rand(rng, ops.unanames), konst()), sub)
        set_node!(n, new)
    end
    return t
end

function evaluate(t::Node, X::Matrix{Float64}, ops::OperatorSet)
    out = zeros(size(X, 1))
    ok = eval_tree!(out, t, X, ops, EvalWorkspace{Float64}(size(X, 1)))
    return ok, out
end

@testset "simplify preserves values and never increases complexity" begin
    rng = MersenneTwister(20)
    X = randn(rng, 40, NF)
    ncompared = 0; nshrunk = 0; ntrees = 1500
    for i in 1:ntrees
        t = planted_tree(rng, OPS, OPTS)
        before = encode_tree(t)
        s = simplify_tree(t, OPTS)
        @test encode_tree(t) == before                       # input untouched
        @test !any(n -> any(m -> m === n, collect_nodes(t)), collect_nodes(s))
        @test compute_complexity(s, OPTS) <= compute_complexity(t, OPTS)
        nshrunk += count_nodes(s) < count_nodes(t)
        ok1, v1 = evaluate(t, X, OPS)
        ok2, v2 = evaluate(s, X, OPS)
        if ok1
            @test ok2                                         # finite stays finite
        end
        if ok1 && ok2
            ncompared += 1
            @test all(isapprox.(v1, v2; rtol = 1e-9, atol = 1e-12))
        end
        # idempotent: a second pass finds nothing more to do
        @test tree_equal(simplify_tree(s, OPTS), s)
    end
    @test ncompared > ntrees ÷ 2
    @test nshrunk > ntrees ÷ 2
    # with heavier constants, complexity still never grows
    heavy = Options(OPS; complexity_of_constants = 4, complexity_of_binops = [1, 3, 1, 1])
    for _ in 1:500
        t = planted_tree(rng, OPS, heavy)
        @test compute_complexity(simplify_tree(t, heavy), heavy) <= compute_complexity(t, heavy)
    end
end

@testset "documented identities" begin
    # operator order deliberately different from the usual one
    ops = build_operator_set(["/", "*", "-", "+"], ["sin", "neg"])
    o = Options(ops)
    S(t) = simplify_tree(t, o)
    eq(a, b) = tree_equal(a, b)
    sx = U(ops, "sin", x(1))
    @test eq(S(B(ops, "+", sx, c(0.0))), sx)
    @test eq(S(B(ops, "+", c(0.0), sx)), sx)
    @test eq(S(B(ops, "-", sx, c(0.0))), sx)
    @test eq(S(B(ops, "*", sx, c(1.0))), sx)
    @test eq(S(B(ops, "*", c(1.0), sx)), sx)
    @test eq(S(B(ops, "/", sx, c(1.0))), sx)
    @test eq(S(B(ops, "-", sx, copy_tree(sx))), c(0.0))
    @test eq(S(B(ops, "/", sx, copy_tree(sx))), c(1.0))
    @test eq(S(U(ops, "neg", U(ops, "neg", x(2)))), x(2))
    @test eq(S(U(ops, "neg", U(ops, "neg", U(ops, "neg", x(2))))), U(ops, "neg", x(2)))
    @test eq(S(B(ops, "+", x(1), U(ops, "neg", x(2)))), B(ops, "-", x(1), x(2)))
    @test eq(S(B(ops, "-", x(1), U(ops, "neg", x(2)))), B(ops, "+", x(1), x(2)))
    # constant folding (with the search's operator functions), only when finite
    @test eq(S(B(ops, "+", U(ops, "sin", c(2.0)), c(3.0))), c(sin(2.0) + 3.0))
    @test eq(S(B(ops, "*", x(1), B(ops, "-", c(5.0), c(2.0)))), B(ops, "*", x(1), c(3.0)))
    @test count_nodes(S(B(ops, "/", c(1.0), c(0.0)))) == 3
    logops = build_operator_set(["+"], ["log"])
    @test count_nodes(simplify_tree(U(logops, "log", c(-1.0)), Options(logops))) == 2
    @test eq(simplify_tree(U(logops, "log", c(1.0)), Options(logops)), c(0.0))
    # nested multiplicative constants, every commuted form -> (c1*c2) * x
    want = B(ops, "*", c(6.0), sx)
    for inner in (B(ops, "*", c(2.0), sx), B(ops, "*", sx, c(2.0)))
        @test eq(S(B(ops, "*", c(3.0), copy_tree(inner))), want)
        @test eq(S(B(ops, "*", copy_tree(inner), c(3.0))), want)
    end
    @test eq(S(B(ops, "/", B(ops, "*", c(6.0), sx), c(2.0))), B(ops, "*", c(3.0), sx))
    @test eq(S(B(ops, "/", c(6.0), B(ops, "*", c(2.0), sx))), B(ops, "/", c(3.0), sx))
    @test eq(S(B(ops, "*", c(3.0), B(ops, "/", c(2.0), sx))), B(ops, "/", c(6.0), sx))
    # nested additive constants, every commuted form -> x + (c1+c2)
    want = B(ops, "+", sx, c(5.0))
    for inner in (B(ops, "+", c(2.0), sx), B(ops, "+", sx, c(2.0)))
        @test eq(S(B(ops, "+", c(3.0), copy_tree(inner))), want)
        @test eq(S(B(ops, "+", copy_tree(inner), c(3.0))), want)
    end
    @test eq(S(B(ops, "+", B(ops, "-", sx, c(2.0)), c(3.0))), B(ops, "+", sx, c(1.0)))
    @test eq(S(B(ops, "-", B(ops, "+", sx, c(2.0)), c(3.0))), B(ops, "+", sx, c(-1.0)))
    @test eq(S(B(ops, "-", c(3.0), B(ops, "+", sx, c(2.0)))), B(ops, "-", c(1.0), sx))
    @test eq(S(B(ops, "+", B(ops, "-", c(2.0), sx), c(3.0))), B(ops, "-", c(5.0), sx))
    # chains collapse fully: ((x + 1) + 2) + 3 -> x + 6; 2*(3*(4*x)) -> 24*x
    @test eq(S(B(ops, "+", B(ops, "+", B(ops, "+", x(1), c(1.0)), c(2.0)), c(3.0))),
             B(ops, "+", x(1), c(6.0)))
    @test eq(S(B(ops, "*", c(2.0), B(ops, "*", c(3.0), B(ops, "*", c(4.0), x(3))))),
             B(ops, "*", c(24.0), x(3)))
    # identities exposed by folding below: x * (3 - 2) -> x
    @test eq(S(B(ops, "*", x(1), B(ops, "-", c(3.0), c(2.0)))), x(1))
    # nothing to do: returned unchanged (as a copy)
    t = B(ops, "*", x(1), U(ops, "sin", B(ops, "+", x(2), x(3))))
    s = S(t)
    @test eq(s, t) && s !== t
end

@testset "rules need their operators and respect complexity" begin
    # no "-" in the set: x - x cannot occur, and (x + c1) + c2 still merges
    ops = build_operator_set(["*", "+"], ["cos"])
    o = Options(ops)
    @test tree_equal(simplify_tree(B(ops, "+", B(ops, "+", x(1), c(1.0)), c(2.0)), o),
                     B(ops, "+", x(1), c(3.0)))
    # multiplicative merge works with whatever index "*" has
    @test tree_equal(simplify_tree(B(ops, "*", c(2.0), B(ops, "*", x(1), c(4.0))), o),
                     B(ops, "*", c(8.0), x(1)))
    # no "+": (x - 1) - 2 -> x - 3 through "-"
    ops2 = build_operator_set(["-"], String[])
    @test tree_equal(simplify_tree(B(ops2, "-", B(ops2, "-", x(1), c(1.0)), c(2.0)), Options(ops2)),
                     B(ops2, "-", x(1), c(3.0)))
    # names, not indices: an operator named "+" elsewhere in the list is found
    ops3 = build_operator_set(["^", "*", "+"], String[])
    @test tree_equal(simplify_tree(B(ops3, "+", x(1), c(0.0)), Options(ops3)), x(1))
    @test tree_equal(simplify_tree(B(ops3, "^", x(1), c(1.0)), Options(ops3)),
                     B(ops3, "^", x(1), c(1.0)))                    # no rule for ^
    # costly constants: x1 - x1 -> 0 would raise complexity from 3 to 5, so it is kept
    opsm = build_operator_set(["-"], String[])
    heavy = Options(opsm; complexity_of_constants = 5)
    t = B(opsm, "-", x(1), x(1))
    @test tree_equal(simplify_tree(t, heavy), t)
    @test tree_equal(simplify_tree(t, Options(opsm)), c(0.0))
end
