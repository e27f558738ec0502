# Tests of the user's guesses (julia/search/run.jl, migration.jl): seed
# expressions whose fitted copies keep replacing a fraction
# `fraction_replaced_guesses` of every population after each migration.
#   julia --startup-file=no tests/julia/test_guesses.jl
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/"], ["sin"])
x(j) = K.var_node(j); c(v) = K.const_node(v)
add(a, b) = K.binary_node(1, a, b); mul(a, b) = K.binary_node(3, a, b)

opts_(; kw...) = K.Options(OPS; populations=3, population_size=16, ncycles_per_iteration=20, niterations=2,
                           seed=7, deterministic=true, enumerate_max_complexity=0, kw...)

function guess_data()
    X = 1 .+ rand(MersenneTwister(4), 200, 2)
    return K.Dataset(X, 2.5 .* X[:, 1] .* X[:, 2] .+ 1.3)
end

guess_tree() = add(mul(c(1.0), mul(x(1), x(2))), c(0.5))     # right structure, wrong constants

described(pl) = [[(s, K.string_tree(m.tree, OPS)) for (s, m) in p] for p in pl]

@testset "migration draws guesses with probability fraction_replaced_guesses, deterministically" begin
    data = guess_data()
    opts = opts_(fraction_replaced=0.0, fraction_replaced_hof=0.0, fraction_replaced_guesses=0.25)
    data.baseline_loss = K.baseline_loss(data, opts)     # what init_search sets: scores need it
    r = K.LocalIslands(threaded=false)
    reps = K.start_islands!(r, data, opts, UInt[1, 2, 3], [K.Node[] for _ in 1:3], fill(Inf, opts.constraints.maxsize))
    hof = K.HallOfFame(opts.constraints.maxsize)
    ps = K.PopulationState(UInt(9), data, opts; batched=false)
    guesses = K.seed_members([guess_tree()], ps, data, opts)
    @test K.encode_tree(guesses[1].tree)[2] ≈ [2.5, 1.3]          # constants fitted once
    pools = [rep.pool for rep in reps]
    plan = K.migration_plan(pools, 400, hof, opts, MersenneTwister(5), guesses)
    n = sum(length, plan)
    @test 0.18 < n / (3 * 400) < 0.32
    @test all(K.tree_equal(m.tree, guesses[1].tree) for p in plan for (_, m) in p)
    @test described(plan) == described(K.migration_plan(pools, 400, hof, opts, MersenneTwister(5), guesses))
    # no guesses, or a zero fraction: nothing
    @test all(isempty, K.migration_plan(pools, 400, hof, opts, MersenneTwister(5)))
    @test all(isempty, K.migration_plan(pools, 400, hof, opts_(fraction_replaced=0.0, fraction_replaced_hof=0.0, fraction_replaced_guesses=0.0),
                                        MersenneTwister(5), guesses))
    # the guesses do not change the draws of the other migrants when none is drawn for a slot
    o2 = opts_(fraction_replaced=0.3, fraction_replaced_hof=0.0, fraction_replaced_guesses=0.0)
    @test described(K.migration_plan(pools, 50, hof, o2, MersenneTwister(5))) ==
          described(K.migration_plan(pools, 50, hof, o2, MersenneTwister(5), guesses))
end

@testset "a search keeps its fitted guesses and puts them back into the populations" begin
    data = guess_data()
    opts = opts_(fraction_replaced_guesses=0.5)
    st = K.init_search(data, opts, K.LocalIslands(threaded=false), nothing, K.Node[], [guess_tree()])
    @test length(st.guesses) == 1 && K.encode_tree(st.guesses[1].tree)[2] ≈ [2.5, 1.3]
    r = K.run_search(data, opts; guess_trees=[guess_tree()])
    @test any(e -> e.complexity == 7 && e.loss < 1e-20, r.front)
    # deterministic, and a guess is not a fraction of nothing: without guesses no change at all
    r2 = K.run_search(data, opts; guess_trees=[guess_tree()])
    @test [(e.complexity, e.loss) for e in r.front] == [(e.complexity, e.loss) for e in r2.front]
    a = K.run_search(data, opts_())
    b = K.run_search(data, opts_(fraction_replaced_guesses=0.9))
    @test [(e.complexity, e.loss) for e in a.front] == [(e.complexity, e.loss) for e in b.front]
    # a guess outside the constraints reaches the front, not the populations
    big = add(guess_tree(), mul(c(0.0), mul(x(1), mul(x(2), x(1)))))
    st2 = K.init_search(data, opts_(maxsize=9), K.LocalIslands(threaded=false), nothing, K.Node[], [big])
    @test isempty(st2.guesses)
    # on resume the guesses are fitted again and keep migrating
    saved = Ref{Any}(nothing)
    K.run_search(data, opts; guess_trees=[guess_tree()], on_checkpoint=s -> (saved[] = s))
    st3 = K.init_search(data, opts, K.LocalIslands(threaded=false), saved[], K.Node[], [guess_tree()])
    @test length(st3.guesses) == 1
end

@testset "guess expressions from a fit message name their field in errors" begin
    opts = opts_()
    err = try
        K.seed_trees_from_list("x", opts, 2; field="guess_expressions"); nothing
    catch e
        e
    end
    @test err isa ArgumentError && occursin("guess_expressions", err.msg)
end
