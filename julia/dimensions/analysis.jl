# Dimensional analysis of candidate expressions: physical dimensions are
# propagated bottom-up through a tree; a tree that adds unlike quantities,
# takes sin/exp/log/... of a dimensioned quantity, raises a dimensioned base
# to a non-constant power, or whose result does not have the target's
# dimension is a violation. The search adds `dimension_penalty` to the loss
# of such candidates.

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
