# Tests of random trees, choose_mutation, mutate and crossover_trees.
# Run: julia --startup-file=no tests/julia/test_mutation.jl
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR: Node, Options, OperatorSet, MUTATION_KINDS, build_operator_set,
    const_node, var_node, unary_node, binary_node, copy_tree, count_nodes,
    collect_nodes, get_constants, tree_equal, structure_hash, encode_tree, decode_tree,
    eval_tree!, EvalWorkspace, compute_complexity, random_leaf, random_tree,
    choose_mutation, mutate, crossover_trees, simplify_tree, set_node!

# Julia 1.5.3 on some kernels segfaults when compiled code throws; probe in a
# subprocess and run the @test_throws checks only where exceptions work.
const CAN_THROW = success(`$(Base.julia_cmd()) --startup-file=no -e "f(x) = sqrt(x); try f(-1.0) catch; end"`)
CAN_THROW || @warn "exceptions crash this Julia build: skipping @test_throws checks"

const NF = 3
const OPS = build_operator_set(["+", "-", "*", "/"], ["neg", "sin", "exp"])
const OPTS = Options(OPS; maxsize = 30)

"""Is `t` a well-formed tree for `ops` and `nf` features (and does it round-trip)?"""
function valid_tree(t::Node, ops::OperatorSet, nf::Int)
    for n in collect_nodes(t)
        if n.degree == 0
            n.isconst || (1 <= n.feature <= nf) || return false
        elseif n.degree == 1
            1 <= n.op <= length(ops.unaops) || return false
        elseif n.degree == 2
            1 <= n.op <= length(ops.binops) || return false
        else
            return false
        end
    end
    codes, consts = encode_tree(t)
    return tree_equal(decode_tree(codes, consts), t)
end

"""Do two trees share any Node object?"""
shares_nodes(a::Node, b::Node) =
    !isempty(intersect(Set(objectid.(collect_nodes(a))), Set(objectid.(collect_nodes(b)))))

"""Trees obtained from `t` by replacing one operator node by one of its children."""
function deletions(t::Node)
    out = Node[]
    nodes = collect_nodes(t)
    for i in eachindex(nodes)
        nodes[i].degree == 0 && continue
        for side in 1:nodes[i].degree
            c = copy_tree(t)
            n = collect_nodes(c)[i]
            set_node!(n, copy_tree(side == 1 ? n.l : n.r))
            push!(out, c)
        end
    end
    return out
end
can_delete_to(t::Node, target::Node) = any(d -> tree_equal(d, target), deletions(t))

n_ops(t::Node) = count(n -> n.degree >= 1, collect_nodes(t))
shape(t::Node) = [(n.degree, n.degree == 0 ? (n.isconst ? 0 : Int(n.feature)) : -1) for n in collect_nodes(t)]
leaf_values(t) = [n.isconst ? -n.val : Float64(n.feature) for n in collect_nodes(t) if n.degree == 0]
treelist(rng, k; lo = 1, hi = 25) = [random_tree(rand(rng, lo:hi), OPTS, NF, rng) for _ in 1:k]

@testset "random_leaf and random_tree" begin
    rng = MersenneTwister(1)
    leaves = [random_leaf(NF, rng) for _ in 1:4000]
    nconst = count(l -> l.isconst, leaves)
    @test 1800 < nconst < 2200
    @test Set(Int(l.feature) for l in leaves if !l.isconst) == Set(1:NF)
    @test all(l -> l.degree == 0, leaves)
    CAN_THROW && @test_throws ArgumentError random_leaf(0, rng)

    for n in 1:30
        t = random_tree(n, OPTS, NF, rng)
        @test n <= count_nodes(t) <= n + 1 || count_nodes(t) == 1 == n
        @test valid_tree(t, OPS, NF)
    end
    # only the operators of the set are used
    unonly = build_operator_set(String[], ["cos"])
    t = random_tree(10, Options(unonly), 2, rng)
    @test count_nodes(t) == 10 && all(n -> n.degree < 2, collect_nodes(t))
    binonly = build_operator_set(["*"], String[])
    t = random_tree(10, Options(binonly), 2, rng)
    @test all(n -> n.degree != 1, collect_nodes(t)) && count_nodes(t) == 11
    empty = build_operator_set(String[], String[])
    @test count_nodes(random_tree(10, Options(empty), 2, rng)) == 1
end

@testset "mutate returns a new valid tree and leaves the input unchanged" begin
    rng = MersenneTwister(2)
    for kind in MUTATION_KINDS, t in treelist(rng, 60)
        before = encode_tree(t)
        m = mutate(t, kind, 1.0, OPTS, NF, rng)
        @test encode_tree(t) == before
        @test !shares_nodes(t, m)
        @test valid_tree(m, OPS, NF)
    end
    CAN_THROW && @test_throws ArgumentError mutate(var_node(1), :no_such_kind, 1.0, OPTS, NF, rng)
end

@testset "each mutation kind changes what it should" begin
    rng = MersenneTwister(3)
    trees = filter(t -> count_nodes(t) >= 3, treelist(rng, 150; lo = 3))
    for t in trees
        nt = count_nodes(t)
        # mutate_constant: same structure, exactly one constant differs
        if !isempty(get_constants(t))
            m = mutate(t, :mutate_constant, 1.0, OPTS, NF, rng)
            @test structure_hash(m) == structure_hash(t)
            @test count(get_constants(m) .!= get_constants(t)) == 1
        end
        # mutate_operator: same shape, exactly one operator replaced by one of the same arity
        m = mutate(t, :mutate_operator, 1.0, OPTS, NF, rng)
        @test shape(m) == shape(t)
        @test count(((a, b),) -> a.op != b.op, zip(collect_nodes(m), collect_nodes(t))) == 1
        # swap_operands: undoing one swap gives the input back
        if any(n -> n.degree == 2, collect_nodes(t))
            m = mutate(t, :swap_operands, 1.0, OPTS, NF, rng)
            @test any(collect_nodes(m)) do n
                n.degree == 2 || return false
                n.l, n.r = n.r, n.l
                ok = tree_equal(m, t)
                n.l, n.r = n.r, n.l
                ok
            end
        end
        # add_node / insert_node: one more operator, and deleting it restores the input
        for kind in (:add_node, :insert_node)
            m = mutate(t, kind, 1.0, OPTS, NF, rng)
            @test n_ops(m) == n_ops(t) + 1
            @test count_nodes(m) - nt in (1, 2)
            @test can_delete_to(m, t)
        end
        # delete_node: one operator node replaced by a child
        m = mutate(t, :delete_node, 1.0, OPTS, NF, rng)
        @test count_nodes(m) < nt
        @test can_delete_to(t, m)
        # rotate_tree: same node count and operator multiset, different tree
        m = mutate(t, :rotate_tree, 1.0, OPTS, NF, rng)
        @test count_nodes(m) == nt
        @test sort([(n.degree, n.op) for n in collect_nodes(m) if n.degree > 0]) ==
              sort([(n.degree, n.op) for n in collect_nodes(t) if n.degree > 0])
        # randomize: size within maxsize
        m = mutate(t, :randomize, 1.0, OPTS, NF, rng)
        @test count_nodes(m) <= OPTS.constraints.maxsize
        # simplify, do_nothing, optimize
        @test tree_equal(mutate(t, :simplify, 1.0, OPTS, NF, rng), simplify_tree(t, OPTS))
        @test tree_equal(mutate(t, :do_nothing, 1.0, OPTS, NF, rng), t)
        @test tree_equal(mutate(t, :optimize, 1.0, OPTS, NF, rng), t)
    end
    # add_node on a leaf: the leaf becomes an operand of the new operator
    m = mutate(var_node(2), :add_node, 1.0, OPTS, NF, rng)
    @test m.degree >= 1 && (tree_equal(m.l, var_node(2)) || (m.degree == 2 && tree_equal(m.r, var_node(2))))
    # the classic right rotation is among the outcomes on (x1 - x2) * x3
    t = binary_node(3, binary_node(2, var_node(1), var_node(2)), var_node(3))
    want = binary_node(2, var_node(1), binary_node(3, var_node(2), var_node(3)))
    @test any(_ -> tree_equal(mutate(t, :rotate_tree, 1.0, OPTS, NF, rng), want), 1:200)
    # a rotation of a sum-only tree preserves its value (+ is associative and commutative)
    plus = Options(build_operator_set(["+"], String[]))
    X = rand(MersenneTwister(9), 20, NF)
    a = zeros(20); b = zeros(20); ws = EvalWorkspace{Float64}(20)
    nchanged = 0
    for _ in 1:100
        s = random_tree(rand(rng, 5:15), plus, NF, rng)
        r = mutate(s, :rotate_tree, 1.0, plus, NF, rng)
        nchanged += !tree_equal(r, s)
        eval_tree!(a, s, X, plus.ops, ws); eval_tree!(b, r, X, plus.ops, ws)
        @test isapprox(a, b; rtol = 1e-12)
    end
    @test nchanged > 50
    # mutate_constant: larger temperature -> larger typical relative change
    spread(T) = sum(abs(log(abs(mutate(const_node(1.0), :mutate_constant, T, OPTS, NF, rng).val))) for _ in 1:2000)
    @test spread(10.0) > 3 * spread(0.1)
    # sign flips happen with the configured probability
    o = Options(OPS; probability_negate_constant = 0.5)
    nneg = count(_ -> mutate(const_node(5.0), :mutate_constant, 1.0, o, NF, rng).val < 0, 1:2000)
    @test 850 < nneg < 1150
end

@testset "choose_mutation respects applicability and weights" begin
    rng = MersenneTwister(4)
    draws(t, o, k = 3000) = Set(choose_mutation(t, o, NF, rng) for _ in 1:k)
    uniform = Options(OPS; mutation_weights = ones(length(MUTATION_KINDS)))
    s = draws(const_node(1.0), uniform)
    @test isempty(intersect(s, Set([:mutate_operator, :delete_node, :rotate_tree, :swap_operands])))
    @test :mutate_constant in s && :add_node in s
    @test !(:mutate_constant in draws(var_node(1), uniform))
    # unary-only tree: no swap; a leaf under one unary cannot rotate
    @test !(:swap_operands in draws(unary_node(1, var_node(1)), uniform))
    @test !(:rotate_tree in draws(unary_node(1, var_node(1)), uniform))
    # complexity at maxsize: no growth
    small = Options(OPS; maxsize = 3, mutation_weights = ones(length(MUTATION_KINDS)))
    full = binary_node(1, var_node(1), const_node(2.0))
    @test isempty(intersect(draws(full, small), Set([:add_node, :insert_node])))
    @test !(:simplify in draws(full, Options(OPS; should_simplify = false,
                                            mutation_weights = ones(length(MUTATION_KINDS)))))
    @test choose_mutation(full, Options(OPS; mutation_weights = zeros(length(MUTATION_KINDS))), NF, rng) == :do_nothing
    # frequencies follow the weights on a tree where every kind applies
    t = binary_node(1, unary_node(1, binary_node(3, var_node(1), const_node(2.0))), var_node(2))
    w = collect(1.0:length(MUTATION_KINDS))
    o = Options(OPS; mutation_weights = w)
    N = 40000
    counts = Dict(k => 0 for k in MUTATION_KINDS)
    for _ in 1:N
        counts[choose_mutation(t, o, NF, rng)] += 1
    end
    for (i, k) in enumerate(MUTATION_KINDS)
        p = w[i] / sum(w)
        @test abs(counts[k] / N - p) < 4 * sqrt(p * (1 - p) / N)
    end
end

@testset "crossover_trees" begin
    rng = MersenneTwister(5)
    trees = treelist(rng, 200)
    for i in 1:2:length(trees)
        a, b = trees[i], trees[i + 1]
        ea, eb = encode_tree(a), encode_tree(b)
        c, d = crossover_trees(a, b, rng)
        @test encode_tree(a) == ea && encode_tree(b) == eb
        @test count_nodes(c) + count_nodes(d) == count_nodes(a) + count_nodes(b)
        @test valid_tree(c, OPS, NF) && valid_tree(d, OPS, NF)
        @test !shares_nodes(c, a) && !shares_nodes(c, b) && !shares_nodes(d, a) &&
              !shares_nodes(d, b) && !shares_nodes(c, d)
        # the multiset of leaves is preserved across the pair
        @test sort(vcat(leaf_values(c), leaf_values(d))) == sort(vcat(leaf_values(a), leaf_values(b)))
    end
    # swapping the roots exchanges the trees
    x, y = var_node(1), unary_node(1, var_node(2))
    seen = Set{Tuple{Vector{Int32},Vector{Int32}}}()
    for _ in 1:50
        c, d = crossover_trees(x, y, rng)
        push!(seen, (encode_tree(c)[1], encode_tree(d)[1]))
    end
    @test seen == Set([(Int32[-1, 2], Int32[1]), (Int32[2], Int32[-1, 1])])
end

@testset "determinism" begin
    function run(seed)
        rng = MersenneTwister(seed)
        t = random_tree(10, OPTS, NF, rng)
        out = Any[]
        for _ in 1:300
            k = choose_mutation(t, OPTS, NF, rng)
            t = mutate(t, k, 0.5, OPTS, NF, rng)
            count_nodes(t) > 40 && (t = random_tree(5, OPTS, NF, rng))
            u, v = crossover_trees(t, random_tree(7, OPTS, NF, rng), rng)
            push!(out, (k, encode_tree(t), encode_tree(u), encode_tree(v)))
        end
        return out
    end
    @test run(11) == run(11)
    @test run(11) != run(12)
end
