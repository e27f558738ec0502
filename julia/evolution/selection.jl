# Selection: tournament selection with adaptive-parsimony adjusted scores,
# age-regularised replacement (the oldest member dies), and the
# simulated-annealing acceptance rule.

"""Score used for ranking: normalised loss + parsimony * complexity."""
@inline member_score(loss::Float64, complexity::Int, baseline::Float64, opts::Options) =
    loss / baseline + opts.selection.parsimony * complexity

"""Score adjusted by how crowded its complexity is (adaptive parsimony)."""
@inline function adjusted_score(m::PopMember, freq::Vector{Float64}, opts::Options)
    if opts.selection.use_frequency && 1 <= m.complexity <= length(freq)
        return m.score * exp(opts.selection.adaptive_parsimony_scaling * freq[m.complexity])
    end
    return m.score
end

"""
    tournament(pop, freq, opts, rng, idxbuf) -> PopMember

Sample `tournament_selection_n` distinct members; rank them by adjusted
score; return the i-th best with probability p (1-p)^i (the last one takes
the remaining mass). `idxbuf` is a reusable index buffer.
"""
function tournament(pop::Population, freq::Vector{Float64}, opts::Options,
                    rng::AbstractRNG, idxbuf::Vector{Int})::PopMember
    n = length(pop.members)
    k = min(opts.selection.tournament_selection_n, n)
    resize!(idxbuf, n)
    @inbounds for i in 1:n
        idxbuf[i] = i
    end
    # partial Fisher-Yates shuffle: the first k entries are a uniform sample
    @inbounds for i in 1:k
        j = rand(rng, i:n)
        idxbuf[i], idxbuf[j] = idxbuf[j], idxbuf[i]
    end
    # insertion sort of the sample by adjusted score
    @inbounds for i in 2:k
        v = idxbuf[i]; sv = adjusted_score(pop.members[v], freq, opts)
        j = i - 1
        while j >= 1 && adjusted_score(pop.members[idxbuf[j]], freq, opts) > sv
            idxbuf[j + 1] = idxbuf[j]; j -= 1
        end
        idxbuf[j + 1] = v
    end
    p = opts.selection.tournament_selection_p
    @inbounds for i in 1:(k - 1)
        rand(rng) < p && return pop.members[idxbuf[i]]
    end
    return @inbounds pop.members[idxbuf[k]]
end

"""Index of the oldest member (smallest birth)."""
function oldest_index(pop::Population)::Int
    best = 1; b = pop.members[1].birth
    @inbounds for i in 2:length(pop.members)
        if pop.members[i].birth < b
            b = pop.members[i].birth; best = i
        end
    end
    return best
end

"""
    accept_candidate(s_new, s_old, c_new, c_old, temperature, freq, opts, rng) -> Bool

Simulated annealing: always accept an improvement; accept a worse score with
p = exp(-(s_new - s_old) / (alpha T s_old)); with adaptive parsimony,
multiply by exp(scaling (freq_old - freq_new)) so moves towards rarer
complexities are favoured.
"""
function accept_candidate(s_new::Float64, s_old::Float64, c_new::Int, c_old::Int,
                          temperature::Float64, freq::Vector{Float64}, opts::Options,
                          rng::AbstractRNG)::Bool
    isfinite(s_new) || return false
    p = 1.0
    if opts.selection.annealing && s_new > s_old
        denom = opts.selection.alpha * temperature * max(s_old, eps())
        p = denom > 0 ? exp(-(s_new - s_old) / denom) : 0.0
    elseif !opts.selection.annealing && s_new > s_old
        p = 0.0
    end
    if opts.selection.use_frequency && 1 <= c_new <= length(freq) && 1 <= c_old <= length(freq)
        p *= exp(opts.selection.adaptive_parsimony_scaling * (freq[c_old] - freq[c_new]))
    end
    return p >= 1.0 || rand(rng) < p
end
