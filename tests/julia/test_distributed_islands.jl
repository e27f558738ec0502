# Tests of islands on worker processes (julia/parallel/distributed_islands.jl,
# island_host.jl) and the kept pool of processes (process_pool.jl):
#   julia --startup-file=no -t 2 tests/julia/test_distributed_islands.jl
using Test
using Random
using Distributed

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

function dist_data(; n=150, seed=2)
    X = rand(MersenneTwister(seed), n, 2) .+ 0.5
    return K.Dataset(X, X[:, 1] .* X[:, 2] .+ sin.(X[:, 1]))
end

function dist_spec(; kw...)
    d = Dict{String,Any}("binary_operators" => ["+", "-", "*", "/"], "unary_operators" => ["sin"],
        "populations" => 5, "population_size" => 16, "ncycles_per_iteration" => 30, "niterations" => 5,
        "seed" => 11, "deterministic" => true, "enumerate_max_complexity" => 0, "progress_interval" => 0.0,
        "parallelism" => "multiprocessing", "procs" => 2)
    for (k, v) in kw
        d[string(k)] = v
    end
    return K.options_spec_from_dict(d, 2)
end

dist_front(r, opts) = [(e.complexity, e.loss, K.string_tree(e.tree, opts.ops)) for e in r.front]

@testset "a free process takes its own island, then an unheld one, then one of the busiest" begin
    r = K.DistributedIslands([2, 3, 4], dist_spec())
    r.holder = [2, 3, 3, 3, 0, 4]
    waiting = collect(1:6)
    @test K.next_island!(r, 2, waiting) == 1             # its own
    @test K.next_island!(r, 2, waiting) == 5             # nobody's
    @test K.next_island!(r, 2, waiting) == 4             # the last waiting on 3, which has the most
    @test K.next_island!(r, 4, waiting) == 6
    @test K.next_island!(r, 4, waiting) == 3
    @test waiting == [2]
    @test K.next_island!(r, 3, waiting) == 2 && K.next_island!(r, 3, waiting) == 0
end

@testset "the current iteration first; ahead, a process takes only its own or unheld islands" begin
    r = K.DistributedIslands([2, 3], dist_spec())
    r.holder = [2, 2, 3, 3]
    r.done = [4, 5, 4, 5]                    # islands 2 and 4 have ended iteration 5 already
    r.running = [true, false, false, false]
    r.limit = 6
    r.inputs[5] = r.inputs[6] = K.IterationInputs(Float64[], Float64[], Vector{Pair{Int,K.PopMember}}[], true)
    @test K.next_task!(r, 2) == (3, 5)       # island 3 of iteration 5 waits (on 3): taken before anything ahead
    r.running[3] = true
    @test K.next_task!(r, 2) == (2, 6)       # its own island, ahead
    r.running[2] = true
    @test K.next_task!(r, 2) == (0, 0)       # island 4 is 3's: not stolen ahead
    @test K.next_task!(r, 3) == (4, 6)
    r.limit = 5                              # the last iteration: nothing starts ahead
    r.running .= false; r.running[1] = r.running[3] = true
    @test K.next_task!(r, 3) == (0, 0)
    delete!(r.inputs, 6); r.limit = 6        # the next iteration's inputs not known yet
    @test K.next_task!(r, 3) == (0, 0)
end

@testset "a checkpoint taken while islands run ahead resumes to the uninterrupted front" begin
    data = dist_data()
    serial6 = K.run_search(data, K.Options(dist_spec(parallelism="serial", procs=1, niterations=6));
                           islands=K.LocalIslands(threaded=false))
    spec = dist_spec(niterations=6, checkpoint_interval=1e-6)
    opts = K.Options(spec)
    saved = Ref{Any}(nothing)
    K.run_search(data, opts; islands=K.island_runner(opts, spec),
                 on_checkpoint=s -> (s.iteration == 3 && (saved[] = s)))
    s = saved[]
    @test s isa K.SearchSnapshot && s.iteration == 3
    @test length(s.pending) == 5 && length(s.lag_hof_loss) == opts.constraints.maxsize
    # through the file format, then three more iterations (serially: the layout does not matter)
    path = tempname()
    K.write_checkpoint(path, s, opts, 2)
    back = K.read_checkpoint(path, opts, 2)
    @test back.lag_hof_loss == s.lag_hof_loss && back.lag_freq == s.lag_freq
    @test [[(slot, K.string_tree(m.tree, opts.ops)) for (slot, m) in p] for p in back.pending] ==
          [[(slot, K.string_tree(m.tree, opts.ops)) for (slot, m) in p] for p in s.pending]
    opts3 = K.Options(dist_spec(parallelism="serial", procs=1, niterations=3))
    resumed = K.run_search(data, opts3; islands=K.LocalIslands(threaded=false), resume=back)
    @test dist_front(resumed, opts3) == dist_front(serial6, opts3)
end

@testset "islands on a kept pool of worker processes" begin
    data = dist_data()
    spec = dist_spec()
    opts = K.Options(spec)
    serial = K.run_search(data, K.Options(dist_spec(parallelism="serial", procs=1));
                          islands=K.LocalIslands(threaded=false))
    runner = K.island_runner(opts, spec)
    pids = copy(runner.pids)
    @test runner isa K.DistributedIslands && length(pids) == 2 && runner.slots == Dict{Int,Int}()
    r = K.run_search(data, opts; islands=runner)
    @test dist_front(r, opts) == dist_front(serial, opts)
    @test r.evals == serial.evals
    @test all(p -> p in workers(), pids)                          # kept for the next fit

    # the next fit of the same layout takes the same processes
    again = K.island_runner(opts, spec)
    @test again.pids == pids
    # every island moves to another process (from its snapshot) before every iteration: same front
    moved = Ref(0)
    shuffle_holders = p -> (moved[] += count(!=(0), again.holder); fill!(again.holder, 0))
    r2 = K.run_search(data, opts; islands=again, on_progress=shuffle_holders)
    @test moved[] >= 10
    @test dist_front(r2, opts) == dist_front(serial, opts)

    # a process killed mid-search: its islands go on from their last state elsewhere, same front
    lossy = K.island_runner(opts, spec)
    @test lossy.pids == pids
    victim = lossy.pids[1]
    proc = K.worker_origin(victim)[2]
    @test proc isa Base.Process
    kill_at_2 = p -> (p.iteration == 2 && process_running(proc) && kill(proc, 9))
    r3 = K.run_search(data, opts; islands=lossy, on_progress=kill_at_2)
    @test !process_running(proc)
    @test dist_front(r3, opts) == dist_front(serial, opts)
    @test r3.stop_reason == "niterations"
    status = K.layout_status(lossy)
    @test occursin("worker process $(victim) on host", status) && occursin("SIGKILL", status)
    @test occursin("continue from their last iteration on the other 1", status)

    # a pool with a dead process is started again; another layout replaces it
    fresh = K.island_runner(opts, spec)
    @test length(fresh.pids) == 2 && isempty(intersect(fresh.pids, pids))
    one = K.island_runner(K.Options(dist_spec(procs=1)), dist_spec(procs=1))
    @test length(one.pids) == 1 && !any(p -> p in workers(), fresh.pids)
    K.release_process_pool!()
    @test !any(p -> p in workers(), one.pids) && isempty(K.process_pool_pids())
end

@testset "a worker process's heap hint" begin
    @test !occursin("heap-size-hint", string(K.worker_exeflags(1, 0)))
    @test occursin("heap-size-hint", string(K.worker_exeflags(1, 2^30))) == (VERSION >= v"1.9")
    @test K.Options(dist_spec(heap_size_hint_in_bytes=2^30)).layout.heap_size_hint_in_bytes == 2^30
    @test K.heap_hint_collect(1) === nothing && K.heap_hint_collect(0) === nothing
end

@testset "how many worker processes a Slurm layout starts: procs when given, else SLURM_NTASKS" begin
    withenv("SLURM_NTASKS" => "3") do
        @test K.requested_processes(K.Layout(parallelism=:multiprocessing, cluster_manager=:slurm), 1) == 3
        @test K.requested_processes(K.Layout(parallelism=:multiprocessing, cluster_manager=:slurm, procs=8), 1) == 8
    end
    withenv("SLURM_NTASKS" => nothing) do
        @test K.requested_processes(K.Layout(parallelism=:multiprocessing, cluster_manager=:slurm), 2) == 2
    end
end
