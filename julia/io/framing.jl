# Framing of the protocol between the Python package and the Julia worker:
# frames (a JSON header plus a binary payload) and the raw float64 arrays of
# a payload. See docs/PROTOCOL.md.
#
# Frame layout (both directions, all integers little-endian):
#   bytes 0-3    magic "KSR1"
#   bytes 4-7    UInt32 J: length of the JSON header
#   bytes 8-15   UInt64 B: length of the binary payload
#   J bytes      UTF-8 JSON object with at least "type"
#   B bytes      payload: the arrays listed in header["arrays"], concatenated

"""Version of the framing and message set; sent in `hello`, `pong` and `description`."""
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
