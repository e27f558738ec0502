# The constant-fitting driver: `optimize_constants!` moves a tree's constants
# to minimise the search loss (the same (weighted) mean elementwise loss as
# `eval_loss`), by Levenberg–Marquardt for L2 and BFGS otherwise, from the
# tree's constants and from randomly perturbed restarts.

"""Additive noise (standard deviation) of a restart's start point, on top of the
multiplicative perturbation `c * (1 + 0.5 randn)`; lets constants at 0 move."""
const RESTART_ADDITIVE_NOISE = 0.1
const RESTART_MULTIPLICATIVE_NOISE = 0.5

"""
    optimize_constants!(tree, data, opts, rng, cw) -> Float64

Fit the constants of `tree` in place to minimise the search loss on `data`
(the (weighted) mean elementwise loss of `eval_loss`), and return the final
loss, equal to `eval_loss(tree, data, opts, ...)` afterwards.

L2: Levenberg–Marquardt with the exact Jacobian (`eval_jacobian!`). Other
losses: BFGS with a backtracking line search, gradient J' * dloss/dpred.
Each run does at most `opts.constant_fitting.optimizer_iterations` iterations; the first run
starts from the tree's constants, then `opts.constant_fitting.optimizer_nrestarts` runs start
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
    useLM = opts.objective.loss === :L2
    for run in 0:max(opts.constant_fitting.optimizer_nrestarts, 0)
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

