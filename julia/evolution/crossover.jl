# Crossover: exchange of one random subtree between two parents.

"""
    crossover_trees(a, b, rng) -> (a2, b2)

Copies of `a` and `b` in which a uniformly random subtree of the copy of
`a` and a uniformly random subtree of the copy of `b` are exchanged. The
parents are not modified; the total node count of the pair is preserved.
Constraints are not checked here.
"""
function crossover_trees(a::Node, b::Node, rng::AbstractRNG)::Tuple{Node,Node}
    a2 = copy_tree(a); b2 = copy_tree(b)
    na = collect_nodes(a2); nb = collect_nodes(b2)
    sa = na[rand(rng, 1:length(na))]
    sb = nb[rand(rng, 1:length(nb))]
    # Swap the contents of the two chosen nodes: the copies own them, so this
    # exchanges the subtrees rooted there (children are moved, not copied).
    tmp = shallow_copy(sa)
    set_node!(sa, sb)
    set_node!(sb, tmp)
    return a2, b2
end
