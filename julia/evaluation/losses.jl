# Losses: the elementwise losses (L2, L1, Huber, custom Julia source) with
# their derivatives, THE one dispatch from the options to a loss
# (`with_loss`), the (weighted) mean loss of predictions, and the loss of a
# tree on a dataset.

"""An elementwise loss `elementwise_loss(ℓ, prediction, target)` and its slope `dloss_dpred`."""
abstract type ElementwiseLoss end
struct L2Loss <: ElementwiseLoss end
struct L1Loss <: ElementwiseLoss end
struct HuberLoss <: ElementwiseLoss
    delta::Float64
end
"""A user's elementwise loss `f(prediction, target) -> Real` (Julia source, `compile_custom_loss`)."""
struct CustomLoss{F} <: ElementwiseLoss
    f::F
end

"""The built-in loss names of the protocol (besides "custom")."""
const BUILTIN_LOSSES = ("L2", "L1", "Huber")

@inline elementwise_loss(::L2Loss, p::Float64, t::Float64) = (d = p - t; d * d)
@inline elementwise_loss(::L1Loss, p::Float64, t::Float64) = abs(p - t)
@inline function elementwise_loss(ℓ::HuberLoss, p::Float64, t::Float64)
    δ = ℓ.delta
    a = abs(p - t)
    return a <= δ ? 0.5 * a * a : δ * (a - 0.5 * δ)
end
@inline elementwise_loss(ℓ::CustomLoss, p::Float64, t::Float64) = Float64(ℓ.f(p, t))

"""Derivative of the elementwise loss with respect to the prediction."""
@inline dloss_dpred(::L2Loss, p::Float64, t::Float64) = 2.0 * (p - t)
@inline dloss_dpred(::L1Loss, p::Float64, t::Float64) = p > t ? 1.0 : (p < t ? -1.0 : 0.0)
@inline dloss_dpred(ℓ::HuberLoss, p::Float64, t::Float64) = clamp(p - t, -ℓ.delta, ℓ.delta)
# custom: evaluate f on Dual(prediction, 1)
@inline dloss_dpred(ℓ::CustomLoss, p::Float64, t::Float64) = Float64(partial(ℓ.f(Dual(p, 1.0), t)))

"""
    with_loss(f, objective::Objective, args...)

The one dispatch from the options to the elementwise loss: returns
`f(ℓ, args...)` with `ℓ` the search's loss as a concrete `ElementwiseLoss`,
so that `f`'s row loops are compiled for that loss and type-stable (a
function barrier; for a custom loss the call is dynamic, once per call of
`with_loss`).
"""
@inline function with_loss(f::F, obj::Objective, args...) where {F}
    l = obj.loss
    if l === :L2
        return f(L2Loss(), args...)
    elseif l === :L1
        return f(L1Loss(), args...)
    elseif l === :Huber
        return f(HuberLoss(obj.huber_delta), args...)
    else
        return f(CustomLoss(obj.custom_loss), args...)
    end
end

"""(Weighted) mean of `elementwise_loss(ℓ, pred[i], y[i])`; built-in losses let the sum vectorise."""
function mean_loss(ℓ::ElementwiseLoss, pred::Vector{Float64}, y::Vector{Float64}, w::Vector{Float64})
    s = 0.0
    if isempty(w)
        @inbounds @simd for i in eachindex(pred)
            s += elementwise_loss(ℓ, pred[i], y[i])
        end
        return s / length(pred)
    else
        sw = 0.0
        @inbounds @simd for i in eachindex(pred)
            s += w[i] * elementwise_loss(ℓ, pred[i], y[i])
            sw += w[i]
        end
        return s / sw
    end
end

# A user's loss: the sum in row order (no reassociation).
function mean_loss(ℓ::CustomLoss, pred::Vector{Float64}, y::Vector{Float64}, w::Vector{Float64})
    s = 0.0
    if isempty(w)
        @inbounds for i in eachindex(pred)
            s += elementwise_loss(ℓ, pred[i], y[i])
        end
        return s / length(pred)
    else
        sw = 0.0
        @inbounds for i in eachindex(pred)
            s += w[i] * elementwise_loss(ℓ, pred[i], y[i]); sw += w[i]
        end
        return s / sw
    end
end

"""(Weighted) mean elementwise loss of predictions `pred` against `data.y` (Inf if not finite)."""
function loss_of_predictions(pred::Vector{Float64}, data::Dataset, opts::Options)::Float64
    l = with_loss(mean_loss, opts.objective, pred, data.y, data.w)::Float64
    return isfinite(l) ? l : Inf
end

"""
`dl[i] = ω_i * dloss_dpred(ℓ, pred[i], y[i])` with ω_i = w_i / Σw (or 1/n,
`invsw` = 1/Σw): the per-row slope of the mean loss.
"""
function fill_dloss!(ℓ::ElementwiseLoss, dl::Vector{Float64}, pred::Vector{Float64}, y::Vector{Float64},
                     w::Vector{Float64}, invsw::Float64)
    if isempty(w)
        @inbounds for i in eachindex(dl)
            dl[i] = invsw * dloss_dpred(ℓ, pred[i], y[i])
        end
    else
        @inbounds for i in eachindex(dl)
            dl[i] = invsw * w[i] * dloss_dpred(ℓ, pred[i], y[i])
        end
    end
    return dl
end

"""Per-row weighted d(mean loss)/d(pred_i) at predictions `pred` into `dl`."""
function loss_derivative!(dl::Vector{Float64}, pred::Vector{Float64}, data::Dataset, opts::Options)
    invsw = 1.0 / weight_sum(data)
    with_loss(fill_dloss!, opts.objective, dl, pred, data.y, data.w, invsw)
    return dl
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
