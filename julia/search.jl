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

"""Everything one population needs while it evolves on its own thread."""
mutable struct PopulationState
    pop::Population
    rng::MersenneTwister
    lw::LossWorkspace
    cw::ConstantWorkspace
    idxbuf::Vector{Int}
    best::Vector{Union{Nothing,PopMember}}   # best seen per complexity this iteration
    freq::Vector{Float64}                    # complexity frequencies (adaptive parsimony)
    births::Int
    evals::Int
end

"""Flags shared between the coordinating task and population tasks."""
struct StopSignal
    flag::Threads.Atomic{Bool}
    deadline::Float64      # time() after which populations stop (Inf: none)
end
stop_requested(s::StopSignal) = s.flag[] || time() > s.deadline

function new_member(tree::Node, st::PopulationState, data::Dataset, opts::Options)::PopMember
    loss = eval_loss(tree, data, opts, st.lw)
    st.evals += 1
    c = compute_complexity(tree, opts)
    st.births += 1
    return PopMember(tree, loss, member_score(loss, c, data.baseline_loss, opts), c, st.births)
end

function rescore!(m::PopMember, data::Dataset, opts::Options)
    m.score = member_score(m.loss, m.complexity, data.baseline_loss, opts)
    return m
end

function record_best!(st::PopulationState, m::PopMember)
    c = m.complexity
    (1 <= c <= length(st.best) && isfinite(m.loss)) || return
    cur = st.best[c]
    if cur === nothing || m.loss < cur.loss
        st.best[c] = copy_member(m)
    end
    return
end

"""A random tree that satisfies the constraints (falls back to a single leaf)."""
function random_valid_tree(nnodes::Int, opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    for _ in 1:20
        t = random_tree(nnodes, opts, nfeatures, rng)
        check_constraints(t, opts) && return t
    end
    return random_leaf(nfeatures, rng)
end

function init_population_state(seed::UInt, data::Dataset, opts::Options)::PopulationState
    rng = MersenneTwister(seed)
    st = PopulationState(Population(PopMember[]), rng, LossWorkspace(data.n),
        ConstantWorkspace(data.n), Int[], Union{Nothing,PopMember}[nothing for _ in 1:opts.maxsize],
        zeros(opts.maxsize), 0, 0)
    for _ in 1:opts.population_size
        t = random_valid_tree(rand(rng, 1:min(5, opts.maxsize)), opts, data.nfeatures, rng)
        m = new_member(t, st, data, opts)
        push!(st.pop.members, m)
        record_best!(st, m)
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
        t = copy_tree(parent.tree)
        loss = optimize_constants!(t, data, opts, rng, st.cw)
        st.evals += 1
        st.births += 1
        c = compute_complexity(t, opts)
        PopMember(t, loss, member_score(loss, c, data.baseline_loss, opts), c, st.births)
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
    record_best!(st, m)
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
                st.births += 1
                m = new_member(s, st, data, opts)
                st.pop.members[i] = m
            end
        end
        if rand(rng) < opts.optimize_probability && count_constants(m.tree) > 0
            t = copy_tree(m.tree)
            loss = optimize_constants!(t, data, opts, rng, st.cw)
            st.evals += 1
            if loss < m.loss
                m.tree = t; m.loss = loss
                rescore!(m, data, opts)
            end
        end
        record_best!(st, m)
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

    states = Vector{PopulationState}(undef, opts.populations)
    tasks = [Threads.@spawn init_population_state(seeds[i], data, opts) for i in 1:opts.populations]
    for i in 1:opts.populations
        states[i] = fetch(tasks[i])
    end
    for st in states, m in st.best
        m === nothing || offer!(hof, m)
    end

    freq = zeros(opts.maxsize)
    evals() = sum(st.evals for st in states)
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
