# Unit tests of the JSON reader/writer, the frame codec and the options
# conversion. Run: julia --startup-file=no julia/test/test_protocol.jl

using Test
using Random

include(joinpath(@__DIR__, "..", "KeplerSR.jl"))
using .KeplerSR
const K = KeplerSR

@testset "JSON reader" begin
    @test K.json_parse("null") === nothing
    @test K.json_parse(" true ") === true
    @test K.json_parse("false") === false
    @test K.json_parse("0") === 0
    @test K.json_parse("-17") === -17
    @test K.json_parse("9223372036854775807") === typemax(Int64)
    @test K.json_parse("92233720368547758070") === 9.223372036854776e19   # too big for Int64
    @test K.json_parse("1.5") === 1.5
    @test K.json_parse("-2.5E-3") === -0.0025
    @test K.json_parse("1e2") === 100.0
    @test K.json_parse("-0.0") === -0.0
    @test K.json_parse("NaN") isa Float64 && isnan(K.json_parse("NaN"))
    @test K.json_parse("Infinity") === Inf
    @test K.json_parse("-Infinity") === -Inf
    @test K.json_parse("\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"") == "a\"b\\c/d\n\t\r\b\f"
    @test K.json_parse("\"\\u00e9\\u4e2d\"") == "é中"
    @test K.json_parse("\"\\ud83d\\ude00\"") == "😀"              # surrogate pair
    @test K.json_parse("\"héllo ✓\"") == "héllo ✓"                 # raw UTF-8
    v = K.json_parse("[1, [2, {\"k\": [ ]}], {}, \"s\"]")
    @test v == Any[1, Any[2, Dict{String,Any}("k" => Any[])], Dict{String,Any}(), "s"]
    d = K.json_parse("{\"a\": {\"b\": null}, \"c\": [true, 1.25]}")
    @test d isa Dict{String,Any}
    @test d["a"]["b"] === nothing && d["c"] == Any[true, 1.25]
    for bad in ("", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", ".5", "-", "tru", "\"abc",
                "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\nb\"", "[1] 2", "{1: 2}", "+1", "1e")
        @test_throws K.JSONParseError K.json_parse(bad)
    end
    err = try K.json_parse("[1, ?]") catch e e end
    @test err isa K.JSONParseError && err.pos == 5
end

@testset "JSON writer" begin
    @test K.json_string(nothing) == "null"
    @test K.json_string(true) == "true"
    @test K.json_string(Int32(-3)) == "-3"
    @test K.json_string(0.1) == "0.1"
    @test K.json_string(NaN) == "NaN"
    @test K.json_string(-Inf) == "-Infinity"
    @test K.json_string("q\"\\\n\u01\u7f") == "\"q\\\"\\\\\\n\\u0001\\u007f\""
    @test K.json_string(:sym) == "\"sym\""
    @test K.json_string([1, 2.5, "x"]) == "[1,2.5,\"x\"]"
    @test K.json_string((1, nothing)) == "[1,null]"
    @test K.json_string(Dict("k" => Int32[1, 2])) == "{\"k\":[1,2]}"
    @test_throws ArgumentError K.json_string(1 + 2im)
    # round trip, including bit-exact floats
    vals = [0.1 + 0.2, 1 / 3, pi, -0.0, 5.0e-324, 2.2250738585072014e-308, floatmax(Float64),
            -1.0e-300, 1.0e16, 1.0e-7, 2.0^60, 123456789.12345679]
    back = K.json_parse(K.json_string(vals))
    @test all(reinterpret(UInt64, Float64(b)) == reinterpret(UInt64, v) for (b, v) in zip(back, vals))
    rng = MersenneTwister(1)
    xs = [randn(rng) * 10.0^rand(rng, -300:300) for _ in 1:2000]
    @test all(reinterpret(UInt64, Float64(K.json_parse(K.json_string(x)))) == reinterpret(UInt64, x) for x in xs)
    obj = Dict{String,Any}("s" => "é\t😀\u2028", "n" => Any[nothing, true, -5, 1.5e300],
                           "nested" => Dict{String,Any}("e" => Any[]))
    @test K.json_parse(K.json_string(obj)) == obj
end

@testset "frames" begin
    io = IOBuffer()
    specs, payload = K.encode_arrays(["X" => [1.0 2.0; 3.0 4.0; 5.0 6.0], "y" => [0.5, -0.5, 1e-300]])
    K.write_frame(io, Dict{String,Any}("type" => "fit", "id" => "7", "arrays" => specs), payload)
    K.write_frame(io, Dict{String,Any}("type" => "ping"))
    seekstart(io)
    msg, pl = K.read_frame(io)
    @test msg["type"] == "fit" && msg["id"] == "7"
    arrays = K.decode_arrays(msg, pl)
    @test arrays["X"] == [1.0 2.0; 3.0 4.0; 5.0 6.0] && size(arrays["X"]) == (3, 2)
    @test arrays["y"] == [0.5, -0.5, 1e-300]
    msg2, pl2 = K.read_frame(io)
    @test msg2["type"] == "ping" && isempty(pl2)
    @test K.read_frame(io) === nothing                               # clean EOF
    @test_throws K.ProtocolError K.read_frame(IOBuffer(vcat(Vector{UInt8}(b"XXXX"), zeros(UInt8, 12))))
    truncated = take!(let b = IOBuffer(); K.write_frame(b, Dict("type" => "ping")); b end)[1:end-2]
    @test_throws K.ProtocolError K.read_frame(IOBuffer(truncated))
    bad = Dict{String,Any}("arrays" => Any[Dict{String,Any}("name" => "y", "dtype" => "float64", "shape" => Any[3])])
    @test_throws K.ProtocolError K.decode_arrays(bad, zeros(UInt8, 16))  # too short
    @test_throws K.ProtocolError K.decode_arrays(bad, zeros(UInt8, 32))  # bytes left over
end

@testset "options_from_dict" begin
    d = K.json_parse("""{"binary_operators": ["+", "*", "pow2"], "unary_operators": ["cos", "inv2"],
        "extra_operator_sources": ["inv2(x) = 1/x^2", "pow2(x, y) = x^2 * y"],
        "maxsize": 25, "parsimony": 0.01, "annealing": false, "loss": "L1",
        "early_stop_condition": null, "timeout_in_seconds": 3,
        "mutation_weights": {"add_node": 2.0, "optimize": 0.5},
        "bin_constraints": [[-1, -1], [3, null], [1, 1]], "una_constraints": [4, -1],
        "nested_constraints": [["unary", "cos", "unary", "cos", 0], [2, 3, 1, 2, 1]],
        "complexity_of_unaops": [2, 3]}""")
    o = K.options_from_dict(d, 2)
    @test o.ops.binnames == ["+", "*", "pow2"] && o.ops.unanames == ["cos", "inv2"]
    @test Base.invokelatest(o.ops.unaops[2], 2.0) == 0.25
    @test o.maxsize == 25 && o.parsimony == 0.01 && o.annealing === false && o.loss === :L1
    @test isnan(o.early_stop_condition) && o.timeout_in_seconds === 3.0
    iadd = findfirst(==(:add_node), collect(K.MUTATION_KINDS))
    iopt = findfirst(==(:optimize), collect(K.MUTATION_KINDS))
    idel = findfirst(==(:delete_node), collect(K.MUTATION_KINDS))
    @test o.mutation_weights[iadd] == 2.0 && o.mutation_weights[iopt] == 0.5
    @test o.mutation_weights[idel] == K.DEFAULT_MUTATION_WEIGHTS[:delete_node]
    @test o.bin_constraints == [(-1, -1), (3, -1), (1, 1)]
    @test o.una_constraints == [4, -1]
    @test o.nested_constraints == [(1, 1, 1, 1, 0), (2, 3, 1, 2, 1)]
    @test o.complexity_of_unaops == [2, 3]

    custom = K.options_from_dict(Dict{String,Any}("elementwise_loss_source" => "(p, t) -> abs(p - t)^3"), 1)
    @test custom.loss === :custom && Base.invokelatest(custom.custom_loss, 1.0, 3.0) == 8.0
    defaults = K.options_from_dict(Dict{String,Any}(), 1)
    @test defaults.ops.binnames == ["+", "-", "*", "/"] && isempty(defaults.ops.unanames)

    errmsg(d) = try K.options_from_dict(d, 1); "" catch e; e isa ArgumentError ? e.msg : "not ArgumentError" end
    @test occursin("bogus_key", errmsg(Dict{String,Any}("bogus_key" => 1)))
    @test occursin("maxsize", errmsg(Dict{String,Any}("maxsize" => 2.5)))
    @test occursin("maxsize", errmsg(Dict{String,Any}("maxsize" => "big")))
    @test occursin("annealing", errmsg(Dict{String,Any}("annealing" => 1)))
    @test occursin("frobnicate", errmsg(Dict{String,Any}("mutation_weights" => Dict{String,Any}("frobnicate" => 1.0))))
    @test occursin("bin_constraints", errmsg(Dict{String,Any}("bin_constraints" => Any[Any[1, 1]])))
    @test occursin("sin", errmsg(Dict{String,Any}("nested_constraints" => Any[Any["unary", "sin", "unary", "sin", 0]])))
    @test occursin("loss", errmsg(Dict{String,Any}("loss" => "L7")))
    @test occursin("custom", errmsg(Dict{String,Any}("loss" => "custom")))
    @test occursin("ops", errmsg(Dict{String,Any}("ops" => 1)))
    @test_throws ArgumentError K.options_from_dict(Dict{String,Any}(), 0)
end

@testset "dataset_from_fit" begin
    X = [1.0 10.0; 2.0 20.0]
    specs, payload = K.encode_arrays(["X" => X, "y" => [3.0, 4.0], "weights" => [1.0, 2.0]])
    msg = Dict{String,Any}("type" => "fit", "arrays" => specs, "variable_names" => Any["a", "b"])
    data = K.dataset_from_fit(msg, payload)
    @test data.X == X && data.y == [3.0, 4.0] && data.w == [1.0, 2.0] && data.varnames == ["a", "b"]
    specs2, payload2 = K.encode_arrays(["X" => X])
    @test_throws K.ProtocolError K.dataset_from_fit(Dict{String,Any}("arrays" => specs2), payload2)
end
