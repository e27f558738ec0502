# What a search reports, as typed values: `SearchProgress` (passed to the
# `on_progress` callback while it runs) and `SearchResult` (its outcome).
# julia/io/records.jl turns them into protocol messages.

"""
A progress report of `run_search`: iterations done (`iteration`, 0 before
the first) of `niterations`, candidate evaluations so far (`evals`) and
their rate, seconds since the start (`elapsed`), the lowest loss in the hall
of fame (`best_loss`, Inf when empty), the current Pareto front (without
standard errors) and a note on the layout (`status`: "" or e.g. a worker
process lost and its islands continued on the others).
"""
struct SearchProgress
    iteration::Int
    niterations::Int
    evals::Int
    evals_per_second::Float64
    elapsed::Float64
    best_loss::Float64
    front::Vector{FrontEntry}
    status::String
end

"""
Outcome of `run_search`: the Pareto front (with the standard errors of the
constants), why the search ended (`stop_reason`: "niterations", "timeout",
"max_evals", "early_stop_condition", "interrupted", or "workers_lost":
no worker process left, the front is what was found before), iterations done,
candidate evaluations and seconds taken; and where the time went: seconds
spent in the evaluator (`eval_seconds`, summed over the populations and the
seeding, so up to `elapsed` x threads) and the node-rows evaluated
(`node_rows`: tree nodes x rows, summed over every evaluation).
"""
struct SearchResult
    front::Vector{FrontEntry}
    stop_reason::String
    iterations::Int
    evals::Int
    elapsed::Float64
    eval_seconds::Float64
    node_rows::Int
end
