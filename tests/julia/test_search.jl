# Tests of the search (julia/search/) with linear scaling and seeding from
# exhaustive enumeration (julia/evolution/enumeration.jl):
#   julia --startup-file=no tests/julia/test_search.jl
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/"], ["sin", "exp"])

function product_data(; n=200, seed=1)
    rng = MersenneTwister(seed)
    X = randn(rng, n, 3)
    return K.Dataset(X, 3.7 .* X[:, 1] .* X[:, 2] .- 2.0)
end

small_opts(; kw...) = K.Options(OPS; populations=2, population_size=30, ncycles_per_iteration=50,
                                niterations=30, seed=7, deterministic=true, kw...)

"Every front entry's record, decoded and re-evaluated, has the reported loss and complexity."
function check_front_honest(front, data, opts)
    lw = K.LossWorkspace(data.n)
    records = K.front_records(front, data, opts)
    @test length(records) == length(front)
    for (e, r) in zip(front, records)
        t = K.decode_tree(r["codes"], r["constants"])
        @test K.tree_equal(t, e.tree)
        @test r["loss"] === e.loss && r["score"] === e.score && r["complexity"] == e.complexity
        @test length(r["constants_stderr"]) == length(r["constants"])
        @test K.compute_complexity(t, opts) == r["complexity"]
        @test K.check_constraints(t, opts)
        l = K.eval_loss(t, data, opts, lw)
        @test isapprox(l, r["loss"]; rtol=1e-9, atol=1e-24)
    end
end

@testset "linear scaling finds 3.7*x0*x1 - 2 and reports explicit formulas" begin
    data = product_data()
    # with enumeration the scaled variant a*(x0*x1) + b of the enumerated
    # product is on the front at once; without, evolution gets there in a
    # few iterations (its constants need not be the two of the minimal form)
    for (enum, maxc) in ((0, 9), (5, 7))
        opts = small_opts(linear_scaling=true, enumerate_max_complexity=enum, early_stop_condition=1e-20)
        r = K.run_search(data, opts)
        @test r.stop_reason == "early_stop_condition"
        @test r.iterations <= (enum > 0 ? 3 : 8)   # evolution alone: a few iterations, seed-dependent
        exact = filter(e -> e.loss <= 1e-20, r.front)
        @test !isempty(exact)
        best = exact[1]                              # the simplest exact formula
        @test best.complexity <= maxc                # scaling nodes counted
        enum > 0 && @test sort(K.get_constants(best.tree)) ≈ [-2.0, 3.7]
        check_front_honest(r.front, data, opts)
    end
end

@testset "scaling variants" begin
    data = product_data()
    opts = small_opts()
    data.baseline_loss = K.baseline_loss(data, opts)
    pred = data.X[:, 1] .* data.X[:, 2]
    losses, as, bs = K.scaling_variants(pred, data, opts)
    @test losses[4] < 1e-25
    @test as[4] ≈ 3.7 && bs[4] ≈ -2.0
    @test losses[1] ≈ K.loss_of_predictions(pred, data, opts)
    @test losses[2] ≈ K.loss_of_predictions(as[2] .* pred, data, opts)
    @test losses[3] ≈ K.loss_of_predictions(pred .+ bs[3], data, opts)
    @test losses[2] < losses[1] && losses[3] < losses[1]
end

@testset "enumeration: distinct expressions within the constraints" begin
    rng = MersenneTwister(3)
    X = rand(rng, 100, 2) .+ 0.5
    opts = K.Options(OPS; maxsize=20, nested_constraints=[(1, 1, 1, 1, 0)])   # no sin(sin(.))
    en = K.enumerate_expressions(X, opts; max_complexity=5, max_candidates=10^6)
    @test en.complete
    @test length(en.trees) > 500
    @test maximum(en.complexity) == 5
    strs = [K.string_tree(t, OPS) for t in en.trees]
    @test allunique(strs)
    # value-distinct on the subsample, all finite, all within the constraints
    @test allunique([K.value_hash(v) for v in en.values])
    lw = K.LossWorkspace(length(en.rows))
    Xs = X[en.rows, :]
    for (t, c, v) in zip(en.trees, en.complexity, en.values)
        @test K.compute_complexity(t, opts) == c
        @test K.check_constraints(t, opts)
        @test K.eval_tree!(lw.pred, t, Xs, OPS, lw.ws)
        @test lw.pred ≈ v
    end
    @test !any(s -> occursin("sin(sin(", s), strs)
    # x0*x1 and x1*x0 are one expression; x0 + x1 is there once
    @test count(s -> s in ("(x0 * x1)", "(x1 * x0)"), strs) == 1
    # affine classes: x0, c*x0, x0 + c are one class
    ad = K.affine_distinct(en)
    adstr = Set(strs[ad])
    @test "x0" in adstr
    @test !any(s -> s in adstr, ("(x0 * 0.7390851332151607)", "(0.7390851332151607 * x0)",
                                 "(x0 + 0.7390851332151607)", "(0.7390851332151607 + x0)"))
    # the count cap stops before a whole level
    en2 = K.enumerate_expressions(X, opts; max_complexity=5, max_candidates=200)
    @test !en2.complete && length(en2.trees) <= 200
    @test length(unique(en2.complexity)) == maximum(en2.complexity)
end

@testset "determinism: same seed, same records" begin
    data = product_data(n=100)
    y = sin.(data.X[:, 1]) .* 2.0 .+ data.X[:, 3] .^ 2
    data2 = K.Dataset(data.X, y)
    opts() = small_opts(niterations=4, enumerate_max_complexity=4)
    r1 = K.run_search(data2, opts())
    r2 = K.run_search(K.Dataset(data.X, y), opts())
    @test length(r1.front) == length(r2.front)
    for (a, b) in zip(K.front_records(r1.front, data2, opts()), K.front_records(r2.front, data2, opts()))
        @test a["equation"] == b["equation"]
        @test a["loss"] == b["loss"]
    end
    @test r1.evals == r2.evals
    check_front_honest(r1.front, data2, opts())
end

@testset "stop rules" begin
    data = product_data(n=100)
    y = exp.(data.X[:, 1]) .* data.X[:, 2] .+ sin.(data.X[:, 3])
    d() = K.Dataset(data.X, y)
    r = K.run_search(d(), small_opts(niterations=10^6, max_evals=3000, enumerate_max_complexity=0))
    @test r.stop_reason == "max_evals" && r.evals >= 3000
    r = K.run_search(d(), small_opts(niterations=10^6, early_stop_condition=1e9))
    @test r.stop_reason == "early_stop_condition" && r.iterations == 1
    calls = Ref(0)
    r = K.run_search(d(), small_opts(niterations=10^6); should_stop=() -> (calls[] += 1) > 3)
    @test r.stop_reason == "interrupted"
    @test r.iterations < 100
    r = K.run_search(d(), small_opts(niterations=3))
    @test r.stop_reason == "niterations" && r.iterations == 3
end

@testset "progress reports and result are typed; io turns them into messages" begin
    data = product_data(n=100)
    opts = small_opts(niterations=2, progress_interval=0.0, enumerate_max_complexity=3)
    seen = K.SearchProgress[]
    r = K.run_search(data, opts; on_progress=p -> push!(seen, p))
    @test r isa K.SearchResult && r.stop_reason == "niterations" && r.iterations == 2
    # where the time went: evaluator seconds (summed over threads) and node-rows
    @test 0 < r.eval_seconds <= r.elapsed * Threads.nthreads() + 0.1
    @test r.node_rows >= r.evals * data.n
    @test [p.iteration for p in seen] == [0, 1, 2, 2]
    @test all(p -> p.niterations == 2, seen)
    @test seen[end].evals == r.evals && seen[end].best_loss == r.front[end].loss
    @test all(e -> all(isnan, e.constants_stderr), seen[end].front)   # no standard errors while running
    m = K.progress_message(seen[end], data, opts)
    @test Set(keys(m)) == Set(["iteration", "niterations", "evals", "evals_per_second", "elapsed",
                               "best_loss", "records", "status"])
    res = K.result_message(r, data, opts)
    @test Set(keys(res)) == Set(["records", "stop_reason", "iterations", "evals", "elapsed"])
    @test res["stop_reason"] == "niterations" && res["iterations"] == 2 && res["evals"] == r.evals
    rec = res["records"][end]
    @test Set(keys(rec)) == Set(["complexity", "loss", "score", "equation", "codes", "constants",
                                 "constants_stderr"])
    @test rec["codes"] isa Vector{Int32} && rec["equation"] == K.string_tree(r.front[end].tree, OPS)
    check_front_honest(r.front, data, opts)
end
