# Evaluation benchmark (`keplersr bench eval`): ns per node per row of the
# engine's evaluator on a fixed set of trees, against a hand-fused Julia loop
# for the same formulas, at 1e3 / 1e4 / 1e5 rows, on all threads given by -t.
# Prints one table row per (tree, rows, threads).
#
# `julia bench.jl unary [rows]` instead prints, per unary operator of the
# Feynman set, the ns per row of the evaluator's row loop (the tree `op(x0)`,
# one thread) with the engine's operator (the kernels of core/fast_math.jl)
# next to the same loop over Base's libm function (with the safe functions'
# domain checks), at `rows` rows (default 10,000).

include(joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using .KeplerSR
using Printf
const K = KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/"], ["cos", "exp"])
x(j) = K.var_node(j); c(v) = K.const_node(v)
add(a, b) = K.binary_node(1, a, b); sub(a, b) = K.binary_node(2, a, b)
mul(a, b) = K.binary_node(3, a, b); dv(a, b) = K.binary_node(4, a, b)
kcos(a) = K.unary_node(1, a)

# (name, tree, hand-fused scalar function of a row)
const TREES = [
    ("x0*x1 + x2 - 0.5", sub(add(mul(x(1), x(2)), x(3)), c(0.5)),
        (x1, x2, x3, x4) -> x1 * x2 + x3 - 0.5),
    ("(x0*x1 + x2*x3) / (x0 + 1.5)", dv(add(mul(x(1), x(2)), mul(x(3), x(4))), add(x(1), c(1.5))),
        (x1, x2, x3, x4) -> (x1 * x2 + x3 * x4) / (x1 + 1.5)),
    ("((x0 - x1)*(x2 + 0.3) + x3*x3*2.1) * (x1 - x3*0.7)",
        mul(add(mul(sub(x(1), x(2)), add(x(3), c(0.3))), mul(mul(x(4), x(4)), c(2.1))), sub(x(2), mul(x(4), c(0.7)))),
        (x1, x2, x3, x4) -> ((x1 - x2) * (x3 + 0.3) + x4 * x4 * 2.1) * (x2 - x4 * 0.7)),
    ("2.5382*cos(x3) + x0*x0 - 0.5", sub(add(mul(c(2.5382), kcos(x(4))), mul(x(1), x(1))), c(0.5)),
        (x1, x2, x3, x4) -> 2.5382 * cos(x4) + x1 * x1 - 0.5),
]

function fused!(out, f::F, X) where {F}
    @inbounds @simd for i in 1:size(X, 1)
        out[i] = f(X[i, 1], X[i, 2], X[i, 3], X[i, 4])
    end
    return out
end

"""Best-of-`reps` seconds per call of `g()`, each timing `inner` calls."""
function timeit(g, inner, reps)
    g()
    best = Inf
    for _ in 1:reps
        t0 = time_ns()
        for _ in 1:inner
            g()
        end
        best = min(best, (time_ns() - t0) / inner)
    end
    return best
end

function bench(nthreads_used)
    println(@sprintf("%-50s %8s %7s %12s %12s %7s", "tree", "rows", "threads", "engine ns/nr", "fused ns/nr", "ratio"))
    for (name, tree, f) in TREES
        nn = K.count_nodes(tree)
        for n in (1_000, 10_000, 100_000)
            X = randn(n, 4)
            inner = max(1, 2_000_000 ÷ (n * nn))
            outs = [zeros(n) for _ in 1:nthreads_used]
            wss = [K.EvalWorkspace{Float64}(n) for _ in 1:nthreads_used]
            # each thread evaluates the tree on its own buffers (populations run like this)
            eng, fus = if nthreads_used == 1
                (timeit(() -> K.eval_tree!(outs[1], tree, X, OPS, wss[1]), inner, 5),
                 timeit(() -> fused!(outs[1], f, X), inner, 5))
            else
                (timeit(() -> begin
                    Threads.@threads for t in 1:nthreads_used
                        K.eval_tree!(outs[t], tree, X, OPS, wss[t])
                    end
                end, inner, 5),
                 timeit(() -> begin
                    Threads.@threads for t in 1:nthreads_used
                        fused!(outs[t], f, X)
                    end
                end, inner, 5))
            end
            # ns per node per row, aggregated over threads (throughput)
            e = eng / (n * nn * nthreads_used); h = fus / (n * nn * nthreads_used)
            println(@sprintf("%-50s %8d %7d %12.3f %12.3f %7.2f", name, n, nthreads_used, e, h, e / h))
        end
    end
end

# (name, Base's function with the engine's domain semantics, input rows)
const UNARY_BASE = [
    ("sin", sin, n -> randn(n) .* 3), ("cos", cos, n -> randn(n) .* 3),
    ("exp", exp, n -> randn(n) .* 3), ("log", K.safe_log, n -> exp.(randn(n) .* 3)),
    ("sqrt", K.safe_sqrt, n -> exp.(randn(n) .* 3)), ("square", K.square, n -> randn(n) .* 3),
    ("tanh", tanh, n -> randn(n) .* 3), ("asin", K.safe_asin, n -> rand(n) .* 2 .- 1),
    ("acos", K.safe_acos, n -> rand(n) .* 2 .- 1),
]

function bench_unary(n)
    names = [u[1] for u in UNARY_BASE]
    fast_ops = K.build_operator_set(["+"], names)
    base_ops = K.OperatorSet(copy(fast_ops.binops), Any[u[2] for u in UNARY_BASE], copy(fast_ops.binnames), names)
    println(@sprintf("%-8s %8s %7s %13s %13s %8s", "operator", "rows", "threads", "fast ns/row", "Base ns/row", "speedup"))
    for (i, (name, _, gen)) in enumerate(UNARY_BASE)
        X = reshape(gen(n), n, 1)
        tree = K.unary_node(i, x(1))
        out = zeros(n); ws = K.EvalWorkspace{Float64}(n)
        inner = max(1, 2_000_000 ÷ n)
        @assert K.eval_tree!(out, tree, X, fast_ops, ws) && K.eval_tree!(out, tree, X, base_ops, ws)
        tf = timeit(() -> K.eval_tree!(out, tree, X, fast_ops, ws), inner, 5) / n
        tb = timeit(() -> K.eval_tree!(out, tree, X, base_ops, ws), inner, 5) / n
        println(@sprintf("%-8s %8d %7d %13.3f %13.3f %8.2f", name, n, 1, tf, tb, tb / tf))
    end
end

if !isempty(ARGS) && ARGS[1] == "unary"
    bench_unary(length(ARGS) >= 2 ? parse(Int, ARGS[2]) : 10_000)
else
    bench(Threads.nthreads())
end
