# Data and losses: the Dataset a search runs on, elementwise losses (L2, L1,
# Huber, custom Julia source), weighted means, and the loss of a tree.

"""
    Dataset

Training data in the layout evaluation wants: `X` is rows x features
(column-major, so each feature column is contiguous), `y` the target, `w`
optional weights (empty = unweighted). `baseline_loss` is the loss of the
best constant predictor, used to normalise scores.
"""
mutable struct Dataset
    X::Matrix{Float64}
    y::Vector{Float64}
    w::Vector{Float64}
    n::Int
    nfeatures::Int
    varnames::Vector{String}
    baseline_loss::Float64
end

function Dataset(X::Matrix{Float64}, y::Vector{Float64}, w::Vector{Float64}=Float64[];
                 varnames::Vector{String}=String[])
    n, p = size(X)
    length(y) == n || throw(ArgumentError("X has $n rows but y has $(length(y))"))
    isempty(w) || length(w) == n || throw(ArgumentError("weights have $(length(w)) entries for $n rows"))
    n >= 1 || throw(ArgumentError("empty data"))
    all(isfinite, X) || throw(ArgumentError("X contains NaN or Inf"))
    all(isfinite, y) || throw(ArgumentError("y contains NaN or Inf"))
    isempty(w) || all(x -> isfinite(x) && x >= 0, w) || throw(ArgumentError("weights must be finite and >= 0"))
    names = isempty(varnames) ? ["x$(j - 1)" for j in 1:p] : varnames
    length(names) == p || throw(ArgumentError("$(length(names)) variable names for $p features"))
    return Dataset(X, y, w, n, p, names, NaN)
end

@inline elementwise_loss(::Val{:L2}, p::Float64, t::Float64, δ::Float64) = (d = p - t; d * d)
@inline elementwise_loss(::Val{:L1}, p::Float64, t::Float64, δ::Float64) = abs(p - t)
@inline function elementwise_loss(::Val{:Huber}, p::Float64, t::Float64, δ::Float64)
    a = abs(p - t)
    return a <= δ ? 0.5 * a * a : δ * (a - 0.5 * δ)
end

function _mean_loss(kind::Val, pred::Vector{Float64}, y::Vector{Float64}, w::Vector{Float64}, δ::Float64)
    s = 0.0
    if isempty(w)
        @inbounds @simd for i in eachindex(pred)
            s += elementwise_loss(kind, pred[i], y[i], δ)
        end
        return s / length(pred)
    else
        sw = 0.0
        @inbounds @simd for i in eachindex(pred)
            s += w[i] * elementwise_loss(kind, pred[i], y[i], δ)
            sw += w[i]
        end
        return s / sw
    end
end

function _mean_custom(f::F, pred::Vector{Float64}, y::Vector{Float64}, w::Vector{Float64}) where {F}
    s = 0.0
    if isempty(w)
        @inbounds for i in eachindex(pred)
            s += Float64(f(pred[i], y[i]))
        end
        return s / length(pred)
    else
        sw = 0.0
        @inbounds for i in eachindex(pred)
            s += w[i] * Float64(f(pred[i], y[i])); sw += w[i]
        end
        return s / sw
    end
end

"""(Weighted) mean elementwise loss of predictions `pred` against `data.y`."""
function loss_of_predictions(pred::Vector{Float64}, data::Dataset, opts::Options)::Float64
    l = if opts.loss === :L2
        _mean_loss(Val(:L2), pred, data.y, data.w, opts.huber_delta)
    elseif opts.loss === :L1
        _mean_loss(Val(:L1), pred, data.y, data.w, opts.huber_delta)
    elseif opts.loss === :Huber
        _mean_loss(Val(:Huber), pred, data.y, data.w, opts.huber_delta)
    else
        _mean_custom(opts.custom_loss, pred, data.y, data.w)
    end
    return isfinite(l) ? l : Inf
end

"""
    compile_custom_loss(src) -> Function

A custom elementwise loss given as Julia source, e.g.
`"myloss(prediction, target) = abs(prediction - target)^1.5"`, or an
anonymous function `"(p, t) -> (p - t)^4"`.
"""
function compile_custom_loss(src::AbstractString)
    expr = try
        Meta.parse(src)
    catch err
        throw(ArgumentError("cannot parse elementwise_loss $(repr(src)): $(sprint(showerror, err))"))
    end
    f = Core.eval(UserOperators, expr)
    f isa Function || throw(ArgumentError("elementwise_loss must define a function of (prediction, target)"))
    try
        v = Base.invokelatest(f, 1.0, 2.0)
        v isa Real || throw(ArgumentError("elementwise_loss must return a real number"))
    catch err
        err isa ArgumentError && rethrow()
        throw(ArgumentError("elementwise_loss failed on (1.0, 2.0): $(sprint(showerror, err))"))
    end
    return f
end

"""Workspace for evaluating trees on one dataset: prediction buffer + eval buffers."""
struct LossWorkspace
    pred::Vector{Float64}
    ws::EvalWorkspace{Float64}
end
LossWorkspace(n::Integer) = LossWorkspace(Vector{Float64}(undef, n), EvalWorkspace{Float64}(n))

"""Loss of `tree` on `data` (Inf if it evaluates to a non-finite value)."""
function eval_loss(tree::Node, data::Dataset, opts::Options, lw::LossWorkspace)::Float64
    eval_tree!(lw.pred, tree, data.X, opts.ops, lw.ws) || return Inf
    return loss_of_predictions(lw.pred, data, opts)
end

"""Loss of the best constant predictor (weighted mean for L2, median-ish otherwise)."""
function baseline_loss(data::Dataset, opts::Options)::Float64
    m = isempty(data.w) ? mean(data.y) : sum(data.w .* data.y) / sum(data.w)
    pred = fill(m, data.n)
    l = loss_of_predictions(pred, data, opts)
    return l > 0 ? l : 1.0
end
