# Protocol between the Python package and the Julia worker: frame encoding,
# raw float64 arrays, the options message -> `Options` conversion and the
# fit message -> `Dataset` conversion. See docs/PROTOCOL.md.
#
# Frame layout (both directions, all integers little-endian):
#   bytes 0-3    magic "KSR1"
#   bytes 4-7    UInt32 J: length of the JSON header
#   bytes 8-15   UInt64 B: length of the binary payload
#   J bytes      UTF-8 JSON object with at least "type"
#   B bytes      payload: the arrays listed in header["arrays"], concatenated

"""Version of the framing and message set; sent in `hello` and `pong`."""
const PROTOCOL_VERSION = 1

const FRAME_MAGIC = UInt8['K', 'S', 'R', '1']

"""Error for a malformed frame or message (desynchronised stream, bad arrays)."""
struct ProtocolError <: Exception
    msg::String
end
Base.showerror(io::IO, e::ProtocolError) = print(io, "ProtocolError: ", e.msg)

"""
    write_frame(io, msg::AbstractDict, payload=UInt8[])

Write one frame and flush. The caller serialises concurrent writers.
"""
function write_frame(io::IO, msg::AbstractDict, payload::AbstractVector{UInt8}=UInt8[])
    header = Vector{UInt8}(codeunits(json_string(msg)))
    buf = IOBuffer()
    write(buf, FRAME_MAGIC)
    write(buf, htol(UInt32(length(header))))
    write(buf, htol(UInt64(length(payload))))
    write(buf, header)
    isempty(payload) || write(buf, payload)
    write(io, take!(buf))
    flush(io)
    return nothing
end

function _read_exactly(io::IO, n::Integer)
    n == 0 && return UInt8[]
    b = read(io, n)
    length(b) == n && return b
    isempty(b) && return nothing
    throw(ProtocolError("stream ended inside a frame ($(length(b)) of $n bytes)"))
end

"""
    read_frame(io) -> (msg::Dict{String,Any}, payload::Vector{UInt8}) or `nothing` at EOF

Read one frame. A bad magic or a header that is not a JSON object with a
string "type" raises `ProtocolError`.
"""
function read_frame(io::IO)
    pre = _read_exactly(io, 16)
    pre === nothing && return nothing
    pre[1:4] == FRAME_MAGIC || throw(ProtocolError("bad frame magic $(repr(String(copy(pre[1:4]))))"))
    jlen = ltoh(reinterpret(UInt32, pre[5:8])[1])
    blen = ltoh(reinterpret(UInt64, pre[9:16])[1])
    header = _read_exactly(io, jlen)
    header === nothing && throw(ProtocolError("stream ended before the frame header"))
    payload = _read_exactly(io, blen)
    payload === nothing && throw(ProtocolError("stream ended before the frame payload"))
    msg = json_parse(header)
    msg isa Dict{String,Any} || throw(ProtocolError("frame header is not a JSON object"))
    get(msg, "type", nothing) isa String || throw(ProtocolError("frame header has no string \"type\""))
    return msg, payload
end

"""
    decode_arrays(msg, payload) -> Dict{String,Array{Float64}}

Split `payload` into the float64 arrays described by `msg["arrays"]`
(a list of `{"name", "dtype": "float64", "shape": [...]}`, in payload order).
Two-dimensional arrays are column-major (Fortran order), as Julia stores them.
"""
function decode_arrays(msg::AbstractDict, payload::Vector{UInt8})
    specs = get(msg, "arrays", Any[])
    specs isa Vector || throw(ProtocolError("\"arrays\" must be a list"))
    out = Dict{String,Array{Float64}}()
    pos = 0
    for s in specs
        s isa Dict{String,Any} || throw(ProtocolError("array spec must be an object"))
        name = get(s, "name", nothing)
        name isa String || throw(ProtocolError("array spec without a name"))
        get(s, "dtype", "float64") == "float64" ||
            throw(ProtocolError("array $(name): only dtype float64 is supported"))
        shape = get(s, "shape", nothing)
        (shape isa Vector && all(x -> x isa Int64 && x >= 0, shape) && 1 <= length(shape) <= 2) ||
            throw(ProtocolError("array $(name): shape must be a list of 1 or 2 non-negative integers"))
        count = prod(Int.(shape))
        nbytes = 8 * count
        pos + nbytes <= length(payload) ||
            throw(ProtocolError("array $(name): payload too short ($(length(payload)) bytes)"))
        v = Vector{Float64}(undef, count)
        if count > 0
            raw = reinterpret(Float64, view(payload, pos+1:pos+nbytes))
            @inbounds for i in 1:count
                v[i] = ltoh(raw[i])
            end
        end
        pos += nbytes
        out[name] = length(shape) == 1 ? v : reshape(v, shape[1], shape[2])
    end
    pos == length(payload) ||
        throw(ProtocolError("payload has $(length(payload) - pos) bytes not described by \"arrays\""))
    return out
end

"""Encode float64 vectors as a payload plus their `"arrays"` specs (used by tests and tools)."""
function encode_arrays(pairs::Vector{<:Pair})
    specs = Any[]
    buf = IOBuffer()
    for (name, a) in pairs
        A = Array{Float64}(a)
        push!(specs, Dict{String,Any}("name" => String(name), "dtype" => "float64",
                                      "shape" => collect(size(A))))
        for x in A
            write(buf, htol(x))
        end
    end
    return specs, take!(buf)
end

# ---------------------------------------------------------------- options

const _OPTION_KEYS_SPECIAL = ("binary_operators", "unary_operators", "extra_operator_sources",
    "elementwise_loss_source", "loss", "mutation_weights", "bin_constraints",
    "una_constraints", "nested_constraints",
    # units: read by dimension_spec_from_dict (dimensions.jl) into Options.dims
    "X_units", "y_units", "dimensional_constraint_penalty", "dimensionless_constants_only")
# Fields that are never set directly from the message.
const _OPTION_FIELDS_INTERNAL = (:ops, :custom_loss)

function _string_list(d::AbstractDict, key::String, default::Vector{String})
    haskey(d, key) || return copy(default)
    v = d[key]
    v === nothing && return copy(default)
    (v isa Vector && all(x -> x isa String, v)) ||
        throw(ArgumentError("option $(key) must be a list of strings, got $(repr(v))"))
    return String[x for x in v]
end

function _as_int(key::String, v)
    if v isa Bool
        throw(ArgumentError("option $(key) must be an integer, got $(v)"))
    elseif v isa Integer
        return Int(v)
    elseif v isa AbstractFloat && isfinite(v) && isinteger(v)
        return Int(v)
    end
    throw(ArgumentError("option $(key) must be an integer, got $(repr(v))"))
end

function _as_float(key::String, v)
    v === nothing && return NaN       # null = "not set" for float knobs (e.g. early_stop_condition)
    (v isa Real && !(v isa Bool)) && return Float64(v)
    throw(ArgumentError("option $(key) must be a number, got $(repr(v))"))
end

function _as_bool(key::String, v)
    v isa Bool && return v
    throw(ArgumentError("option $(key) must be true or false, got $(repr(v))"))
end

"""Convert one JSON value to the type of `Options` field `key` (clear errors)."""
function _convert_option(key::String, T::Type, v)
    if T === Int
        return _as_int(key, v)
    elseif T === Float64
        return _as_float(key, v)
    elseif T === Bool
        return _as_bool(key, v)
    elseif T === Symbol
        v isa String || throw(ArgumentError("option $(key) must be a string, got $(repr(v))"))
        return Symbol(v)
    elseif T === Vector{Int}
        v isa Vector || throw(ArgumentError("option $(key) must be a list of integers, got $(repr(v))"))
        return Int[_as_int(key, x) for x in v]
    elseif T === Vector{Float64}
        v isa Vector || throw(ArgumentError("option $(key) must be a list of numbers, got $(repr(v))"))
        return Float64[_as_float(key, x) for x in v]
    end
    throw(ArgumentError("option $(key) (of type $(T)) cannot be set from the protocol"))
end

function _op_index(key::String, kind::Int, op, ops::OperatorSet)
    names = kind == 2 ? ops.binnames : ops.unanames
    if op isa String
        i = findfirst(==(op), names)
        i === nothing && throw(ArgumentError(
            "option $(key): $(kind == 2 ? "binary" : "unary") operator $(repr(op)) is not in the operator set"))
        return i
    end
    i = _as_int(key, op)
    1 <= i <= length(names) || throw(ArgumentError(
        "option $(key): operator index $(i) out of range 1:$(length(names))"))
    return i
end

function _kind(key::String, k)
    k == "unary" && return 1
    k == "binary" && return 2
    i = k isa String ? 0 : _as_int(key, k)
    (i == 1 || i == 2) || throw(ArgumentError(
        "option $(key): operator kind must be \"unary\"/1 or \"binary\"/2, got $(repr(k))"))
    return i
end

"""
    options_from_dict(d, nfeatures) -> Options

Build the search `Options` from the options message sent by Python.
Special keys: "binary_operators" / "unary_operators" (operator names,
default `["+","-","*","/"]` / none), "extra_operator_sources" (Julia source
of user operators), "elementwise_loss_source" (Julia source of a custom
elementwise loss; implies loss "custom"), "loss" ("L2", "L1", "Huber",
"custom"), "mutation_weights" (name => weight, merged over the defaults),
"bin_constraints" (one `[left, right]` per binary operator, -1 or null =
unlimited), "una_constraints" (one max per unary operator),
"nested_constraints" (`[outer_kind, outer_op, inner_kind, inner_op, max]`,
kind "unary"/"binary" or 1/2, op a name or 1-based index), "X_units",
"y_units", "dimensional_constraint_penalty", "dimensionless_constants_only"
(dimensional analysis: see `dimension_spec_from_dict`; sets `dims`). Every other key
must be an `Options` field name; values are converted to the field type
(null for a float field means NaN). Unknown keys raise an `ArgumentError`
naming them.
"""
function options_from_dict(d::AbstractDict, nfeatures::Int)::Options
    nfeatures >= 1 || throw(ArgumentError("nfeatures must be >= 1, got $(nfeatures)"))
    binary = _string_list(d, "binary_operators", ["+", "-", "*", "/"])
    unary = _string_list(d, "unary_operators", String[])
    sources = _string_list(d, "extra_operator_sources", String[])
    ops = build_operator_set(binary, unary, sources)

    kw = Dict{Symbol,Any}()
    for (k, v) in d
        k in _OPTION_KEYS_SPECIAL && continue
        s = Symbol(k)
        (hasfield(Options, s) && !(s in _OPTION_FIELDS_INTERNAL) && s !== :mutation_weights &&
         s !== :bin_constraints && s !== :una_constraints && s !== :nested_constraints) ||
            throw(ArgumentError("unknown option $(repr(k))"))
        kw[s] = _convert_option(k, fieldtype(Options, s), v)
    end
    for key in ("complexity_of_binops", "complexity_of_unaops")
        s = Symbol(key)
        haskey(kw, s) || continue
        n = key == "complexity_of_binops" ? length(ops.binops) : length(ops.unaops)
        length(kw[s]) == n || throw(ArgumentError(
            "option $(key) must have one entry per operator ($(n)), got $(length(kw[s]))"))
    end

    # loss
    lossname = get(d, "loss", nothing)
    losssrc = get(d, "elementwise_loss_source", nothing)
    if losssrc !== nothing
        losssrc isa String || throw(ArgumentError("option elementwise_loss_source must be a string"))
        (lossname === nothing || lossname == "custom") || throw(ArgumentError(
            "option elementwise_loss_source given together with loss $(repr(lossname))"))
        kw[:custom_loss] = compile_custom_loss(losssrc)
        kw[:loss] = :custom
    elseif lossname !== nothing
        lossname in ("L2", "L1", "Huber") || throw(ArgumentError(lossname == "custom" ?
            "loss \"custom\" needs elementwise_loss_source" :
            "option loss must be \"L2\", \"L1\", \"Huber\" or \"custom\", got $(repr(lossname))"))
        kw[:loss] = Symbol(lossname)
    end

    # mutation weights merged over the defaults
    if haskey(d, "mutation_weights") && d["mutation_weights"] !== nothing
        mw = d["mutation_weights"]
        mw isa AbstractDict || throw(ArgumentError("option mutation_weights must be an object name => weight"))
        w = Dict{Symbol,Float64}(DEFAULT_MUTATION_WEIGHTS)
        for (name, val) in mw
            s = Symbol(name)
            s in MUTATION_KINDS || throw(ArgumentError(
                "unknown mutation kind $(repr(name)); known: $(join(String.(collect(MUTATION_KINDS)), ", "))"))
            w[s] = _as_float("mutation_weights.$(name)", val)
        end
        kw[:mutation_weights] = Float64[w[k] for k in MUTATION_KINDS]
    end

    # constraints
    if haskey(d, "bin_constraints") && d["bin_constraints"] !== nothing
        bc = d["bin_constraints"]
        (bc isa Vector && length(bc) == length(ops.binops)) || throw(ArgumentError(
            "option bin_constraints must be a list with one [left, right] per binary operator ($(length(ops.binops)))"))
        kw[:bin_constraints] = map(bc) do pair
            (pair isa Vector && length(pair) == 2) ||
                throw(ArgumentError("option bin_constraints: each entry must be [left, right], got $(repr(pair))"))
            (pair[1] === nothing ? -1 : _as_int("bin_constraints", pair[1]),
             pair[2] === nothing ? -1 : _as_int("bin_constraints", pair[2]))
        end
    end
    if haskey(d, "una_constraints") && d["una_constraints"] !== nothing
        uc = d["una_constraints"]
        (uc isa Vector && length(uc) == length(ops.unaops)) || throw(ArgumentError(
            "option una_constraints must be a list with one entry per unary operator ($(length(ops.unaops)))"))
        kw[:una_constraints] = Int[x === nothing ? -1 : _as_int("una_constraints", x) for x in uc]
    end
    if haskey(d, "nested_constraints") && d["nested_constraints"] !== nothing
        nc = d["nested_constraints"]
        nc isa Vector || throw(ArgumentError("option nested_constraints must be a list"))
        kw[:nested_constraints] = map(nc) do e
            (e isa Vector && length(e) == 5) || throw(ArgumentError(
                "option nested_constraints: each entry must be [outer_kind, outer_op, inner_kind, inner_op, max], got $(repr(e))"))
            ok = _kind("nested_constraints", e[1]); ik = _kind("nested_constraints", e[3])
            (ok, _op_index("nested_constraints", ok, e[2], ops),
             ik, _op_index("nested_constraints", ik, e[4], ops),
             _as_int("nested_constraints", e[5]))
        end
    end
    if any(k -> haskey(d, k), ("X_units", "y_units", "dimensional_constraint_penalty",
                                "dimensionless_constants_only"))
        dims = dimension_spec_from_dict(d, nfeatures, ops)
        dims === nothing || (kw[:dims] = dims)
    end
    return Options(ops, kw)
end

# ---------------------------------------------------------------- data

"""
    dataset_from_fit(msg, payload) -> Dataset

Build the `Dataset` of a `fit` message: arrays "X" (nrows x nfeatures,
column-major), "y" (nrows) and optional "weights" (nrows), plus
"variable_names".
"""
function dataset_from_fit(msg::AbstractDict, payload::Vector{UInt8})
    arrays = decode_arrays(msg, payload)
    haskey(arrays, "X") || throw(ProtocolError("fit message without array X"))
    haskey(arrays, "y") || throw(ProtocolError("fit message without array y"))
    X = arrays["X"]
    X isa Matrix{Float64} || throw(ProtocolError("X must be two-dimensional"))
    y = arrays["y"]
    y isa Vector{Float64} || throw(ProtocolError("y must be one-dimensional"))
    w = get(arrays, "weights", Float64[])
    w isa Vector{Float64} || throw(ProtocolError("weights must be one-dimensional"))
    names = _string_list(msg, "variable_names", String[])
    return Dataset(X, y, w; varnames=names)
end
