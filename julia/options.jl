# Options of one search: every knob the engine reads, with defaults.
# The protocol builds an Options from the validated message sent by Python.

"""Names of the mutation kinds, in the order of `Options.mutation_weights`."""
const MUTATION_KINDS = (:mutate_constant, :mutate_operator, :swap_operands,
    :add_node, :insert_node, :delete_node, :rotate_tree, :randomize,
    :simplify, :optimize, :do_nothing)

const DEFAULT_MUTATION_WEIGHTS = Dict{Symbol,Float64}(
    :mutate_constant => 0.048, :mutate_operator => 0.47, :swap_operands => 0.1,
    :add_node => 0.79, :insert_node => 5.1, :delete_node => 1.7,
    :rotate_tree => 0.3, :randomize => 0.00023, :simplify => 0.0020,
    :optimize => 0.0, :do_nothing => 0.21)

mutable struct Options
    ops::OperatorSet
    # size and shape
    maxsize::Int
    maxdepth::Int
    complexity_of_binops::Vector{Int}      # per binary operator (default 1)
    complexity_of_unaops::Vector{Int}      # per unary operator (default 1)
    complexity_of_constants::Int
    complexity_of_variables::Int
    # constraints[op] = (max complexity of left arg, of right arg); -1 = unlimited
    bin_constraints::Vector{Tuple{Int,Int}}
    una_constraints::Vector{Int}
    # nested constraints: (outer kind, outer op, inner kind, inner op, max nesting count)
    # kind 1 = unary, 2 = binary
    nested_constraints::Vector{NTuple{5,Int}}
    # search schedule
    populations::Int
    population_size::Int
    niterations::Int
    ncycles_per_iteration::Int
    tournament_selection_n::Int
    tournament_selection_p::Float64
    mutation_weights::Vector{Float64}      # aligned with MUTATION_KINDS
    crossover_probability::Float64
    annealing::Bool
    alpha::Float64
    parsimony::Float64
    adaptive_parsimony_scaling::Float64
    use_frequency::Bool
    fraction_replaced::Float64
    fraction_replaced_hof::Float64
    topn::Int
    perturbation_factor::Float64
    probability_negate_constant::Float64
    skip_mutation_failures::Bool
    should_simplify::Bool
    # constant fitting
    optimize_probability::Float64
    optimizer_iterations::Int
    optimizer_nrestarts::Int
    # loss
    loss::Symbol                  # :L2, :L1, :Huber, :custom
    huber_delta::Float64
    custom_loss::Any              # f(prediction, target) -> Float64 elementwise, or nothing
    # stopping
    timeout_in_seconds::Float64   # <= 0: none
    max_evals::Int                # <= 0: none
    early_stop_condition::Float64 # loss threshold; NaN: none
    # reproducibility
    seed::Int
    deterministic::Bool
    # reporting
    progress_interval::Float64    # seconds between progress messages
    verbosity::Int
    # dimensional analysis (julia/dimensions.jl): nothing, or the units of the
    # features and target with the penalty for inconsistent candidates
    dims::Any
    # search speed-ups (julia/search.jl, julia/enumeration.jl)
    linear_scaling::Bool          # offer a*f, f + b, a*f + b of each candidate f to the hall of fame (closed form)
    enumerate_max_complexity::Int # seed with all distinct expressions up to this complexity (0: off)
    enumerate_max_candidates::Int # ... but at most this many distinct expressions
    enumerate_time_budget::Float64 # ... and at most this many seconds (ignored when deterministic)
end

Options(ops::OperatorSet; kwargs...) = Options(ops, Dict{Symbol,Any}(kwargs))

"""
    Options(ops, settings::Dict{Symbol,Any})

Defaults overridden by `settings` (field name => value). The protocol uses
this form: one compiled method whatever the set of keys (splatting a Dict as
keywords compiles a new method for every distinct key set).
"""
function Options(ops::OperatorSet, settings::Dict{Symbol,Any})
    nb = length(ops.binops); nu = length(ops.unaops)
    o = Options(ops,
        20, 0, ones(Int, nb), ones(Int, nu), 1, 1,
        fill((-1, -1), nb), fill(-1, nu), NTuple{5,Int}[],
        15, 33, 40, 300, 15, 0.982,
        [DEFAULT_MUTATION_WEIGHTS[k] for k in MUTATION_KINDS], 0.066,
        true, 0.1, 0.0032, 20.0, true, 0.00036, 0.035, 12, 0.076, 0.01, true, true,
        0.14, 8, 2,
        :L2, 1.0, nothing,
        0.0, 0, NaN,
        0, false,
        0.5, 1,
        nothing,
        false, 7, 50000, 5.0)
    for (k, v) in settings
        hasfield(Options, k) || throw(ArgumentError("unknown option $(k)"))
        setfield!(o, k, convert(fieldtype(Options, k), v))
    end
    o.maxdepth <= 0 && (o.maxdepth = o.maxsize)
    validate_options(o)
    return o
end

function validate_options(o::Options)
    o.maxsize >= 1 || throw(ArgumentError("maxsize must be >= 1, got $(o.maxsize)"))
    o.populations >= 1 || throw(ArgumentError("populations must be >= 1"))
    o.population_size >= 2 || throw(ArgumentError("population_size must be >= 2"))
    o.tournament_selection_n >= 1 || throw(ArgumentError("tournament_selection_n must be >= 1"))
    o.tournament_selection_n <= o.population_size ||
        throw(ArgumentError("tournament_selection_n must be <= population_size"))
    length(o.mutation_weights) == length(MUTATION_KINDS) ||
        throw(ArgumentError("mutation_weights must have $(length(MUTATION_KINDS)) entries"))
    all(>=(0), o.mutation_weights) || throw(ArgumentError("mutation weights must be >= 0"))
    o.loss in (:L2, :L1, :Huber, :custom) || throw(ArgumentError("unknown loss $(o.loss)"))
    o.enumerate_max_complexity >= 0 ||
        throw(ArgumentError("enumerate_max_complexity must be >= 0 (0 = no enumeration), got $(o.enumerate_max_complexity)"))
    o.enumerate_max_candidates >= 1 ||
        throw(ArgumentError("enumerate_max_candidates must be >= 1, got $(o.enumerate_max_candidates)"))
    o.enumerate_time_budget >= 0 ||
        throw(ArgumentError("enumerate_time_budget must be >= 0 seconds, got $(o.enumerate_time_budget)"))
    o.loss == :custom && o.custom_loss === nothing && throw(ArgumentError("custom loss needs a function"))
    return o
end
