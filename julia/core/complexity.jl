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
