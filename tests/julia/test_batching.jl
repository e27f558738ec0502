# Tests of batching (options `batching`, `batch_size`): populations score
# candidates on mini-batches of rows, the hall of fame only takes full-data
# losses (julia/search/state.jl, scoring.jl, evolve.jl, run.jl); and of the
# enumeration seeding on a row subsample (julia/search/seeding.jl).
#   julia --startup-file=no tests/julia/test_batching.jl
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/"], ["sin", "exp"])

function sin_data(n; seed=1, noise=0.0)
    rng = MersenneTwister(seed)
    X = randn(rng, n, 2)
    y = 2.0 .* sin.(X[:, 1]) .+ X[:, 2] .* X[:, 1] .+ noise .* randn(rng, n)
    return K.Dataset(X, y)
end

batched_opts(; kw...) = K.Options(OPS; populations=3, population_size=30, ncycles_per_iteration=60,
                                  niterations=4, seed=3, deterministic=true, batching=:on, batch_size=100,
                                  enumerate_max_complexity=3, kw...)

"Every front entry's loss is its loss on all rows of `data`."
function check_full_data_losses(front, data, opts)
    lw = K.LossWorkspace(data.n)
    @test !isempty(front)
    for e in front
        @test isapprox(K.eval_loss(e.tree, data, opts, lw), e.loss; rtol=1e-9, atol=1e-24)
        @test K.compute_complexity(e.tree, opts) == e.complexity
        @test K.check_constraints(e.tree, opts)
    end
    @test issorted([e.complexity for e in front]) && issorted([e.loss for e in front]; rev=true)
end

@testset "options, and when batching is active" begin
    o(; kw...) = K.Options(OPS; kw...)
    @test o().batches.batching === :auto && o().batches.batch_size == 1000
    # values are validated in Python (the declaration); the message's choices convert to declared Symbols only
    N = K.BATCHING_AUTO_ROWS
    @test !K.batching_active(o(), N) && K.batching_active(o(), N + 1)
    @test K.batching_active(o(batching=:on, batch_size=50), 51)
    @test !K.batching_active(o(batching=:on, batch_size=50), 50)     # a batch would hold every row
    @test !K.batching_active(o(batch_size=2 * N), N + 1)
    @test !K.batching_active(o(batching=:off), 10^7)
    # the protocol takes them by their flat names, with the declared defaults
    m = K.options_from_dict(Dict{String,Any}("batching" => "on", "batch_size" => 64), 2)
    @test m.batches.batching === :on && m.batches.batch_size == 64
    @test_throws ArgumentError K.options_from_dict(Dict{String,Any}("batching" => "sometimes"), 2)
    d = K.option_defaults()
    @test d["batching"] == "auto" && d["batch_size"] == 1000
end

@testset "a batch: distinct rows, copied whole, drawn from the population's RNG" begin
    # X[i, 1] = i, X[i, 2] = 100 + i, y[i] = i, w[i] = i / 2: a row is recognised by its values
    data = K.Dataset(reshape(collect(1.0:200.0), 100, 2), collect(1.0:100.0), collect(0.5:0.5:50.0))
    data.baseline_loss = 2.5
    opts = K.Options(OPS; batching=:on, batch_size=30)
    ps = K.PopulationState(UInt(5), data, opts)
    @test ps.batched && ps.batch.n == 30 && length(ps.lw.pred) == 30 && ps.cw.n == 30
    @test K.scoring_data(ps, data) === ps.batch
    K.draw_batch!(ps, data)
    rows = Int.(ps.batch.y)
    @test allunique(rows) && all(in(1:100), rows)
    @test ps.batch.X[:, 1] == rows && ps.batch.X[:, 2] == rows .+ 100 && ps.batch.w == rows ./ 2
    @test ps.batch.baseline_loss == 2.5
    first = copy(rows)
    K.draw_batch!(ps, data)
    @test Int.(ps.batch.y) != first                       # a fresh batch each time
    ps2 = K.PopulationState(UInt(5), data, opts)
    K.draw_batch!(ps2, data)
    @test Int.(ps2.batch.y) == first                      # same seed, same batches
    # unbatched: the scoring rows are the data itself
    ps3 = K.PopulationState(UInt(5), data, K.Options(OPS; batching=:off))
    @test !ps3.batched && K.scoring_data(ps3, data) === data && length(ps3.lw.pred) == 100
end

@testset "best is re-scored on all rows; the hall of fame's bar holds" begin
    data = sin_data(600)
    opts = batched_opts()
    data.baseline_loss = K.baseline_loss(data, opts)
    ps = K.init_population_state(UInt(1), data, opts)
    lw = K.LossWorkspace(data.n)
    kept = filter(!isnothing, ps.best)
    @test !isempty(kept)
    for m in kept
        @test m.loss == K.eval_loss(m.tree, data, opts, lw)   # the full-data loss, not the batch's
    end
    # members carry losses on the current batch
    for m in ps.pop.members
        isfinite(m.loss) && @test m.loss ≈ K.eval_loss(m.tree, ps.batch, opts, K.LossWorkspace(ps.batch.n))
    end
    # nothing beats a hall of fame of perfect formulas
    bar = fill(0.0, opts.constraints.maxsize)
    ps0 = K.init_population_state(UInt(1), data, opts, K.Node[], bar)
    @test all(isnothing, ps0.best)
    # and without batching best holds full-data losses directly, also below the bar only
    uopts = batched_opts(batching=:off)
    psu = K.init_population_state(UInt(1), data, uopts, K.Node[], bar)
    @test all(isnothing, psu.best)
end

@testset "a batched search: valid front of full-data losses, deterministic, mostly on batches" begin
    data = sin_data(2000; noise=0.05)
    opts = batched_opts()
    r = K.run_search(data, opts)
    @test r.stop_reason == "niterations" && r.iterations == 4
    check_full_data_losses(r.front, data, opts)
    # records decode to the same formulas
    for (e, rec) in zip(r.front, K.front_records(r.front, data, opts))
        @test K.tree_equal(K.decode_tree(rec["codes"], rec["constants"]), e.tree)
    end
    @test 0 < r.eval_seconds <= r.elapsed * Threads.nthreads() + 0.1
    # seeded and deterministic: the same result again
    r2 = K.run_search(sin_data(2000; noise=0.05), batched_opts())
    @test [K.string_tree(e.tree, OPS) for e in r2.front] == [K.string_tree(e.tree, OPS) for e in r.front]
    @test [e.loss for e in r2.front] == [e.loss for e in r.front]
    @test r2.evals == r.evals
    # without batching: every evaluation on all rows
    ru = K.run_search(data, batched_opts(batching=:off))
    check_full_data_losses(ru.front, data, batched_opts(batching=:off))
    @test ru.node_rows >= ru.evals * data.n
    # batched, most evaluations were on 100-row batches: far fewer node-rows per evaluation
    @test 0 < r.node_rows / r.evals < 0.25 * ru.node_rows / ru.evals
end

@testset "a batched search finds an exact formula and stops on it" begin
    rng = MersenneTwister(9)
    X = rand(rng, 3000, 2) .+ 0.5
    data = K.Dataset(X, 1.5 .* X[:, 1] .* X[:, 2] .+ 0.25)
    opts = batched_opts(niterations=30, early_stop_condition=1e-20, batch_size=200)
    r = K.run_search(data, opts)
    @test r.stop_reason == "early_stop_condition"
    check_full_data_losses(r.front, data, opts)
    @test r.front[end].loss <= 1e-20
end

@testset "enumeration seeding on a row subsample: survivors scored on all rows" begin
    rng = MersenneTwister(4)
    n = 4 * K.ENUM_SCORE_ROWS
    X = rand(rng, n, 2) .+ 0.5
    data = K.Dataset(X, 3.7 .* X[:, 1] ./ X[:, 2])
    for scaling in (false, true)
        opts = K.Options(OPS; enumerate_max_complexity=5, seed=1, deterministic=true, linear_scaling=scaling)
        data.baseline_loss = K.baseline_loss(data, opts)
        ps = K.PopulationState(UInt(1), data, opts; batched=false)
        ranked = K.enumeration_seeds(data, opts, ps, time())
        lw = K.LossWorkspace(n)
        @test issorted([m.score for m in ranked])
        for m in ranked
            @test m.loss ≈ K.eval_loss(m.tree, data, opts, lw) rtol = 1e-12
        end
        for m in filter(!isnothing, ps.best)
            @test m.loss ≈ K.eval_loss(m.tree, data, opts, lw) rtol = 1e-12
        end
        # the exact formula (3.7*x0/x1, complexity 5) is the best seed
        @test ranked[1].loss < 1e-20
        # far fewer full-data scorings than enumerated expressions
        en = K.enumerate_expressions(data.X, opts; max_complexity=5, max_candidates=10^6)
        @test length(ranked) < length(en.trees) / 2
        @test_throws ArgumentError K.enumeration_seeds(data, opts,
            K.PopulationState(UInt(1), data, K.Options(OPS; batching=:on, batch_size=10); batched=true), time())
    end
end
