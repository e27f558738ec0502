# The units of one search: `DimensionSpec` (the dimension of each feature and
# of the target, the penalty, and the dimensional class of each operator of
# the search's operator set, looked up by name).

"""Default additive loss penalty of a dimensionally inconsistent candidate (as PySR's)."""
const DEFAULT_DIMENSION_PENALTY = DECLARED_DEFAULTS.dimensional_constraint_penalty

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

