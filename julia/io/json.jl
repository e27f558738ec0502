# JSON: a small, strict reader and writer for the Python <-> Julia protocol
# (the Julia standard library has none).
#
# Mapping (reader):  object -> Dict{String,Any}, array -> Vector{Any},
#   string -> String, integer literal -> Int64 (Float64 if it does not fit),
#   other number -> Float64, true/false -> Bool, null -> nothing.
# Non-finite floats use the same extension as Python's `json` module:
#   the bare tokens NaN, Infinity and -Infinity (read and written).
# Floats are written with Julia's shortest round-trip representation, so
# a Float64 survives Julia -> text -> Python `float` bit for bit.

"""Error raised for malformed JSON text; `pos` is the 1-based byte offset."""
struct JSONParseError <: Exception
    msg::String
    pos::Int
end
Base.showerror(io::IO, e::JSONParseError) = print(io, "JSON parse error at byte ", e.pos, ": ", e.msg)

mutable struct _JSONReader
    s::Vector{UInt8}
    i::Int
end

@inline _jeof(r::_JSONReader) = r.i > length(r.s)
@inline _jpeek(r::_JSONReader) = r.s[r.i]
_jfail(r::_JSONReader, msg::AbstractString) = throw(JSONParseError(String(msg), r.i))

function _jskipws(r::_JSONReader)
    while !_jeof(r)
        c = _jpeek(r)
        (c == UInt8(' ') || c == UInt8('\t') || c == UInt8('\n') || c == UInt8('\r')) || break
        r.i += 1
    end
end

function _jexpect_word(r::_JSONReader, word::String, value)
    n = ncodeunits(word)
    if r.i + n - 1 <= length(r.s) && view(r.s, r.i:r.i+n-1) == codeunits(word)
        r.i += n
        return value
    end
    _jfail(r, "invalid literal (expected $(word))")
end

"""
    json_parse(text) -> Any

Parse one JSON value from `text` (String or bytes). Trailing non-space
characters are an error.
"""
function json_parse(text::Union{AbstractString,AbstractVector{UInt8}})
    bytes = text isa AbstractString ? Vector{UInt8}(codeunits(String(text))) : Vector{UInt8}(text)
    r = _JSONReader(bytes, 1)
    _jskipws(r)
    v = _jvalue(r, 0)
    _jskipws(r)
    _jeof(r) || _jfail(r, "trailing characters after the JSON value")
    return v
end

const _JSON_MAX_DEPTH = 512

function _jvalue(r::_JSONReader, depth::Int)
    depth > _JSON_MAX_DEPTH && _jfail(r, "nesting deeper than $(_JSON_MAX_DEPTH)")
    _jeof(r) && _jfail(r, "unexpected end of input")
    c = _jpeek(r)
    if c == UInt8('{')
        return _jobject(r, depth)
    elseif c == UInt8('[')
        return _jarray(r, depth)
    elseif c == UInt8('"')
        return _jstring(r)
    elseif c == UInt8('t')
        return _jexpect_word(r, "true", true)
    elseif c == UInt8('f')
        return _jexpect_word(r, "false", false)
    elseif c == UInt8('n')
        return _jexpect_word(r, "null", nothing)
    elseif c == UInt8('N')
        return _jexpect_word(r, "NaN", NaN)
    elseif c == UInt8('I')
        return _jexpect_word(r, "Infinity", Inf)
    elseif c == UInt8('-') || (UInt8('0') <= c <= UInt8('9'))
        return _jnumber(r)
    end
    _jfail(r, "unexpected character $(repr(Char(c)))")
end

function _jobject(r::_JSONReader, depth::Int)
    r.i += 1  # '{'
    d = Dict{String,Any}()
    _jskipws(r)
    if !_jeof(r) && _jpeek(r) == UInt8('}')
        r.i += 1
        return d
    end
    while true
        _jskipws(r)
        (_jeof(r) || _jpeek(r) != UInt8('"')) && _jfail(r, "expected a string key")
        k = _jstring(r)
        _jskipws(r)
        (_jeof(r) || _jpeek(r) != UInt8(':')) && _jfail(r, "expected ':' after object key")
        r.i += 1
        _jskipws(r)
        d[k] = _jvalue(r, depth + 1)
        _jskipws(r)
        _jeof(r) && _jfail(r, "unterminated object")
        c = _jpeek(r)
        r.i += 1
        c == UInt8('}') && return d
        c == UInt8(',') || (r.i -= 1; _jfail(r, "expected ',' or '}' in object"))
    end
end

function _jarray(r::_JSONReader, depth::Int)
    r.i += 1  # '['
    a = Any[]
    _jskipws(r)
    if !_jeof(r) && _jpeek(r) == UInt8(']')
        r.i += 1
        return a
    end
    while true
        _jskipws(r)
        push!(a, _jvalue(r, depth + 1))
        _jskipws(r)
        _jeof(r) && _jfail(r, "unterminated array")
        c = _jpeek(r)
        r.i += 1
        c == UInt8(']') && return a
        c == UInt8(',') || (r.i -= 1; _jfail(r, "expected ',' or ']' in array"))
    end
end

function _jhex4(r::_JSONReader)
    r.i + 3 <= length(r.s) || _jfail(r, "truncated \\u escape")
    v = UInt32(0)
    for k in 0:3
        c = r.s[r.i+k]
        d = if UInt8('0') <= c <= UInt8('9')
            c - UInt8('0')
        elseif UInt8('a') <= c <= UInt8('f')
            c - UInt8('a') + 10
        elseif UInt8('A') <= c <= UInt8('F')
            c - UInt8('A') + 10
        else
            _jfail(r, "invalid hex digit in \\u escape")
        end
        v = (v << 4) | UInt32(d)
    end
    r.i += 4
    return v
end

function _jstring(r::_JSONReader)
    r.i += 1  # opening quote
    io = IOBuffer()
    while true
        _jeof(r) && _jfail(r, "unterminated string")
        c = _jpeek(r)
        if c == UInt8('"')
            r.i += 1
            break
        elseif c == UInt8('\\')
            r.i += 1
            _jeof(r) && _jfail(r, "unterminated escape")
            e = _jpeek(r)
            r.i += 1
            if e == UInt8('"') || e == UInt8('\\') || e == UInt8('/')
                write(io, e)
            elseif e == UInt8('b'); write(io, UInt8('\b'))
            elseif e == UInt8('f'); write(io, UInt8('\f'))
            elseif e == UInt8('n'); write(io, UInt8('\n'))
            elseif e == UInt8('r'); write(io, UInt8('\r'))
            elseif e == UInt8('t'); write(io, UInt8('\t'))
            elseif e == UInt8('u')
                u = _jhex4(r)
                if 0xD800 <= u <= 0xDBFF
                    # high surrogate: must be followed by \uDC00-\uDFFF
                    if r.i + 1 <= length(r.s) && r.s[r.i] == UInt8('\\') && r.s[r.i+1] == UInt8('u')
                        r.i += 2
                        lo = _jhex4(r)
                        0xDC00 <= lo <= 0xDFFF || _jfail(r, "invalid low surrogate in \\u escape")
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    else
                        _jfail(r, "lone high surrogate in \\u escape")
                    end
                elseif 0xDC00 <= u <= 0xDFFF
                    _jfail(r, "lone low surrogate in \\u escape")
                end
                print(io, Char(u))
            else
                r.i -= 1
                _jfail(r, "invalid escape \\$(Char(e))")
            end
        elseif c < 0x20
            _jfail(r, "unescaped control character in string")
        else
            write(io, c)
            r.i += 1
        end
    end
    s = String(take!(io))
    isvalid(s) || _jfail(r, "string is not valid UTF-8")
    return s
end

function _jnumber(r::_JSONReader)
    start = r.i
    if _jpeek(r) == UInt8('-')
        r.i += 1
        if !_jeof(r) && _jpeek(r) == UInt8('I')
            _jexpect_word(r, "Infinity", nothing)
            return -Inf
        end
    end
    isdigit_(c) = UInt8('0') <= c <= UInt8('9')
    (_jeof(r) || !isdigit_(_jpeek(r))) && _jfail(r, "expected a digit")
    if _jpeek(r) == UInt8('0')
        r.i += 1
        (!_jeof(r) && isdigit_(_jpeek(r))) && _jfail(r, "leading zeros are not allowed")
    else
        while !_jeof(r) && isdigit_(_jpeek(r)); r.i += 1; end
    end
    isint = true
    if !_jeof(r) && _jpeek(r) == UInt8('.')
        isint = false
        r.i += 1
        (_jeof(r) || !isdigit_(_jpeek(r))) && _jfail(r, "expected a digit after '.'")
        while !_jeof(r) && isdigit_(_jpeek(r)); r.i += 1; end
    end
    if !_jeof(r) && (_jpeek(r) == UInt8('e') || _jpeek(r) == UInt8('E'))
        isint = false
        r.i += 1
        (!_jeof(r) && (_jpeek(r) == UInt8('+') || _jpeek(r) == UInt8('-'))) && (r.i += 1)
        (_jeof(r) || !isdigit_(_jpeek(r))) && _jfail(r, "expected a digit in exponent")
        while !_jeof(r) && isdigit_(_jpeek(r)); r.i += 1; end
    end
    txt = String(r.s[start:r.i-1])
    if isint
        v = tryparse(Int64, txt)
        v !== nothing && return v
    end
    return parse(Float64, txt)
end

# ---------------------------------------------------------------- writer

"""
    json_write(io, value)

Write `value` as JSON. Supported: `nothing`/`missing` (null), Bool, Integer,
AbstractFloat (shortest round-trip text; NaN/Infinity/-Infinity tokens for
non-finite values), AbstractString, Symbol (as string), AbstractDict (keys
converted with `string`), AbstractVector/Tuple (arrays), NamedTuple (object).
Anything else is an `ArgumentError` naming its type.
"""
function json_write end

json_write(io::IO, ::Nothing) = print(io, "null")
json_write(io::IO, ::Missing) = print(io, "null")
json_write(io::IO, b::Bool) = print(io, b ? "true" : "false")
json_write(io::IO, x::Integer) = print(io, x)
function json_write(io::IO, x::AbstractFloat)
    v = Float64(x)
    if isnan(v)
        print(io, "NaN")
    elseif isinf(v)
        print(io, v > 0 ? "Infinity" : "-Infinity")
    else
        # Julia's Float64 printing is shortest round-trip ("0.1", "1.0e-5",
        # "-0.0", "5.0e-324"), and every such form is valid JSON.
        print(io, v)
    end
end
json_write(io::IO, s::Symbol) = json_write(io, String(s))
function json_write(io::IO, s::AbstractString)
    write(io, UInt8('"'))
    for c in s
        if c == '"'
            print(io, "\\\"")
        elseif c == '\\'
            print(io, "\\\\")
        elseif c == '\n'
            print(io, "\\n")
        elseif c == '\r'
            print(io, "\\r")
        elseif c == '\t'
            print(io, "\\t")
        elseif c == '\b'
            print(io, "\\b")
        elseif c == '\f'
            print(io, "\\f")
        elseif !isvalid(c)
            print(io, "\\ufffd")       # malformed UTF-8 in the input string
        elseif c < ' ' || c == '\u7f' || c == '\u2028' || c == '\u2029'
            print(io, "\\u", string(UInt32(c), base=16, pad=4))
        else
            print(io, c)
        end
    end
    write(io, UInt8('"'))
    return nothing
end
function json_write(io::IO, d::AbstractDict)
    write(io, UInt8('{'))
    first = true
    for (k, v) in d
        first || write(io, UInt8(','))
        first = false
        json_write(io, k isa AbstractString ? k : string(k))
        write(io, UInt8(':'))
        json_write(io, v)
    end
    write(io, UInt8('}'))
    return nothing
end
function json_write(io::IO, nt::NamedTuple)
    json_write(io, Dict{String,Any}(String(k) => v for (k, v) in pairs(nt)))
end
function json_write(io::IO, a::Union{AbstractVector,Tuple})
    write(io, UInt8('['))
    first = true
    for v in a
        first || write(io, UInt8(','))
        first = false
        json_write(io, v)
    end
    write(io, UInt8(']'))
    return nothing
end
json_write(io::IO, x) = throw(ArgumentError("cannot encode a value of type $(typeof(x)) as JSON"))

"""`json_string(value) -> String`: the JSON text of `value` (see `json_write`)."""
json_string(x) = (io = IOBuffer(); json_write(io, x); String(take!(io)))
