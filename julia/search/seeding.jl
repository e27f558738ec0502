# Seeding of the populations from exhaustive enumeration: every distinct small
# expression is scored (the best of each complexity reaches the hall of
# fame), and the best ones start the populations.

"""
    enumeration_seeds(data, opts, ps, t0) -> Vector{PopMember}

Seeding from exhaustive enumeration: every value-distinct expression up to
`opts.enumeration.enumerate_max_complexity` (at most `opts.enumeration.enumerate_max_candidates`,
within `opts.enumeration.enumerate_time_budget` seconds of `t0` unless deterministic;
see julia/evolution/enumeration.jl) is scored by `new_member` on `ps` (so the best formula
of each complexity lands in `ps.best`), those with constants after a
constant fit. With linear scaling, expressions equal up to `a*f + b` are
scored once. Returns the scored members, best score first.
"""
function enumeration_seeds(data::Dataset, opts::Options, ps::PopulationState, t0::Float64)::Vector{PopMember}
    K = opts.enumeration.enumerate_max_complexity
    K > 0 || return PopMember[]
    deadline = opts.control.deterministic ? Inf : t0 + opts.enumeration.enumerate_time_budget
    en = enumerate_expressions(data.X, opts; max_complexity=K,
                               max_candidates=opts.enumeration.enumerate_max_candidates, deadline=deadline)
    idx = ps.scaling ? affine_distinct(en) : collect(eachindex(en.trees))
    # a quick constant fit: no restarts
    qopts = copy(opts)
    cf = opts.constant_fitting
    qopts.constant_fitting = ConstantFitting(cf.optimize_probability, cf.optimizer_iterations, 0)
    out = PopMember[]
    # the best constant (weighted mean of y) is the complexity-1 formula
    wm = isempty(data.w) ? mean(data.y) : sum(data.w .* data.y) / sum(data.w)
    push!(out, new_member(const_node(wm), ps, data, opts))
    for i in idx
        time() > deadline && break
        t = copy_tree(en.trees[i])
        (t.degree == 0 && t.isconst) && continue
        m = new_member(t, ps, data, opts)
        if count_constants(t) > 0
            m = optimized_member(m, ps, data, qopts)
        end
        isfinite(m.score) && push!(out, m)
    end
    sort!(out; by=m -> (m.score, m.complexity, m.birth))
    return out
end


"""
    population_seeds(ranked, opts) -> Vector{Vector{Node}}

The seed trees of each population: the best `ranked` members go round-robin
into the populations, a quarter of each population at most.
"""
function population_seeds(ranked::Vector{PopMember}, opts::Options)::Vector{Vector{Node}}
    npop = opts.evolution.populations
    popseeds = [Node[] for _ in 1:npop]
    nseed = max(1, opts.evolution.population_size ÷ 4)
    for (j, m) in enumerate(ranked)
        p = mod1(j, npop)
        length(popseeds[p]) < nseed && push!(popseeds[p], m.tree)
        j >= nseed * npop && break
    end
    return popseeds
end
