# Tests of the islands (julia/search/islands.jl), migration plans, search
# snapshots and checkpoints (julia/search/snapshot.jl, julia/io/checkpoint.jl):
#   julia --startup-file=no -t 2 tests/julia/test_islands.jl
# (worker processes are tested from Python: tests/test_parallelism.py)
using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/"], ["sin"])

function island_data(; n=150, seed=2)
    X = rand(MersenneTwister(seed), n, 2) .+ 0.5
    return K.Dataset(X, X[:, 1] .* X[:, 2] .+ sin.(X[:, 1]))
end

island_opts(; kw...) = K.Options(OPS; populations=3, population_size=16, ncycles_per_iteration=30,
                                 niterations=4, seed=11, deterministic=true, enumerate_max_complexity=0, kw...)

front_of(r) = [(e.complexity, e.loss, K.string_tree(e.tree, OPS)) for e in r.front]

@testset "serial and threaded islands give the same front" begin
    data = island_data(); opts = island_opts()
    a = K.run_search(data, opts; islands=K.LocalIslands(threaded=false))
    b = K.run_search(data, opts; islands=K.LocalIslands(threaded=true))
    @test front_of(a) == front_of(b)
    @test a.evals == b.evals
end

@testset "a migration plan moves copies into the named slots, keeping the slots' ages" begin
    data = island_data(); opts = island_opts(fraction_replaced=0.5, fraction_replaced_hof=0.5)
    r = K.LocalIslands(threaded=false)
    reps = K.start_islands!(r, data, opts, UInt[1, 2, 3], [K.Node[] for _ in 1:3], fill(Inf, opts.constraints.maxsize))
    hof = K.HallOfFame(opts.constraints.maxsize)
    for rep in reps, m in rep.best
        m === nothing || K.offer!(hof, m)
    end
    plan = K.migration_plan([rep.pool for rep in reps], 16, hof, opts, MersenneTwister(5))
    @test length(plan) == 3 && all(!isempty, plan)            # every slot is replaced with p = 1
    described(pl) = [[(s, K.string_tree(m.tree, OPS)) for (s, m) in p] for p in pl]
    @test described(plan) ==
          described(K.migration_plan([rep.pool for rep in reps], 16, hof, opts, MersenneTwister(5)))
    ages = [m.birth for m in r.states[1].pop.members]
    K.migrate_islands!(r, plan)
    ps = r.states[1]
    for (slot, src) in plan[1]
        @test K.tree_equal(ps.pop.members[slot].tree, src.tree)
        @test ps.pop.members[slot].tree !== src.tree              # a copy
        @test ps.pop.members[slot].birth == ages[slot]
    end
end

@testset "a checkpoint round-trips and a resumed search equals an uninterrupted one" begin
    data = island_data(); opts6 = island_opts(niterations=6); opts3 = island_opts(niterations=3)
    whole = K.run_search(data, opts6)
    saved = Ref{Any}(nothing)
    K.run_search(data, opts3; on_checkpoint=s -> (saved[] = s))
    s = saved[]
    @test s isa K.SearchSnapshot && s.iteration == 3 && length(s.islands) == 3
    path = joinpath(mktempdir(), "checkpoint.json")
    K.write_checkpoint(path, s, opts3, data.nfeatures)
    @test !isfile(path * ".tmp.$(getpid())")
    back = K.read_checkpoint(path, opts3, data.nfeatures)
    @test back.iteration == s.iteration && back.master_seed == s.master_seed && back.freq == s.freq
    for (a, b) in zip(back.islands, s.islands)
        @test a.seed == b.seed && a.births == b.births && a.evals == b.evals
        @test all(K.tree_equal(x.tree, y.tree) && x.loss === y.loss && x.birth == y.birth
                  for (x, y) in zip(a.members, b.members))
    end
    resumed = K.run_search(data, opts3; resume=back)
    @test front_of(resumed) == front_of(whole)
    @test resumed.iterations == 3
end

@testset "a checkpoint that does not fit this search is refused with the reason" begin
    data = island_data(); opts = island_opts(niterations=1)
    saved = Ref{Any}(nothing)
    K.run_search(data, opts; on_checkpoint=s -> (saved[] = s))
    path = joinpath(mktempdir(), "checkpoint.json")
    K.write_checkpoint(path, saved[], opts, data.nfeatures)
    other_ops = K.Options(K.build_operator_set(["+", "*"], ["sin"]); populations=3, population_size=16)
    @test_throws K.CheckpointError K.read_checkpoint(path, other_ops, data.nfeatures)
    @test_throws K.CheckpointError K.read_checkpoint(path, opts, 3)
    err = try K.read_checkpoint(path, opts, 3) catch e e end
    @test occursin("features", sprint(showerror, err))
    snap = K.read_checkpoint(path, opts, data.nfeatures)
    @test_throws ArgumentError K.run_search(data, island_opts(populations=4); resume=snap)
    # read for a fit with other populations: a CheckpointError too, naming the option
    for other in (island_opts(populations=4), island_opts(population_size=20))
        err = try K.read_checkpoint(path, other, data.nfeatures) catch e e end
        @test err isa K.CheckpointError && occursin("use the same `population", sprint(showerror, err))
    end
    write(path, "{\"format\": \"keplersr-checkpoint\", \"version\": 99}")
    @test_throws K.CheckpointError K.read_checkpoint(path, opts, data.nfeatures)
    write(path, "not json")
    @test_throws K.CheckpointError K.read_checkpoint(path, opts, data.nfeatures)
    @test_throws K.CheckpointError K.read_checkpoint(path * ".missing", opts, data.nfeatures)
end

@testset "host lists and machine files" begin
    @test K.parse_hosts(["a", "b:3", "me@c:2"]) == [("a", 1), ("b", 3), ("me@c", 2)]
    @test_throws ArgumentError K.parse_hosts(["a:x"])
    @test_throws ArgumentError K.parse_hosts(["a:0"])
    @test_throws ArgumentError K.parse_hosts(String[])
    f = joinpath(mktempdir(), "machines")
    write(f, "# cluster\n2*node1\nme@node2:2222  # ssh port\n\n")
    @test K.parse_hosts([f]) == [("node1", 2), ("me@node2:2222", 1)]
    @test K.parse_hosts(["node2:4", "me@node-3.cluster.org:2", "10.0.0.5", "gpu_7"]) ==
          [("node2", 4), ("me@node-3.cluster.org", 2), ("10.0.0.5", 1), ("gpu_7", 1)]
    # what ssh would read as an option, or a shell as more than a name: refused, naming the entry
    for (entry, reason) in [("-oProxyCommand=touch /tmp/x", "begins with '-'"), ("host name", "whitespace"),
                            ("a;b", "contains \";\""), ("", "expected"), ("user@-x", "begins with '-'"),
                            ("-me@h", "user \"-me\" begins"), ("a@b@c", "more than one '@'"),
                            ("bell\a", "control character"), (":2", "expected"), ("h:0", ">= 1")]
        err = try K.parse_hosts(["node1", entry]) catch e e end
        @test err isa ArgumentError
        @test occursin(repr(entry), err.msg) && occursin(reason, err.msg)
    end
    for (line, reason) in [("-oProxyCommand=touch /tmp/x", "begins with '-'"), ("2*-x", "begins with '-'"),
                           ("x*node3", "count before '*'"), ("2*", "no host"), ("me@a;b:22", "contains"),
                           ("node3:70000", "from 1 to 65535"), ("node3 10.0.0.1 extra", "bind address"),
                           ("node3 -x", "bind address \"-x\" begins")]
        write(f, "# cluster\n2*node1\nme@node2:2222  # ssh port\n\n$(line)\n")
        err = try K.parse_hosts([f]) catch e e end
        @test err isa ArgumentError
        @test occursin("$(f), line 5: $(repr(line))", err.msg) && occursin(reason, err.msg)
    end
    write(f, " 3 * node-3 10.0.0.7:9000\n")
    @test K.parse_hosts([f]) == [("node-3", 3)]
end

@testset "hosts that cannot be reached: a WorkerStartError naming them" begin
    before = K.Distributed.procs()
    t0 = time()
    err = try K.start_worker_processes(K.Layout(parallelism=:multiprocessing, hosts=["nonexistent.invalid:2"]))
          catch e e end
    @test err isa K.WorkerStartError
    @test occursin("cannot start worker processes on hosts nonexistent.invalid:2", sprint(showerror, err))
    @test time() - t0 < 45
    @test K.Distributed.procs() == before
end

@testset "islands on worker processes launched by (fake) srun: the same front as serial" begin
    dir = mktempdir()
    symlink(joinpath(@__DIR__, "fake_srun"), joinpath(dir, "srun"))
    data = island_data(); opts = island_opts(niterations=3)
    optd = Dict{String,Any}("binary_operators" => ["+", "-", "*", "/"], "unary_operators" => ["sin"],
        "populations" => 3, "population_size" => 16, "ncycles_per_iteration" => 30, "niterations" => 3,
        "seed" => 11, "deterministic" => true, "enumerate_max_complexity" => 0,
        "parallelism" => "multiprocessing", "cluster_manager" => "slurm")
    dspec = K.options_spec_from_dict(optd, data.nfeatures)
    dopts = K.Options(dspec)
    serial = K.run_search(data, opts; islands=K.LocalIslands(threaded=false))
    withenv("PATH" => dir * ":" * ENV["PATH"], "SLURM_NTASKS" => "2", "SLURM_CPUS_PER_TASK" => nothing) do
        runner = K.island_runner(dopts, dspec)
        @test runner isa K.DistributedIslands && length(runner.pids) == 2
        r = K.run_search(data, dopts; islands=runner)
        @test front_of(r) == front_of(serial)
        @test all(p -> p in K.Distributed.workers(), runner.pids)       # kept in the pool
        K.release_process_pool!()
        @test all(p -> !(p in K.Distributed.workers()), runner.pids)
    end
end
