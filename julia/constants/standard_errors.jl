# Standard errors of a tree's fitted constants (least-squares covariance from
# the exact Jacobian), reported with each hall-of-fame formula.

"""
    constant_uncertainties(tree, data, opts) -> Vector{Float64}

Standard errors of the tree's constants (prefix order) at their current
values, from the exact Jacobian J (n x k) of the predictions:

    cov = s² (J' W J)⁻¹,   s² = Σ wᵢ rᵢ² / (n_eff - k),   r = pred - y

W = diag(weights normalised to mean 1 over the rows with positive weight)
(W = I without weights) and n_eff = number of rows with positive weight.
Scaling all weights by a constant does not change the result: weights are
relative (inverse variances up to a common factor, like `curve_fit` with
`absolute_sigma=False`), and s² is estimated from the residuals.

This is the least-squares (Gauss–Newton) covariance; it is used for every
loss (L1/Huber/custom fits get the least-squares approximation).

Singular or ill-conditioned cases give `NaN` entries instead of errors:
all NaN when n_eff <= k or the evaluation is non-finite; NaN for each
constant that does not affect the predictions or lies in the (numerical)
null space of J'WJ (e.g. both constants of `(c1 + c2) * x`), computed from
an eigen-decomposition of the scale-normalised J'WJ (relative eigenvalue
cut-off 1e-10); the remaining constants get their pseudo-inverse variance.

With `data.absolute_weights` (measurement errors given: weights = 1/σ²,
the fit message's `absolute_sigma`) the weights are absolute inverse
variances, cov = (J' W J)⁻¹ with s² = 1 and no normalisation, like
`curve_fit` with `absolute_sigma=True`.
"""
function constant_uncertainties(tree::Node, data::Dataset, opts::Options)::Vector{Float64}
    k = count_constants(tree)
    out = fill(NaN, k)
    k == 0 && return out
    parts = _covariance_parts(tree, data, opts)
    parts === nothing && return out
    s2, idx, sc, V, λ, keep, ident = parts
    for (a, j) in enumerate(idx)
        ident[a] || continue
        v = 0.0
        for m in eachindex(λ)
            keep[m] && (v += V[a, m]^2 / λ[m])
        end
        out[j] = sqrt(s2 * v) * sc[a]
    end
    return out
end

"""
    constant_covariance(tree, data, opts) -> Matrix{Float64}

The covariance matrix (k x k, prefix order) of the tree's constants whose
diagonal `constant_uncertainties` takes the square root of: the same
Jacobian, weights, residual scale `s²` and pseudo-inverse, so

    cov = s² (J' W J)⁻¹

Rows and columns of constants that are not identifiable (or all entries,
in the singular cases described at `constant_uncertainties`) are `NaN`.
"""
function constant_covariance(tree::Node, data::Dataset, opts::Options)::Matrix{Float64}
    k = count_constants(tree)
    out = fill(NaN, k, k)
    k == 0 && return out
    parts = _covariance_parts(tree, data, opts)
    parts === nothing && return out
    s2, idx, sc, V, λ, keep, ident = parts
    for (a, i) in enumerate(idx), (b, j) in enumerate(idx)
        (ident[a] && ident[b]) || continue
        v = 0.0
        for m in eachindex(λ)
            keep[m] && (v += V[a, m] * V[b, m] / λ[m])
        end
        out[i, j] = s2 * v * sc[a] * sc[b]
    end
    return out
end

"""
The pieces both `constant_uncertainties` and `constant_covariance` are made
of, or `nothing` when every entry is `NaN`: `s²`, the indices `idx` of the
constants that affect the predictions, their scales `sc`, the eigenvectors
`V` and eigenvalues `λ` of the scale-normalised J'WJ, the eigenvalues kept
and which of `idx` are identifiable.
"""
function _covariance_parts(tree::Node, data::Dataset, opts::Options)
    k = count_constants(tree)
    n = data.n
    J = zeros(n, k)
    pred = zeros(n)
    ok = eval_jacobian!(J, pred, tree, data.X, opts.ops, EvalWorkspace{Dual}(n), Vector{Dual}(undef, n))
    (ok && all(isfinite, J) && all(isfinite, pred)) || return nothing
    w = isempty(data.w) ? ones(n) : copy(data.w)
    neff = count(>(0), w)
    neff > k || return nothing
    if data.absolute_weights                    # weights are 1/σ²: no rescaling, s² = 1
        s2 = 1.0
    else
        w .*= neff / sum(w)                     # mean 1 over the rows with positive weight
        r = pred .- data.y
        s2 = sum(w .* r .^ 2) / (neff - k)
    end
    A = J' * (w .* J)
    d = [A[j, j] for j in 1:k]
    alive = [d[j] > 0 && isfinite(d[j]) for j in 1:k]
    idx = findall(alive)
    isempty(idx) && return nothing
    # scale-normalised matrix: invariant to the units of each constant
    sc = [1.0 / sqrt(d[j]) for j in idx]
    B = Symmetric([A[idx[a], idx[b]] * sc[a] * sc[b] for a in eachindex(idx), b in eachindex(idx)])
    E = eigen(B)
    λ = E.values
    λmax = maximum(λ)
    (isfinite(λmax) && λmax > 0) || return nothing
    keep = λ .> 1e-10 * λmax
    V = E.vectors
    # a constant touching the null space is not identifiable
    ident = [!any(abs(V[a, m]) > 1e-6 for m in eachindex(λ) if !keep[m]) for a in eachindex(idx)]
    return s2, idx, sc, V, λ, keep, ident
end
