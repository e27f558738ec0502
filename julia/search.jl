# The search: several populations evolved in parallel on Julia threads by
# mutation, crossover and simulated-annealing acceptance; after every
# iteration (a barrier) the hall of fame is updated, populations exchange
# migrants, progress is reported and the stopping rules are checked.
# Each population owns its RNG, so with a seed the result does not depend on
# thread scheduling (deterministic mode also disables time-based stopping).

"""Outcome of `run_search`: Pareto-front records and how the search ended."""
struct SearchResult
    records::Vector{Dict{String,Any}}
    stop_reason::String
    iterations::Int
    evals::Int
    elapsed::Float64
end

"""Indices of `*` and `+` in the operator set (0 if absent): linear scaling needs both."""
struct ScalingOps
    mul::Int
    add::Int
end
ScalingOps(ops::OperatorSet) = ScalingOps(something(findfirst(isequal("*"), ops.binnames), 0),
                                          something(findfirst(isequal("+"), ops.binnames), 0))

"""Is linear scaling on for this search (option set and `*`, `+` available)?"""
scaling_active(opts::Options) =
    opts.linear_scaling && (so = ScalingOps(opts.ops); so.mul > 0 && so.add > 0)

"""Everything one population needs while it evolves on its own thread."""
mutable struct PopulationState
    pop::Population
    rng::MersenneTwister
    lw::LossWorkspace
    lwx::LossWorkspace                       # for explicit (scaled) trees offered to `best`
    cw::ConstantWorkspace
    idxbuf::Vector{Int}
    best::Vector{Union{Nothing,PopMember}}   # best seen per complexity this iteration
    freq::Vector{Float64}                    # complexity frequencies (adaptive parsimony)
    births::Int
    evals::Int
    scaling::Bool
    sops::ScalingOps
end

function PopulationState(seed::UInt, data::Dataset, opts::Options)
    return PopulationState(Population(PopMember[]), MersenneTwister(seed), LossWorkspace(data.n),
        LossWorkspace(data.n), ConstantWorkspace(data.n), Int[],
        Union{Nothing,PopMember}[nothing for _ in 1:opts.maxsize], zeros(opts.maxsize), 0, 0,
        scaling_active(opts), ScalingOps(opts.ops))
end

"""Flags shared between the coordinating task and population tasks."""
struct StopSignal
    flag::Threads.Atomic{Bool}
    deadline::Float64      # time() after which populations stop (Inf: none)
end
stop_requested(s::StopSignal) = s.flag[] || time() > s.deadline

# ---------------------------------------------------------------- scoring
#
# Every candidate enters the search through `new_member`, scored as it is.
# With linear scaling the hall of fame also sees, for free, three more real
# formulas made of each candidate f:
#     a1*f,   f + b1,   a*f + b
# (closed-form least-squares coefficients), each with its own honest
# complexity (the extra `*`/`+` nodes and constants count). A variant that
# improves on the population's best at its complexity is built as an
# explicit tree (scaling nodes included, simplified), re-evaluated exactly
# and stored in `st.best`, from where it reaches the hall of fame. Evolution
# itself is unchanged (members keep f's own loss): scoring members by their
# best variant was measured to derail the search towards deep rescaled
# trees. The front only ever holds explicit formulas whose loss is that of
# the tree shown.

# Dimensional analysis (dimensions.jl): an inconsistent candidate gets
# `dimension_penalty` added to its loss during the search (penalise), and is
# never stored as a hall-of-fame formula (forbid), so the front shows only
# dimensionally consistent formulas.

"""Variant kinds: 1 = f, 2 = a1*f, 3 = f + b1, 4 = a*f + b."""
const NVARIANTS = 4

"""Complexity added by each variant's scaling nodes."""
function variant_extra(k::Int, so::ScalingOps, opts::Options)::Int
    k == 1 && return 0
    cm = opts.complexity_of_binops[so.mul] + opts.complexity_of_constants
    ca = opts.complexity_of_binops[so.add] + opts.complexity_of_constants
    return k == 2 ? cm : k == 3 ? ca : cm + ca
end

@inline _wi(w::Vector{Float64}, i::Int) = isempty(w) ? 1.0 : @inbounds w[i]

function _variant_losses(kind::Val{KIND}, p::Vector{Float64}, y::Vector{Float64}, w::Vector{Float64},
                         δ::Float64, a1::Float64, b1::Float64, a::Float64, b::Float64) where {KIND}
    s1 = 0.0; s2 = 0.0; s3 = 0.0; s4 = 0.0
    @inbounds for i in eachindex(p)
        wi = _wi(w, i); pi = p[i]; yi = y[i]
        s1 += wi * elementwise_loss(kind, pi, yi, δ)
        s2 += wi * elementwise_loss(kind, a1 * pi, yi, δ)
        s3 += wi * elementwise_loss(kind, pi + b1, yi, δ)
        s4 += wi * elementwise_loss(kind, a * pi + b, yi, δ)
    end
    return (s1, s2, s3, s4)
end

function _variant_losses_custom(f::F, p::Vector{Float64}, y::Vector{Float64}, w::Vector{Float64},
                                a1::Float64, b1::Float64, a::Float64, b::Float64) where {F}
    s1 = 0.0; s2 = 0.0; s3 = 0.0; s4 = 0.0
    @inbounds for i in eachindex(p)
        wi = _wi(w, i); pi = p[i]; yi = y[i]
        s1 += wi * Float64(f(pi, yi)); s2 += wi * Float64(f(a1 * pi, yi))
        s3 += wi * Float64(f(pi + b1, yi)); s4 += wi * Float64(f(a * pi + b, yi))
    end
    return (s1, s2, s3, s4)
end

@inline _finite_mean(s::Float64, invsw::Float64) = isfinite(s) ? s * invsw : Inf

"""
    scaling_variants(pred, data, opts) -> (losses, as, bs)

Coefficients and losses of the four variants of predictions `pred` (see
`NVARIANTS`): a1 = least squares through the origin, b1 = mean residual,
(a, b) = `fit_linear_scaling`. A variant whose coefficients are unusable
(constant predictions) gets loss Inf.
"""
function scaling_variants(pred::Vector{Float64}, data::Dataset, opts::Options)
    y = data.y; w = data.w
    sw = 0.0; sp = 0.0; sy = 0.0; spp = 0.0; spy = 0.0
    @inbounds for i in eachindex(pred)
        wi = _wi(w, i); pi = pred[i]
        sw += wi; sp += wi * pi; sy += wi * y[i]; spp += wi * pi * pi; spy += wi * pi * y[i]
    end
    a1 = spp > 0 ? spy / spp : 0.0
    b1 = (sy - sp) / sw
    a, b = fit_linear_scaling(pred, data)
    δ = opts.huber_delta
    s = if opts.loss === :L2
        _variant_losses(Val(:L2), pred, y, w, δ, a1, b1, a, b)
    elseif opts.loss === :L1
        _variant_losses(Val(:L1), pred, y, w, δ, a1, b1, a, b)
    elseif opts.loss === :Huber
        _variant_losses(Val(:Huber), pred, y, w, δ, a1, b1, a, b)
    else
        _variant_losses_custom(opts.custom_loss, pred, y, w, a1, b1, a, b)
    end
    invsw = 1.0 / sw
    losses = (_finite_mean(s[1], invsw), (isfinite(a1) && a1 != 0.0) ? _finite_mean(s[2], invsw) : Inf,
              isfinite(b1) ? _finite_mean(s[3], invsw) : Inf,
              (isfinite(a) && a != 0.0 && isfinite(b)) ? _finite_mean(s[4], invsw) : Inf)
    return losses, (1.0, a1, 1.0, a), (0.0, 0.0, b1, b)
end

"""The explicit formula of variant `k` of `f` (a new tree; `f` is copied)."""
function explicit_tree(f::Node, k::Int, a::Float64, b::Float64, so::ScalingOps)::Node
    t = copy_tree(f)
    (k == 2 || k == 4) && (t = binary_node(so.mul, const_node(a), t))
    (k == 3 || k == 4) && (t = binary_node(so.add, t, const_node(b)))
    return t
end

"""Keep `m` (not copied) as the best at its complexity if it beats the current one."""
function store_best!(st::PopulationState, m::PopMember)
    c = m.complexity
    (1 <= c <= length(st.best) && isfinite(m.loss)) || return
    cur = st.best[c]
    (cur === nothing || m.loss < cur.loss) && (st.best[c] = m)
    return
end

record_best!(st::PopulationState, m::PopMember) = store_best!(st, copy_member(m))

"""Build variant `k` of `f` explicitly, evaluate it exactly and offer it to `st.best`."""
function offer_explicit!(st::PopulationState, f::Node, k::Int, a::Float64, b::Float64,
                         data::Dataset, opts::Options)
    t = explicit_tree(f, k, a, b, st.sops)
    opts.should_simplify && (t = simplify_tree(t, opts))
    check_constraints(t, opts) || return
    c = compute_complexity(t, opts)
    dimension_penalty(t, opts) == 0.0 || return
    loss = eval_loss(t, data, opts, st.lwx)
    isfinite(loss) || return
    store_best!(st, PopMember(t, loss, member_score(loss, c, data.baseline_loss, opts), c, st.births))
end

"""
    new_member(tree, st, data, opts) -> PopMember

Score a candidate (one evaluation) and offer it to the population's
per-complexity best. Without linear scaling (or for trees without features)
the member is the tree with its own loss; with it, see the comment above.
"""
function new_member(tree::Node, st::PopulationState, data::Dataset, opts::Options)::PopMember
    st.evals += 1
    st.births += 1
    c = compute_complexity(tree, opts)
    lw = st.lw
    if !eval_tree!(lw.pred, tree, data.X, opts.ops, lw.ws)
        return PopMember(tree, Inf, Inf, c, st.births)
    end
    # pen: penalty of f itself; spen: of a*f (a free-dimension factor fixes f's units)
    pen, spen = dimension_penalties(tree, opts)
    if !(st.scaling && has_feature(tree))
        loss = loss_of_predictions(lw.pred, data, opts) + pen
        m = PopMember(tree, loss, member_score(loss, c, data.baseline_loss, opts), c, st.births)
        pen == 0.0 && record_best!(st, m)
        return m
    end
    losses, as, bs = scaling_variants(lw.pred, data, opts)
    for k in 1:NVARIANTS
        l = losses[k] + (k == 2 || k == 4 ? spen : pen)
        isfinite(l) || continue
        cv = c + variant_extra(k, st.sops, opts)
        cv <= opts.maxsize || continue
        cur = st.best[cv]
        if cur === nothing || l < cur.loss
            offer_explicit!(st, tree, k, as[k], bs[k], data, opts)
        end
    end
    loss = losses[1] + pen
    return PopMember(tree, loss, member_score(loss, c, data.baseline_loss, opts), c, st.births)
end

"""
    optimized_member(m, st, data, opts) -> PopMember

Fit the constants of a copy of `m.tree` and score the result as a new
member (which is returned, keeping `m`'s birth, if its score is better; else
`m`). With linear scaling, a second copy has its constants fitted jointly
with the scaling of the explicit `a*f + b` (so `exp(c x^2)` can reach the
`c` that `a*exp(c x^2)` needs); its variants reach the hall of fame through
`new_member`, and it becomes the member if its own score is better.
"""
function optimized_member(m::PopMember, st::PopulationState, data::Dataset, opts::Options)::PopMember
    count_constants(m.tree) > 0 || return m
    f = copy_tree(m.tree)
    optimize_constants!(f, data, opts, st.rng, st.cw)
    st.evals += 1
    child = new_member(f, st, data, opts)
    if st.scaling && has_feature(m.tree)
        g = copy_tree(m.tree)
        if eval_tree!(st.lw.pred, g, data.X, opts.ops, st.lw.ws)
            a, b = fit_linear_scaling(st.lw.pred, data)
            if isfinite(a) && isfinite(b) && a != 0.0
                e = binary_node(st.sops.add, binary_node(st.sops.mul, const_node(a), g), const_node(b))
                optimize_constants!(e, data, opts, st.rng, st.cw)   # updates g's constants in place
                st.evals += 1
                alt = new_member(g, st, data, opts)
                alt.score < child.score && (child = alt)
            end
        end
    end
    child.score < m.score || return m
    child.birth = m.birth
    return child
end

"""A random tree that satisfies the constraints (falls back to a single leaf)."""
function random_valid_tree(nnodes::Int, opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    for _ in 1:20
        t = random_tree(nnodes, opts, nfeatures, rng)
        check_constraints(t, opts) && return t
    end
    return random_leaf(nfeatures, rng)
end

"""A population of `opts.population_size`: copies of `seeds` first, then random trees."""
function init_population_state(seed::UInt, data::Dataset, opts::Options,
                               seeds::Vector{Node}=Node[])::PopulationState
    st = PopulationState(seed, data, opts)
    rng = st.rng
    for i in 1:opts.population_size
        t = i <= length(seeds) ? copy_tree(seeds[i]) :
            random_valid_tree(rand(rng, 1:min(5, opts.maxsize)), opts, data.nfeatures, rng)
        push!(st.pop.members, new_member(t, st, data, opts))
    end
    return st
end

"""One mutation attempt of `parent`; returns the child (or a copy of the parent if rejected)."""
function mutation_step(parent::PopMember, temperature::Float64, st::PopulationState,
                       data::Dataset, opts::Options, freq::Vector{Float64})::PopMember
    rng = st.rng
    kind = choose_mutation(parent.tree, opts, data.nfeatures, rng)
    if kind === :do_nothing
        st.births += 1
        m = copy_member(parent); m.birth = st.births
        return m
    end
    tree = mutate(parent.tree, kind, temperature, opts, data.nfeatures, rng)
    if !check_constraints(tree, opts)
        st.births += 1
        m = copy_member(parent); m.birth = st.births
        return m
    end
    child = if kind === :optimize
        om = optimized_member(parent, st, data, opts)
        om === parent ? (st.births += 1; m = copy_member(parent); m.birth = st.births; m) : om
    else
        new_member(tree, st, data, opts)
    end
    if accept_candidate(child.score, parent.score, child.complexity, parent.complexity,
                        temperature, freq, opts, rng)
        return child
    end
    st.births += 1
    m = copy_member(parent); m.birth = st.births
    return m
end

"""Replace the oldest member by `m` and account for it."""
function replace_oldest!(st::PopulationState, m::PopMember)
    st.pop.members[oldest_index(st.pop)] = m
    1 <= m.complexity <= length(st.freq) && (st.freq[m.complexity] += 1.0)
end

"""
    evolve!(st, data, opts, freq, stop)

One iteration of one population: `ncycles_per_iteration` temperature steps
(T from 1 down to 0), each a round of tournament selection, mutation or
crossover, annealing acceptance and age-regularised replacement; then
constant optimisation of members with probability `optimize_probability`.
"""
function evolve!(st::PopulationState, data::Dataset, opts::Options,
                 freq::Vector{Float64}, stop::StopSignal)
    rng = st.rng
    nc = opts.ncycles_per_iteration
    rounds = cld(opts.population_size, opts.tournament_selection_n)
    for cycle in 1:nc
        temperature = nc > 1 ? 1.0 - (cycle - 1) / (nc - 1) : 1.0
        for _ in 1:rounds
            if rand(rng) < opts.crossover_probability
                a = tournament(st.pop, freq, opts, rng, st.idxbuf)
                b = tournament(st.pop, freq, opts, rng, st.idxbuf)
                ta, tb = crossover_trees(a.tree, b.tree, rng)
                if check_constraints(ta, opts) && check_constraints(tb, opts)
                    replace_oldest!(st, new_member(ta, st, data, opts))
                    replace_oldest!(st, new_member(tb, st, data, opts))
                end
            else
                parent = tournament(st.pop, freq, opts, rng, st.idxbuf)
                replace_oldest!(st, mutation_step(parent, temperature, st, data, opts, freq))
            end
        end
        if stop_requested(stop)
            break
        end
        yield()   # let the coordinating task (progress, interrupts) run
    end
    # constant optimisation (and simplification) of a random subset
    for (i, m) in enumerate(st.pop.members)
        if opts.should_simplify && m.tree.degree > 0
            s = simplify_tree(m.tree, opts)
            if count_nodes(s) < count_nodes(m.tree) && check_constraints(s, opts)
                m = new_member(s, st, data, opts)
                st.pop.members[i] = m
            end
        end
        if rand(rng) < opts.optimize_probability && count_constants(m.tree) > 0
            st.pop.members[i] = optimized_member(m, st, data, opts)
        end
    end
    return st
end

"""Move migrants into each population: from the best of all populations and from the hall of fame."""
function migrate!(states::Vector{PopulationState}, hof::HallOfFame, opts::Options,
                  rng::AbstractRNG)
    # pool: the topn members (by score) of each population
    pool = PopMember[]
    for st in states
        sorted = sort(st.pop.members; by=m -> m.score)
        append!(pool, sorted[1:min(opts.topn, length(sorted))])
    end
    front = pareto_front(hof)
    for st in states
        n = length(st.pop.members)
        for i in 1:n
            r = rand(rng)
            if r < opts.fraction_replaced && !isempty(pool)
                src = pool[rand(rng, 1:length(pool))]
            elseif r < opts.fraction_replaced + opts.fraction_replaced_hof && !isempty(front)
                src = front[rand(rng, 1:length(front))]
            else
                continue
            end
            m = copy_member(src)
            m.birth = st.pop.members[i].birth     # migrant takes the slot's age
            st.pop.members[i] = m
        end
    end
end

"""
    enumeration_seeds(data, opts, st, t0) -> Vector{PopMember}

Seeding from exhaustive enumeration: every value-distinct expression up to
`opts.enumerate_max_complexity` (at most `opts.enumerate_max_candidates`,
within `opts.enumerate_time_budget` seconds of `t0` unless deterministic;
see enumeration.jl) is scored by `new_member` on `st` (so the best formula
of each complexity lands in `st.best`), those with constants after a
constant fit. With linear scaling, expressions equal up to `a*f + b` are
scored once. Returns the scored members, best score first.
"""
function enumeration_seeds(data::Dataset, opts::Options, st::PopulationState, t0::Float64)::Vector{PopMember}
    K = opts.enumerate_max_complexity
    K > 0 || return PopMember[]
    deadline = opts.deterministic ? Inf : t0 + opts.enumerate_time_budget
    en = enumerate_expressions(data.X, opts; max_complexity=K,
                               max_candidates=opts.enumerate_max_candidates, deadline=deadline)
    idx = st.scaling ? affine_distinct(en) : collect(eachindex(en.trees))
    # a quick constant fit: no restarts
    qopts = Options((getfield(opts, f) for f in fieldnames(Options))...)
    qopts.optimizer_nrestarts = 0
    out = PopMember[]
    # the best constant (weighted mean of y) is the complexity-1 formula
    wm = isempty(data.w) ? mean(data.y) : sum(data.w .* data.y) / sum(data.w)
    push!(out, new_member(const_node(wm), st, data, opts))
    for i in idx
        time() > deadline && break
        t = copy_tree(en.trees[i])
        (t.degree == 0 && t.isconst) && continue
        m = new_member(t, st, data, opts)
        if count_constants(t) > 0
            m = optimized_member(m, st, data, qopts)
        end
        isfinite(m.score) && push!(out, m)
    end
    sort!(out; by=m -> (m.score, m.complexity, m.birth))
    return out
end

"""
    run_search(data, opts; on_progress = p -> nothing, should_stop = () -> false) -> SearchResult

Run the evolutionary search. `on_progress(p::Dict)` is called on the calling
task roughly every `opts.progress_interval` seconds (and once before the first
iteration) with "iteration", "niterations", "evals", "evals_per_second",
"elapsed", "best_loss" and "records" (the current Pareto front).
`should_stop()` is polled on the calling task; returning true ends the search
cleanly and the result holds everything found so far.
"""
function run_search(data::Dataset, opts::Options;
                    on_progress::Function=p -> nothing, should_stop::Function=() -> false)
    t0 = time()
    validate_options(opts)
    data.baseline_loss = baseline_loss(data, opts)
    master = MersenneTwister(UInt(opts.seed))
    seeds = [rand(master, UInt) for _ in 1:opts.populations]
    deadline = (opts.timeout_in_seconds > 0 && !opts.deterministic) ? t0 + opts.timeout_in_seconds : Inf
    stop = StopSignal(Threads.Atomic{Bool}(false), deadline)
    hof = HallOfFame(opts.maxsize)

    # seeding from exhaustive enumeration: the best distinct small expressions
    # go round-robin into the populations (a quarter of each at most)
    enum_state = PopulationState(rand(master, UInt), data, opts)
    ranked = enumeration_seeds(data, opts, enum_state, t0)
    for m in enum_state.best
        m === nothing || offer!(hof, m)
    end
    popseeds = [Node[] for _ in 1:opts.populations]
    nseed = max(1, opts.population_size ÷ 4)
    for (j, m) in enumerate(ranked)
        p = mod1(j, opts.populations)
        length(popseeds[p]) < nseed && push!(popseeds[p], m.tree)
        j >= nseed * opts.populations && break
    end

    states = Vector{PopulationState}(undef, opts.populations)
    tasks = [Threads.@spawn init_population_state(seeds[i], data, opts, popseeds[i]) for i in 1:opts.populations]
    for i in 1:opts.populations
        states[i] = fetch(tasks[i])
    end
    for st in states, m in st.best
        m === nothing || offer!(hof, m)
    end

    freq = zeros(opts.maxsize)
    evals() = enum_state.evals + sum(st.evals for st in states)
    last_progress = 0.0
    function report(iter)
        el = time() - t0
        front = pareto_front(hof)
        on_progress(Dict{String,Any}(
            "iteration" => iter, "niterations" => opts.niterations, "evals" => evals(),
            "evals_per_second" => el > 0 ? evals() / el : 0.0, "elapsed" => el,
            "best_loss" => isempty(front) ? Inf : front[end].loss,
            "records" => hof_records(hof, data, opts; uncertainties=false)))
        last_progress = time()
    end
    report(0)

    stop_reason = "niterations"
    iter = 0
    while iter < opts.niterations
        if should_stop()
            stop_reason = "interrupted"; break
        end
        iter += 1
        for st in states
            fill!(st.best, nothing)
            fill!(st.freq, 0.0)
        end
        ptasks = [Threads.@spawn evolve!(states[i], data, opts, freq, stop) for i in 1:opts.populations]
        # wait, polling the caller's stop request so an interrupt takes effect mid-iteration
        for t in ptasks
            while !istaskdone(t)
                if !stop.flag[] && should_stop()
                    stop.flag[] = true
                end
                sleep(0.01)
            end
            fetch(t)   # rethrows a population's exception
        end
        # barrier: merge in a fixed order (deterministic)
        for st in states, m in st.best
            m === nothing || offer!(hof, m)
        end
        total = zeros(opts.maxsize)
        for st in states
            total .+= st.freq
        end
        s = sum(total)
        s > 0 && (freq .= total ./ s)
        migrate!(states, hof, opts, master)

        front = pareto_front(hof)
        if stop.flag[]
            stop_reason = "interrupted"; break
        end
        if time() > stop.deadline
            stop_reason = "timeout"; break
        end
        if opts.max_evals > 0 && evals() >= opts.max_evals
            stop_reason = "max_evals"; break
        end
        if !isnan(opts.early_stop_condition) && !isempty(front) &&
           front[end].loss <= opts.early_stop_condition
            stop_reason = "early_stop_condition"; break
        end
        if time() - last_progress >= opts.progress_interval
            report(iter)
        end
    end
    report(iter)
    return SearchResult(hof_records(hof, data, opts), stop_reason, iter, evals(), time() - t0)
end
