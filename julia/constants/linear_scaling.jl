# Closed-form linear scaling: the weighted least-squares `a`, `b` of
# `y ≈ a * pred + b`.

"""
    fit_linear_scaling(pred, data) -> (a, b)

Closed-form (weighted, with `data.w` if present) least squares for
`y ≈ a * pred + b`. If `pred` is (numerically) constant, returns
`(0.0, weighted mean of y)`; if `pred` has non-finite entries returns the
identity scaling `(1.0, 0.0)`.
"""
function fit_linear_scaling(pred::Vector{Float64}, data::Dataset)::Tuple{Float64,Float64}
    length(pred) == data.n || throw(ArgumentError(
        "fit_linear_scaling: $(length(pred)) predictions for $(data.n) rows"))
    y = data.y; w = data.w; unw = isempty(w)
    sw = 0.0; sp = 0.0; sy = 0.0; pmax = 0.0
    @inbounds for i in eachindex(pred)
        wi = unw ? 1.0 : w[i]
        sw += wi; sp += wi * pred[i]; sy += wi * y[i]
        pmax = max(pmax, abs(pred[i]))
    end
    isfinite(sp) || return (1.0, 0.0)
    sw > 0 || throw(ArgumentError("fit_linear_scaling: all weights are zero"))
    pm = sp / sw; ym = sy / sw
    spp = 0.0; spy = 0.0
    @inbounds for i in eachindex(pred)
        wi = unw ? 1.0 : w[i]
        dp = pred[i] - pm
        spp += wi * dp * dp
        spy += wi * dp * (y[i] - ym)
    end
    if !(spp > sw * (4 * eps(Float64) * pmax)^2)
        return (0.0, ym)
    end
    a = spy / spp
    return (a, ym - a * pm)
end
