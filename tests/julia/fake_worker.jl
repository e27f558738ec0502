# A worker for tests/test_bridge.py: the real worker (julia/worker.jl, its
# request loop, heartbeats, interrupts and error frames) serving fits with a
# FAKE search instead of the engine's, so the Python tests exercise the
# protocol and the failure handling quickly and without depending on the
# engine. Started by the tests as
#
#   JuliaWorker(worker_script="<repo>/tests/julia/fake_worker.jl")
#
# (the same command line as the real worker, `-J <image>` included: a system
# image already defines KeplerSR and KeplerSRWorker).
#
# Each fit's behaviour is set by an object under the key "fake_search" of its
# options, which this script takes out of the fit frame before the worker
# reads it (the real worker rejects the key as an unknown option):
#
#   nprogress   progress frames (default 3), `interval` s apart (0.02), each
#               with `iteration` records whose constants are the first
#               `nconst` (3) values of y (binary in -> JSON out)
#   constants   if given, one more record with these constants (JSON in ->
#               JSON out; null = NaN)
#   echo_data   if true, one more record echoing the data: equation = the
#               variable names joined by ",", codes = size(X), constants =
#               vec(X) (column-major) followed by the weights
#   block       seconds of non-yielding busy time before the first progress
#               (like JIT compilation)
#   block_idle  seconds of non-yielding idle time there (a stuck worker)
#   hang        seconds of silence after the first progress
#   throw       message of an error raised after the first progress
#   ignore_stop never poll `should_stop`

isdefined(Main, :KeplerSRWorker) || include(joinpath(@__DIR__, "..", "..", "julia", "worker.jl"))

module FakeWorker

import ..KeplerSR
import ..KeplerSRWorker
using ..KeplerSR: Dataset, Options, read_frame, write_frame

"""The key of the fit options that holds the fake search's spec."""
const SPEC_KEY = "fake_search"

"""Spec of the fit being served (fits are served one at a time)."""
const CURRENT_SPEC = Ref{Dict{String,Any}}(Dict{String,Any}())

"""
Copy the frames of `input` to `output`, taking the spec out of each fit's
options (into `CURRENT_SPEC`); closes `output` at the end of `input`.
"""
function strip_specs(input::IO, output::IO)
    try
        while true
            fr = read_frame(input)
            fr === nothing && break
            msg, payload = fr
            opts = get(msg, "options", nothing)
            if msg["type"] == "fit" && opts isa Dict{String,Any}
                opts = copy(opts)
                spec = pop!(opts, SPEC_KEY, Dict{String,Any}())
                CURRENT_SPEC[] = spec isa Dict{String,Any} ? spec : Dict{String,Any}()
                msg["options"] = opts
            end
            write_frame(output, msg, payload)
        end
    catch err
        println(stderr, "fake worker: ", sprint(showerror, err))
    finally
        close(output)
    end
end

"""What the fake search reports: protocol records, ready made."""
struct FakeFront
    records::Vector{Dict{String,Any}}
end

struct FakeProgress
    fields::Dict{String,Any}
    front::FakeFront
end

struct FakeResult
    front::FakeFront
    stop_reason::String
    iterations::Int
    evals::Int
    elapsed::Float64
end

# the worker turns what the search reports into messages through these
function KeplerSR.progress_message(p::FakeProgress, data::Dataset, opts::Options)
    m = copy(p.fields)
    m["records"] = p.front.records
    return m
end

function KeplerSR.result_message(r::FakeResult, data::Dataset, opts::Options)
    return Dict{String,Any}("records" => r.front.records, "stop_reason" => r.stop_reason,
        "iterations" => r.iterations, "evals" => r.evals, "elapsed" => r.elapsed)
end

function fake_records(spec::AbstractDict, data::Dataset, k::Int)::FakeFront
    nconst = min(Int(get(spec, "nconst", 3)), data.n)
    extra = get(spec, "constants", nothing)
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
    return FakeFront(recs)
end

"""
The fake search: behaves like `KeplerSR.run_search` (progress reports,
`should_stop` polling, a result) without searching, as `CURRENT_SPEC` says.
"""
function fake_search(data::Dataset, opts::Options; on_progress::Function=p -> nothing,
                     should_stop::Function=() -> false, kwargs...)
    spec = CURRENT_SPEC[]
    nprog = Int(get(spec, "nprogress", 3))
    interval = Float64(get(spec, "interval", 0.02))
    ignore_stop = get(spec, "ignore_stop", false) === true
    t0 = time()
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
        on_progress(FakeProgress(Dict{String,Any}("iteration" => it, "niterations" => nprog,
            "evals" => 100 * it, "evals_per_second" => 100 * it / (time() - t0),
            "elapsed" => time() - t0, "best_loss" => 1.0 / it), fake_records(spec, data, it)))
        if it == 1
            haskey(spec, "throw") && error(string(spec["throw"]))
            sleep(Float64(get(spec, "hang", 0.0)))
        end
    end
    return FakeResult(fake_records(spec, data, done), stop, done, 100 * done, time() - t0)
end

"""Serve stdin like the real worker, with the fake search."""
function main()
    requests = Base.BufferStream()
    @async strip_specs(stdin, requests)
    KeplerSRWorker.main(search=fake_search, input=requests)
end

end # module FakeWorker

FakeWorker.main()
