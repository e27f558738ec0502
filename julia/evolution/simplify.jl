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
        return merge_constants(n, simplify_ops, +)
    elseif op == simplify_ops.sub
        is_const_val(r, 0.0) && return l
        tree_equal(l, r) && return const_node(0.0)
        (isneg(r) && simplify_ops.add != 0) && return binary_node(simplify_ops.add, l, r.l)   # x - neg(y)
        return merge_constants(n, simplify_ops, +)
    elseif op == simplify_ops.mul
        is_const_val(r, 1.0) && return l
        is_const_val(l, 1.0) && return r
        return merge_constants(n, simplify_ops, *)
    elseif op == simplify_ops.div
        is_const_val(r, 1.0) && return l
        (tree_equal(l, r) && !is_const_val(l, 0.0)) && return const_node(1.0)
        return merge_constants(n, simplify_ops, *)
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

"""
    merge_constants(n, simplify_ops, group) -> Union{Node,Nothing}

`(a ∘ b)` for ∘ in `(+, -)` (`group = +`) or in `(*, /)` (`group = *`),
with one side constant and the other `s*x + k` (`affine_parts`) or
`k * x^p` (`power_parts`): merge the constants, giving `x + k` or `k - x`,
`k * x` or `k / x` (or `x - c`, `x / c` when `+`, `*` are absent).
"""
function merge_constants(n::Node, simplify_ops::SimplifyOps,
                         group::Union{typeof(+),typeof(*)})::Union{Node,Nothing}
    additive = group === (+)
    op, inverse_op = additive ? (simplify_ops.add, simplify_ops.sub) : (simplify_ops.mul, simplify_ops.div)
    inverse = additive ? (-) : (/)
    parts_of = additive ? affine_parts : power_parts
    if is_const_leaf(n.r) && !is_const_leaf(n.l)
        parts = parts_of(n.l, simplify_ops); c2 = n.r.val; inner_left = true
    elseif is_const_leaf(n.l) && !is_const_leaf(n.r)
        parts = parts_of(n.r, simplify_ops); c2 = n.l.val; inner_left = false
    else
        return nothing
    end
    parts === nothing && return nothing
    e, x, k = parts                   # the inner side: e*x + k, or k * x^e (e = ±1)
    if n.op == op                     # (inner) ∘ c2
        e2 = e; k2 = group(k, c2)
    elseif inner_left                 # (inner) -/÷ c2
        e2 = e; k2 = inverse(k, c2)
    else                              # c2 -/÷ (inner)
        e2 = -e; k2 = inverse(c2, k)
    end
    # a product merged to 0 is left alone (0 * x, 0 / x)
    (isfinite(k2) && (additive || k2 != 0.0)) || return nothing
    if e2 == 1
        if op != 0
            return additive ? binary_node(op, x, const_node(k2)) : binary_node(op, const_node(k2), x)
        end
        inverse_op != 0 && return binary_node(inverse_op, x, const_node(additive ? -k2 : 1.0 / k2))
        return nothing
    else
        inverse_op != 0 || return nothing
        return binary_node(inverse_op, const_node(k2), x)
    end
end
