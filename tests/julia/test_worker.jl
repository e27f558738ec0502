# Tests of the worker (julia/worker.jl) on in-memory streams: the `describe`
# request, a fit with the engine's search and a fit with a search given to
# `serve`. Run: julia --startup-file=no tests/julia/test_worker.jl
using Test

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
isdefined(Main, :KeplerSRWorker) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "worker.jl"))
using Main.KeplerSR
const K = Main.KeplerSR
const W = Main.KeplerSRWorker

frame(msg, payload=UInt8[]) = (io = IOBuffer(); K.write_frame(io, msg, payload); take!(io))

"""A worker serving on in-memory streams: (send request, next reply, finish -> exit code)."""
function start_worker(; search=nothing)
    input = Base.BufferStream()
    output = Base.BufferStream()
    worker = W.WorkerState(output)
    reader = @async W.reader_loop(worker, input)
    server = @async W.serve(worker; search=search)
    request(msg, payload=UInt8[]) = write(input, frame(msg, payload))
    reply() = K.read_frame(output)[1]
    function finish()
        request(Dict{String,Any}("type" => "shutdown", "id" => "end"))
        while reply()["type"] != "bye"; end
        close(input)
        wait(reader)
        return fetch(server)
    end
    @test reply()["type"] == "hello"
    return request, reply, finish
end

function fit_request(id, options; heartbeat_interval=0.5)
    X = [0.5 + 0.01 * i for i in 1:40, j in 1:2]
    X[:, 2] .= 1.0 .+ 0.02 .* (1:40)
    y = 2.0 .* X[:, 1] .* X[:, 2]
    specs, payload = K.encode_arrays(["X" => X, "y" => y])
    msg = Dict{String,Any}("type" => "fit", "id" => id, "options" => options,
        "variable_names" => Any["a", "b"], "heartbeat_interval" => heartbeat_interval, "arrays" => specs)
    return K.json_parse(K.json_string(msg)), payload
end

"""Replies to a fit up to its result (or error): (progress frames, final frame)."""
function fit_replies(reply)
    progress = Dict{String,Any}[]
    while true
        m = reply()
        m["type"] == "progress" && push!(progress, m)
        m["type"] in ("result", "error") && return progress, m
    end
end

@testset "describe" begin
    request, reply, finish = start_worker()
    request(Dict{String,Any}("type" => "describe", "id" => "d1"))
    m = reply()
    @test m["type"] == "description" && m["id"] == "d1"
    @test m["option_defaults"] == K.json_parse(K.json_string(K.option_defaults()))
    @test m["option_defaults"]["maxsize"] == 20 && m["option_defaults"]["early_stop_condition"] === nothing
    @test m["binary_operators"] == ["*", "+", "-", "/", "^"]
    @test "sin" in m["unary_operators"] && "neg" in m["unary_operators"]
    @test m["mutation_kinds"] == String[String(k) for k in K.MUTATION_KINDS]
    @test m["losses"] == ["L2", "L1", "Huber"]
    @test m["protocol_version"] == K.PROTOCOL_VERSION
    @test finish() == 0
end

const SMALL = Dict{String,Any}("niterations" => 2, "populations" => 2, "population_size" => 20,
    "ncycles_per_iteration" => 20, "tournament_selection_n" => 5, "seed" => 3,
    "deterministic" => true, "progress_interval" => 0.0, "enumerate_max_complexity" => 3)

@testset "fit with the engine's search" begin
    request, reply, finish = start_worker()
    request(fit_request("f1", SMALL)...)
    progress, res = fit_replies(reply)
    @test res["type"] == "result" && res["id"] == "f1"
    @test Set(keys(res)) == Set(["type", "id", "records", "stop_reason", "interrupted", "iterations",
                                 "evals", "elapsed"])
    @test res["stop_reason"] == "niterations" && res["iterations"] == 2 && !res["interrupted"]
    @test [p["iteration"] for p in progress] == [0, 1, 2, 2]
    @test Set(keys(progress[end])) == Set(["type", "id", "iteration", "niterations", "evals",
        "evals_per_second", "elapsed", "best_loss", "records", "status"])
    for r in res["records"]
        @test Set(keys(r)) == Set(["complexity", "loss", "score", "equation", "codes", "constants",
                                   "constants_stderr"])
    end
    @test length(res["records"]) == length(progress[end]["records"]) >= 1
    request(fit_request("f2", Dict{String,Any}("bogus_option" => 1))...)
    _, err = fit_replies(reply)
    @test err["type"] == "error" && err["error_type"] == "ArgumentError" && occursin("bogus_option", err["message"])
    @test finish() == 0
end

@testset "fit with a search given to serve" begin
    calls = Ref(0)
    function search(data, opts; on_progress, should_stop, kwargs...)
        calls[] += 1
        return K.run_search(data, opts; on_progress=on_progress, should_stop=should_stop, kwargs...)
    end
    request, reply, finish = start_worker(search=search)
    request(fit_request("s1", SMALL)...)
    _, res = fit_replies(reply)
    @test res["type"] == "result" && res["iterations"] == 2 && calls[] == 1
    @test finish() == 0
end

@testset "the heartbeat beats until the search ends, never after its reply" begin
    for fails in (false, true)
        function search(data, opts; on_progress, kwargs...)
            sleep(0.25)   # yields, without progress: the heartbeat (every 0.05 s) beats
            fails && error("search failed")
            return K.run_search(data, opts; on_progress=p -> nothing, kwargs...)
        end
        request, reply, finish = start_worker(search=search)
        request(fit_request("h1", SMALL; heartbeat_interval=0.05)...)
        frames = Dict{String,Any}[]
        while isempty(frames) || !(frames[end]["type"] in ("result", "error"))
            push!(frames, reply())
        end
        @test frames[end]["type"] == (fails ? "error" : "result")
        beats = filter(m -> m["type"] == "heartbeat", frames)
        @test length(beats) >= 1 && all(m -> m["id"] == "h1" && m["stage"] == "starting", beats)
        @test length(frames) == length(beats) + 1
        sleep(0.2)    # a heartbeat left running would send frames now
        request(Dict{String,Any}("type" => "describe", "id" => "d2"))
        @test reply()["type"] == "description"
        @test finish() == 0
    end
end
