# Search benchmark (`keplersr bench search`): how fast the whole search
# runs, and where its time goes, at several row counts, on the threads given
# by -t. Usage:
#
#   julia -t T bench_search.jl SECONDS MODES BATCH_SIZE FILE...
#
# SECONDS: rough wall time of each search on one thread; MODES:
# comma-separated batching modes ("off", "on", "auto"); BATCH_SIZE: rows
# per batch (0: the engine's default); each FILE holds one dataset (Int64 n,
# Int64 p, X as n x p Float64 column-major, y as n Float64; written by
# python/keplersr/benchmarks/search_bench.py). Operators: + - * / and sin cos
# exp log sqrt square tanh asin acos; the other options are the engine's
# defaults, with a fixed seed.
#
# For each (file, mode) two measurements:
#   * the enumeration seeding alone (default settings, its time budget
#     applies): its seconds;
#   * a search without enumeration seeding (so the rate is the evolution's),
#     seeded and deterministic with a fixed number of iterations (`iters`,
#     sized from the rows scored so that one thread takes roughly SECONDS):
#     the same work on any thread count, so the thread speed-up is the
#     ratio of the times. Reported: candidates/s, node-rows/s, the share
#     of the threads' time spent in the evaluator (eval_seconds / (elapsed
#     x threads used)), ns per node-row inside the evaluator, and the share
#     of GC time. "on(-)": batching asked for but not active (batch_size >=
#     rows).
# One line per measurement starting with "RESULT" (key=value fields) is
# what the Python front end reads.

include(joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using .KeplerSR
using Printf
const K = KeplerSR

const OPS = K.build_operator_set(["+", "-", "*", "/"],
    ["sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"])

function read_dataset(path::String)::K.Dataset
    open(path) do io
        n = Int(read(io, Int64)); p = Int(read(io, Int64))
        X = Matrix{Float64}(undef, n, p); read!(io, X)
        y = Vector{Float64}(undef, n); read!(io, y)
        return K.Dataset(X, y)
    end
end

const BATCH_SIZE = Ref(0)

function bench_options(mode::String; kw...)
    :batching in K.flat_option_names() || return K.Options(OPS; seed=1, kw...)   # an engine before batching
    BATCH_SIZE[] > 0 && return K.Options(OPS; seed=1, batching=Symbol(mode), batch_size=BATCH_SIZE[], kw...)
    return K.Options(OPS; seed=1, batching=Symbol(mode), kw...)
end

"""Does the search score on batches (an engine before batching: never)?"""
batched(opts, n) = isdefined(K, :batching_active) && K.batching_active(opts, n)

"""
Iterations for about `seconds` on one thread: a candidate scored on `m`
rows is taken to cost 5 µs + 17.5 ns x m (about 7 nodes at 2.5 ns per
node-row). Depends only on the rows scored, so every thread count does the
same work.
"""
function bench_iterations(opts, n::Int, seconds::Float64)::Int
    m = batched(opts, n) ? opts.batches.batch_size : n
    e = opts.evolution
    per_iteration = e.populations * e.ncycles_per_iteration * cld(e.population_size, opts.selection.tournament_selection_n)
    return max(1, round(Int, seconds / (per_iteration * (5e-6 + 17.5e-9 * m))))
end

"""Seconds of the enumeration seeding on `data` (default settings)."""
function time_seeding(data::K.Dataset, mode::String)::Float64
    opts = bench_options(mode)
    data.baseline_loss = K.baseline_loss(data, opts)
    t0 = time()
    ps = isdefined(K, :batching_active) ? K.PopulationState(UInt(1), data, opts; batched=false) :
         K.PopulationState(UInt(1), data, opts)
    K.enumeration_seeds(data, opts, ps, t0)
    return time() - t0
end

"""A fixed-work search without enumeration; returns its figures."""
function time_search(data::K.Dataset, mode::String, seconds::Float64)
    iters = bench_iterations(bench_options(mode), data.n, seconds)
    opts = bench_options(mode; niterations=iters, deterministic=true, enumerate_max_complexity=0)
    GC.gc()
    gc0 = Base.gc_num()
    r = K.run_search(data, opts)
    gcd = Base.GC_Diff(Base.gc_num(), gc0)
    used = min(Threads.nthreads(), opts.evolution.populations)
    return (batched=batched(opts, data.n), iters=iters, evals=r.evals, elapsed=r.elapsed,
            cps=r.evals / r.elapsed, nrps=r.node_rows / r.elapsed, share=r.eval_seconds / (r.elapsed * used),
            nspnr=1e9 * r.eval_seconds / max(r.node_rows, 1), gc=gcd.total_time / 1e9 / r.elapsed,
            best=isempty(r.front) ? Inf : r.front[end].loss)
end

function main(args)
    seconds = parse(Float64, args[1])
    modes = split(args[2], ",")
    BATCH_SIZE[] = parse(Int, args[3])
    files = args[4:end]
    datas = [read_dataset(f) for f in files]
    # compile everything on the smallest dataset first
    small = K.Dataset(datas[1].X[1:min(50, datas[1].n), :], datas[1].y[1:min(50, datas[1].n)])
    for mode in modes
        K.run_search(small, bench_options(String(mode); niterations=1, enumerate_max_complexity=3,
                                          populations=2, ncycles_per_iteration=20))
    end
    nt = Threads.nthreads()
    println(@sprintf("%8s %7s %8s %8s %6s %8s %10s %12s %8s %8s %6s %9s %11s", "rows", "threads", "batching",
                     "seed s", "iters", "search s", "cand/s", "node-rows/s", "in eval", "ns/nr", "gc", "evals",
                     "best loss"))
    for data in datas, mode in modes
        ts = time_seeding(data, String(mode))
        m = time_search(data, String(mode), seconds)
        label = mode * (m.batched || mode == "off" ? "" : "(-)")
        println(@sprintf("%8d %7d %8s %8.2f %6d %8.2f %10.0f %12.3g %7.0f%% %8.2f %5.1f%% %9d %11.3g",
                         data.n, nt, label, ts, m.iters, m.elapsed, m.cps, m.nrps, 100 * m.share, m.nspnr,
                         100 * m.gc, m.evals, m.best))
        println(@sprintf("RESULT rows=%d threads=%d batching=%s batched=%s seed_seconds=%.4f iterations=%d ",
                         data.n, nt, mode, m.batched, ts, m.iters),
                @sprintf("search_seconds=%.4f cands_per_s=%.1f node_rows_per_s=%.4g eval_share=%.4f ",
                         m.elapsed, m.cps, m.nrps, m.share),
                @sprintf("ns_per_node_row=%.4f gc_share=%.4f evals=%d best_loss=%.4g",
                         m.nspnr, m.gc, m.evals, m.best))
        flush(stdout)
    end
end

main(ARGS)
