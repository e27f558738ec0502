# The Dataset a search runs on: features, target, optional weights, names.

"""
    Dataset

Training data in the layout evaluation wants: `X` is rows x features
(column-major, so each feature column is contiguous), `y` the target, `w`
optional weights (empty = unweighted). `baseline_loss` is the loss of the
best constant predictor, used to normalise scores. `absolute_weights`: the
weights are 1/σ² of measurement errors, so standard errors are not rescaled
by the residuals (`constant_uncertainties`).
"""
mutable struct Dataset
    X::Matrix{Float64}
    y::Vector{Float64}
    w::Vector{Float64}
    n::Int
    nfeatures::Int
    varnames::Vector{String}
    baseline_loss::Float64
    absolute_weights::Bool
end

function Dataset(X::Matrix{Float64}, y::Vector{Float64}, w::Vector{Float64}=Float64[];
                 varnames::Vector{String}=String[], absolute_weights::Bool=false)
    n, p = size(X)
    length(y) == n || throw(ArgumentError("X has $n rows but y has $(length(y))"))
    isempty(w) || length(w) == n || throw(ArgumentError("weights have $(length(w)) entries for $n rows"))
    n >= 1 || throw(ArgumentError("empty data"))
    all(isfinite, X) || throw(ArgumentError("X contains NaN or Inf"))
    all(isfinite, y) || throw(ArgumentError("y contains NaN or Inf"))
    isempty(w) || all(x -> isfinite(x) && x >= 0, w) || throw(ArgumentError("weights must be finite and >= 0"))
    (absolute_weights && isempty(w)) && throw(ArgumentError("absolute weights (1/σ²) need weights"))
    names = isempty(varnames) ? ["x$(j - 1)" for j in 1:p] : varnames
    length(names) == p || throw(ArgumentError("$(length(names)) variable names for $p features"))
    return Dataset(X, y, w, n, p, names, NaN, absolute_weights)
end

"""Sum of the weights used by the mean loss (n when unweighted)."""
weight_sum(data::Dataset)::Float64 = isempty(data.w) ? Float64(data.n) : sum(data.w)
