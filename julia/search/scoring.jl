# Scoring of candidates. Every candidate enters the search through
# `new_member`, scored as it is (one evaluation), and is offered to the
# population's per-complexity best (`ps.best`), from where it reaches the
# hall of fame; `optimized_member` fits a member's constants first.
#
# With linear scaling the hall of fame also sees, for free, three more real
# formulas made of each candidate f (julia/search/scaled_variants.jl):
#     a1*f,   f + b1,   a*f + b
# A variant that improves on the population's best at its complexity is
# built as an explicit tree (scaling nodes included, simplified),
# re-evaluated exactly and stored in `ps.best`. Evolution itself is
# unchanged (members keep f's own loss): scoring members by their best
# variant was measured to derail the search towards deep rescaled trees. The
# front only ever holds explicit formulas whose loss is that of the tree
# shown.
#
# Dimensional analysis (julia/dimensions/): an inconsistent candidate gets
# `dimension_penalty` added to its loss during the search (penalise), and is
# never stored as a hall-of-fame formula (forbid), so the front shows only
# dimensionally consistent formulas.

"""Keep `m` (not copied) as the best at its complexity if it beats the current one."""
function store_best!(ps::PopulationState, m::PopMember)
    c = m.complexity
    (1 <= c <= length(ps.best) && isfinite(m.loss)) || return
    cur = ps.best[c]
    (cur === nothing || m.loss < cur.loss) && (ps.best[c] = m)
    return
end

record_best!(ps::PopulationState, m::PopMember) = store_best!(ps, copy_member(m))

"""Build variant `k` of `f` explicitly, evaluate it exactly and offer it to `ps.best`."""
function offer_explicit!(ps::PopulationState, f::Node, k::Int, a::Float64, b::Float64,
                         data::Dataset, opts::Options)
    t = explicit_tree(f, k, a, b, ps.scale_ops)
    opts.evolution.should_simplify && (t = simplify_tree(t, opts))
    check_constraints(t, opts) || return
    c = compute_complexity(t, opts)
    dimension_penalty(t, opts) == 0.0 || return
    loss = eval_loss(t, data, opts, ps.lwx)
    isfinite(loss) || return
    store_best!(ps, PopMember(t, loss, member_score(loss, c, data.baseline_loss, opts), c, ps.births))
end

"""
    new_member(tree, ps, data, opts) -> PopMember

Score a candidate (one evaluation) and offer it to the population's
per-complexity best. Without linear scaling (or for trees without features)
the member is the tree with its own loss; with it, see the comment above.
"""
function new_member(tree::Node, ps::PopulationState, data::Dataset, opts::Options)::PopMember
    ps.evals += 1
    ps.births += 1
    c = compute_complexity(tree, opts)
    lw = ps.lw
    if !eval_tree!(lw.pred, tree, data.X, opts.ops, lw.ws)
        return PopMember(tree, Inf, Inf, c, ps.births)
    end
    # pen: penalty of f itself; spen: of a*f (a free-dimension factor fixes f's units)
    pen, spen = dimension_penalties(tree, opts)
    if !(ps.scaling && has_feature(tree))
        loss = loss_of_predictions(lw.pred, data, opts) + pen
        m = PopMember(tree, loss, member_score(loss, c, data.baseline_loss, opts), c, ps.births)
        pen == 0.0 && record_best!(ps, m)
        return m
    end
    losses, as, bs = scaling_variants(lw.pred, data, opts)
    for k in 1:NVARIANTS
        l = losses[k] + (k == 2 || k == 4 ? spen : pen)
        isfinite(l) || continue
        cv = c + variant_extra(k, ps.scale_ops, opts)
        cv <= opts.constraints.maxsize || continue
        cur = ps.best[cv]
        if cur === nothing || l < cur.loss
            offer_explicit!(ps, tree, k, as[k], bs[k], data, opts)
        end
    end
    loss = losses[1] + pen
    return PopMember(tree, loss, member_score(loss, c, data.baseline_loss, opts), c, ps.births)
end

"""
    optimized_member(m, ps, data, opts) -> PopMember

Fit the constants of a copy of `m.tree` and score the result as a new
member (which is returned, keeping `m`'s birth, if its score is better; else
`m`). With linear scaling, a second copy has its constants fitted jointly
with the scaling of the explicit `a*f + b` (so `exp(c x^2)` can reach the
`c` that `a*exp(c x^2)` needs); its variants reach the hall of fame through
`new_member`, and it becomes the member if its own score is better.
"""
function optimized_member(m::PopMember, ps::PopulationState, data::Dataset, opts::Options)::PopMember
    count_constants(m.tree) > 0 || return m
    f = copy_tree(m.tree)
    optimize_constants!(f, data, opts, ps.rng, ps.cw)
    ps.evals += 1
    child = new_member(f, ps, data, opts)
    if ps.scaling && has_feature(m.tree)
        g = copy_tree(m.tree)
        if eval_tree!(ps.lw.pred, g, data.X, opts.ops, ps.lw.ws)
            a, b = fit_linear_scaling(ps.lw.pred, data)
            if isfinite(a) && isfinite(b) && a != 0.0
                e = binary_node(ps.scale_ops.add, binary_node(ps.scale_ops.mul, const_node(a), g), const_node(b))
                optimize_constants!(e, data, opts, ps.rng, ps.cw)   # updates g's constants in place
                ps.evals += 1
                alt = new_member(g, ps, data, opts)
                alt.score < child.score && (child = alt)
            end
        end
    end
    child.score < m.score || return m
    child.birth = m.birth
    return child
end

