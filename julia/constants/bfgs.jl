# BFGS fit of the constants for the L1, Huber and custom losses, with a
# backtracking (Armijo) line search; gradient = J' * dloss/dpred with the
# exact Jacobian and the loss slope of julia/evaluation/losses.jl.

"""Loss gradient at `kb.c` into `g` (J' * dloss/dpred); false if non-finite."""
function loss_gradient!(g::Vector{Float64}, cw::ConstantWorkspace, kb::ConstantBuffers,
                        c::Vector{Float64}, tree::Node, data::Dataset, opts::Options)::Bool
    jacobian_at!(cw, kb, c, tree, data, opts) || return false
    loss_derivative!(cw.dl, cw.pjac, data, opts)
    jt_times!(g, kb.J, cw.dl)
    @inbounds for j in eachindex(g)
        isfinite(g[j]) || return false
    end
    return true
end

"""
One BFGS run from `kb.c` (updated in place) with inverse-Hessian updates and
a backtracking Armijo line search (halving, up to 30 times). The initial
inverse Hessian is a multiple of I giving a first step of about
0.1 * max(1, |c|∞); it is rescaled by s'y/y'y before the first update and reset
to I when a direction is not a descent direction or a line search fails.
Returns the loss at the end point.
"""
function bfgs!(cw::ConstantWorkspace, kb::ConstantBuffers, tree::Node, data::Dataset,
               opts::Options, f::Float64)::Float64
    isfinite(f) || return f
    c = kb.c; g = kb.g; gn = kb.gnew; d = kb.d; s = kb.s; yv = kb.yv; Hy = kb.Hy
    H = kb.H; ct = kb.ctrial
    k = length(c)
    loss_gradient!(g, cw, kb, c, tree, data, opts) || return f
    gnorm = sqrt(sum(abs2, g))
    gnorm == 0.0 && return f
    h0 = 0.1 * max(1.0, maximum(abs, c)) / gnorm
    set_identity!(H, h0)
    fresh = true            # H is the initial (scaled identity) matrix
    updated = false         # any BFGS update done yet
    for _ in 1:opts.constant_fitting.optimizer_iterations
        # direction d = -H g
        gd = -matvec!(d, H, g, k)
        @inbounds for a in 1:k
            d[a] = -d[a]
        end
        if !(gd < 0.0)
            set_identity!(H, h0); fresh = true
            @inbounds for a in 1:k
                d[a] = -h0 * g[a]
            end
            gd = -h0 * sum(abs2, g)
            gd < 0.0 || break
        end
        α = 1.0
        ft = Inf
        found = false
        for _ in 1:30
            @inbounds for a in 1:k
                ct[a] = c[a] + α * d[a]
            end
            ft = loss_at!(cw, ct, tree, data, opts)
            if ft <= f + 1e-4 * α * gd && ft <= f
                found = true
                break
            end
            α *= 0.5
        end
        if !found
            fresh && break                      # even a scaled gradient step failed
            set_identity!(H, h0); fresh = true  # retry from steepest descent
            continue
        end
        loss_gradient!(gn, cw, kb, ct, tree, data, opts) || (copyto!(c, ct); f = ft; break)
        sy = 0.0; yy = 0.0; ss = 0.0
        @inbounds for a in 1:k
            s[a] = ct[a] - c[a]
            yv[a] = gn[a] - g[a]
            sy += s[a] * yv[a]; yy += yv[a] * yv[a]; ss += s[a] * s[a]
        end
        fold = f
        copyto!(c, ct); copyto!(g, gn); f = ft
        if sy > 1e-12 * sqrt(ss * yy)
            if !updated
                set_identity!(H, sy / yy)
                updated = true
            end
            # H <- H - ρ (s Hy' + Hy s') + (ρ² y'Hy + ρ) s s'
            ρ = 1.0 / sy
            yHy = matvec!(Hy, H, yv, k)
            coef = ρ * ρ * yHy + ρ
            @inbounds for a in 1:k, b in 1:k
                H[a, b] += -ρ * (s[a] * Hy[b] + Hy[a] * s[b]) + coef * s[a] * s[b]
            end
            fresh = false
        end
        f == 0.0 && break
        cnorm = maximum(abs, c)
        (fold - f <= 1e-15 * fold && sqrt(ss) <= 1e-12 * (cnorm + 1e-12)) && break
    end
    return f
end

