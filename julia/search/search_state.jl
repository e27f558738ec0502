# The state of a running search in the coordinating process (`SearchState`):
# everything the main loop (julia/search/run.jl) changes from one iteration
# to the next. The islands hold their populations themselves (an
# `IslandRunner`, julia/search/islands.jl); a `SearchSnapshot`
# (julia/search/snapshot.jl) is what a checkpoint keeps of both.

"""
The coordinator's state of a search: the hall of fame, the iterations done,
the complexity frequencies sent to the islands, each island's latest report,
the counters of what was evaluated outside the islands, the times of the
last progress report and checkpoint, the deadline, and why the search
stopped (`nothing` while it runs), and the guesses that keep coming back
into the populations (`fraction_replaced_guesses`).
"""
mutable struct SearchState
    t0::Float64                          # time() when this run started
    deadline::Float64                    # time() after which the search stops (Inf: none)
    master_seed::UInt
    mig_rng::MersenneTwister             # the coordinator's (re-seeded every iteration)
    hof::HallOfFame
    hof_loss::Vector{Float64}            # the hall of fame's loss per complexity (what evolution can reach)
    freq::Vector{Float64}                # complexity frequencies of the births (adaptive parsimony)
    latest::Dict{Int,IslandReport}       # each island's latest report
    first_iteration::Int                 # iterations done before this run (resume)
    iteration::Int                       # iterations done
    elapsed0::Float64                    # seconds spent before this run (resume)
    other_evals::Int                     # evaluations outside the islands (enumeration; before a resume)
    other_eval_ns::UInt64
    other_node_rows::Int
    rate_evals0::Int                     # evaluations the progress rate counts from
    last_progress::Float64               # time() of the last progress report
    last_checkpoint::Float64             # time() of the last checkpoint (or of the start)
    status::String                       # the progress note once all worker processes are lost
    stop_reason::Union{Nothing,String}
    guesses::Vector{PopMember}           # the fitted guesses within the constraints (migrants, see migration.jl)
    lag_hof_loss::Vector{Float64}        # what the next iteration takes: the losses and frequencies
    lag_freq::Vector{Float64}            #   as they were one iteration before the last
    pending::Vector{Vector{Pair{Int,PopMember}}}  # the last plan: migrants of the iteration after the next
end

"""
    SearchState(t0, deadline, master_seed, hof, freq, iteration, elapsed0, other_evals, other_eval_ns, other_node_rows)

A search after `iteration` iterations (0, or those of the snapshot it
resumes), before its islands start. `freq` has one entry per complexity up
to `maxsize`, and so has the hall of fame's loss taken from `hof`.
"""
SearchState(t0::Float64, deadline::Float64, master_seed::UInt, hof::HallOfFame, freq::Vector{Float64},
            iteration::Int, elapsed0::Float64, other_evals::Int, other_eval_ns::UInt64, other_node_rows::Int) =
    SearchState(t0, deadline, master_seed, MersenneTwister(master_seed), hof,
                hof_losses!(Vector{Float64}(undef, length(freq)), hof), freq,
                Dict{Int,IslandReport}(), iteration, iteration, elapsed0, other_evals, other_eval_ns,
                other_node_rows, 0, 0.0, t0, "", nothing, PopMember[],
                hof_losses!(Vector{Float64}(undef, length(freq)), hof), copy(freq), Vector{Pair{Int,PopMember}}[])

"""Candidate evaluations so far: outside the islands, and by the islands (their latest reports)."""
total_evals(s::SearchState)::Int = s.other_evals + reduce(+, (r.evals for r in values(s.latest)); init=0)

"""Seconds the evaluator ran, summed over the seeding and the islands."""
eval_seconds(s::SearchState)::Float64 =
    (s.other_eval_ns + reduce(+, (r.eval_ns for r in values(s.latest)); init=UInt64(0))) / 1e9

"""Node-rows evaluated, summed over the seeding and the islands."""
total_node_rows(s::SearchState)::Int =
    s.other_node_rows + reduce(+, (r.node_rows for r in values(s.latest)); init=0)

"""The snapshot of the search after its last completed iteration (what a checkpoint holds)."""
search_snapshot(s::SearchState, islands::IslandRunner)::SearchSnapshot =
    SearchSnapshot(s.iteration, s.master_seed, island_snapshots(islands),
                   PopMember[m for m in s.hof.members if m !== nothing], copy(s.freq), s.other_evals,
                   s.elapsed0 + time() - s.t0, copy(s.lag_hof_loss), copy(s.lag_freq), s.pending)
