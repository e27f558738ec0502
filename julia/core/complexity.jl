# Complexity (node count with per-operator, constant and variable overrides)
# and the constraints a candidate must satisfy: maxsize, maxdepth,
# per-operator argument-size limits and nested-operator limits.

"""Complexity of a tree under the options' complexity overrides."""
function compute_complexity(n::Node, opts::Options)::Int
    if n.degree == 0
        return n.isconst ? opts.complexity.complexity_of_constants : opts.complexity.complexity_of_variables
    elseif n.degree == 1
        return opts.complexity.complexity_of_unaops[n.op] + compute_complexity(n.l, opts)
    else
        return opts.complexity.complexity_of_binops[n.op] + compute_complexity(n.l, opts) +
               compute_complexity(n.r, opts)
    end
end

"""Does the tree satisfy every size, depth and operator constraint?"""
function check_constraints(n::Node, opts::Options)::Bool
    compute_complexity(n, opts) <= opts.constraints.maxsize || return false
    tree_depth(n) <= opts.constraints.maxdepth || return false
    check_arg_constraints(n, opts) || return false
    isempty(opts.constraints.nested_constraints) || check_nested(n, opts) || return false
    return true
end

function check_arg_constraints(n::Node, opts::Options)::Bool
    n.degree == 0 && return true
    if n.degree == 1
        lim = opts.constraints.una_constraints[n.op]
        (lim >= 0 && compute_complexity(n.l, opts) > lim) && return false
        return check_arg_constraints(n.l, opts)
    end
    ll, rl = opts.constraints.bin_constraints[n.op]
    (ll >= 0 && compute_complexity(n.l, opts) > ll) && return false
    (rl >= 0 && compute_complexity(n.r, opts) > rl) && return false
    return check_arg_constraints(n.l, opts) && check_arg_constraints(n.r, opts)
end

"""Largest number of (kind, op) nodes on any path from `n` down (n included)."""
function max_nesting(n::Node, kind::Int, op::Int)::Int
    own = (n.degree == kind && n.op == op) ? 1 : 0
    n.degree == 0 && return own
    below = n.degree == 1 ? max_nesting(n.l, kind, op) :
            max(max_nesting(n.l, kind, op), max_nesting(n.r, kind, op))
    return own + below
end

function check_nested(n::Node, opts::Options)::Bool
    n.degree == 0 && return true
    for (okind, oop, ikind, iop, maxn) in opts.constraints.nested_constraints
        if n.degree == okind && n.op == oop
            inner = n.degree == 1 ? max_nesting(n.l, ikind, iop) :
                    max(max_nesting(n.l, ikind, iop), max_nesting(n.r, ikind, iop))
            inner > maxn && return false
        end
    end
    return n.degree == 1 ? check_nested(n.l, opts) : check_nested(n.l, opts) && check_nested(n.r, opts)
end

# --- default nesting limits ----------------------------------------------------
#
# Engine defaults applied to the operators of the set (by name), merged under
# the user's nested_constraints. Nesting a transcendental function inside
# another (`tanh(tanh(x))`, `sin(log(x))`, `exp(log(x))`, `asin(acos(x))`) is
# rare in physics formulas but, with many unary operators, such nests are what
# the search fills its populations with: each is a cheap way to bend a curve.
# Not limited: the algebraic unary operators (`sqrt`, `square`, `cube`, `inv`,
# `neg`, `abs`), trig inside `exp` (`exp(k*cos(theta))`, a Boltzmann factor)
# and trig inside an inverse trig function (`asin(n*sin(theta))`, Snell's law).

"""Transcendental unary operators that may not contain one another by default."""
const NESTING_TRANSCENDENTAL = ("sin", "cos", "tan", "exp", "log", "tanh", "sinh", "cosh")
"""Inverse trigonometric operators: may contain trig, not exp/log/hyperbolic or each other."""
const NESTING_INVERSE_TRIG = ("asin", "acos", "atan")
const NESTING_TRIG = ("sin", "cos", "tan")

"""Is `inner` (a unary built-in name) forbidden anywhere inside `outer` by default?"""
function default_nesting_forbidden(outer::String, inner::String)::Bool
    inner_transc = inner in NESTING_TRANSCENDENTAL || inner in NESTING_INVERSE_TRIG
    if outer in NESTING_TRANSCENDENTAL
        (outer == "exp" && inner in NESTING_TRIG) && return false
        return inner_transc
    elseif outer in NESTING_INVERSE_TRIG
        return inner_transc && !(inner in NESTING_TRIG)
    end
    return false
end

"""
    default_nested_constraints(ops) -> Vector{NTuple{5,Int}}

The engine's default nesting limits for the unary operators of `ops` that are
built-ins by name (`default_nesting_forbidden`): `(1, outer, 1, inner, 0)`
entries, i.e. `inner` may not occur anywhere in the argument of `outer`.
Only operators present in the set get entries; a user operator whose name
shadows a built-in is treated as that built-in.
"""
function default_nested_constraints(ops::OperatorSet)::Vector{NTuple{5,Int}}
    out = NTuple{5,Int}[]
    for (i, outer) in enumerate(ops.unanames), (j, inner) in enumerate(ops.unanames)
        default_nesting_forbidden(outer, inner) && push!(out, (1, i, 1, j, 0))
    end
    return out
end

"""
    merge_nested_constraints(user, defaults) -> Vector{NTuple{5,Int}}

The user's entries first (unchanged, in their order), then every default
whose (outer, inner) pair the user did not name: a user entry for a pair
overrides the default (e.g. `{"sin": {"sin": 1}}` allows one `sin` inside
`sin`, a large number lifts the limit).
"""
function merge_nested_constraints(user::Vector{NTuple{5,Int}},
                                  defaults::Vector{NTuple{5,Int}})::Vector{NTuple{5,Int}}
    named = Set((e[1], e[2], e[3], e[4]) for e in user)
    out = copy(user)
    for e in defaults
        (e[1], e[2], e[3], e[4]) in named || push!(out, e)
    end
    return out
end

"""Constraints `c` with the default nesting limits of `ops` merged under its own."""
with_default_nesting(c::Constraints, ops::OperatorSet)::Constraints =
    Constraints(c.maxsize, c.maxdepth, c.bin_constraints, c.una_constraints,
                merge_nested_constraints(c.nested_constraints, default_nested_constraints(ops)))
