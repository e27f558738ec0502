# Exhaustive enumeration of small expressions, used to seed the search.
#
# Expressions are built bottom-up by complexity from the leaves (every feature
# and one constant placeholder): level c holds the unary operators applied to
# level c - cost(op) and the binary operators applied to pairs of levels whose
# complexities add up to c - cost(op). Each new expression is evaluated on a
# small row subsample by applying its operator to its children's stored
# values (no tree walk), and kept only if
#   * its values are finite,
#   * they are not constant across rows (constant subexpressions are
#     redundant with the constant leaf), and
#   * no expression kept before has the same values rounded to 9 significant
#     digits (value-equivalence: `x0*x1` and `x1*x0`, `x0-x0+x1`, ... are
#     enumerated once; the first, i.e. simplest, representative is kept).
# Subtrees are shared between enumerated trees: copy before mutating.

"""Value of the constant placeholder leaf during enumeration (an arbitrary,
"generic" number so that e.g. `c*x0` and `x0` are told apart)."""
const ENUM_CONSTANT = 0.7390851332151607

"""Number of rows of the subsample used to recognise equivalent expressions."""
const ENUM_ROWS = 48

"""Expressions found by `enumerate_expressions`, in increasing complexity."""
struct Enumeration
    trees::Vector{Node}
    complexity::Vector{Int}
    values::Vector{Vector{Float64}}   # values on the subsample rows
    rows::Vector{Int}                 # the subsample (row indices of X)
    complete::Bool                    # false if a cap (count / time) cut it short
end

"""Evenly spread row indices, at most `m` of `1:n` (deterministic)."""
function subsample_rows(n::Int, m::Int)::Vector{Int}
    n <= m && return collect(1:n)
    return unique([1 + floor(Int, (i - 1) * (n - 1) / (m - 1)) for i in 1:m])
end

"""Hash of values rounded to 9 significant digits (NaN-free input)."""
function value_hash(v::Vector{Float64})::UInt
    h = UInt(0x5eed)
    @inbounds for x in v
        r = x == 0.0 ? 0.0 : round(x; sigdigits=9)
        h = hash(r == 0.0 ? 0.0 : r, h)    # -0.0 and 0.0 hash alike
    end
    return h
end

"""
Hash of values up to an affine map `a*v + b` (a ≠ 0): the values are
centred, scaled to unit norm and given a positive first non-zero entry
before rounding. Expressions with equal `affine_hash` are the same model
under linear scaling.
"""
function affine_hash(v::Vector{Float64}, buf::Vector{Float64})::UInt
    m = sum(v) / length(v)
    s = 0.0
    @inbounds for i in eachindex(v)
        buf[i] = v[i] - m; s += buf[i]^2
    end
    s = sqrt(s)
    s > 0 || return UInt(0)
    sgn = 0.0
    @inbounds for i in eachindex(buf)
        if abs(buf[i]) > 1e-9 * s
            sgn = sign(buf[i]); break
        end
    end
    @inbounds for i in eachindex(buf)
        buf[i] *= sgn / s
    end
    return value_hash(buf)
end

function _is_constant_vector(v::Vector{Float64})::Bool
    v1 = v[1]
    tol = 1e-12 * max(abs(v1), 1.0)
    @inbounds for x in v
        abs(x - v1) > tol && return false
    end
    return true
end

function _apply_unary(f::F, a::Vector{Float64})::Vector{Float64} where {F}
    out = similar(a)
    @inbounds for i in eachindex(a)
        out[i] = f(a[i])
    end
    return out
end

function _apply_binary(f::F, a::Vector{Float64}, b::Vector{Float64})::Vector{Float64} where {F}
    out = similar(a)
    @inbounds for i in eachindex(a)
        out[i] = f(a[i], b[i])
    end
    return out
end

"""Upper bound on the number of expressions of complexity `c` built from `levels`."""
function _level_combinations(levels::Vector{Vector{Int}}, c::Int, opts::Options)::Int
    total = 0
    for u in eachindex(opts.ops.unaops)
        cu = c - opts.complexity.complexity_of_unaops[u]
        cu >= 1 && (total += length(levels[cu]))
    end
    for b in eachindex(opts.ops.binops)
        rest = c - opts.complexity.complexity_of_binops[b]
        for cl in 1:(rest - 1)
            total += length(levels[cl]) * length(levels[rest - cl])
        end
    end
    return total
end

"""
    enumerate_expressions(X, opts; max_complexity, max_candidates, deadline=Inf) -> Enumeration

All value-distinct expressions over the features of `X` (rows x features),
the operators of `opts.ops` and one constant leaf (value `ENUM_CONSTANT`),
of complexity (as `compute_complexity`) at most `max_complexity`, that
satisfy `check_constraints`. Complexity levels are built whole: a level is
not started when the expressions kept so far plus the level's raw
combinations exceed `max_candidates` (then `complete = false`); past
`deadline` (`time()`) the enumeration also stops (mid-level).
"""
function enumerate_expressions(X::Matrix{Float64}, opts::Options; max_complexity::Int,
                               max_candidates::Int, deadline::Float64=Inf)::Enumeration
    max_candidates >= 1 || throw(ArgumentError("max_candidates must be >= 1, got $(max_candidates)"))
    n, p = size(X)
    p >= 1 || throw(ArgumentError("enumeration needs at least one feature"))
    rows = subsample_rows(n, ENUM_ROWS)
    K = min(max_complexity, opts.constraints.maxsize)
    trees = Node[]; comp = Int[]; vals = Vector{Float64}[]
    levels = [Int[] for _ in 1:max(K, 1)]     # indices into trees, per complexity
    seen = Set{UInt}()
    complete = true
    function keep!(t::Node, c::Int, v::Vector{Float64}, isleafconst::Bool=false)::Bool
        if length(trees) >= max_candidates || time() > deadline
            complete = false
            return false
        end
        all(isfinite, v) || return true
        (!isleafconst && _is_constant_vector(v)) && return true
        h = value_hash(v)
        h in seen && return true
        check_constraints(t, opts) || return true
        push!(seen, h)
        push!(trees, t); push!(comp, c); push!(vals, v)
        push!(levels[c], length(trees))
        return true
    end
    K >= 1 || return Enumeration(trees, comp, vals, rows, true)
    # leaves
    for j in 1:p
        c = opts.complexity.complexity_of_variables
        c <= K && (keep!(var_node(j), c, X[rows, j]) || @goto done)
    end
    cc = opts.complexity.complexity_of_constants
    cc <= K && (keep!(const_node(ENUM_CONSTANT), cc, fill(ENUM_CONSTANT, length(rows)), true) || @goto done)
    for c in 2:K
        # whole levels only: stop before a level whose raw combinations could
        # exceed the cap (so that no operator is favoured by loop order)
        if length(trees) + _level_combinations(levels, c, opts) > max_candidates
            complete = false
            @goto done
        end
        for u in eachindex(opts.ops.unaops)
            cu = c - opts.complexity.complexity_of_unaops[u]
            cu >= 1 || continue
            f = opts.ops.unaops[u]
            for i in levels[cu]
                trees[i].degree == 0 && trees[i].isconst && continue   # op(constant) is a constant
                keep!(unary_node(u, trees[i]), c, _apply_unary(f, vals[i])) || @goto done
            end
        end
        for b in eachindex(opts.ops.binops)
            rest = c - opts.complexity.complexity_of_binops[b]
            f = opts.ops.binops[b]
            for cl in 1:(rest - 1)
                cr = rest - cl
                for i in levels[cl], j in levels[cr]
                    ti = trees[i]; tj = trees[j]
                    # both sides constant leaves: a constant
                    (ti.degree == 0 && ti.isconst && tj.degree == 0 && tj.isconst) && continue
                    keep!(binary_node(b, ti, tj), c, _apply_binary(f, vals[i], vals[j])) || @goto done
                end
            end
        end
    end
    @label done
    return Enumeration(trees, comp, vals, rows, complete)
end

"""
    affine_distinct(en) -> Vector{Int}

Indices of the enumerated expressions that are distinct up to an affine map
`a*f + b` (the simplest representative of each class, in enumeration order),
i.e. the ones worth scoring when the search uses linear scaling.
"""
function affine_distinct(en::Enumeration)::Vector{Int}
    isempty(en.trees) && return Int[]
    buf = similar(en.values[1])
    seen = Set{UInt}()
    out = Int[]
    for i in eachindex(en.trees)
        t = en.trees[i]
        (t.degree == 0 && t.isconst) && continue
        h = affine_hash(en.values[i], buf)
        h in seen && continue
        push!(seen, h); push!(out, i)
    end
    return out
end
