# Evaluation of a tree over all rows of X into a preallocated output vector.
# Generic over the element type T (Float64 for predictions, Dual for
# derivatives with respect to one constant). Buffers come from an
# EvalWorkspace and are reused: no allocation in the hot loop. Each operator's
# row loop is reached through a function barrier, so it is compiled for that
# operator and is type-stable; the dynamic dispatch happens once per node.
# Non-finite values are detected per node (early exit) with a Bool reduction,
# which vectorises without fast-math (a float NaN probe under @simd can be
# folded away by the compiler).

"""
Reusable buffers for evaluating trees on `n` rows with element type `T`,
and the workspace's running account of its evaluations: nanoseconds spent
in `eval_tree!` (`eval_ns`) and node-rows evaluated (`node_rows`, nodes of
the tree x rows), read by the search's instrumentation.
"""
mutable struct EvalWorkspace{T}
    n::Int
    bufs::Vector{Vector{T}}
    cidx::Int      # running constant counter (prefix order) during a Dual pass
    seed::Int      # index of the constant whose derivative is propagated (0: none)
    eval_ns::UInt64
    node_rows::Int
end
EvalWorkspace{T}(n::Integer) where {T} = EvalWorkspace{T}(Int(n), Vector{T}[], 0, 0, UInt64(0), 0)

@inline function workspace_buffer!(ws::EvalWorkspace{T}, level::Int) where {T}
    while length(ws.bufs) < level
        push!(ws.bufs, Vector{T}(undef, ws.n))
    end
    return @inbounds ws.bufs[level]
end

@inline leafconst(::Type{Float64}, v::Float64, ws) = v
@inline function leafconst(::Type{Dual}, v::Float64, ws)
    ws.cidx += 1
    return Dual(v, ws.cidx == ws.seed ? 1.0 : 0.0)
end

# true for NaN/Inf; written as a comparison so that no fast-math flag can fold it away
@inline nonfinite(v::Float64) = !(abs(v) < Inf)
@inline nonfinite(v::Dual) = !(abs(v.v) < Inf) | !(abs(v.d) < Inf)

# --- row loops (function barriers: `f` is concrete inside) --------------------
# Unary loops go through `row_kernel`/`row_pending`/`finish_rows!` (core/fast_math.jl):
# for most operators that is just `f`; sin and cos keep their rare huge
# arguments out of the vectorised loop and finish them in a second pass.
function loop_unary!(f::F, out::Vector{T}) where {F,T}
    bad = false
    pending = false
    @inbounds for i in eachindex(out)
        v = row_kernel(f, out[i])::T
        out[i] = v
        bad |= nonfinite(v)
        pending |= row_pending(f, v)
    end
    bad && return false
    return pending ? finish_rows!(f, out)::Bool : true
end
function loop_bin_vv!(f::F, out::Vector{T}, b::Vector{T}) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(out[i], b[i])::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_bin_vc!(f::F, out::Vector{T}, c::T) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(out[i], c)::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_bin_cv!(f::F, c::T, out::Vector{T}) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(c, out[i])::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_bin_vx!(f::F, out::Vector{T}, X::Matrix{Float64}, j::Int) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(out[i], T(X[i, j]))::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_bin_xv!(f::F, X::Matrix{Float64}, j::Int, out::Vector{T}) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(T(X[i, j]), out[i])::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_bin_xx!(f::F, out::Vector{T}, X::Matrix{Float64}, j::Int, k::Int) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(T(X[i, j]), T(X[i, k]))::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_bin_xc!(f::F, out::Vector{T}, X::Matrix{Float64}, j::Int, c::T) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(T(X[i, j]), c)::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_bin_cx!(f::F, out::Vector{T}, c::T, X::Matrix{Float64}, j::Int) where {F,T}
    bad = false
    @inbounds for i in eachindex(out)
        v = f(c, T(X[i, j]))::T
        out[i] = v
        bad |= nonfinite(v)
    end
    return !bad
end
function loop_unary_x!(f::F, out::Vector{T}, X::Matrix{Float64}, j::Int) where {F,T}
    bad = false
    pending = false
    @inbounds for i in eachindex(out)
        v = row_kernel(f, T(X[i, j]))::T
        out[i] = v
        bad |= nonfinite(v)
        pending |= row_pending(f, v)
    end
    bad && return false
    return pending ? finish_rows!(f, out)::Bool : true
end

"""
    eval_tree!(out, tree, X, ops, ws) -> Bool

Evaluate `tree` on every row of `X` (rows x features, column-major) into
`out`. Returns `false` as soon as a node produces a non-finite value (the
contents of `out` are then unspecified). The time taken and the node-rows
are added to `ws.eval_ns` / `ws.node_rows`.
"""
function eval_tree!(out::Vector{T}, tree::Node, X::Matrix{Float64}, ops::OperatorSet,
                    ws::EvalWorkspace{T})::Bool where {T}
    ws.cidx = 0
    t0 = time_ns()
    ok = eval_node!(out, tree, X, ops, ws, 1)
    ws.eval_ns += time_ns() - t0
    ws.node_rows += count_nodes(tree) * length(out)
    return ok
end

function eval_node!(out::Vector{T}, n::Node, X::Matrix{Float64}, ops::OperatorSet,
                    ws::EvalWorkspace{T}, level::Int)::Bool where {T}
    if n.degree == 0
        if n.isconst
            c = leafconst(T, n.val, ws)
            fill!(out, c)
            return isfinite(c)
        else
            j = Int(n.feature)
            @inbounds for i in eachindex(out)
                out[i] = T(X[i, j])
            end
            return true
        end
    elseif n.degree == 1
        f = ops.unaops[n.op]
        l = n.l
        if l.degree == 0 && !l.isconst
            return loop_unary_x!(f, out, X, Int(l.feature))::Bool
        end
        eval_node!(out, l, X, ops, ws, level) || return false
        return loop_unary!(f, out)::Bool
    else
        f = ops.binops[n.op]
        l = n.l; r = n.r
        if l.degree == 0 && r.degree == 0
            if l.isconst && r.isconst
                cl = leafconst(T, l.val, ws); cr = leafconst(T, r.val, ws)
                fill!(out, cl)
                return loop_bin_vc!(f, out, cr)::Bool
            elseif l.isconst
                cl = leafconst(T, l.val, ws)
                return loop_bin_cx!(f, out, cl, X, Int(r.feature))::Bool
            elseif r.isconst
                cr = leafconst(T, r.val, ws)
                return loop_bin_xc!(f, out, X, Int(l.feature), cr)::Bool
            else
                return loop_bin_xx!(f, out, X, Int(l.feature), Int(r.feature))::Bool
            end
        elseif r.degree == 0
            eval_node!(out, l, X, ops, ws, level) || return false
            if r.isconst
                return loop_bin_vc!(f, out, leafconst(T, r.val, ws))::Bool
            else
                return loop_bin_vx!(f, out, X, Int(r.feature))::Bool
            end
        elseif l.degree == 0
            if l.isconst
                cl = leafconst(T, l.val, ws)   # counted before r: prefix order
                eval_node!(out, r, X, ops, ws, level) || return false
                return loop_bin_cv!(f, cl, out)::Bool
            else
                eval_node!(out, r, X, ops, ws, level) || return false
                return loop_bin_xv!(f, X, Int(l.feature), out)::Bool
            end
        else
            eval_node!(out, l, X, ops, ws, level) || return false
            buf = workspace_buffer!(ws, level)
            eval_node!(buf, r, X, ops, ws, level + 1) || return false
            return loop_bin_vv!(f, out, buf)::Bool
        end
    end
end

"""
    eval_jacobian!(J, pred, tree, X, ops, ws) -> Bool

Fill `pred` with the predictions and column `k` of `J` (rows x nconst) with
the exact derivative of the prediction with respect to constant `k` (prefix
order), by one forward-mode Dual pass per constant.
"""
function eval_jacobian!(J::Matrix{Float64}, pred::Vector{Float64}, tree::Node,
                        X::Matrix{Float64}, ops::OperatorSet, ws::EvalWorkspace{Dual},
                        dout::Vector{Dual})::Bool
    k = size(J, 2)
    if k == 0
        ws.seed = 0
        eval_tree!(dout, tree, X, ops, ws) || return false
        @inbounds for i in eachindex(pred)
            pred[i] = dout[i].v
        end
        return true
    end
    for c in 1:k
        ws.seed = c
        eval_tree!(dout, tree, X, ops, ws) || return false
        @inbounds for i in eachindex(dout)
            J[i, c] = dout[i].d
        end
        if c == 1
            @inbounds for i in eachindex(pred)
                pred[i] = dout[i].v
            end
        end
    end
    ws.seed = 0
    return true
end
