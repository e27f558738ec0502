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
#
# Candidates are scored on the population's scoring rows (`scoring_data`:
# its current batch with batching, else all rows); `best` only keeps a
# candidate that beats the hall of fame's loss at its complexity as the
# iteration started (`ps.hof_loss`); with batching, `rescore_best!` then
# replaces each batch loss in `best` by the full-data loss (or drops the
# entry) before the hall of fame sees it.

"""Could a candidate of loss `loss` and complexity `c` enter `best` (and from there the hall of fame)?"""
@inline function improves_best(ps::PopulationState, loss::Float64, c::Int)::Bool
    (1 <= c <= length(ps.best) && isfinite(loss) && loss < @inbounds ps.hof_loss[c]) || return false
    cur = @inbounds ps.best[c]
    return cur === nothing || loss < cur.loss
end

"""Keep `m` (not copied) as the best at its complexity if it beats the current one and the hall of fame."""
function store_best!(ps::PopulationState, m::PopMember)
    improves_best(ps, m.loss, m.complexity) && (ps.best[m.complexity] = m)
    return
end

"""
Keep a new member like `m` (sharing its tree, which is never modified in
place) as the best at its complexity if it beats the current one and the
hall of fame.
"""
function record_best!(ps::PopulationState, m::PopMember)
    improves_best(ps, m.loss, m.complexity) &&
        (ps.best[m.complexity] = PopMember(m.tree, m.loss, m.score, m.complexity, m.birth))
    return
end

"""Build variant `k` of `f` explicitly, evaluate it exactly (on the scoring rows) and offer it to `ps.best`."""
function offer_explicit!(ps::PopulationState, f::Node, k::Int, a::Float64, b::Float64,
                         data::Dataset, opts::Options)
    t = explicit_tree(f, k, a, b, ps.scale_ops)
    opts.evolution.should_simplify && (t = simplify_tree(t, opts))
    check_constraints(t, opts) || return
    c = compute_complexity(t, opts)
    dimension_penalty(t, opts) == 0.0 || return
    sd = scoring_data(ps, data)
    loss = eval_loss(t, sd, opts, ps.lwx)
    isfinite(loss) || return
    store_best!(ps, PopMember(t, loss, member_score(loss, c, sd.baseline_loss, opts), c, ps.births))
end

"""
    new_member(tree, ps, data, opts) -> PopMember

Score a candidate (one evaluation, on the population's scoring rows) and
offer it to the population's per-complexity best. Without linear scaling
(or for trees without features) the member is the tree with its own loss;
with it, see the comment above.
"""
function new_member(tree::Node, ps::PopulationState, data::Dataset, opts::Options)::PopMember
    ps.evals += 1
    ps.births += 1
    c = compute_complexity(tree, opts)
    lw = ps.lw
    sd = scoring_data(ps, data)
    if !eval_tree!(lw.pred, tree, sd.X, opts.ops, lw.ws)
        return PopMember(tree, Inf, Inf, c, ps.births)
    end
    # pen: penalty of f itself; spen: of a*f (a free-dimension factor fixes f's units)
    pen, spen = dimension_penalties(tree, opts)
    if !(ps.scaling && has_feature(tree))
        loss = loss_of_predictions(lw.pred, sd, opts) + pen
        m = PopMember(tree, loss, member_score(loss, c, sd.baseline_loss, opts), c, ps.births)
        pen == 0.0 && record_best!(ps, m)
        return m
    end
    losses, as, bs = scaling_variants(lw.pred, sd, opts)
    for k in 1:NVARIANTS
        l = losses[k] + (k == 2 || k == 4 ? spen : pen)
        isfinite(l) || continue
        cv = c + variant_extra(k, ps.scale_ops, opts)
        cv <= opts.constraints.maxsize || continue
        if improves_best(ps, l, cv)
            offer_explicit!(ps, tree, k, as[k], bs[k], data, opts)
        end
    end
    loss = losses[1] + pen
    return PopMember(tree, loss, member_score(loss, c, sd.baseline_loss, opts), c, ps.births)
end

"""
    optimized_member(m, ps, data, opts) -> PopMember

Fit the constants of a copy of `m.tree` (on the scoring rows) and score the
result as a new member (which is returned, keeping `m`'s birth, if its
score is better; else `m`). With linear scaling, a second copy has its
constants fitted jointly with the scaling of the explicit `a*f + b` (so
`exp(c x^2)` can reach the `c` that `a*exp(c x^2)` needs); its variants
reach the hall of fame through `new_member`, and it becomes the member if
its own score is better.
"""
function optimized_member(m::PopMember, ps::PopulationState, data::Dataset, opts::Options)::PopMember
    count_constants(m.tree) > 0 || return m
    sd = scoring_data(ps, data)
    f = copy_tree(m.tree)
    optimize_constants!(f, sd, opts, ps.rng, ps.cw)
    ps.evals += 1
    child = new_member(f, ps, data, opts)
    if ps.scaling && has_feature(m.tree)
        g = copy_tree(m.tree)
        if eval_tree!(ps.lw.pred, g, sd.X, opts.ops, ps.lw.ws)
            a, b = fit_linear_scaling(ps.lw.pred, sd)
            if isfinite(a) && isfinite(b) && a != 0.0
                e = binary_node(ps.scale_ops.add, binary_node(ps.scale_ops.mul, const_node(a), g), const_node(b))
                optimize_constants!(e, sd, opts, ps.rng, ps.cw)   # updates g's constants in place
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

"""
    rescore_members!(ps, data, opts)

Re-score every member on the population's current batch (after
`draw_batch!`), so that the members compared in an iteration share one
batch.
"""
function rescore_members!(ps::PopulationState, data::Dataset, opts::Options)
    sd = scoring_data(ps, data)
    lw = ps.lw
    for m in ps.pop.members
        ps.evals += 1
        loss = if eval_tree!(lw.pred, m.tree, sd.X, opts.ops, lw.ws)
            loss_of_predictions(lw.pred, sd, opts) + dimension_penalties(m.tree, opts)[1]
        else
            Inf
        end
        m.loss = loss
        m.score = isfinite(loss) ? member_score(loss, m.complexity, sd.baseline_loss, opts) : Inf
    end
    return ps
end

"""
    rescore_best!(ps, data, opts)

Batching: replace the batch loss of each entry of `ps.best` by its loss on
all rows of `data`, dropping the entries that do not beat the hall of fame
(`ps.hof_loss`) on the full data. Without batching `best` holds full-data
losses already and nothing happens.
"""
function rescore_best!(ps::PopulationState, data::Dataset, opts::Options)
    ps.batched || return ps
    for c in eachindex(ps.best)
        m = ps.best[c]
        m === nothing && continue
        ps.evals += 1
        full = eval_loss(m.tree, data, opts, ps.flw)
        if isfinite(full) && full < ps.hof_loss[c]
            m.loss = full
            m.score = member_score(full, c, data.baseline_loss, opts)
        else
            ps.best[c] = nothing
        end
    end
    return ps
end
