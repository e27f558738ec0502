# Levenberg–Marquardt fit of the constants for the L2 loss, on the
# sqrt-weighted residuals with the exact Jacobian from forward-mode Duals.

"""
One Levenberg–Marquardt run from `kb.c` (updated in place to the end point).
Residuals r_i = sqrt(ω_i) (pred_i - y_i), ω_i = w_i/Σw, so Σ r_i² is the
search loss. Steps solve (A + λ diag(A)) δ = -J'Ωe; a step is accepted when
the loss (evaluated exactly as `eval_loss`) decreases, non-finite trial
losses count as rejected. Returns the loss at the end point.
"""
function levenberg_marquardt!(cw::ConstantWorkspace, kb::ConstantBuffers, tree::Node,
                              data::Dataset, opts::Options, f::Float64)::Float64
    isfinite(f) || return f
    c = kb.c; A = kb.A; M = kb.M; g = kb.g; δ = kb.d; ct = kb.ctrial
    k = length(c)
    invsw = 1.0 / weight_sum(data)
    λ = 1e-3
    for _ in 1:opts.constant_fitting.optimizer_iterations
        f == 0.0 && break
        jacobian_at!(cw, kb, c, tree, data, opts) || break
        @inbounds for i in 1:cw.n
            cw.dl[i] = (cw.pjac[i] - data.y[i]) * (isempty(data.w) ? 1.0 : data.w[i])
        end
        jt_times!(g, kb.J, cw.dl)
        g .*= invsw
        weighted_normal_matrix!(A, kb.J, data.w, invsw)
        maxdiag = 0.0
        @inbounds for j in 1:k
            maxdiag = max(maxdiag, A[j, j])
        end
        (maxdiag > 0 && isfinite(maxdiag)) || break
        accepted = false
        for _ in 1:12
            @inbounds for a in 1:k, b in 1:k
                M[a, b] = A[a, b]
            end
            @inbounds for j in 1:k
                M[j, j] += λ * max(A[j, j], 1e-12 * maxdiag)
            end
            @inbounds for j in 1:k
                ct[j] = -g[j]
            end
            if !cholesky_solve!(δ, M, ct)
                λ *= 10.0
                continue
            end
            @inbounds for j in 1:k
                ct[j] = c[j] + δ[j]
            end
            ft = loss_at!(cw, ct, tree, data, opts)
            if ft < f
                fold = f
                f = ft
                copyto!(c, ct)
                λ = max(λ / 3.0, 1e-12)
                accepted = true
                # converged: negligible decrease or negligible step
                if fold - f <= 1e-13 * fold
                    return f
                end
                break
            else
                λ *= 4.0
            end
        end
        accepted || break
        stepnorm = 0.0; cnorm = 0.0
        @inbounds for j in 1:k
            stepnorm = max(stepnorm, abs(δ[j])); cnorm = max(cnorm, abs(c[j]))
        end
        stepnorm <= 1e-14 * (cnorm + 1e-14) && break
    end
    return f
end

