# Physical dimensions: the `Dim` value (exact rational exponents over the five
# base units m, s, kg, T, V of keplersr.units) and its arithmetic, and the
# reading of unit exponents sent as numbers.

"""Base units, in the order of the exponent vectors sent by Python (keplersr.units.BASE_UNITS)."""
const BASE_UNIT_NAMES = ("m", "s", "kg", "T", "V")
const NBASE_UNITS = 5

"""Largest |numerator| or denominator an exponent may reach; beyond it the tree is a violation
(guards the Int arithmetic: products of two capped values cannot overflow Int64)."""
const MAX_EXPONENT_PART = 1 << 20

"""A constant exponent `x^c` of a dimensioned `x` must be a fraction p/q with q <= this..."""
const MAX_POWER_DENOMINATOR = 12
"""...within this relative tolerance (absorbs floating-point noise, not fitted drift: x^1.9997 is
not x^2)."""
const POWER_EXPONENT_RTOL = 1e-6

"""Unit exponents sent as floats (1/3 -> 0.333...) are read back as fractions with q <= this."""
const MAX_UNIT_DENOMINATOR = 1000
const UNIT_EXPONENT_ATOL = 1e-9

"""
    Dim

A physical dimension: base-unit exponents `num ./ den` (m, s, kg, T, V).
Always normalised (`den > 0`, gcd of `den` and all numerators is 1), so `==`
is dimension equality. An isbits value: arithmetic on it never allocates.
"""
struct Dim
    num::NTuple{5,Int}
    den::Int
end

const DIMENSIONLESS_DIM = Dim((0, 0, 0, 0, 0), 1)

@inline function _gcd_all(num::NTuple{5,Int}, den::Int)::Int
    g = den
    for x in num
        g = gcd(g, x)
    end
    return g
end
# (a separate function: a closure over the reassigned `g` above would box it)
@inline _div_all(num::NTuple{5,Int}, g::Int) = map(x -> div(x, g), num)

@inline function normalize_dim(num::NTuple{5,Int}, den::Int)::Dim
    den == 1 && return Dim(num, 1)
    if den < 0
        num = map(-, num); den = -den
    end
    g = _gcd_all(num, den)
    g == 1 && return Dim(num, den)
    return Dim(_div_all(num, g), div(den, g))
end

isdimensionless(d::Dim) = d.num == (0, 0, 0, 0, 0)

"""Does any part of `d` exceed `MAX_EXPONENT_PART` (the tree is then treated as a violation)?"""
@inline dim_too_big(d::Dim) =
    d.den > MAX_EXPONENT_PART || any(x -> abs(x) > MAX_EXPONENT_PART, d.num)

"""Dimension of a product: exponents add."""
@inline function dim_mul(a::Dim, b::Dim)::Dim
    a.den == b.den && return normalize_dim(map(+, a.num, b.num), a.den)
    return normalize_dim(map((x, y) -> x * b.den + y * a.den, a.num, b.num), a.den * b.den)
end

"""Dimension of a quotient: exponents subtract."""
@inline dim_div(a::Dim, b::Dim)::Dim = dim_mul(a, Dim(map(-, b.num), b.den))

"""Dimension of `a^(p/q)` (q > 0)."""
@inline dim_pow(a::Dim, p::Int, q::Int)::Dim = normalize_dim(map(x -> x * p, a.num), a.den * q)

"""
    Dim(v) -> Dim

Dimension from five exponents (integers, rationals, or floats that are simple
fractions such as 0.333... = 1/3; anything else raises an `ArgumentError`).
"""
function Dim(v::AbstractVector)
    length(v) == NBASE_UNITS || throw(ArgumentError(
        "a dimension has $(NBASE_UNITS) exponents ($(join(BASE_UNIT_NAMES, ", "))), got $(length(v))"))
    pq = map(x -> _unit_exponent(x), v)
    den = 1
    for (p, q) in pq
        den = lcm(den, q)
    end
    d = normalize_dim(ntuple(i -> pq[i][1] * div(den, pq[i][2]), 5), den)
    dim_too_big(d) && throw(ArgumentError("unit exponents $(v) are too large"))
    return d
end

function _unit_exponent(x)::Tuple{Int,Int}
    (x isa Real && !(x isa Bool)) || throw(ArgumentError("unit exponent must be a number, got $(repr(x))"))
    x isa Integer && return (Int(x), 1)
    x isa Rational && return (Int(numerator(x)), Int(denominator(x)))
    v = Float64(x)
    r = nice_fraction(v, MAX_UNIT_DENOMINATOR, UNIT_EXPONENT_ATOL)
    r === nothing && throw(ArgumentError(
        "unit exponent $(v) is not a fraction with denominator <= $(MAX_UNIT_DENOMINATOR)"))
    return r
end

"""
    nice_fraction(v, maxden, tol) -> (p, q) or nothing

The fraction p/q with the smallest q <= `maxden` such that |v - p/q| <= tol*max(1, |v|),
or `nothing` (also for non-finite or huge `v`).
"""
function nice_fraction(v::Float64, maxden::Int, tol::Float64)
    (isfinite(v) && abs(v) <= MAX_EXPONENT_PART) || return nothing
    lim = tol * max(1.0, abs(v))
    for q in 1:maxden
        p = round(v * q)
        abs(v - p / q) <= lim && return (Int(p), q)
    end
    return nothing
end

function Base.show(io::IO, d::Dim)
    parts = String[]
    for (name, x) in zip(BASE_UNIT_NAMES, d.num)
        x == 0 && continue
        r = x // d.den
        push!(parts, r == 1 ? name : denominator(r) == 1 ? "$(name)^$(numerator(r))" :
                                    "$(name)^($(numerator(r))/$(denominator(r)))")
    end
    print(io, isempty(parts) ? "1" : join(parts, "*"))
end
