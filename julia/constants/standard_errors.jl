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
"""
function constant_uncertainties(tree::Node, data::Dataset, opts::Options)::Vector{Float64}
    k = count_constants(tree)
    out = fill(NaN, k)
    k == 0 && return out
    n = data.n
    J = zeros(n, k)
    pred = zeros(n)
    ok = eval_jacobian!(J, pred, tree, data.X, opts.ops, EvalWorkspace{Dual}(n), Vector{Dual}(undef, n))
    (ok && all(isfinite, J) && all(isfinite, pred)) || return out
    w = isempty(data.w) ? ones(n) : copy(data.w)
    neff = count(>(0), w)
    neff > k || return out
    w .*= neff / sum(w)                         # mean 1 over the rows with positive weight
    r = pred .- data.y
    s2 = sum(w .* r .^ 2) / (neff - k)
    A = J' * (w .* J)
    d = [A[j, j] for j in 1:k]
    alive = [d[j] > 0 && isfinite(d[j]) for j in 1:k]
    idx = findall(alive)
    isempty(idx) && return out
    # scale-normalised matrix: invariant to the units of each constant
    sc = [1.0 / sqrt(d[j]) for j in idx]
    B = Symmetric([A[idx[a], idx[b]] * sc[a] * sc[b] for a in eachindex(idx), b in eachindex(idx)])
    E = eigen(B)
    λ = E.values
    λmax = maximum(λ)
    (isfinite(λmax) && λmax > 0) || return out
    keep = λ .> 1e-10 * λmax
    V = E.vectors
    for (a, j) in enumerate(idx)
        # a constant touching the null space is not identifiable
        if any(abs(V[a, m]) > 1e-6 for m in eachindex(λ) if !keep[m])
            continue
        end
        v = 0.0
        for m in eachindex(λ)
            keep[m] && (v += V[a, m]^2 / λ[m])
        end
        out[j] = sqrt(s2 * v) * sc[a]
    end
    return out
end

