# Mutation operators: random leaves and trees, the choice of a mutation kind
# from the weights in Options, and `mutate`, which applies one kind to a copy
# of a tree. Every function here takes the RNG explicitly so that a search
# with a fixed seed is reproducible.

"""
    random_leaf(nfeatures, rng) -> Node

A feature leaf (column drawn uniformly from `1:nfeatures`) or a constant
drawn from a standard normal, each with probability 1/2.
"""
function random_leaf(nfeatures::Int, rng::AbstractRNG)::Node
    nfeatures >= 1 || throw(ArgumentError("nfeatures must be >= 1, got $(nfeatures)"))
    return rand(rng) < 0.5 ? var_node(rand(rng, 1:nfeatures)) : const_node(randn(rng))
end

"""Shallow copy of one node (children shared)."""
shallow_copy(n::Node)::Node = set_node!(Node(), n)

"""Do the options offer any operator at all?"""
has_operators(opts::Options)::Bool =
    !isempty(opts.ops.binops) || !isempty(opts.ops.unaops)

"""
Largest probability that a new operator node is unary. Sampling arities in
proportion to the operator counts (as before, and as SymbolicRegression.jl
does) makes 9 of 13 new nodes unary with the Feynman set `+ - * /` and
`sin cos exp log sqrt square tanh asin acos`, against 2 of 6 with
`sin cos`: the populations fill with nests of unary functions and simple
products are buried. Capping the unary share at the `sin, cos` level (1/3)
keeps the shape of the trees independent of how many unary operators are
offered; within an arity operators stay uniform.
"""
const MAX_UNARY_PROBABILITY = 1 / 3

"""
    unary_probability(nbinary, nunary) -> Float64

Probability that `random_operator_node` makes a unary node:
`nunary / (nunary + nbinary)` capped at `MAX_UNARY_PROBABILITY` (1 with no
binary operator, 0 with no unary operator).
"""
function unary_probability(nbinary::Int, nunary::Int)::Float64
    nunary == 0 && return 0.0
    nbinary == 0 && return 1.0
    return min(nunary / (nunary + nbinary), MAX_UNARY_PROBABILITY)
end

"""
    random_operator_node(child, opts, nfeatures, rng) -> Node

A new operator node above `child`: unary with probability
`unary_probability` (operator uniform among the unary ones), otherwise
binary (uniform among the binary ones), putting `child` on a random side
and a fresh random leaf on the other.
"""
function random_operator_node(child::Node, opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    nb = length(opts.ops.binops); nu = length(opts.ops.unaops)
    nb + nu >= 1 || throw(ArgumentError("the operator set is empty: cannot add an operator node"))
    if rand(rng) < 1.0 - unary_probability(nb, nu)
        op = rand(rng, 1:nb)
        leaf = random_leaf(nfeatures, rng)
        return rand(rng) < 0.5 ? binary_node(op, child, leaf) : binary_node(op, leaf, child)
    else
        return unary_node(rand(rng, 1:nu), child)
    end
end

"""
    random_tree(nnodes, opts, nfeatures, rng) -> Node

A random tree grown from a single leaf by repeated `:add_node`-style
additions until it has at least `nnodes` nodes (binary additions add two
nodes, so the result may exceed `nnodes` by one). Only operators of
`opts.ops` are used; with an empty operator set the result is a leaf.
"""
function random_tree(nnodes::Int, opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    tree = random_leaf(nfeatures, rng)
    has_operators(opts) || return tree
    n = 1
    while n < nnodes
        tree = add_node!(tree, opts, nfeatures, rng)
        n = count_nodes(tree)
    end
    return tree
end

# --- node sampling -----------------------------------------------------------

"""A uniformly random node of `tree` among those satisfying `pred`, or `nothing`."""
function random_node(pred, tree::Node, rng::AbstractRNG)::Union{Node,Nothing}
    cands = filter(pred, collect_nodes(tree))
    isempty(cands) && return nothing
    return cands[rand(rng, 1:length(cands))]
end

is_constant_leaf(n::Node) = n.degree == 0 && n.isconst
is_operator(n::Node) = n.degree >= 1
is_binary(n::Node) = n.degree == 2
"""Can a rotation pivot on `n`, i.e. does it have an operator child?"""
is_rotatable(n::Node) = (n.degree >= 1 && n.l.degree >= 1) || (n.degree == 2 && n.r.degree >= 1)

# --- choice of the mutation kind ---------------------------------------------

"""
    choose_mutation(tree, opts, nfeatures, rng) -> Symbol

Sample one of `MUTATION_KINDS` with probability proportional to
`opts.mutation_weights`, after zeroing the kinds that cannot apply to
`tree`: `:mutate_constant` without constants; `:mutate_operator`,
`:delete_node` and `:rotate_tree` without operator nodes (rotation also
needs an operator node with an operator child); `:swap_operands` without
binary nodes; `:add_node`/`:insert_node` when the complexity has reached
`opts.constraints.maxsize` or there are no operators; `:simplify` when
`!opts.evolution.should_simplify`. The `:optimize` weight is left as given (the
caller handles that kind). Returns `:do_nothing` if every weight is zero.
"""
function choose_mutation(tree::Node, opts::Options, nfeatures::Int, rng::AbstractRNG)::Symbol
    w = weight_vector(opts.mutation_weights)
    nodes = collect_nodes(tree)
    zero_kind!(k) = (w[findfirst(isequal(k), MUTATION_KINDS)] = 0.0)
    any(is_constant_leaf, nodes) || zero_kind!(:mutate_constant)
    if !any(is_operator, nodes)
        zero_kind!(:mutate_operator); zero_kind!(:delete_node)
    end
    any(is_rotatable, nodes) || zero_kind!(:rotate_tree)
    any(is_binary, nodes) || zero_kind!(:swap_operands)
    if compute_complexity(tree, opts) >= opts.constraints.maxsize || !has_operators(opts)
        zero_kind!(:add_node); zero_kind!(:insert_node)
    end
    opts.evolution.should_simplify || zero_kind!(:simplify)
    total = sum(w)
    total > 0 || return :do_nothing
    u = rand(rng) * total
    acc = 0.0
    for (i, k) in enumerate(MUTATION_KINDS)
        acc += w[i]
        (u < acc && w[i] > 0) && return k
    end
    # floating-point edge: return the last kind with positive weight
    return MUTATION_KINDS[findlast(>(0), w)]
end

# --- the mutations -----------------------------------------------------------

"""
    mutate(tree, kind, temperature, opts, nfeatures, rng) -> Node

Apply mutation `kind` (one of `MUTATION_KINDS`) to a copy of `tree` and
return the copy; `tree` itself is never modified. A kind that finds nothing
to act on (e.g. `:mutate_constant` on a tree without constants) returns an
unchanged copy, as do `:do_nothing` and `:optimize` (constant optimisation
is done by the caller). Constraints are not checked here.
"""
function mutate(tree::Node, kind::Symbol, temperature::Float64, opts::Options,
                nfeatures::Int, rng::AbstractRNG)::Node
    t = copy_tree(tree)
    if kind === :mutate_constant
        return mutate_constant!(t, temperature, opts, rng)
    elseif kind === :mutate_operator
        return mutate_operator!(t, opts, rng)
    elseif kind === :swap_operands
        return swap_operands!(t, rng)
    elseif kind === :add_node
        return has_operators(opts) ? add_node!(t, opts, nfeatures, rng) : t
    elseif kind === :insert_node
        return has_operators(opts) ? insert_node!(t, opts, nfeatures, rng) : t
    elseif kind === :delete_node
        return delete_node!(t, rng)
    elseif kind === :rotate_tree
        return rotate_tree!(t, rng)
    elseif kind === :randomize
        return randomize_tree(opts, nfeatures, rng)
    elseif kind === :simplify
        return simplify_tree(t, opts)
    elseif kind === :do_nothing || kind === :optimize
        return t
    end
    throw(ArgumentError("unknown mutation kind $(repr(kind)); expected one of $(join(MUTATION_KINDS, ", "))"))
end

"""
A fresh random tree of a random size in `1:opts.constraints.maxsize` (node count; with
binary operators only the size may overshoot by one, then it is redrawn one
smaller so that the node count never exceeds `maxsize`).
"""
function randomize_tree(opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    nnodes = rand(rng, 1:opts.constraints.maxsize)
    t = random_tree(nnodes, opts, nfeatures, rng)
    count_nodes(t) <= opts.constraints.maxsize && return t
    return random_tree(nnodes - 1, opts, nfeatures, rng)
end

"""
Perturb one random constant: multiply or divide it (1/2 each) by
`m^u`, `u ~ U(0,1)`, `m = 1 + 0.1 + perturbation_factor * temperature`, add
a Gaussian jitter of standard deviation `0.01 * (perturbation_factor *
temperature + 0.1)` (so a zero constant can move), and flip its sign with
probability `opts.evolution.probability_negate_constant`.
"""
function mutate_constant!(t::Node, temperature::Float64, opts::Options, rng::AbstractRNG)::Node
    c = random_node(is_constant_leaf, t, rng)
    c === nothing && return t
    scale = opts.evolution.perturbation_factor * temperature
    factor = (1.1 + scale)^rand(rng)
    v = rand(rng) < 0.5 ? c.val * factor : c.val / factor
    v += 0.01 * (scale + 0.1) * randn(rng)
    rand(rng) < opts.evolution.probability_negate_constant && (v = -v)
    c.val = v
    return t
end

"""Replace the operator of a random operator node by another of the same arity (when one exists)."""
function mutate_operator!(t::Node, opts::Options, rng::AbstractRNG)::Node
    n = random_node(is_operator, t, rng)
    n === nothing && return t
    nops = n.degree == 1 ? length(opts.ops.unaops) : length(opts.ops.binops)
    if nops >= 2
        op = rand(rng, 1:(nops - 1))          # uniform among the other operators
        n.op = Int32(op >= n.op ? op + 1 : op)
    end
    return t
end

"""Swap the two children of a random binary node."""
function swap_operands!(t::Node, rng::AbstractRNG)::Node
    n = random_node(is_binary, t, rng)
    n === nothing && return t
    n.l, n.r = n.r, n.l
    return t
end

"""
Append an operator at a random leaf (probability 1/2) or at the root: the
old leaf/root becomes one operand, a fresh random leaf the other.
Returns the (possibly new) root.
"""
function add_node!(t::Node, opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    if rand(rng) < 0.5
        return random_operator_node(t, opts, nfeatures, rng)
    end
    leaf = random_node(n -> n.degree == 0, t, rng)::Node
    set_node!(leaf, random_operator_node(shallow_copy(leaf), opts, nfeatures, rng))
    return t
end

"""Insert a random operator above a random node (leaf or operator)."""
function insert_node!(t::Node, opts::Options, nfeatures::Int, rng::AbstractRNG)::Node
    n = random_node(_ -> true, t, rng)::Node
    set_node!(n, random_operator_node(shallow_copy(n), opts, nfeatures, rng))
    return t
end

"""Replace a random operator node by one of its children (chosen at random for binary nodes)."""
function delete_node!(t::Node, rng::AbstractRNG)::Node
    n = random_node(is_operator, t, rng)
    n === nothing && return t
    child = (n.degree == 2 && rand(rng) < 0.5) ? n.r : n.l
    set_node!(n, shallow_copy(child))
    return t
end

getchild(n::Node, i::Int) = i == 1 ? n.l : n.r
setchild!(n::Node, i::Int, c::Node) = (i == 1 ? (n.l = c) : (n.r = c); n)

"""
Tree rotation. Pick a random node `R` with an operator child `P` (child slot
`i`), and a random child slot `j` of `P`. Then `P` takes `R`'s place,
`R` becomes `P`'s child in slot `j`, and `P`'s former child in slot `j`
becomes `R`'s child in slot `i`. For binary `R` and `P` with `i = 1, j = 2`
this is the classic right rotation `(a ∘ b) • c -> a ∘ (b • c)`.
The node count is unchanged.
"""
function rotate_tree!(t::Node, rng::AbstractRNG)::Node
    root = random_node(is_rotatable, t, rng)
    root === nothing && return t
    slots = Int[]
    root.l.degree >= 1 && push!(slots, 1)
    (root.degree == 2 && root.r.degree >= 1) && push!(slots, 2)
    i = slots[rand(rng, 1:length(slots))]
    pivot = getchild(root, i)
    j = pivot.degree == 2 ? rand(rng, 1:2) : 1
    newroot = shallow_copy(pivot)
    lowered = shallow_copy(root)
    setchild!(lowered, i, getchild(pivot, j))
    setchild!(newroot, j, lowered)
    set_node!(root, newroot)
    return t
end
