# Expression trees: the Node type, construction, copying, traversal,
# constant access, printing, and the prefix encoding used by the protocol.

"""
    Node

A node of an expression tree. `degree` 0 is a leaf (a constant if `isconst`,
else feature column `feature`), 1 a unary operator `op` applied to `l`, 2 a
binary operator `op` applied to `(l, r)`. `op` indexes the search's
`OperatorSet.unaops` / `binops`. Children are left undefined on leaves.
"""
mutable struct Node
    degree::Int8
    isconst::Bool
    val::Float64
    feature::Int32
    op::Int32
    l::Node
    r::Node
    Node() = new(Int8(0), true, 0.0, Int32(0), Int32(0))
end

function const_node(v::Real)
    n = Node(); n.degree = 0; n.isconst = true; n.val = Float64(v); n
end
function var_node(j::Integer)
    n = Node(); n.degree = 0; n.isconst = false; n.feature = Int32(j); n
end
function unary_node(op::Integer, l::Node)
    n = Node(); n.degree = 1; n.isconst = false; n.op = Int32(op); n.l = l; n
end
function binary_node(op::Integer, l::Node, r::Node)
    n = Node(); n.degree = 2; n.isconst = false; n.op = Int32(op); n.l = l; n.r = r; n
end

"""Overwrite `dst` with the contents of `src` (shallow: children are shared)."""
function set_node!(dst::Node, src::Node)
    dst.degree = src.degree; dst.isconst = src.isconst; dst.val = src.val
    dst.feature = src.feature; dst.op = src.op
    src.degree >= 1 && (dst.l = src.l)
    src.degree == 2 && (dst.r = src.r)
    return dst
end

"""Deep copy of a tree."""
function copy_tree(n::Node)::Node
    c = Node()
    c.degree = n.degree; c.isconst = n.isconst; c.val = n.val
    c.feature = n.feature; c.op = n.op
    n.degree >= 1 && (c.l = copy_tree(n.l))
    n.degree == 2 && (c.r = copy_tree(n.r))
    return c
end

count_nodes(n::Node)::Int =
    n.degree == 0 ? 1 : n.degree == 1 ? 1 + count_nodes(n.l) : 1 + count_nodes(n.l) + count_nodes(n.r)

tree_depth(n::Node)::Int =
    n.degree == 0 ? 1 : n.degree == 1 ? 1 + tree_depth(n.l) : 1 + max(tree_depth(n.l), tree_depth(n.r))

count_constants(n::Node)::Int =
    n.degree == 0 ? (n.isconst ? 1 : 0) : n.degree == 1 ? count_constants(n.l) :
    count_constants(n.l) + count_constants(n.r)

"""Is there any feature leaf in the tree?"""
has_feature(n::Node)::Bool =
    n.degree == 0 ? !n.isconst : n.degree == 1 ? has_feature(n.l) : has_feature(n.l) || has_feature(n.r)

"""Collect the nodes in prefix order (node, left subtree, right subtree)."""
function collect_nodes!(out::Vector{Node}, n::Node)
    push!(out, n)
    n.degree >= 1 && collect_nodes!(out, n.l)
    n.degree == 2 && collect_nodes!(out, n.r)
    return out
end
collect_nodes(n::Node) = collect_nodes!(Node[], n)

"""Constant leaves in prefix order; `set_constants!` writes them back in the same order."""
function constant_nodes(n::Node)
    out = Node[]
    for m in collect_nodes(n)
        (m.degree == 0 && m.isconst) && push!(out, m)
    end
    return out
end
get_constants(n::Node) = Float64[c.val for c in constant_nodes(n)]
function set_constants!(n::Node, vals::AbstractVector{<:Real})
    cs = constant_nodes(n)
    length(cs) == length(vals) || throw(ArgumentError("tree has $(length(cs)) constants, got $(length(vals))"))
    for (c, v) in zip(cs, vals)
        c.val = Float64(v)
    end
    return n
end

"""Structural equality (constants compared exactly)."""
function tree_equal(a::Node, b::Node)::Bool
    a.degree == b.degree || return false
    if a.degree == 0
        a.isconst == b.isconst || return false
        return a.isconst ? a.val === b.val : a.feature == b.feature
    end
    a.op == b.op || return false
    a.degree == 1 && return tree_equal(a.l, b.l)
    return tree_equal(a.l, b.l) && tree_equal(a.r, b.r)
end

"""Hash of the tree's structure, ignoring constant values (for deduplication)."""
function structure_hash(n::Node, h::UInt=UInt(0x4b))::UInt
    if n.degree == 0
        return n.isconst ? hash(:c, h) : hash(n.feature, h)
    end
    h = hash((n.degree, n.op), h)
    h = structure_hash(n.l, h)
    return n.degree == 2 ? structure_hash(n.r, h) : h
end

const INFIX = ("+", "-", "*", "/", "^")

"""
    string_tree(n, ops; varnames) -> String

Human-readable form, fully parenthesised for binary infix operators, with
constants printed to full round-trip precision.
"""
function string_tree(n::Node, ops::OperatorSet; varnames::Vector{String}=String[])::String
    io = IOBuffer()
    print_tree(io, n, ops, varnames)
    return String(take!(io))
end
function print_tree(io::IO, n::Node, ops::OperatorSet, varnames::Vector{String})
    if n.degree == 0
        if n.isconst
            print(io, repr(n.val))
        else
            j = Int(n.feature)
            print(io, j <= length(varnames) ? varnames[j] : "x$(j - 1)")
        end
    elseif n.degree == 1
        print(io, ops.unanames[n.op], "(")
        print_tree(io, n.l, ops, varnames)
        print(io, ")")
    else
        name = ops.binnames[n.op]
        if name in INFIX
            print(io, "(")
            print_tree(io, n.l, ops, varnames)
            print(io, " ", name, " ")
            print_tree(io, n.r, ops, varnames)
            print(io, ")")
        else
            print(io, name, "(")
            print_tree(io, n.l, ops, varnames)
            print(io, ", ")
            print_tree(io, n.r, ops, varnames)
            print(io, ")")
        end
    end
end

# Prefix encoding (docs/PROTOCOL.md): one Int32 code per node, prefix order.
#   code >= 1        : feature column `code` (1-based)
#   code == 0        : constant; its value is the next entry of the constants vector
#   -1000 < code < 0 : unary operator `-code`
#   code <= -1000    : binary operator `-code - 1000 + 1`, i.e. -1000 is binop 1
"""Encode a tree as (codes, constants) in prefix order."""
function encode_tree(n::Node)
    codes = Int32[]; consts = Float64[]
    encode_tree!(codes, consts, n)
    return codes, consts
end
function encode_tree!(codes::Vector{Int32}, consts::Vector{Float64}, n::Node)
    if n.degree == 0
        if n.isconst
            push!(codes, Int32(0)); push!(consts, n.val)
        else
            push!(codes, n.feature)
        end
    elseif n.degree == 1
        push!(codes, -n.op)
        encode_tree!(codes, consts, n.l)
    else
        push!(codes, Int32(-1000) - (n.op - Int32(1)))
        encode_tree!(codes, consts, n.l)
        encode_tree!(codes, consts, n.r)
    end
end

"""Decode (codes, constants) produced by `encode_tree`."""
function decode_tree(codes::AbstractVector{<:Integer}, consts::AbstractVector{<:Real})
    pos = Ref(1); cpos = Ref(1)
    t = _decode(codes, consts, pos, cpos)
    pos[] == length(codes) + 1 || throw(ArgumentError("trailing codes in tree encoding"))
    cpos[] == length(consts) + 1 || throw(ArgumentError("unused constants in tree encoding"))
    return t
end
function _decode(codes, consts, pos, cpos)::Node
    pos[] <= length(codes) || throw(ArgumentError("truncated tree encoding"))
    c = Int(codes[pos[]]); pos[] += 1
    if c > 0
        return var_node(c)
    elseif c == 0
        cpos[] <= length(consts) || throw(ArgumentError("missing constant in tree encoding"))
        v = consts[cpos[]]; cpos[] += 1
        return const_node(v)
    elseif c > -1000
        return unary_node(-c, _decode(codes, consts, pos, cpos))
    else
        op = -c - 1000 + 1
        l = _decode(codes, consts, pos, cpos)
        r = _decode(codes, consts, pos, cpos)
        return binary_node(op, l, r)
    end
end
