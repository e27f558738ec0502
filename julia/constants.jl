# Constant fitting: given a tree's structure, move its constants to minimise
# the search loss (the same (weighted) mean elementwise loss as `eval_loss`).
#
#   * L2 loss      -> Levenberg–Marquardt on the sqrt-weighted residuals, with
#                     the exact Jacobian from forward-mode Duals.
#   * L1 / Huber / custom -> BFGS with a backtracking (Armijo) line search;
#                     gradient = J' * dloss/dpred with dloss/dpred exact
#                     (closed form for L1/Huber, a Dual pass for custom).
#
# All row-sized buffers live in a `ConstantWorkspace` that the search reuses,
# and the k-sized buffers are cached per number of constants, so after warm-up
# a fit allocates (almost) nothing. Also here: standard errors of the constants
# (`constant_uncertainties`) and closed-form linear scaling (`fit_linear_scaling`).

"""Additive noise (standard deviation) of a restart's start point, on top of the
multiplicative perturbation `c * (1 + 0.5 randn)`; lets constants at 0 move."""
const RESTART_ADDITIVE_NOISE = 0.1
const RESTART_MULTIPLICATIVE_NOISE = 0.5

"""Buffers whose size depends on the number `k` of constants (rows `n`)."""
struct ConstantBuffers
    J::Matrix{Float64}       # n x k Jacobian d pred / d const
    A::Matrix{Float64}       # k x k normal matrix J' W J
    M::Matrix{Float64}       # k x k damped matrix / Cholesky factor
    H::Matrix{Float64}       # k x k BFGS inverse Hessian
    c0::Vector{Float64}      # constants the call started from
    c::Vector{Float64}       # current point of a run
    cbest::Vector{Float64}   # best point over runs
    ctrial::Vector{Float64}  # trial point
    g::Vector{Float64}       # gradient (LM: J' W e)
    gnew::Vector{Float64}
    d::Vector{Float64}       # search direction / LM step
    s::Vector{Float64}       # BFGS step
    yv::Vector{Float64}      # BFGS gradient change
    Hy::Vector{Float64}
end
function ConstantBuffers(n::Int, k::Int)
    v() = zeros(k)
    m() = zeros(k, k)
    return ConstantBuffers(zeros(n, k), m(), m(), m(), v(), v(), v(), v(), v(), v(), v(), v(), v(), v())
end

"""
    ConstantWorkspace(n)

Every buffer constant fitting needs on a dataset of `n` rows: a Dual
`EvalWorkspace` and Dual output vector (Jacobian passes), a Float64
`LossWorkspace` (trial evaluations), a prediction and a per-row derivative
buffer, the list of the current tree's constant leaves, and per-`k` buffers
(`ConstantBuffers`: the n x k Jacobian, k x k matrices, k-vectors) created the
first time a tree with `k` constants is fitted and reused afterwards.
Not thread-safe: use one workspace per task.
"""
mutable struct ConstantWorkspace
    n::Int
    wsd::EvalWorkspace{Dual}
    dout::Vector{Dual}
    lw::LossWorkspace
    pjac::Vector{Float64}        # predictions from the Jacobian pass
    dl::Vector{Float64}          # per row: weight * d loss / d pred (or weight * residual)
    nodes::Vector{Node}          # constant leaves of the tree being fitted (prefix order)
    kbufs::Dict{Int,ConstantBuffers}
end
function ConstantWorkspace(n::Int)
    n >= 1 || throw(ArgumentError("ConstantWorkspace needs n >= 1 rows, got $n"))
    return ConstantWorkspace(n, EvalWorkspace{Dual}(n), Vector{Dual}(undef, n), LossWorkspace(n),
                             zeros(n), zeros(n), Node[], Dict{Int,ConstantBuffers}())
end

function constant_buffers!(cw::ConstantWorkspace, k::Int)::ConstantBuffers
    kb = get(cw.kbufs, k, nothing)
    if kb === nothing
        kb = ConstantBuffers(cw.n, k)
        cw.kbufs[k] = kb
    end
    return kb::ConstantBuffers
end

# Constant leaves in prefix order, pushed into a reused vector (no allocation
# once its capacity suffices). Same order as `constant_nodes`/`eval_jacobian!`.
function collect_constant_leaves!(out::Vector{Node}, n::Node)
    if n.degree == 0
        n.isconst && push!(out, n)
    else
        collect_constant_leaves!(out, n.l)
        n.degree == 2 && collect_constant_leaves!(out, n.r)
    end
    return out
end

@inline function write_constants!(nodes::Vector{Node}, c::Vector{Float64})
    @inbounds for j in eachindex(nodes)
        nodes[j].val = c[j]
    end
end
@inline function read_constants!(c::Vector{Float64}, nodes::Vector{Node})
    @inbounds for j in eachindex(nodes)
        c[j] = nodes[j].val
    end
end

"""Loss of the tree with constants `c` (written into the tree); Inf if non-finite."""
function loss_at!(cw::ConstantWorkspace, c::Vector{Float64}, tree::Node, data::Dataset, opts::Options)::Float64
    write_constants!(cw.nodes, c)
    return eval_loss(tree, data, opts, cw.lw)
end

"""Exact Jacobian and predictions at `c` into `kb.J` / `cw.pjac`; false if non-finite."""
function jacobian_at!(cw::ConstantWorkspace, kb::ConstantBuffers, c::Vector{Float64},
                      tree::Node, data::Dataset, opts::Options)::Bool
    write_constants!(cw.nodes, c)
    ok = eval_jacobian!(kb.J, cw.pjac, tree, data.X, opts.ops, cw.wsd, cw.dout)
    ok || return false
    @inbounds for j in 1:size(kb.J, 2), i in 1:cw.n
        isfinite(kb.J[i, j]) || return false
    end
    return true
end

"""Sum of the weights used by the mean loss (n when unweighted)."""
weight_sum(data::Dataset)::Float64 = isempty(data.w) ? Float64(data.n) : sum(data.w)

# --- derivative of the elementwise loss with respect to the prediction -------

@inline dloss_dpred(::Val{:L1}, p::Float64, t::Float64, δ::Float64) =
    p > t ? 1.0 : (p < t ? -1.0 : 0.0)
@inline dloss_dpred(::Val{:Huber}, p::Float64, t::Float64, δ::Float64) = clamp(p - t, -δ, δ)
@inline dloss_dpred(::Val{:L2}, p::Float64, t::Float64, δ::Float64) = 2.0 * (p - t)

function fill_dloss!(kind::Val, dl::Vector{Float64}, pred::Vector{Float64}, y::Vector{Float64},
                     w::Vector{Float64}, invsw::Float64, δ::Float64)
    if isempty(w)
        @inbounds for i in eachindex(dl)
            dl[i] = invsw * dloss_dpred(kind, pred[i], y[i], δ)
        end
    else
        @inbounds for i in eachindex(dl)
            dl[i] = invsw * w[i] * dloss_dpred(kind, pred[i], y[i], δ)
        end
    end
    return dl
end

# Custom loss: derivative by evaluating f on Dual(prediction, 1). Function
# barrier so the (untyped) user function is called through a concrete type.
function fill_dloss_custom!(f::F, dl::Vector{Float64}, pred::Vector{Float64}, y::Vector{Float64},
                            w::Vector{Float64}, invsw::Float64) where {F}
    @inbounds for i in eachindex(dl)
        d = partial(f(Dual(pred[i], 1.0), y[i]))
        wi = isempty(w) ? invsw : invsw * w[i]
        dl[i] = wi * Float64(d)
    end
    return dl
end

"""Per-row weighted d(mean loss)/d(pred_i) at predictions `pred` into `cw.dl`."""
function loss_derivative!(cw::ConstantWorkspace, pred::Vector{Float64}, data::Dataset, opts::Options)
    invsw = 1.0 / weight_sum(data)
    if opts.loss === :L1
        fill_dloss!(Val(:L1), cw.dl, pred, data.y, data.w, invsw, opts.huber_delta)
    elseif opts.loss === :Huber
        fill_dloss!(Val(:Huber), cw.dl, pred, data.y, data.w, invsw, opts.huber_delta)
    elseif opts.loss === :L2
        fill_dloss!(Val(:L2), cw.dl, pred, data.y, data.w, invsw, opts.huber_delta)
    else
        fill_dloss_custom!(opts.custom_loss, cw.dl, pred, data.y, data.w, invsw)
    end
    return cw.dl
end

"""g = J' * v (k-vector)."""
function jt_times!(g::Vector{Float64}, J::Matrix{Float64}, v::Vector{Float64})
    n, k = size(J)
    @inbounds for a in 1:k
        s = 0.0
        @simd for i in 1:n
            s += J[i, a] * v[i]
        end
        g[a] = s
    end
    return g
end

"""A = J' diag(ω) J with ω_i = w_i / sum(w) (or 1/n); upper and lower filled."""
function weighted_normal_matrix!(A::Matrix{Float64}, J::Matrix{Float64}, w::Vector{Float64}, invsw::Float64)
    n, k = size(J)
    @inbounds for a in 1:k, b in a:k
        s = 0.0
        if isempty(w)
            @simd for i in 1:n
                s += J[i, a] * J[i, b]
            end
        else
            @simd for i in 1:n
                s += w[i] * J[i, a] * J[i, b]
            end
        end
        A[a, b] = s * invsw
        A[b, a] = s * invsw
    end
    return A
end

"""
In-place Cholesky solve of `M x = b` for symmetric positive-definite `M`
(overwritten by its factor). Returns false if `M` is not (numerically)
positive definite. Small k: plain loops, no allocation.
"""
function cholesky_solve!(x::Vector{Float64}, M::Matrix{Float64}, b::Vector{Float64})::Bool
    k = length(b)
    @inbounds for j in 1:k
        s = M[j, j]
        for p in 1:j-1
            s -= M[j, p]^2
        end
        (s > 0 && isfinite(s)) || return false
        ljj = sqrt(s)
        M[j, j] = ljj
        for i in j+1:k
            t = M[i, j]
            for p in 1:j-1
                t -= M[i, p] * M[j, p]
            end
            M[i, j] = t / ljj
        end
    end
    @inbounds for i in 1:k              # forward: L z = b
        t = b[i]
        for p in 1:i-1
            t -= M[i, p] * x[p]
        end
        x[i] = t / M[i, i]
    end
    @inbounds for i in k:-1:1           # backward: L' x = z
        t = x[i]
        for p in i+1:k
            t -= M[p, i] * x[p]
        end
        x[i] = t / M[i, i]
    end
    return true
end

# --- Levenberg–Marquardt (L2) -----------------------------------------------

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
    for _ in 1:opts.optimizer_iterations
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

# --- BFGS (L1, Huber, custom) -----------------------------------------------

"""Loss gradient at `kb.c` into `g` (J' * dloss/dpred); false if non-finite."""
function loss_gradient!(g::Vector{Float64}, cw::ConstantWorkspace, kb::ConstantBuffers,
                        c::Vector{Float64}, tree::Node, data::Dataset, opts::Options)::Bool
    jacobian_at!(cw, kb, c, tree, data, opts) || return false
    loss_derivative!(cw, cw.pjac, data, opts)
    jt_times!(g, kb.J, cw.dl)
    @inbounds for j in eachindex(g)
        isfinite(g[j]) || return false
    end
    return true
end

function set_identity!(H::Matrix{Float64}, scale::Float64)
    k = size(H, 1)
    @inbounds for a in 1:k, b in 1:k
        H[a, b] = a == b ? scale : 0.0
    end
    return H
end

"""out = H v for the k x k matrix H (no allocation); returns v' H v."""
function matvec!(out::Vector{Float64}, H::Matrix{Float64}, v::Vector{Float64}, k::Int)::Float64
    vHv = 0.0
    @inbounds for a in 1:k
        t = 0.0
        for b in 1:k
            t += H[a, b] * v[b]
        end
        out[a] = t
        vHv += v[a] * t
    end
    return vHv
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
    for _ in 1:opts.optimizer_iterations
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

# --- driver -----------------------------------------------------------------

"""
    optimize_constants!(tree, data, opts, rng, cw) -> Float64

Fit the constants of `tree` in place to minimise the search loss on `data`
(the (weighted) mean elementwise loss of `eval_loss`), and return the final
loss, equal to `eval_loss(tree, data, opts, ...)` afterwards.

L2: Levenberg–Marquardt with the exact Jacobian (`eval_jacobian!`). Other
losses: BFGS with a backtracking line search, gradient J' * dloss/dpred.
Each run does at most `opts.optimizer_iterations` iterations; the first run
starts from the tree's constants, then `opts.optimizer_nrestarts` runs start
from `c * (1 + 0.5 randn(rng)) + 0.1 randn(rng)` (per constant); the best end
point wins. The loss never increases: if no run improves on the starting
constants they are restored. Trees without constants are only evaluated.
Non-finite trial evaluations are treated as rejected steps.
"""
function optimize_constants!(tree::Node, data::Dataset, opts::Options, rng::AbstractRNG,
                             cw::ConstantWorkspace)::Float64
    cw.n == data.n || throw(ArgumentError(
        "ConstantWorkspace is for $(cw.n) rows but the dataset has $(data.n)"))
    empty!(cw.nodes)
    collect_constant_leaves!(cw.nodes, tree)
    k = length(cw.nodes)
    f0 = eval_loss(tree, data, opts, cw.lw)
    k == 0 && return f0
    kb = constant_buffers!(cw, k)
    read_constants!(kb.c0, cw.nodes)
    copyto!(kb.cbest, kb.c0)
    fbest = f0
    useLM = opts.loss === :L2
    for run in 0:max(opts.optimizer_nrestarts, 0)
        fbest == 0.0 && break
        if run == 0
            copyto!(kb.c, kb.c0)
            fstart = f0
        else
            @inbounds for j in 1:k
                kb.c[j] = kb.c0[j] * (1.0 + RESTART_MULTIPLICATIVE_NOISE * randn(rng)) +
                          RESTART_ADDITIVE_NOISE * randn(rng)
            end
            fstart = loss_at!(cw, kb.c, tree, data, opts)
        end
        f = useLM ? levenberg_marquardt!(cw, kb, tree, data, opts, fstart) :
                    bfgs!(cw, kb, tree, data, opts, fstart)
        if f < fbest
            fbest = f
            copyto!(kb.cbest, kb.c)
        end
    end
    # final evaluation with exactly the definition of eval_loss
    ffinal = loss_at!(cw, kb.cbest, tree, data, opts)
    if !(ffinal <= f0)
        write_constants!(cw.nodes, kb.c0)
        return f0
    end
    return ffinal
end

# --- uncertainties ----------------------------------------------------------

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

# --- linear scaling ---------------------------------------------------------

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
