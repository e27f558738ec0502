# Algebraic simplification of expression trees: constant folding, identities
# (x+0, x*1, x-x, x/x, neg(neg(x)), ...) and merging of nested constants
# ((x+c1)+c2 -> x+(c1+c2), c1*(c2*x) -> (c1*c2)*x, ...). Operators are
# recognised by NAME, since their indices differ from search to search; a
# rule that needs an operator absent from the search's set is not used.
# Every rewrite is accepted only if it does not increase the complexity.

"""Indices of the operators the rules know, 0 when absent from the set."""
struct SimplifyOps
    add::Int
    sub::Int
    mul::Int
    div::Int
    neg::Int
end

_opindex(names::Vector{String}, name::String)::Int =
    something(findfirst(isequal(name), names), 0)

SimplifyOps(ops::OperatorSet) = SimplifyOps(
    _opindex(ops.binnames, "+"), _opindex(ops.binnames, "-"),
    _opindex(ops.binnames, "*"), _opindex(ops.binnames, "/"),
    _opindex(ops.unanames, "neg"))

"""
    simplify_tree(tree, opts) -> Node

A new tree (the input is not modified) equal in value to `tree` wherever
both are finite, and of complexity no larger. Bottom-up, at each node:
- constant folding: an operator whose operands are all constants is
  replaced by its value (computed with the search's operator functions on
  Float64), only when that value is finite;
- identities: `x+0`, `0+x`, `x-0`, `x*1`, `1*x`, `x/1` -> `x`; `x-x` -> 0;
  `x/x` -> 1 (x is never a constant here: constants are folded first);
  `neg(neg(x))` -> `x`; `x+neg(y)` -> `x-y`; `x-neg(y)` -> `x+y`;
- nested constants: `(x ± c1) ± c2`, `c2 ± (x ± c1)`, `(c1 - x) ± c2`, ...
  -> `x + c` or `c - x`; `(c1*x)*c2`, `c2*(x/c1)`, `c2/(c1*x)`, ... ->
  `c*x` or `c/x`.
"""
function simplify_tree(tree::Node, opts::Options)::Node
    return simplify_node!(copy_tree(tree), opts, SimplifyOps(opts.ops))
end

function simplify_node!(n::Node, opts::Options, simplify_ops::SimplifyOps)::Node
    n.degree == 0 && return n
    n.l = simplify_node!(n.l, opts, simplify_ops)
    n.degree == 2 && (n.r = simplify_node!(n.r, opts, simplify_ops))
    # Each accepted rewrite removes at least one node, so this terminates.
    while n.degree >= 1
        m = rewrite(n, opts, simplify_ops)
        m === nothing && break
        n = m
    end
    return n
end

is_const_val(n::Node, v::Float64) = n.degree == 0 && n.isconst && n.val == v

"""One rewrite of node `n` (children already simplified), or `nothing`."""
function rewrite(n::Node, opts::Options, simplify_ops::SimplifyOps)::Union{Node,Nothing}
    f = fold_constants(n, opts)
    f === nothing || return f
    cand = n.degree == 1 ? rewrite_unary(n, simplify_ops) : rewrite_binary(n, simplify_ops)
    cand === nothing && return nothing
    return compute_complexity(cand, opts) <= compute_complexity(n, opts) ? cand : nothing
end

"""
Value of an operator node whose operands are all finite constant leaves,
when that value is finite. (Operands are required finite because e.g.
`sin(Inf)` throws; the built-in operators do not throw on finite input.)
"""
function fold_constants(n::Node, opts::Options)::Union{Node,Nothing}
    n.l.degree == 0 && n.l.isconst && isfinite(n.l.val) || return nothing
    if n.degree == 1
        f = opts.ops.unaops[n.op]
        v = try
            Base.invokelatest(f, n.l.val)
        catch
            nothing     # e.g. DomainError from a user operator: leave unfolded
        end
    else
        n.r.degree == 0 && n.r.isconst && isfinite(n.r.val) || return nothing
        f = opts.ops.binops[n.op]
        v = try
            Base.invokelatest(f, n.l.val, n.r.val)
        catch
            nothing
        end
    end
    (v isa Real && isfinite(v)) || return nothing
    return const_node(Float64(v))
end

function rewrite_unary(n::Node, simplify_ops::SimplifyOps)::Union{Node,Nothing}
    if simplify_ops.neg != 0 && n.op == simplify_ops.neg && n.l.degree == 1 && n.l.op == simplify_ops.neg
        return n.l.l                                   # neg(neg(x))
    end
    return nothing
end

function rewrite_binary(n::Node, simplify_ops::SimplifyOps)::Union{Node,Nothing}
    op = Int(n.op); l = n.l; r = n.r
    isneg(m::Node) = simplify_ops.neg != 0 && m.degree == 1 && m.op == simplify_ops.neg
    if op == simplify_ops.add
        is_const_val(r, 0.0) && return l
        is_const_val(l, 0.0) && return r
        (isneg(r) && simplify_ops.sub != 0) && return binary_node(simplify_ops.sub, l, r.l)   # x + neg(y)
        return merge_additive(n, simplify_ops)
    elseif op == simplify_ops.sub
        is_const_val(r, 0.0) && return l
        tree_equal(l, r) && return const_node(0.0)
        (isneg(r) && simplify_ops.add != 0) && return binary_node(simplify_ops.add, l, r.l)   # x - neg(y)
        return merge_additive(n, simplify_ops)
    elseif op == simplify_ops.mul
        is_const_val(r, 1.0) && return l
        is_const_val(l, 1.0) && return r
        return merge_multiplicative(n, simplify_ops)
    elseif op == simplify_ops.div
        is_const_val(r, 1.0) && return l
        (tree_equal(l, r) && !is_const_val(l, 0.0)) && return const_node(1.0)
        return merge_multiplicative(n, simplify_ops)
    end
    return nothing
end

is_const_leaf(n::Node) = n.degree == 0 && n.isconst

"""
If `n` is `x ∘ c` or `c ∘ x` for ∘ in (+, -) with `x` not a constant, return
`(s, x, k)` such that `n == s*x + k`; otherwise `nothing`.
"""
function affine_parts(n::Node, simplify_ops::SimplifyOps)
    n.degree == 2 || return nothing
    lc = is_const_leaf(n.l); rc = is_const_leaf(n.r)
    lc == rc && return nothing
    if n.op == simplify_ops.add
        return rc ? (1, n.l, n.r.val) : (1, n.r, n.l.val)
    elseif n.op == simplify_ops.sub
        return rc ? (1, n.l, -n.r.val) : (-1, n.r, n.l.val)
    end
    return nothing
end

"""`(a ± b)` with one side constant whose other side is affine: merge the constants."""
function merge_additive(n::Node, simplify_ops::SimplifyOps)::Union{Node,Nothing}
    if is_const_leaf(n.r) && !is_const_leaf(n.l)
        parts = affine_parts(n.l, simplify_ops); c2 = n.r.val; inner_left = true
    elseif is_const_leaf(n.l) && !is_const_leaf(n.r)
        parts = affine_parts(n.r, simplify_ops); c2 = n.l.val; inner_left = false
    else
        return nothing
    end
    parts === nothing && return nothing
    s, x, k = parts
    if n.op == simplify_ops.add
        s2 = s; k2 = k + c2
    elseif inner_left                 # (s*x + k) - c2
        s2 = s; k2 = k - c2
    else                              # c2 - (s*x + k)
        s2 = -s; k2 = c2 - k
    end
    isfinite(k2) || return nothing
    if s2 == 1
        simplify_ops.add != 0 && return binary_node(simplify_ops.add, x, const_node(k2))
        simplify_ops.sub != 0 && return binary_node(simplify_ops.sub, x, const_node(-k2))
        return nothing
    else
        simplify_ops.sub != 0 || return nothing
        return binary_node(simplify_ops.sub, const_node(k2), x)
    end
end

"""
If `n` is `x*c`, `c*x`, `x/c` or `c/x` with `x` not a constant, return
`(p, x, k)` such that `n == k * x^p` (p = ±1); otherwise `nothing`.
"""
function power_parts(n::Node, simplify_ops::SimplifyOps)
    n.degree == 2 || return nothing
    lc = is_const_leaf(n.l); rc = is_const_leaf(n.r)
    lc == rc && return nothing
    if n.op == simplify_ops.mul
        return rc ? (1, n.l, n.r.val) : (1, n.r, n.l.val)
    elseif n.op == simplify_ops.div
        return rc ? (1, n.l, 1.0 / n.r.val) : (-1, n.r, n.l.val)
    end
    return nothing
end

"""`(a * b)` or `(a / b)` with one side constant and the other `k*x^±1`: merge the constants."""
function merge_multiplicative(n::Node, simplify_ops::SimplifyOps)::Union{Node,Nothing}
    if is_const_leaf(n.r) && !is_const_leaf(n.l)
        parts = power_parts(n.l, simplify_ops); c2 = n.r.val; inner_left = true
    elseif is_const_leaf(n.l) && !is_const_leaf(n.r)
        parts = power_parts(n.r, simplify_ops); c2 = n.l.val; inner_left = false
    else
        return nothing
    end
    parts === nothing && return nothing
    p, x, k = parts
    if n.op == simplify_ops.mul
        p2 = p; k2 = k * c2
    elseif inner_left                 # (k*x^p) / c2
        p2 = p; k2 = k / c2
    else                              # c2 / (k*x^p)
        p2 = -p; k2 = c2 / k
    end
    (isfinite(k2) && k2 != 0.0) || return nothing
    if p2 == 1
        simplify_ops.mul != 0 && return binary_node(simplify_ops.mul, const_node(k2), x)
        simplify_ops.div != 0 && return binary_node(simplify_ops.div, x, const_node(1.0 / k2))
        return nothing
    else
        simplify_ops.div != 0 || return nothing
        return binary_node(simplify_ops.div, const_node(k2), x)
    end
end
