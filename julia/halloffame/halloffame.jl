# Hall of fame: the best member per complexity seen anywhere in the search,
# the Pareto front extracted from it, the score column
# (-d log(loss) / d complexity), and the front as reported (`FrontEntry`,
# with the standard errors of the constants). julia/io/records.jl turns
# front entries into protocol records.

mutable struct HallOfFame
    members::Vector{Union{Nothing,PopMember}}   # index = complexity
end
HallOfFame(maxsize::Int) = HallOfFame(Union{Nothing,PopMember}[nothing for _ in 1:maxsize])

"""Offer a member; keep a copy if it beats the best at its complexity. Returns true if kept."""
function offer!(hof::HallOfFame, m::PopMember)::Bool
    c = m.complexity
    (1 <= c <= length(hof.members) && isfinite(m.loss)) || return false
    cur = hof.members[c]
    if cur === nothing || m.loss < cur.loss
        hof.members[c] = copy_member(m)
        return true
    end
    return false
end

"""
    pareto_front(hof; noise_floor=0.0) -> Vector{PopMember}

Members on the Pareto front: each better in loss than every simpler one by
more than `noise_floor` (an absolute loss). With a floor such as
1e-15 x baseline loss, a more complex formula that only shaves floating-point
rounding off an exact one (1e-30 vs 4e-30) does not enter the front, so
model selection keeps the exact simple formula.
"""
function pareto_front(hof::HallOfFame; noise_floor::Float64=0.0)::Vector{PopMember}
    front = PopMember[]
    best = Inf
    for m in hof.members
        m === nothing && continue
        if m.loss < best - noise_floor
            push!(front, m); best = m.loss
        end
    end
    return front
end

"""Loss differences below this are rounding noise (relative to the baseline loss)."""
const FRONT_NOISE_FLOOR = 1e-15

"""Scores along a front: score_i = -(log l_i - log l_{i-1}) / (c_i - c_{i-1}); first is 0."""
function front_scores(front::Vector{PopMember})::Vector{Float64}
    s = zeros(length(front))
    for i in 2:length(front)
        l0 = max(front[i - 1].loss, floatmin(Float64)); l1 = max(front[i].loss, floatmin(Float64))
        dc = front[i].complexity - front[i - 1].complexity
        s[i] = dc > 0 ? -(log(l1) - log(l0)) / dc : 0.0
    end
    return s
end

"""
One formula of the reported Pareto front: its tree (owned by the hall of
fame: do not modify), complexity, loss, score (`front_scores`) and the
standard errors of its constants in prefix order (`NaN` where unknown or
not computed), and optionally their covariance matrix (`constant_covariance`;
0 x 0 when not computed: a search does not, `fit_seed_expressions` does).
"""
struct FrontEntry
    tree::Node
    complexity::Int
    loss::Float64
    score::Float64
    constants_stderr::Vector{Float64}
    constants_covariance::Matrix{Float64}
end
FrontEntry(tree::Node, complexity::Int, loss::Float64, score::Float64, se::Vector{Float64}) =
    FrontEntry(tree, complexity, loss, score, se, zeros(0, 0))

"""
    front_entries(hof, data, opts; uncertainties=true) -> Vector{FrontEntry}

The Pareto front of `hof` above the rounding-noise floor, with scores and,
when `uncertainties`, the standard errors of the constants
(`constant_uncertainties`; otherwise all `NaN`).
"""
function front_entries(hof::HallOfFame, data::Dataset, opts::Options; uncertainties::Bool=true)
    front = pareto_front(hof; noise_floor=FRONT_NOISE_FLOOR * data.baseline_loss)
    scores = front_scores(front)
    entries = Vector{FrontEntry}()
    for (m, s) in zip(front, scores)
        k = count_constants(m.tree)
        se = uncertainties && k > 0 ? constant_uncertainties(m.tree, data, opts) : fill(NaN, k)
        push!(entries, FrontEntry(m.tree, m.complexity, m.loss, s, se))
    end
    return entries
end

"""The loss of the hall of fame's formula at each complexity (Inf where empty), into `out`."""
function hof_losses!(out::Vector{Float64}, hof::HallOfFame)::Vector{Float64}
    @inbounds for c in eachindex(out)
        m = c <= length(hof.members) ? hof.members[c] : nothing
        out[c] = m === nothing ? Inf : m.loss
    end
    return out
end
hof_losses(hof::HallOfFame)::Vector{Float64} = hof_losses!(Vector{Float64}(undef, length(hof.members)), hof)
