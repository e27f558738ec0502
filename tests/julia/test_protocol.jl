# Unit tests of the JSON reader/writer, the frame codec and the options
# conversion. Run: julia --startup-file=no tests/julia/test_protocol.jl

using Test
using Random

isdefined(Main, :KeplerSR) || Base.include(Main, joinpath(@__DIR__, "..", "..", "julia", "KeplerSR.jl"))
using Main.KeplerSR
const K = Main.KeplerSR

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
    @test o.constraints.maxsize == 25 && o.selection.parsimony == 0.01 &&
          o.selection.annealing === false && o.objective.loss === :L1
    @test isnan(o.control.early_stop_condition) && o.control.timeout_in_seconds === 3.0
    iadd = findfirst(==(:add_node), collect(K.MUTATION_KINDS))
    iopt = findfirst(==(:optimize), collect(K.MUTATION_KINDS))
    idel = findfirst(==(:delete_node), collect(K.MUTATION_KINDS))
    w = K.weight_vector(o.mutation_weights)
    @test w[iadd] == 2.0 && w[iopt] == 0.5
    @test o.mutation_weights.add_node == 2.0 && o.mutation_weights.optimize == 0.5
    @test o.mutation_weights.delete_node == K.MutationWeights().delete_node
    @test o.constraints.bin_constraints == [(-1, -1), (3, -1), (1, 1)]
    @test o.constraints.una_constraints == [4, -1]
    @test o.constraints.nested_constraints == [(1, 1, 1, 1, 0), (2, 3, 1, 2, 1)]
    @test o.complexity.complexity_of_unaops == [2, 3]
    @test o.complexity.complexity_of_binops == [1, 1, 1]

    custom = K.options_from_dict(Dict{String,Any}("elementwise_loss_source" => "(p, t) -> abs(p - t)^3"), 1)
    @test custom.objective.loss === :custom && Base.invokelatest(custom.objective.custom_loss, 1.0, 3.0) == 8.0
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

"Are two option groups equal field by field (NaN equal to NaN)?"
same_group(a, b) = all(isequal(getfield(a, k), getfield(b, k)) for k in fieldnames(typeof(a)))

@testset "Options: flat names routed to their groups" begin
    ops = K.build_operator_set(["+", "*"], ["cos"])
    o = K.Options(ops; maxsize=9, optimizer_iterations=3, timeout_in_seconds=2, topn=4, alpha=0.2,
                  enumerate_max_complexity=0, seed=5, loss=:Huber, huber_delta=0.5, linear_scaling=true,
                  complexity_of_binops=[1, 2], mutation_weights=Dict(:add_node => 1.5))
    @test o.constraints.maxsize == 9 && o.constraints.maxdepth == 9          # maxdepth 0 -> maxsize
    @test o.constant_fitting.optimizer_iterations == 3 && o.control.timeout_in_seconds === 2.0
    @test o.migration.topn == 4 && o.selection.alpha == 0.2 && o.control.seed == 5
    @test o.enumeration.enumerate_max_complexity == 0
    @test o.objective.loss === :Huber && o.objective.huber_delta == 0.5 && o.linear_scaling
    @test o.complexity.complexity_of_binops == [1, 2] && o.complexity.complexity_of_unaops == [1]
    @test o.constraints.bin_constraints == [(-1, -1), (-1, -1)] && o.constraints.una_constraints == [-1]
    @test o.mutation_weights.add_node == 1.5 && o.mutation_weights.insert_node == K.MutationWeights().insert_node
    @test K.Options(ops, Dict{Symbol,Any}(:maxsize => 9)).constraints.maxsize == 9
    for f in (:verbosity, :skip_mutation_failures, :bogus)
        @test_throws ArgumentError K.Options(ops, Dict{Symbol,Any}(f => 1))
    end
    @test length(K.MUTATION_KINDS) == 11 && K.MUTATION_KINDS[1] === :mutate_constant
    @test_throws ArgumentError K.Options(ops; mutation_weights=ones(3))
    # every flat name has a group, a type and a default
    for name in K.flat_option_names()
        @test K.option_group(name) !== nothing
        K.option_type(name); K.option_default(name, ops)
    end
end

@testset "option_defaults" begin
    d = K.option_defaults()
    @test d["maxsize"] == 20 && d["maxdepth"] == 0 && d["optimizer_iterations"] == 8
    @test d["loss"] == "L2" && d["huber_delta"] == 1.0 && d["linear_scaling"] === false
    @test d["early_stop_condition"] === nothing                           # unset float: null
    @test d["complexity_of_binops"] === nothing && d["complexity_of_unaops"] === nothing
    @test d["enumerate_max_complexity"] == 7 && d["enumerate_max_candidates"] == 50000
    @test d["enumerate_time_budget"] == 5.0 && d["timeout_in_seconds"] == 0.0 && d["max_evals"] == 0
    for k in ("verbosity", "skip_mutation_failures", "dims", "custom_loss", "ops", "mutation_weights",
              "bin_constraints", "una_constraints", "nested_constraints")
        @test !haskey(d, k)
    end
    @test Set(keys(d)) == Set(String(n) for n in K.flat_option_names()
                              if !(n in (:custom_loss, :dims, :mutation_weights, :bin_constraints,
                                         :una_constraints, :nested_constraints)))
    # JSON-able, and itself an options message that gives the defaults
    o = K.options_from_dict(K.json_parse(K.json_string(d)), 3)
    ref = K.Options(o.ops)
    for f in fieldnames(K.Options)
        f === :ops && continue
        a = getfield(o, f); b = getfield(ref, f)
        @test (a isa Bool || a === nothing) ? a === b : same_group(a, b)
    end
    @test K.builtin_operator_names().binary == sort(collect(keys(K.BUILTIN_BINARY)))
    @test "sin" in K.builtin_operator_names().unary
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
