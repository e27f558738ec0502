# Population members and populations.

"""
A candidate: its tree, raw loss, score (normalised loss + parsimony penalty
used for selection), complexity, and birth order (for age-regularised
replacement: the oldest member is replaced).
"""
mutable struct PopMember
    tree::Node
    loss::Float64
    score::Float64
    complexity::Int
    birth::Int
end

copy_member(m::PopMember) = PopMember(copy_tree(m.tree), m.loss, m.score, m.complexity, m.birth)

mutable struct Population
    members::Vector{PopMember}
end
