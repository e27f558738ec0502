# The whole state of a search between two iterations (`SearchSnapshot`):
# what a checkpoint holds (julia/io/checkpoint.jl writes and reads it) and
# what `run_search` resumes from (warm start). RNG states are not part of
# it: every island re-seeds its RNG from its seed and the iteration number
# (julia/search/islands.jl), and the coordinator does the same.

"""
The state of a search after `iteration` iterations: the islands (seed,
members with the migrants of the next iteration in, counters), the hall of
fame, the complexity frequencies, the seed of the coordinator's RNG, the
evaluations made outside the islands (enumeration), the seconds spent so
far, and what the next iterations take from before (migration runs one
iteration late, julia/search/run.jl): the hall of fame's losses and the
frequencies of one iteration earlier (`lag_hof_loss`, `lag_freq`; empty:
the current ones) and the last migration plan (`pending`; empty: none).
"""
struct SearchSnapshot
    iteration::Int
    master_seed::UInt
    islands::Vector{IslandSnapshot}
    hof::Vector{PopMember}
    freq::Vector{Float64}
    other_evals::Int
    elapsed::Float64
    lag_hof_loss::Vector{Float64}
    lag_freq::Vector{Float64}
    pending::Vector{Vector{Pair{Int,PopMember}}}
end
SearchSnapshot(iteration::Int, master_seed::UInt, islands::Vector{IslandSnapshot}, hof::Vector{PopMember},
               freq::Vector{Float64}, other_evals::Int, elapsed::Float64) =
    SearchSnapshot(iteration, master_seed, islands, hof, freq, other_evals, elapsed, Float64[], Float64[],
                   Vector{Pair{Int,PopMember}}[])

"""The hall of fame of a snapshot (members beyond `maxsize` are dropped)."""
function snapshot_hof(s::SearchSnapshot, maxsize::Int)::HallOfFame
    hof = HallOfFame(max(maxsize, mapreduce(m -> m.complexity, max, s.hof; init=0)))
    for m in s.hof
        1 <= m.complexity && (hof.members[m.complexity] = m)
    end
    return hof
end

"""
    check_resumable(s, opts)

Throw an `ArgumentError` naming the difference when the snapshot `s` cannot
continue under `opts` (another number of populations, or a population size
it cannot hold).
"""
function check_resumable(s::SearchSnapshot, opts::Options)
    np = opts.evolution.populations
    length(s.islands) == np || throw(ArgumentError(
        "warm start: the saved search has $(length(s.islands)) populations, this fit asks for $(np); " *
        "use the same `populations` to continue it"))
    for isl in s.islands
        length(isl.members) == opts.evolution.population_size || throw(ArgumentError(
            "warm start: the saved populations have $(length(isl.members)) members, this fit asks for " *
            "$(opts.evolution.population_size); use the same `population_size` to continue it"))
    end
    return nothing
end
