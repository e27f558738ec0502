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
using ..KeplerSR: json_string, read_frame, write_frame, dataset_from_fit, options_from_dict,
    ProtocolError, PROTOCOL_VERSION

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
function send(st::WorkerState, msg::AbstractDict, payload::Vector{UInt8}=UInt8[])
    st.broken && return false
    lock(st.wlock)
    try
        write_frame(st.out, msg, payload)
        return true
    catch err
        st.broken = true
        st.closing = true
        println(stderr, "keplersr worker: cannot write to stdout: ", sprint(showerror, err))
        return false
    finally
        unlock(st.wlock)
    end
end

function info_fields()
    Dict{String,Any}("julia_version" => string(VERSION), "nthreads" => Threads.nthreads(),
        "engine_version" => engine_version(), "protocol_version" => PROTOCOL_VERSION,
        "pid" => Int(getpid()))
end

"""Reader task: frames from `input` to the inbox; `interrupt` is acted on at once."""
function reader_loop(st::WorkerState, input::IO)
    try
        while true
            fr = read_frame(input)
            if fr === nothing
                st.closing = true
                put!(st.inbox, :eof)
                return
            end
            msg, _ = fr
            t = msg["type"]
            if t == "interrupt"
                st.interrupt_id = string(get(msg, "id", ""))
                continue
            elseif t == "shutdown"
                st.closing = true
            end
            put!(st.inbox, fr)
        end
    catch err
        st.closing = true
        put!(st.inbox, err)
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

function heartbeat_loop(st::WorkerState, id::String, hb::Heartbeat, interval::Float64)
    last = time()
    while hb.active && !st.broken
        sleep(min(0.05, interval))
        if hb.active && time() - last >= interval
            send(st, Dict{String,Any}("type" => "heartbeat", "id" => id, "stage" => "starting"))
            last = time()
        end
    end
end

function start_heartbeat(st::WorkerState, id::String, interval::Float64)
    hb = Heartbeat(interval > 0, nothing)
    hb.active && (hb.task = @async heartbeat_loop(st, id, hb, interval))
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

"""
    fake_search(spec) -> search function

TEST HOOK, selected by the options key "_test_fake_search" (used only by
tests/test_bridge.py). It behaves like `run_search` without searching:
`nprogress` progress frames `interval` s apart, each with `iteration`
records whose constants are the first `nconst` values of y (binary in ->
JSON out) plus, if given, a record with the `constants` of the spec (JSON
in -> JSON out). `block`: seconds of non-yielding busy time before the
first progress (like JIT compilation); `block_idle`: seconds of
non-yielding idle time there (a stuck worker); `hang`: seconds of silence after
the first progress; `throw`: message of an error raised after the first
progress; `ignore_stop`: never poll `should_stop`.
"""
function fake_search(spec::AbstractDict)
    function (data, opts; on_progress::Function=p -> nothing, should_stop::Function=() -> false)
        nprog = Int(get(spec, "nprogress", 3))
        interval = Float64(get(spec, "interval", 0.02))
        nconst = min(Int(get(spec, "nconst", 3)), data.n)
        extra = get(spec, "constants", nothing)
        ignore_stop = get(spec, "ignore_stop", false) === true
        t0 = time()
        function records(k)
            recs = Dict{String,Any}[]
            for i in 1:k
                push!(recs, Dict{String,Any}("complexity" => i, "loss" => 1.0 / i, "score" => 0.5 * i,
                    "equation" => "fake$(i)", "codes" => Int32[i, -i],
                    "constants" => data.y[1:nconst], "constants_stderr" => zeros(nconst)))
            end
            if extra !== nothing
                c = Float64[x === nothing ? NaN : Float64(x) for x in extra]
                push!(recs, Dict{String,Any}("complexity" => k + 1, "loss" => 0.0, "score" => 0.0,
                    "equation" => "extra", "codes" => Int32[], "constants" => c,
                    "constants_stderr" => fill(NaN, length(c))))
            end
            if get(spec, "echo_data", false) === true
                push!(recs, Dict{String,Any}("complexity" => 0, "loss" => 0.0, "score" => 0.0,
                    "equation" => join(data.varnames, ","), "codes" => Int32[size(data.X)...],
                    "constants" => vcat(vec(data.X), data.w), "constants_stderr" => Float64[]))
            end
            return recs
        end
        tb = time()   # busy, non-yielding work, like JIT compilation
        while time() - tb < Float64(get(spec, "block", 0.0)); end
        Libc.systemsleep(Float64(get(spec, "block_idle", 0.0)))   # stuck: no CPU, no yield
        done = 0
        stop = "niterations"
        for it in 1:nprog
            if !ignore_stop && should_stop()
                stop = "interrupted"
                break
            end
            sleep(interval)
            done = it
            on_progress(Dict{String,Any}("iteration" => it, "niterations" => nprog,
                "evals" => 100 * it, "evals_per_second" => 100 * it / (time() - t0),
                "elapsed" => time() - t0, "best_loss" => 1.0 / it, "records" => records(it)))
            if it == 1
                haskey(spec, "throw") && error(string(spec["throw"]))
                sleep(Float64(get(spec, "hang", 0.0)))
            end
        end
        return (records=records(done), stop_reason=stop, iterations=done, evals=100 * done,
                elapsed=time() - t0)
    end
end

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
    handle_fit(st, msg, payload; search=nothing)

Run one fit: decode data and options, call the search function
(`search === nothing`: `KeplerSR.run_search` resolved now, or the test
fake if the options ask for it) with progress/stop callbacks, and send
`result` or `error`. Never throws.
"""
function handle_fit(st::WorkerState, msg::AbstractDict, payload::Vector{UInt8}; search=nothing)
    id = string(get(msg, "id", ""))
    hbint = Float64(get(msg, "heartbeat_interval", 1.0))
    hb = start_heartbeat(st, id, hbint)
    try
        data = dataset_from_fit(msg, payload)
        optd = get(msg, "options", Dict{String,Any}())
        optd isa Dict{String,Any} || throw(ArgumentError("fit message: options must be an object"))
        optd = copy(optd)
        fake = pop!(optd, "_test_fake_search", nothing)
        opts = options_from_dict(optd, data.nfeatures)
        fn = search !== nothing ? search : fake !== nothing ? fake_search(fake) : default_search()
        on_progress = function (p)
            # heartbeats cover startup up to the end of the first iteration
            # (the engine may report iteration 0 before compiling the rest)
            it = get(p, "iteration", 1)
            (it isa Integer && it < 1) || (hb.active = false)
            m = Dict{String,Any}(p)
            m["type"] = "progress"
            m["id"] = id
            send(st, m)
            return nothing
        end
        should_stop = function ()
            yield()    # let the stdin reader task see an `interrupt`
            return st.interrupt_id == id || st.closing
        end
        # invokelatest: user operators/losses were just defined by eval.
        res = Base.invokelatest(fn, data, opts; on_progress=on_progress, should_stop=should_stop)
        stop_heartbeat(hb)
        send(st, Dict{String,Any}("type" => "result", "id" => id,
            "records" => res.records, "stop_reason" => string(res.stop_reason),
            "interrupted" => st.interrupt_id == id,
            "iterations" => Int(res.iterations), "evals" => Int(res.evals),
            "elapsed" => Float64(res.elapsed)))
    catch err
        stop_heartbeat(hb)
        send(st, error_frame(id, err, catch_backtrace()))
    finally
        stop_heartbeat(hb)
    end
    return nothing
end

# ---------------------------------------------------------------- loop

"""Serve requests until `shutdown` or EOF; returns the process exit code."""
function serve(st::WorkerState)
    hello = info_fields()
    hello["type"] = "hello"
    send(st, hello)
    while !st.broken
        item = take!(st.inbox)
        item === :eof && return 0
        if item isa Exception
            println(stderr, "keplersr worker: ", sprint(showerror, item))
            send(st, error_frame("", item, Base.StackTraces.StackFrame[]))
            return 2
        end
        msg, payload = item
        t = msg["type"]
        id = string(get(msg, "id", ""))
        if t == "ping"
            m = info_fields()
            m["type"] = "pong"; m["id"] = id
            send(st, m)
        elseif t == "fit"
            handle_fit(st, msg, payload)
        elseif t == "shutdown"
            send(st, Dict{String,Any}("type" => "bye", "id" => id))
            return 0
        else
            send(st, error_frame(id, ArgumentError("unknown message type $(repr(t))"),
                                 Base.StackTraces.StackFrame[]))
        end
    end
    return 1
end

"""Entry point: keep stdout for frames, redirect printing to stderr, serve stdin."""
function main()
    out = Base.fdio(ccall(:dup, Cint, (Cint,), 1), true)
    redirect_stdout(stderr)
    st = WorkerState(out)
    @async reader_loop(st, stdin)
    code = serve(st)
    flush(stderr)
    exit(code)
end

end # module KeplerSRWorker

if abspath(PROGRAM_FILE) == @__FILE__
    KeplerSRWorker.main()
end
