# Small dense kernels of constant fitting (k = number of constants, small):
# J' v, the weighted normal matrix J' W J, an in-place Cholesky solve, and
# the k x k helpers of BFGS. Plain loops, no allocation.

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

