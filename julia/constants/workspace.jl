# Workspace of constant fitting: every row-sized buffer (a Dual evaluation
# workspace, the Jacobian, the per-row loss slope) lives in a
# `ConstantWorkspace` that the search reuses, and the k-sized buffers are
# cached per number of constants, so after warm-up a fit allocates (almost)
# nothing. Also the moves between a tree's constant leaves and a vector, and
# the loss / Jacobian of a tree at given constants.

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

