# Options of one search: every knob the engine reads, grouped by concern. The
# defaults of the options the estimator declares come from its declaration
# (core/declared_defaults.jl, generated); the few engine-only fields (the
# per-operator lists, the seed, the custom loss, the units) have theirs here.
#
# The engine reads `opts.<group>.<name>`; the group fields carry the FLAT
# option names of the protocol (`maxsize`, `optimizer_iterations`, ...), so
# `Options(ops, settings)` routes each flat name to its group by field name.
# The protocol (julia/io/options_message.jl) builds an Options from the
# options message sent by Python, which validates every value (one
# validation layer: the declaration's scikit-learn constraints); the engine
# converts types only.

"""Size and shape limits of a candidate tree (checked by `check_constraints`)."""
Base.@kwdef struct Constraints
    maxsize::Int = DECLARED_DEFAULTS.maxsize  # largest complexity
    maxdepth::Int = DECLARED_DEFAULTS.maxdepth  # deepest tree; <= 0: maxsize
    # per binary operator: (max complexity of left arg, of right arg); -1 = unlimited
    bin_constraints::Vector{Tuple{Int,Int}} = Tuple{Int,Int}[]
    # per unary operator: max complexity of the argument; -1 = unlimited
    una_constraints::Vector{Int} = Int[]
    # (outer kind, outer op, inner kind, inner op, max nesting count); kind 1 = unary, 2 = binary
    nested_constraints::Vector{NTuple{5,Int}} = NTuple{5,Int}[]
end

"""Complexity of each kind of node (`compute_complexity`)."""
Base.@kwdef struct ComplexityCosts
    complexity_of_binops::Vector{Int} = Int[]  # per binary operator
    complexity_of_unaops::Vector{Int} = Int[]  # per unary operator
    complexity_of_constants::Int = DECLARED_DEFAULTS.complexity_of_constants
    complexity_of_variables::Int = DECLARED_DEFAULTS.complexity_of_variables
end

"""Per-operator defaults: they depend on the operator set, so `Options` fills them in."""
function per_operator_defaults(ops::OperatorSet)::Dict{Symbol,Any}
    nb = length(ops.binops); nu = length(ops.unaops)
    return Dict{Symbol,Any}(
        :complexity_of_binops => fill(1, nb), :complexity_of_unaops => fill(1, nu),
        :bin_constraints => fill((-1, -1), nb), :una_constraints => fill(-1, nu))
end

"""Shape of the evolution: populations, cycles, crossover and mutation details."""
Base.@kwdef struct Evolution
    populations::Int = DECLARED_DEFAULTS.populations
    population_size::Int = DECLARED_DEFAULTS.population_size
    ncycles_per_iteration::Int = DECLARED_DEFAULTS.ncycles_per_iteration
    crossover_probability::Float64 = DECLARED_DEFAULTS.crossover_probability
    perturbation_factor::Float64 = DECLARED_DEFAULTS.perturbation_factor
    probability_negate_constant::Float64 = DECLARED_DEFAULTS.probability_negate_constant
    should_simplify::Bool = DECLARED_DEFAULTS.should_simplify
end

"""Tournament selection, parsimony and simulated-annealing acceptance."""
Base.@kwdef struct Selection
    tournament_selection_n::Int = DECLARED_DEFAULTS.tournament_selection_n
    tournament_selection_p::Float64 = DECLARED_DEFAULTS.tournament_selection_p
    parsimony::Float64 = DECLARED_DEFAULTS.parsimony
    adaptive_parsimony_scaling::Float64 = DECLARED_DEFAULTS.adaptive_parsimony_scaling
    use_frequency::Bool = DECLARED_DEFAULTS.use_frequency
    annealing::Bool = DECLARED_DEFAULTS.annealing
    alpha::Float64 = DECLARED_DEFAULTS.alpha
end

"""Relative weight of each mutation kind; `MUTATION_KINDS` is the order of these fields."""
Base.@kwdef struct MutationWeights
    mutate_constant::Float64 = 0.048
    mutate_operator::Float64 = 0.47
    swap_operands::Float64 = 0.1
    add_node::Float64 = 0.79
    insert_node::Float64 = 5.1
    delete_node::Float64 = 1.7
    rotate_tree::Float64 = 0.3
    randomize::Float64 = 0.00023
    simplify::Float64 = 0.0020
    optimize::Float64 = 0.0
    do_nothing::Float64 = 0.21
end

"""Names of the mutation kinds, in the order of the fields of `MutationWeights`."""
const MUTATION_KINDS = fieldnames(MutationWeights)

"""The weights as a vector aligned with `MUTATION_KINDS` (a new vector)."""
weight_vector(mw::MutationWeights)::Vector{Float64} = Float64[getfield(mw, i) for i in 1:nfields(mw)]

"""Weights from a vector aligned with `MUTATION_KINDS`."""
function MutationWeights(w::AbstractVector{<:Real})
    length(w) == length(MUTATION_KINDS) ||
        throw(ArgumentError("mutation_weights must have $(length(MUTATION_KINDS)) entries"))
    return MutationWeights((Float64(x) for x in w)...)
end

"""Weights from kind => weight pairs (Symbol or String keys) merged over the defaults."""
function MutationWeights(d::AbstractDict)
    w = weight_vector(MutationWeights())
    for (name, val) in d
        i = findfirst(isequal(Symbol(name)), MUTATION_KINDS)
        i === nothing && throw(ArgumentError(
            "unknown mutation kind $(repr(name)); known: $(join(String.(collect(MUTATION_KINDS)), ", "))"))
        w[i] = Float64(val)
    end
    return MutationWeights(w)
end

"""Constant fitting of members during the search (julia/constants/)."""
Base.@kwdef struct ConstantFitting
    optimize_probability::Float64 = DECLARED_DEFAULTS.optimize_probability  # per member and iteration
    optimizer_iterations::Int = DECLARED_DEFAULTS.optimizer_iterations  # per run
    optimizer_nrestarts::Int = DECLARED_DEFAULTS.optimizer_nrestarts  # runs from perturbed starts after the first
end

"""Exchange of members between populations and from the hall of fame after each iteration."""
Base.@kwdef struct Migration
    fraction_replaced::Float64 = DECLARED_DEFAULTS.fraction_replaced  # by migrants from the best of all populations
    fraction_replaced_hof::Float64 = DECLARED_DEFAULTS.fraction_replaced_hof  # by migrants from the hall of fame
    fraction_replaced_guesses::Float64 = DECLARED_DEFAULTS.fraction_replaced_guesses  # by copies of the guesses
    topn::Int = DECLARED_DEFAULTS.topn  # best members per population in the migrant pool
end

"""Seeding of the populations with all distinct small expressions (julia/evolution/enumeration.jl)."""
Base.@kwdef struct EnumerationSeeding
    enumerate_max_complexity::Int = DECLARED_DEFAULTS.enumerate_max_complexity  # up to this complexity (0: off)
    enumerate_max_candidates::Int = DECLARED_DEFAULTS.enumerate_max_candidates  # ... but at most this many distinct expressions
    enumerate_time_budget::Float64 = DECLARED_DEFAULTS.enumerate_time_budget  # ... and at most this many seconds (ignored when deterministic)
end

"""The loss a candidate is scored with (julia/evaluation/losses.jl)."""
Base.@kwdef struct Objective
    loss::Symbol = DECLARED_DEFAULTS.loss  # :L2, :L1, :Huber, :custom
    huber_delta::Float64 = DECLARED_DEFAULTS.huber_delta
    custom_loss::Any = nothing                # f(prediction, target) -> Real elementwise, or nothing
end

"""Stopping rules, reproducibility and reporting of one run."""
Base.@kwdef struct RunControl
    niterations::Int = DECLARED_DEFAULTS.niterations
    timeout_in_seconds::Float64 = DECLARED_DEFAULTS.timeout_in_seconds  # <= 0: none
    max_evals::Int = DECLARED_DEFAULTS.max_evals  # <= 0: none
    early_stop_condition::Float64 = DECLARED_DEFAULTS.early_stop_condition  # loss threshold; NaN: none
    seed::Int = 0
    deterministic::Bool = DECLARED_DEFAULTS.deterministic  # seeded and independent of timing
    progress_interval::Float64 = DECLARED_DEFAULTS.progress_interval  # seconds between progress reports
    checkpoint_interval::Float64 = DECLARED_DEFAULTS.checkpoint_interval  # seconds between checkpoints (<= 0: only at the end)
end

"""
Where the populations evolve (julia/search/islands.jl, julia/parallel/):
`:serial` (one after the other), `:multithreading` (on this process's
threads) or `:multiprocessing` (on `procs` worker processes of Julia's
Distributed, local, on `hosts` over SSH, or launched by `srun` when
`cluster_manager` is `:slurm`).
"""
Base.@kwdef struct Layout
    parallelism::Symbol = DECLARED_DEFAULTS.parallelism
    procs::Int = DECLARED_DEFAULTS.procs  # local worker processes (0: one per thread of this process)
    hosts::Vector{String} = copy(DECLARED_DEFAULTS.hosts)  # "host" or "host:n" (multiprocessing over SSH)
    cluster_manager::Symbol = DECLARED_DEFAULTS.cluster_manager  # :none or :slurm
    heap_size_hint_in_bytes::Int = DECLARED_DEFAULTS.heap_size_hint_in_bytes  # per worker process (0: none)
end

"""
Mini-batches (julia/search/state.jl, scoring.jl, evolve.jl): with batching,
each population scores its candidates and fits their constants on a fresh
random sample of `batch_size` rows per iteration; the hall of fame only
takes full-data losses. `:auto` turns it on when the data has more than
`BATCHING_AUTO_ROWS` rows (and more rows than `batch_size`).
"""
Base.@kwdef struct Batching
    batching::Symbol = DECLARED_DEFAULTS.batching  # :auto, :on, :off
    batch_size::Int = DECLARED_DEFAULTS.batch_size  # rows per batch
end

"""Rows above which `batching = :auto` turns batching on."""
const BATCHING_AUTO_ROWS = 10_000

"""
    Options

Every setting of one search: the operator set and one sub-struct per
concern (see each type). Mutable so that it is passed by reference through
the engine's function barriers; the engine never modifies an `Options` it
is given (a variant is a `copy` with a group replaced).
"""
mutable struct Options
    ops::OperatorSet
    constraints::Constraints
    complexity::ComplexityCosts
    evolution::Evolution
    selection::Selection
    mutation_weights::MutationWeights
    constant_fitting::ConstantFitting
    migration::Migration
    enumeration::EnumerationSeeding
    objective::Objective
    control::RunControl
    # offer a*f, f + b, a*f + b of each candidate f to the hall of fame (julia/search/scaled_variants.jl)
    linear_scaling::Bool
    # dimensional analysis (julia/dimensions/): nothing, or the DimensionSpec of the
    # features and target with the penalty for inconsistent candidates
    dims::Any
    batches::Batching
    layout::Layout
end

"""The grouped fields of `Options` and their types; the flat names are the fields of each type."""
const OPTION_GROUPS = (:constraints => Constraints, :complexity => ComplexityCosts,
    :evolution => Evolution, :selection => Selection, :constant_fitting => ConstantFitting,
    :migration => Migration, :enumeration => EnumerationSeeding, :objective => Objective,
    :control => RunControl, :batches => Batching, :layout => Layout)

"""Flat names that are whole fields of `Options` (not inside a group), with their defaults."""
const TOP_LEVEL_OPTION_DEFAULTS = (linear_scaling = DECLARED_DEFAULTS.linear_scaling, dims = nothing)

"""
    option_group(name) -> Symbol or nothing

The field of `Options` that holds flat option `name`: a group
(`:constraints`, ...), `name` itself for a top-level field
(`:mutation_weights`, `:linear_scaling`, `:dims`), or `nothing` if unknown.
"""
function option_group(name::Symbol)
    (name === :mutation_weights || haskey(TOP_LEVEL_OPTION_DEFAULTS, name)) && return name
    for (field, G) in OPTION_GROUPS
        name in fieldnames(G) && return field
    end
    return nothing
end

"""Every flat option name, in group order (mutation weights, linear scaling and dims last)."""
flat_option_names()::Vector{Symbol} =
    Symbol[[k for (_, G) in OPTION_GROUPS for k in fieldnames(G)]..., :mutation_weights,
           keys(TOP_LEVEL_OPTION_DEFAULTS)...]

"""The type a flat option's value is converted to (its field type)."""
function option_type(name::Symbol)::Type
    g = option_group(name)
    g === nothing && throw(ArgumentError("unknown option $(name)"))
    g === name && return fieldtype(Options, name)
    return fieldtype(fieldtype(Options, g), name)
end

"""
    option_default(name, ops) -> value

The default of flat option `name` (per-operator lists for operator set `ops`).
"""
function option_default(name::Symbol, ops::OperatorSet)
    pod = per_operator_defaults(ops)
    haskey(pod, name) && return pod[name]
    g = option_group(name)
    g === nothing && throw(ArgumentError("unknown option $(name)"))
    g === :mutation_weights && return MutationWeights()
    g === name && return TOP_LEVEL_OPTION_DEFAULTS[name]
    return getfield(fieldtype(Options, g)(), name)
end

"""A group of type `G` from its defaults overridden by the flat settings that name its fields."""
function build_group(::Type{G}, settings::Dict{Symbol,Any}) where {G}
    d = G()
    vals = Any[haskey(settings, k) ? convert(fieldtype(G, k), settings[k]) : getfield(d, k)
               for k in fieldnames(G)]
    return G(vals...)
end

Options(ops::OperatorSet; kwargs...) = Options(ops, Dict{Symbol,Any}(kwargs))

"""
    Options(ops, settings::Dict{Symbol,Any})

Defaults overridden by `settings`, keyed by FLAT option name (`:maxsize`,
`:optimizer_iterations`, `:timeout_in_seconds`, ...; see the groups above),
each routed to its group. `:mutation_weights` takes a `MutationWeights`, a
vector aligned with `MUTATION_KINDS`, or a kind => weight dictionary merged
over the defaults. Unknown names raise an `ArgumentError`. The protocol uses
this form: one compiled method whatever the set of keys (splatting a Dict as
keywords compiles a new method for every distinct key set).
"""
function Options(ops::OperatorSet, settings::Dict{Symbol,Any})
    for k in keys(settings)
        option_group(k) === nothing && throw(ArgumentError("unknown option $(k)"))
    end
    s = merge(per_operator_defaults(ops), settings)
    vals = Any[ops]
    for f in fieldnames(Options)[2:end]
        if f === :mutation_weights
            mw = get(settings, :mutation_weights, MutationWeights())
            push!(vals, mw isa MutationWeights ? mw : MutationWeights(mw))
        elseif haskey(TOP_LEVEL_OPTION_DEFAULTS, f)
            push!(vals, convert(fieldtype(Options, f), get(settings, f, TOP_LEVEL_OPTION_DEFAULTS[f])))
        else
            push!(vals, build_group(fieldtype(Options, f), s))
        end
    end
    o = Options(vals...)
    c = o.constraints
    if c.maxdepth <= 0
        o.constraints = Constraints(c.maxsize, c.maxsize, c.bin_constraints, c.una_constraints,
                                    c.nested_constraints)
    end
    o.constraints = with_default_nesting(o.constraints, ops)   # engine nesting defaults, julia/core/complexity.jl
    return o
end

"""A copy of `o` sharing its groups (which are immutable)."""
Base.copy(o::Options) = Options((getfield(o, f) for f in fieldnames(Options))...)

