# Workload that the KeplerSR system image is built from (see python/keplersr/sysimage.py).
#
#   julia --startup-file=no --output-o OUT.o -J <default sys.so> sysimage_workload.jl
#
# It loads the engine (KeplerSR.jl) and the worker module (worker.jl, without
# running its `main`) into Main, then exercises what a first real fit runs, so
# that their compiled code is saved in the image:
#
# * every built-in operator in every evaluation kernel (constant/variable/
#   subtree operands), for Float64 predictions and Dual derivatives;
# * the worker's request loop (`serve`): frames are written to and read from
#   in-memory buffers exactly as over the pipes, with `ping`, several small
#   `fit`s (L2, L1, Huber and a custom loss; a user operator; the common
#   unary operators), `describe` and `shutdown`.
#
# Environment:
#   KEPLERSR_STDLIB_DIR        the real standard-library folder (in --output-o
#                              mode LOAD_PATH is empty and Sys.STDLIB is stale)
#   KEPLERSR_WORKLOAD_OPTIONS  JSON file with the estimator's default fit options
#                              (optional; the engine's option_defaults() otherwise)
#   KEPLERSR_WORKLOAD_STATUS   file that receives "ok" when the whole workload
#                              ran, or the error; printing errors in output mode
#                              is unreliable, so the builder reads this file.
# Without KEPLERSR_WORKLOAD_STATUS the script can be run in a normal session to
# check the workload itself (it then throws on failure).

const _KSR_STATUS_FILE = get(ENV, "KEPLERSR_WORKLOAD_STATUS", "")
_ksr_failures = String[]

"""Record a failure of workload step `step` (the builder then rejects the image)."""
function _ksr_fail(step::String, err, bt)
    msg = try
        sprint(showerror, err, bt)
    catch
        string(typeof(err))
    end
    push!(_ksr_failures, "$(step): $(msg)")
    return nothing
end

# In --output-o mode Base.__init__ has not run: re-create the standard
# streams and the libuv event loop handle (needed by sleep/Timer, which the
# engine's search loop and the worker's heartbeat use), and the load path.
let stdlib = get(ENV, "KEPLERSR_STDLIB_DIR", "")
    if !isempty(stdlib)
        Base.reinit_stdio()
        Base.init_depot_path()
        empty!(LOAD_PATH)
        push!(LOAD_PATH, stdlib)
    end
end

try
    include(joinpath(@__DIR__, "KeplerSR.jl"))
    include(joinpath(@__DIR__, "worker.jl"))   # defines Main.KeplerSRWorker; main() not run
catch err
    _ksr_fail("loading the engine", err, catch_backtrace())
end

module KeplerSRWorkload

import ..KeplerSR
import ..KeplerSRWorker
using ..KeplerSR: Node, const_node, var_node, unary_node, binary_node, EvalWorkspace, Dual,
    eval_tree!, eval_jacobian!, count_nodes, constant_nodes, build_operator_set,
    json_parse, json_string, write_frame, read_frame, encode_arrays,
    BUILTIN_BINARY, BUILTIN_UNARY

const NROWS = 64

"""Two-feature data with positive values (valid for log, sqrt, asin after scaling)."""
function sample_data(n::Int=NROWS)
    X = Matrix{Float64}(undef, n, 2)
    for i in 1:n
        X[i, 1] = 0.1 + 0.8 * (i - 1) / (n - 1)
        X[i, 2] = 0.2 + 0.7 * ((i * 37) % n) / n
    end
    y = [2.5 * X[i, 1]^2 / X[i, 2] + 0.3 for i in 1:n]
    return X, y
end

"""
Evaluate `tree` through the Float64 path (`eval_tree!`) and the Dual path
(`eval_jacobian!`); the result does not matter, only the compiled code.
"""
function run_both_paths(tree::Node, X::Matrix{Float64}, ops)
    n = size(X, 1)
    out = Vector{Float64}(undef, n)
    eval_tree!(out, tree, X, ops, EvalWorkspace{Float64}(n))
    k = length(constant_nodes(tree))
    J = Matrix{Float64}(undef, n, k)
    eval_jacobian!(J, out, tree, X, ops, EvalWorkspace{Dual}(n), Vector{Dual}(undef, n))
    return nothing
end

"""
Every built-in operator in every evaluation kernel: binary operators with
(const, const), (const, x), (x, const), (x, x), (subtree, const),
(subtree, x), (const, subtree), (x, subtree), (subtree, subtree); unary
operators on x and on a subtree; plus scalar calls as constant folding does.
"""
function exercise_operators()
    X, _ = sample_data()
    bnames = sort(collect(keys(BUILTIN_BINARY)))
    unames = sort(collect(keys(BUILTIN_UNARY)))
    ops = build_operator_set(bnames, unames, String[])
    plus = findfirst(==("+"), bnames)
    sub() = binary_node(plus, var_node(1), const_node(0.5))   # a subtree operand
    for b in 1:length(bnames)
        c() = const_node(1.25)
        x() = var_node(1)
        z() = var_node(2)
        for tree in (binary_node(b, c(), c()), binary_node(b, c(), x()), binary_node(b, x(), c()),
                     binary_node(b, x(), z()), binary_node(b, sub(), c()), binary_node(b, sub(), z()),
                     binary_node(b, c(), sub()), binary_node(b, x(), sub()),
                     binary_node(b, sub(), sub()))
            run_both_paths(tree, X, ops)
        end
        f = ops.binops[b]
        Base.invokelatest(f, 1.5, 0.5)
    end
    for u in 1:length(unames)
        run_both_paths(unary_node(u, var_node(1)), X, ops)
        run_both_paths(unary_node(u, binary_node(plus, var_node(2), const_node(0.1))), X, ops)
        Base.invokelatest(ops.unaops[u], 0.5)
    end
    return nothing
end

"""
Default options as the Python estimator sends them: the JSON file named by
KEPLERSR_WORKLOAD_OPTIONS (written by the builder from the estimator), else
the engine's own defaults (`option_defaults()`, every plain option key).
"""
function base_options()
    file = get(ENV, "KEPLERSR_WORKLOAD_OPTIONS", "")
    isempty(file) || return json_parse(read(file, String))::Dict{String,Any}
    return KeplerSR.option_defaults()
end

"""
Options of one small workload fit: the estimator's defaults with these
operators and loss, per-operator lists resized as the estimator does, and a
small, fast search. Only keys the estimator sends are set (same key set).
"""
function fit_options(base::Dict{String,Any}; binary, unary, loss="L2", loss_source=nothing,
                     extra=String[], optimize=0.5)
    d = deepcopy(base)
    d["binary_operators"] = Any[binary...]
    d["unary_operators"] = Any[unary...]
    d["extra_operator_sources"] = Any[extra...]
    nb, nu = length(binary), length(unary)
    setif!(k, v) = haskey(d, k) && (d[k] = v)
    setif!("complexity_of_binops", Any[1 for _ in 1:nb])
    setif!("complexity_of_unaops", Any[1 for _ in 1:nu])
    setif!("bin_constraints", Any[Any[-1, -1] for _ in 1:nb])
    setif!("una_constraints", Any[-1 for _ in 1:nu])
    d["loss"] = loss_source === nothing ? loss : "custom"
    loss_source === nothing || (d["elementwise_loss_source"] = loss_source)
    for (k, v) in ("niterations" => 2, "populations" => 3, "population_size" => 20,
                   "ncycles_per_iteration" => 40, "tournament_selection_n" => 8,
                   "optimize_probability" => optimize, "progress_interval" => 0.05,
                   "maxsize" => 16, "seed" => 7)
        setif!(k, v)
    end
    return d
end

"""The fits of the workload: (options, with weights?)."""
function fit_specs()
    base = base_options()
    common_unary = ["sin", "cos", "exp", "log", "sqrt", "square", "cube", "neg", "abs", "inv", "tanh"]
    return [
        (fit_options(base, binary=["+", "-", "*", "/"], unary=String[]), false),
        (fit_options(base, binary=["+", "-", "*", "/", "^"], unary=common_unary, optimize=1.0), true),
        (fit_options(base, binary=["+", "-", "*", "/"], unary=["sin", "exp"], loss="L1"), false),
        (fit_options(base, binary=["+", "-", "*", "/"], unary=["cos"], loss="Huber"), true),
        (fit_options(base, binary=["+", "*", "myop"], unary=["inv2"],
                     extra=["inv2(x) = 1/x^2", "myop(x, y) = x*y + 1"],
                     loss_source="(p, t) -> abs(p - t)^1.5"), false),
    ]
end

"""The requests of the workload session, (frame bytes, expected final reply type) each."""
function requests()
    X, y = sample_data()
    frame(msg, payload=UInt8[]) = (io = IOBuffer(); write_frame(io, msg, payload); take!(io))
    reqs = Tuple{Vector{UInt8},String}[(frame(Dict{String,Any}("type" => "ping", "id" => "1")), "pong")]
    for (k, (opts, weighted)) in enumerate(fit_specs())
        pairs = weighted ? ["X" => X, "y" => y, "weights" => fill(1.0, length(y))] : ["X" => X, "y" => y]
        specs, payload = encode_arrays(pairs)
        msg = Dict{String,Any}("type" => "fit", "id" => string(k + 1),
            "options" => opts, "variable_names" => ["m", "r"],
            "nrows" => size(X, 1), "nfeatures" => 2, "heartbeat_interval" => 0.2,
            "arrays" => specs)
        push!(reqs, (frame(json_parse(json_string(msg)), payload), "result"))
    end
    push!(reqs, (frame(Dict{String,Any}("type" => "describe", "id" => "describe")), "description"))
    push!(reqs, (frame(Dict{String,Any}("type" => "shutdown", "id" => "end")), "bye"))
    return reqs
end

"""
Run the worker's request loop (`reader_loop` + `serve`) on in-memory
streams, one request at a time as the Python bridge does (a request that is
still unread when a fit runs would count as "closing" and stop the search),
and check the replies: `hello`, `pong`, progress and a complete `result`
per fit (all iterations run), `description`, `bye`.
"""
function exercise_worker()
    input = Base.BufferStream()
    output = Base.BufferStream()
    worker = KeplerSRWorker.WorkerState(output)
    reader = @async KeplerSRWorker.reader_loop(worker, input)
    server = @async KeplerSRWorker.serve(worker)
    function next_reply()
        fr = read_frame(output)
        fr === nothing && error("the worker closed its output")
        msg = fr[1]
        msg["type"] == "error" &&
            error("worker replied with an error: $(msg["error_type"]): $(msg["message"])")
        return msg
    end
    next_reply()["type"] == "hello" || error("no hello frame")
    nprogress = 0
    for (bytes, final) in requests()
        write(input, bytes)
        while true
            msg = next_reply()
            t = msg["type"]
            t == "progress" && (nprogress += 1)
            t == final || continue
            if t == "result"
                (msg["stop_reason"] == "niterations" && !msg["interrupted"] &&
                 !isempty(msg["records"])) ||
                    error("fit $(msg["id"]) did not run to the end: $(msg["stop_reason"])")
            end
            break
        end
    end
    close(input)
    code = fetch(server)
    wait(reader)
    code == 0 || error("worker serve() returned $(code)")
    nprogress >= 2 * length(fit_specs()) || error("too few progress frames ($(nprogress))")
    # the JSON reader/writer on values the Python side sends
    json_string(json_parse("{\"a\": [1, 2.5, NaN, -Infinity, \"\\u00e9\"], \"b\": null, \"c\": true}"))
    return nothing
end

"""
The worker-process side of a multiprocessing search, run in this process:
every remote call of julia/parallel/distributed_islands.jl with its
arguments and replies passed through Serialization (as Distributed does), and
a checkpoint written and read back; so worker processes started from the
image do not compile these on their first iteration.
"""
function exercise_islands()
    viaser(x) = (io = IOBuffer(); KeplerSR.Distributed.serialize(io, x); seekstart(io);
                 KeplerSR.Distributed.deserialize(io))
    X, y = sample_data(200)
    data = KeplerSR.Dataset(X, y; varnames=["x0", "x1"])
    optd = Dict{String,Any}("binary_operators" => ["+", "-", "*", "/"], "unary_operators" => ["sin"],
        "populations" => 2, "population_size" => 12, "tournament_selection_n" => 6, "ncycles_per_iteration" => 20,
        "niterations" => 2,
        "seed" => 1, "deterministic" => true, "enumerate_max_complexity" => 0)
    spec = KeplerSR.options_spec_from_dict(optd, 2)
    opts = KeplerSR.Options(spec)
    data.baseline_loss = KeplerSR.baseline_loss(data, opts)
    hof_loss = fill(Inf, opts.constraints.maxsize)
    key = "workload"
    KeplerSR.host_open(viaser(key), viaser(spec), viaser(data), Inf)
    started = [viaser(KeplerSR.host_start(key, i, UInt(i), Node[], hof_loss, nothing)) for i in 1:2]
    freq = zeros(opts.constraints.maxsize)
    none = Pair{Int,KeplerSR.PopMember}[]
    stepped = [viaser(KeplerSR.host_iterate(key, i, 1, hof_loss, freq, none, nothing, Int[])) for i in 1:2]
    reps = [first(x) for x in stepped]
    hof = KeplerSR.HallOfFame(opts.constraints.maxsize)
    for r in reps, m in r.best
        m === nothing || KeplerSR.offer!(hof, m)
    end
    plan = KeplerSR.migration_plan([r.pool for r in reps], 12, hof, opts, KeplerSR.MersenneTwister(1))
    snaps = [last(x) for x in stepped]
    KeplerSR.apply_migrants!(snaps[1].members, plan[1])
    # island 2 with its migrants; island 1 moved here from its snapshot; island 2 dropped
    viaser(KeplerSR.host_iterate(key, 2, 2, hof_loss, freq, viaser(plan[2]), nothing, Int[]))
    viaser(KeplerSR.host_iterate(key, 1, 2, hof_loss, freq, none, viaser(snaps[1]), [2]))
    KeplerSR.heap_hint_collect(1)
    KeplerSR.host_stop(key)
    KeplerSR.host_close(key)
    snap = KeplerSR.SearchSnapshot(1, UInt(1), snaps, KeplerSR.pareto_front(hof), freq, 0, 1.0)
    path = tempname()
    KeplerSR.write_checkpoint(path, snap, opts, 2)
    KeplerSR.read_checkpoint(path, opts, 2)
    rm(path; force=true)
    return nothing
end

end # module KeplerSRWorkload

if isempty(_ksr_failures)
    try
        KeplerSRWorkload.exercise_operators()
    catch err
        _ksr_fail("operators", err, catch_backtrace())
    end
end
if isempty(_ksr_failures)
    try
        KeplerSRWorkload.exercise_worker()
    catch err
        _ksr_fail("worker session", err, catch_backtrace())
    end
end

if isempty(_ksr_failures)
    try
        KeplerSRWorkload.exercise_islands()
    catch err
        _ksr_fail("islands", err, catch_backtrace())
    end
end

# Entry points used with real pipes rather than the in-memory streams above.
if isempty(_ksr_failures)
    try
        precompile(KeplerSRWorker.main, ())
        precompile(KeplerSRWorker.reader_loop, (KeplerSRWorker.WorkerState, Base.PipeEndpoint))
        precompile(KeplerSR.write_frame, (IOStream, Dict{String,Any}, Vector{UInt8}))
        precompile(redirect_stdout, (Base.PipeEndpoint,))
        precompile(flush, (Base.PipeEndpoint,))
    catch err
        _ksr_fail("precompile", err, catch_backtrace())
    end
end

if !isempty(_KSR_STATUS_FILE)
    open(_KSR_STATUS_FILE, "w") do io
        print(io, isempty(_ksr_failures) ? "ok" : join(_ksr_failures, "\n"))
    end
elseif !isempty(_ksr_failures)
    error("KeplerSR sysimage workload failed:\n" * join(_ksr_failures, "\n"))
end
