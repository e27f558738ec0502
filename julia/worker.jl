# The persistent Julia worker that the Python package talks to.
#
#   julia --project=<julia dir> -t N --startup-file=no worker.jl
#
# Frames (see docs/PROTOCOL.md) are read from stdin and written to the
# ORIGINAL stdout pipe; ordinary printing (`println`, engine verbosity,
# warnings) is redirected to stderr so it can never corrupt the stream.
# One fit runs at a time on the main task; an @async reader task keeps
# reading stdin meanwhile so that an `interrupt` frame stops the search.

# A KeplerSR sysimage (keplersr.sysimage) already holds the engine compiled.
if !isdefined(Main, :KeplerSR)
    include(joinpath(@__DIR__, "KeplerSR.jl"))
end

module KeplerSRWorker

import ..KeplerSR
using ..KeplerSR: read_frame, write_frame, dataset_from_fit, options_spec_from_dict, Options, seed_trees_from_list,
    progress_message, result_message, engine_description, PROTOCOL_VERSION, read_checkpoint,
    write_checkpoint, island_runner

"""State shared by the main task, the stdin reader task and the heartbeat task."""
mutable struct WorkerState
    out::IO                       # the real stdout pipe (frames only)
    wlock::ReentrantLock          # serialises frame writers
    inbox::Channel{Any}           # (msg, payload) tuples, an Exception, or :eof
    interrupt_id::String          # id named by the last `interrupt` frame
    closing::Bool                 # EOF on stdin or `shutdown` received
    broken::Bool                  # writing to stdout failed (Python side gone)
end
WorkerState(out::IO) = WorkerState(out, ReentrantLock(), Channel{Any}(Inf), "", false, false)

engine_version() = KeplerSR.ENGINE_VERSION

"""Write one frame; a failed write marks the state broken instead of throwing."""
function send(worker::WorkerState, msg::AbstractDict, payload::Vector{UInt8}=UInt8[])
    worker.broken && return false
    lock(worker.wlock)
    try
        write_frame(worker.out, msg, payload)
        return true
    catch err
        worker.broken = true
        worker.closing = true
        println(stderr, "keplersr worker: cannot write to stdout: ", sprint(showerror, err))
        return false
    finally
        unlock(worker.wlock)
    end
end

function info_fields()
    Dict{String,Any}("julia_version" => string(VERSION), "nthreads" => Threads.nthreads(),
        "engine_version" => engine_version(), "protocol_version" => PROTOCOL_VERSION,
        "pid" => Int(getpid()))
end

"""Reader task: frames from `input` to the inbox; `interrupt` is acted on at once."""
function reader_loop(worker::WorkerState, input::IO)
    try
        while true
            fr = read_frame(input)
            if fr === nothing
                worker.closing = true
                put!(worker.inbox, :eof)
                return
            end
            msg, _ = fr
            t = msg["type"]
            if t == "interrupt"
                worker.interrupt_id = string(get(msg, "id", ""))
                continue
            elseif t == "shutdown"
                worker.closing = true
            end
            put!(worker.inbox, fr)
        end
    catch err
        worker.closing = true
        put!(worker.inbox, err)
    end
end

# ---------------------------------------------------------------- heartbeat

"""
Heartbeat frames while a fit has not yet reported a progress frame with
iteration >= 1 (data decoding, operator compilation, JIT compilation of the
first iteration). The heartbeat is an @async task on the main thread, so it
beats whenever the main task yields (e.g. while the engine waits for its
population tasks), but not while the main task itself compiles; Python
therefore also counts the worker's CPU use as a sign of life in that phase.
(A heartbeat on another Julia thread is not reliable on Julia 1.5: that
thread may itself be busy or blocked on the compiler lock.)
"""
mutable struct Heartbeat
    active::Bool
    task::Union{Task,Nothing}
end

function heartbeat_loop(worker::WorkerState, id::String, hb::Heartbeat, interval::Float64)
    last = time()
    while hb.active && !worker.broken
        sleep(min(0.05, interval))
        if hb.active && time() - last >= interval
            send(worker, Dict{String,Any}("type" => "heartbeat", "id" => id, "stage" => "starting"))
            last = time()
        end
    end
end

function start_heartbeat(worker::WorkerState, id::String, interval::Float64)
    hb = Heartbeat(interval > 0, nothing)
    hb.active && (hb.task = @async heartbeat_loop(worker, id, hb, interval))
    return hb
end

function stop_heartbeat(hb::Heartbeat)
    hb.active = false
    hb.task === nothing || wait(hb.task)
    hb.task = nothing
end

# ---------------------------------------------------------------- fit

"""The engine entry point, looked up when a fit starts (not when the worker loads)."""
default_search() = KeplerSR.run_search

"""Error frame for exception `err` raised while serving request `id`."""
function error_frame(id::String, err, bt)
    msg = try
        sprint(showerror, err)
    catch
        string(typeof(err))
    end
    trace = try
        s = sprint(Base.show_backtrace, bt)
        length(s) > 4000 ? s[1:prevind(s, 4000)] * "\n..." : s
    catch
        ""
    end
    etype = err isa Exception ? string(nameof(typeof(err))) : string(typeof(err))
    return Dict{String,Any}("type" => "error", "id" => id, "error_type" => etype,
        "message" => msg, "backtrace" => trace)
end

"""
    handle_fit(worker, msg, payload; search=nothing)

Run one fit: decode data and options, call the search function with
progress/stop callbacks, and send `result` or `error`. Never throws.
`search(data, opts; on_progress, should_stop, islands, resume, on_checkpoint)`
must behave like `KeplerSR.run_search` (`search === nothing`: `KeplerSR.run_search`,
resolved now): `on_progress` gets values that `KeplerSR.progress_message`
accepts, and it returns one that `KeplerSR.result_message` accepts.
"""
function handle_fit(worker::WorkerState, msg::AbstractDict, payload::Vector{UInt8}; search=nothing)
    id = string(get(msg, "id", ""))
    hbint = Float64(get(msg, "heartbeat_interval", 1.0))
    hb = start_heartbeat(worker, id, hbint)
    try
        res, data, opts = try
            run_fit(worker, id, hb, msg, payload, search)
        finally
            stop_heartbeat(hb)    # once, however the fit ended, before its result or error frame
        end
        m = result_message(res, data, opts)
        m["type"] = "result"
        m["id"] = id
        m["interrupted"] = worker.interrupt_id == id
        send(worker, m)
    catch err
        send(worker, error_frame(id, err, catch_backtrace()))
    end
    return nothing
end

"""Decode fit request `id` and run its search; returns `(result, data, opts)`. `hb` is the
fit's heartbeat, switched off by the first progress frame past iteration 0."""
function run_fit(worker::WorkerState, id::String, hb::Heartbeat, msg::AbstractDict,
                 payload::Vector{UInt8}, search)
    data = dataset_from_fit(msg, payload)
    optd = get(msg, "options", Dict{String,Any}())
    optd isa Dict{String,Any} || throw(ArgumentError("fit message: options must be an object"))
    spec = options_spec_from_dict(optd, data.nfeatures)
    opts = Options(spec)
    fn = search === nothing ? default_search() : search
    # warm start: the snapshot to continue from (read, and checked, before anything starts)
    resume_path = get(msg, "resume_from", nothing)
    resume = resume_path isa String ? read_checkpoint(resume_path, opts, data.nfeatures) : nothing
    ckpt_path = get(msg, "checkpoint_path", nothing)
    on_checkpoint = ckpt_path isa String ?
        (s -> write_checkpoint(ckpt_path, s, opts, data.nfeatures)) : nothing
    on_progress = function (p)
        m = progress_message(p, data, opts)
        # heartbeats cover startup up to the end of the first iteration
        # (the engine may report iteration 0 before compiling the rest)
        it = get(m, "iteration", 1)
        (it isa Integer && it < 1) || (hb.active = false)
        m["type"] = "progress"
        m["id"] = id
        send(worker, m)
        return nothing
    end
    should_stop = function ()
        yield()    # let the stdin reader task see an `interrupt`
        return worker.interrupt_id == id || worker.closing
    end
    # invokelatest: user operators/losses were just defined by eval.
    seed_trees = seed_trees_from_list(get(msg, "seed_expressions", nothing), opts, data.nfeatures)
    guess_trees = seed_trees_from_list(get(msg, "guess_expressions", nothing), opts, data.nfeatures;
                                       field="guess_expressions")
    # fit_only: the constants of the seed expressions are fitted, and nothing is searched
    if get(msg, "fit_only", false) === true
        isempty(seed_trees) && throw(ArgumentError("fit_only needs seed_expressions"))
        resume === nothing || throw(ArgumentError("fit_only cannot resume a search"))
        isempty(guess_trees) || throw(ArgumentError("fit_only takes seed_expressions, not guess_expressions"))
        res = Base.invokelatest(KeplerSR.fit_seed_expressions, data, opts, seed_trees)
    else
        islands = island_runner(opts, spec)    # worker processes start here (multiprocessing)
        # guess_trees only when there are guesses: a search function given to the worker need not know them
        extra = isempty(guess_trees) ? NamedTuple() : (guess_trees=guess_trees,)
        res = Base.invokelatest(fn, data, opts; on_progress=on_progress, should_stop=should_stop,
                                islands=islands, resume=resume, on_checkpoint=on_checkpoint,
                                seed_trees=seed_trees, extra...)
    end
    return res, data, opts
end

# ---------------------------------------------------------------- loop

"""
    serve(worker; search=nothing) -> exit code

Serve requests until `shutdown` or EOF; returns the process exit code.
Fits run `search` (see `handle_fit`; `nothing`: the engine's `run_search`).
"""
function serve(worker::WorkerState; search=nothing)
    hello = info_fields()
    hello["type"] = "hello"
    send(worker, hello)
    while !worker.broken
        item = take!(worker.inbox)
        item === :eof && return 0
        if item isa Exception
            println(stderr, "keplersr worker: ", sprint(showerror, item))
            send(worker, error_frame("", item, Base.StackTraces.StackFrame[]))
            return 2
        end
        msg, payload = item
        t = msg["type"]
        id = string(get(msg, "id", ""))
        if t == "ping"
            m = info_fields()
            m["type"] = "pong"; m["id"] = id
            send(worker, m)
        elseif t == "describe"
            m = engine_description()
            m["type"] = "description"; m["id"] = id
            send(worker, m)
        elseif t == "fit"
            handle_fit(worker, msg, payload; search=search)
        elseif t == "shutdown"
            send(worker, Dict{String,Any}("type" => "bye", "id" => id))
            return 0
        else
            send(worker, error_frame(id, ArgumentError("unknown message type $(repr(t))"),
                                     Base.StackTraces.StackFrame[]))
        end
    end
    return 1
end

"""
    main(; search=nothing, input=stdin)

Entry point: keep stdout for frames, redirect printing to stderr, serve the
requests read from `input` with `search` (see `serve`), exit.
"""
function main(; search=nothing, input::IO=stdin)
    out = Base.fdio(ccall(:dup, Cint, (Cint,), 1), true)
    redirect_stdout(stderr)
    worker = WorkerState(out)
    @async reader_loop(worker, input)
    code = serve(worker; search=search)
    flush(stderr)
    exit(code)
end

end # module KeplerSRWorker

if abspath(PROGRAM_FILE) == @__FILE__
    KeplerSRWorker.main()
end
