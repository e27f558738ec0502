# Dimensional analysis of candidate expressions: physical dimensions are
# propagated bottom-up through a tree with exact rational exponents over the
# five base units (m, s, kg, T, V) of keplersr.units; a tree that adds unlike
# quantities, takes sin/exp/log/... of a dimensioned quantity, raises a
# dimensioned base to a non-constant power, or whose result does not have the
# target's dimension is a violation. The search adds `dimension_penalty` to
# the loss of such candidates.

"""Base units, in the order of the exponent vectors sent by Python (keplersr.units.BASE_UNITS)."""
const BASE_UNIT_NAMES = ("m", "s", "kg", "T", "V")
const NBASE_UNITS = 5

"""Default additive loss penalty of a dimensionally inconsistent candidate (as PySR's)."""
const DEFAULT_DIMENSION_PENALTY = 1000.0

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

# Operator classes, looked up once per spec from the operator NAMES.
const _DIM_OTHER = Int8(0)       # unknown / user operator: dimensionless args -> dimensionless
const _DIM_ADD = Int8(1)         # +
const _DIM_SUB = Int8(5)         # -
const _DIM_MUL = Int8(2)         # *
const _DIM_DIV = Int8(3)         # /
const _DIM_POW = Int8(4)         # ^
const _DIM_NEG = Int8(1)
const _DIM_ABS = Int8(7)
const _DIM_SQRT = Int8(2)
const _DIM_SQUARE = Int8(3)
const _DIM_CUBE = Int8(4)
const _DIM_INV = Int8(5)
const _DIM_TRANSCENDENTAL = Int8(6)  # sin cos tan exp log tanh sinh cosh asin acos atan

const _BINARY_DIM_CLASS = Dict{String,Int8}("+" => _DIM_ADD, "-" => _DIM_SUB, "*" => _DIM_MUL,
    "/" => _DIM_DIV, "^" => _DIM_POW)
const _UNARY_DIM_CLASS = Dict{String,Int8}("neg" => _DIM_NEG, "abs" => _DIM_ABS,
    "sqrt" => _DIM_SQRT, "square" => _DIM_SQUARE, "cube" => _DIM_CUBE, "inv" => _DIM_INV,
    (n => _DIM_TRANSCENDENTAL for n in ("sin", "cos", "tan", "exp", "log", "tanh", "sinh",
                                         "cosh", "asin", "acos", "atan"))...)

"""
    DimensionSpec

The units of one search. `xdims[j]` is the dimension of feature `j`; `ydim`
that of the target when `has_ydim` (otherwise only internal consistency is
checked). `penalty` is added to the loss of an inconsistent candidate.
With `constants_dimensionless` every constant is dimensionless; otherwise a
constant is a wildcard that takes whatever dimension makes the expression
consistent (so `c*m + a` is fine, `c` being a mass^-1 * acceleration).
Operators are classified by name (`binnames`/`unanames` of the operator set
the spec was built for): names other than the built-ins listed in
`_BINARY_DIM_CLASS`/`_UNARY_DIM_CLASS` (user operators) must get
dimensionless arguments and return a dimensionless value.
"""
struct DimensionSpec
    xdims::Vector{Dim}
    ydim::Dim
    has_ydim::Bool
    penalty::Float64
    constants_dimensionless::Bool
    binnames::Vector{String}
    unanames::Vector{String}
    binclass::Vector{Int8}
    unaclass::Vector{Int8}
end

"""
    DimensionSpec(xdims, ydim, ops; penalty=1000.0, constants_dimensionless=false)

`xdims`: one 5-exponent vector (or `Dim`) per feature; `ydim`: a 5-exponent
vector, a `Dim`, or `nothing` (target dimension unknown); `ops`: the
`OperatorSet` of the search (operator indices in trees refer to it).
"""
function DimensionSpec(xdims::AbstractVector, ydim, ops::OperatorSet;
                       penalty::Real=DEFAULT_DIMENSION_PENALTY, constants_dimensionless::Bool=false)
    isempty(xdims) && throw(ArgumentError("X units: need the dimension of at least one feature"))
    xs = Dim[d isa Dim ? d : Dim(d) for d in xdims]
    yd = ydim === nothing ? DIMENSIONLESS_DIM : ydim isa Dim ? ydim : Dim(ydim)
    (isfinite(penalty) && penalty >= 0) || throw(ArgumentError(
        "dimensional_constraint_penalty must be a finite number >= 0, got $(penalty)"))
    return DimensionSpec(xs, yd, ydim !== nothing, Float64(penalty), constants_dimensionless,
        ops.binnames, ops.unanames,
        Int8[get(_BINARY_DIM_CLASS, n, _DIM_OTHER) for n in ops.binnames],
        Int8[get(_UNARY_DIM_CLASS, n, _DIM_OTHER) for n in ops.unanames])
end

"""Keys of the options message that `dimension_spec_from_dict` reads."""
const DIMENSION_OPTION_KEYS = ("X_units", "y_units", "dimensional_constraint_penalty",
                               "dimensionless_constants_only")

function _dim_vector(key::String, v)
    (v isa Vector && length(v) == NBASE_UNITS) || throw(ArgumentError(
        "option $(key) must be a list of $(NBASE_UNITS) exponents over ($(join(BASE_UNIT_NAMES, ", "))), got $(repr(v))"))
    try
        return Dim(v)
    catch err
        err isa ArgumentError || rethrow()
        throw(ArgumentError("option $(key): $(err.msg)"))
    end
end

"""
    dimension_spec_from_dict(d, nfeatures, ops) -> DimensionSpec or nothing

Read the units from the options message: "X_units" (one list of 5 exponents
over m, s, kg, T, V per feature), optional "y_units" (5 exponents or null),
"dimensional_constraint_penalty" (number >= 0, default 1000; null = default)
and "dimensionless_constants_only" (bool, default false). Returns `nothing`
when "X_units" is absent or null (no dimensional analysis); the other keys
without "X_units" are an error. Malformed values raise an `ArgumentError`
naming the key.
"""
function dimension_spec_from_dict(d::AbstractDict, nfeatures::Int, ops::OperatorSet)
    xu = get(d, "X_units", nothing)
    if xu === nothing
        for k in DIMENSION_OPTION_KEYS[2:end]
            get(d, k, nothing) === nothing || throw(ArgumentError(
                "option $(k) given without X_units: dimensional analysis needs the units of the features"))
        end
        return nothing
    end
    (xu isa Vector && length(xu) == nfeatures) || throw(ArgumentError(
        "option X_units must be a list with one unit (5 exponents) per feature ($(nfeatures)), got $(repr(xu))"))
    xdims = Dim[_dim_vector("X_units[$(j)]", u) for (j, u) in enumerate(xu)]
    yu = get(d, "y_units", nothing)
    ydim = yu === nothing ? nothing : _dim_vector("y_units", yu)
    pen = get(d, "dimensional_constraint_penalty", nothing)
    penalty = if pen === nothing
        DEFAULT_DIMENSION_PENALTY
    else
        (pen isa Real && !(pen isa Bool) && isfinite(pen) && pen >= 0) || throw(ArgumentError(
            "option dimensional_constraint_penalty must be a finite number >= 0, got $(repr(pen))"))
        Float64(pen)
    end
    dco = get(d, "dimensionless_constants_only", false)
    dco === nothing && (dco = false)
    dco isa Bool || throw(ArgumentError(
        "option dimensionless_constants_only must be true or false, got $(repr(dco))"))
    return DimensionSpec(xdims, ydim, ops; penalty=penalty, constants_dimensionless=dco)
end

# ---------------------------------------------------------------- propagation

"""
    DimState(dim, wild, bad)

Result of propagating dimensions through a subtree: its dimension `dim`,
`wild` if the dimension is free (the subtree contains a wildcard constant
that can absorb any dimension; `dim` is then meaningless), `bad` if the
subtree is already inconsistent.
"""
struct DimState
    dim::Dim
    wild::Bool
    bad::Bool
end

const _DIM_BAD = DimState(DIMENSIONLESS_DIM, false, true)
const _DIM_WILD = DimState(DIMENSIONLESS_DIM, true, false)
const _DIM_NONE = DimState(DIMENSIONLESS_DIM, false, false)

@inline _fixed(d::Dim) = dim_too_big(d) ? _DIM_BAD : DimState(d, false, false)
# a wildcard or dimensionless argument is acceptable where a pure number is needed
@inline _accepts_dimensionless(s::DimState) = s.wild || isdimensionless(s.dim)

"""
Value of a subtree without features (an exponent). Arithmetic operators are
computed inline from their class; others (sin, user operators, ...) through a
dynamic call (slower, and rare once constant subtrees are simplified).
"""
function constant_subtree_value(n::Node, spec::DimensionSpec, ops::OperatorSet)::Float64
    n.degree == 0 && return n.val
    if n.degree == 1
        v = constant_subtree_value(n.l, spec, ops)
        k = spec.unaclass[n.op]
        k == _DIM_NEG && return -v
        k == _DIM_ABS && return abs(v)
        k == _DIM_SQUARE && return v * v
        k == _DIM_CUBE && return v * v * v
        k == _DIM_INV && return 1.0 / v
        k == _DIM_SQRT && return v >= 0.0 ? sqrt(v) : NaN
        return Float64(ops.unaops[n.op](v))
    end
    a = constant_subtree_value(n.l, spec, ops)
    b = constant_subtree_value(n.r, spec, ops)
    k = spec.binclass[n.op]
    k == _DIM_ADD && return a + b
    k == _DIM_SUB && return a - b
    k == _DIM_MUL && return a * b
    k == _DIM_DIV && return a / b
    k == _DIM_POW && return safe_pow(a, b)
    return Float64(ops.binops[n.op](a, b))
end

function propagate_dims(n::Node, spec::DimensionSpec, ops::OperatorSet)::DimState
    if n.degree == 0
        n.isconst && return spec.constants_dimensionless ? _DIM_NONE : _DIM_WILD
        return DimState(spec.xdims[n.feature], false, false)
    elseif n.degree == 1
        a = propagate_dims(n.l, spec, ops)
        a.bad && return a
        k = spec.unaclass[n.op]
        if k == _DIM_NEG || k == _DIM_ABS
            return a
        elseif k == _DIM_SQRT
            return a.wild ? a : _fixed(dim_pow(a.dim, 1, 2))
        elseif k == _DIM_SQUARE
            return a.wild ? a : _fixed(dim_pow(a.dim, 2, 1))
        elseif k == _DIM_CUBE
            return a.wild ? a : _fixed(dim_pow(a.dim, 3, 1))
        elseif k == _DIM_INV
            return a.wild ? a : _fixed(dim_pow(a.dim, -1, 1))
        else   # transcendental or user operator
            return _accepts_dimensionless(a) ? _DIM_NONE : _DIM_BAD
        end
    end
    a = propagate_dims(n.l, spec, ops)
    a.bad && return a
    b = propagate_dims(n.r, spec, ops)
    b.bad && return b
    k = spec.binclass[n.op]
    if k == _DIM_ADD || k == _DIM_SUB
        a.wild && return b
        b.wild && return a
        return a.dim == b.dim ? a : _DIM_BAD
    elseif k == _DIM_MUL
        (a.wild || b.wild) && return _DIM_WILD
        return _fixed(dim_mul(a.dim, b.dim))
    elseif k == _DIM_DIV
        (a.wild || b.wild) && return _DIM_WILD
        return _fixed(dim_div(a.dim, b.dim))
    elseif k == _DIM_POW
        _accepts_dimensionless(b) || return _DIM_BAD
        constexp = !has_feature(n.r)
        if a.wild
            # c^2 keeps a free dimension; c^x forces c to be dimensionless
            return constexp ? a : _DIM_NONE
        end
        isdimensionless(a.dim) && return _DIM_NONE
        constexp || return _DIM_BAD
        pq = nice_fraction(constant_subtree_value(n.r, spec, ops), MAX_POWER_DENOMINATOR, POWER_EXPONENT_RTOL)
        pq === nothing && return _DIM_BAD
        return _fixed(dim_pow(a.dim, pq[1], pq[2]))
    else   # user binary operator
        return (_accepts_dimensionless(a) && _accepts_dimensionless(b)) ? _DIM_NONE : _DIM_BAD
    end
end

function _check_spec_ops(spec::DimensionSpec, ops::OperatorSet)
    (spec.binnames === ops.binnames || spec.binnames == ops.binnames) &&
        (spec.unanames === ops.unanames || spec.unanames == ops.unanames) && return nothing
    throw(ArgumentError("the DimensionSpec was built for operators $(spec.binnames)/$(spec.unanames), " *
                        "the options use $(ops.binnames)/$(ops.unanames)"))
end

"""
    tree_dimension(tree, spec, ops) -> DimState

Dimension of `tree` under the units of `spec` (see `DimState`); the target
dimension is not checked here.
"""
function tree_dimension(tree::Node, spec::DimensionSpec, ops::OperatorSet)::DimState
    _check_spec_ops(spec, ops)
    return propagate_dims(tree, spec, ops)
end

"""
    dimensional_violation(tree, spec, ops) -> Bool
    dimensional_violation(tree, opts) -> Bool

True if `tree` is dimensionally inconsistent: a sum/difference of unlike
quantities, a function (sin, exp, log, ..., user operator) of a dimensioned
argument, a dimensioned base raised to a non-constant or non-simple-fraction
power, a dimensioned exponent, or (when the target's units are known) a
result whose dimension differs from the target's. A wildcard result (a
constant factor can supply the dimension) matches any target. Always false
when `opts.dims === nothing`. Allocation-free; cost is linear in tree size.
"""
function dimensional_violation(tree::Node, spec::DimensionSpec, ops::OperatorSet)::Bool
    s = tree_dimension(tree, spec, ops)
    s.bad && return true
    return spec.has_ydim && !s.wild && s.dim != spec.ydim
end
# function barriers on the untyped `opts.dims`; `opts` (heap-allocated) is passed rather than
# `opts.ops` (an immutable struct that would be boxed for the dynamic call)
dimensional_violation(tree::Node, opts::Options)::Bool = _violation(tree, opts.dims, opts)
_violation(tree::Node, ::Nothing, opts::Options) = false
_violation(tree::Node, spec::DimensionSpec, opts::Options) = dimensional_violation(tree, spec, opts.ops)

"""
    dimension_penalty(tree, opts) -> Float64

The term the search adds to a candidate's loss: 0.0 when `opts.dims ===
nothing` or the tree is dimensionally consistent, otherwise
`opts.dims.penalty` (`dimensional_constraint_penalty`, default 1000.0). The
penalty is additive, so an inconsistent candidate can still survive when
nothing consistent fits (a penalty of 0 disables the analysis' effect).
"""
dimension_penalty(tree::Node, opts::Options)::Float64 = _penalty(tree, opts.dims, opts)
_penalty(tree::Node, ::Nothing, opts::Options) = 0.0
_penalty(tree::Node, spec::DimensionSpec, opts::Options) =
    dimensional_violation(tree, spec, opts.ops) ? spec.penalty : 0.0

"""
    dimension_penalties(tree, opts) -> (plain::Float64, scaled::Float64)

Penalties of `tree` itself (`plain`, = `dimension_penalty(tree, opts)`) and
of `a*tree` or `a*tree + b` with fitted constants `a`, `b` (`scaled`, for
linear scaling), in one traversal. A fitted factor `a` is a wildcard, so the
scaled form only needs `tree` to be internally consistent; with
`constants_dimensionless` `a` is a pure number and both penalties are equal.
(`tree + b` alone has `tree`'s dimension: use `plain`.)
"""
dimension_penalties(tree::Node, opts::Options)::Tuple{Float64,Float64} = _penalties(tree, opts.dims, opts)
_penalties(tree::Node, ::Nothing, opts::Options) = (0.0, 0.0)
function _penalties(tree::Node, spec::DimensionSpec, opts::Options)::Tuple{Float64,Float64}
    s = tree_dimension(tree, spec, opts.ops)
    s.bad && return (spec.penalty, spec.penalty)
    plain = (spec.has_ydim && !s.wild && s.dim != spec.ydim) ? spec.penalty : 0.0
    return (plain, spec.constants_dimensionless ? plain : 0.0)
end
