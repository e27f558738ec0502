# Linear scaling of candidates: for each candidate f the hall of fame is also
# offered three real formulas made of it,
#     a1*f,   f + b1,   a*f + b
# with closed-form least-squares coefficients (`scaling_variants`), each with
# its own honest complexity (the extra `*`/`+` nodes and constants count) and
# built as an explicit tree (`explicit_tree`). See julia/search/scoring.jl.

"""Indices of `*` and `+` in the operator set (0 if absent): linear scaling needs both."""
struct ScalingOps
    mul::Int
    add::Int
end
ScalingOps(ops::OperatorSet) = ScalingOps(something(findfirst(isequal("*"), ops.binnames), 0),
                                          something(findfirst(isequal("+"), ops.binnames), 0))

"""Is linear scaling on for this search (option set and `*`, `+` available)?"""
scaling_active(opts::Options) =
    opts.linear_scaling && (scale_ops = ScalingOps(opts.ops); scale_ops.mul > 0 && scale_ops.add > 0)

"""Variant kinds: 1 = f, 2 = a1*f, 3 = f + b1, 4 = a*f + b."""
const NVARIANTS = 4

"""Complexity added by each variant's scaling nodes."""
function variant_extra(k::Int, scale_ops::ScalingOps, opts::Options)::Int
    k == 1 && return 0
    cm = opts.complexity.complexity_of_binops[scale_ops.mul] + opts.complexity.complexity_of_constants
    ca = opts.complexity.complexity_of_binops[scale_ops.add] + opts.complexity.complexity_of_constants
    return k == 2 ? cm : k == 3 ? ca : cm + ca
end

@inline _wi(w::Vector{Float64}, i::Int) = isempty(w) ? 1.0 : @inbounds w[i]

"""Weighted sums of the elementwise loss of f, a1*f, f + b1 and a*f + b over the rows."""
function variant_loss_sums(ℓ::ElementwiseLoss, p::Vector{Float64}, y::Vector{Float64}, w::Vector{Float64},
                           a1::Float64, b1::Float64, a::Float64, b::Float64)
    s1 = 0.0; s2 = 0.0; s3 = 0.0; s4 = 0.0
    @inbounds for i in eachindex(p)
        wi = _wi(w, i); pi = p[i]; yi = y[i]
        s1 += wi * elementwise_loss(ℓ, pi, yi)
        s2 += wi * elementwise_loss(ℓ, a1 * pi, yi)
        s3 += wi * elementwise_loss(ℓ, pi + b1, yi)
        s4 += wi * elementwise_loss(ℓ, a * pi + b, yi)
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
    s = with_loss(variant_loss_sums, opts.objective, pred, y, w, a1, b1, a, b)::NTuple{4,Float64}
    invsw = 1.0 / sw
    losses = (_finite_mean(s[1], invsw), (isfinite(a1) && a1 != 0.0) ? _finite_mean(s[2], invsw) : Inf,
              isfinite(b1) ? _finite_mean(s[3], invsw) : Inf,
              (isfinite(a) && a != 0.0 && isfinite(b)) ? _finite_mean(s[4], invsw) : Inf)
    return losses, (1.0, a1, 1.0, a), (0.0, 0.0, b1, b)
end

"""The explicit formula of variant `k` of `f` (a new tree; `f` is copied)."""
function explicit_tree(f::Node, k::Int, a::Float64, b::Float64, scale_ops::ScalingOps)::Node
    t = copy_tree(f)
    (k == 2 || k == 4) && (t = binary_node(scale_ops.mul, const_node(a), t))
    (k == 3 || k == 4) && (t = binary_node(scale_ops.add, t, const_node(b)))
    return t
end
