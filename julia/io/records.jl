# What the search reports -> protocol messages: a front entry as a record,
# a `SearchProgress` as the fields of a `progress` frame, a `SearchResult`
# as the fields of a `result` frame (docs/PROTOCOL.md). The only place where
# the engine's results become JSON-able dictionaries.

"""
    front_record(e, ops, varnames) -> Dict{String,Any}

The protocol record of one front entry: "complexity", "loss", "score",
"equation" (`string_tree`), "codes" and "constants" (`encode_tree`, prefix
order) and "constants_stderr"; "constants_covariance" (a list of rows)
only when the entry has one (`fit_seed_expressions`).
"""
function front_record(e::FrontEntry, ops::OperatorSet, varnames::Vector{String})::Dict{String,Any}
    codes, consts = encode_tree(e.tree)
    rec = Dict{String,Any}(
        "complexity" => e.complexity, "loss" => e.loss, "score" => e.score,
        "equation" => string_tree(e.tree, ops; varnames=varnames),
        "codes" => codes, "constants" => consts, "constants_stderr" => e.constants_stderr)
    C = e.constants_covariance
    isempty(C) || (rec["constants_covariance"] = [C[i, :] for i in 1:size(C, 1)])
    return rec
end

"""The records of a front, in front order (increasing complexity)."""
front_records(front::Vector{FrontEntry}, data::Dataset, opts::Options)::Vector{Dict{String,Any}} =
    Dict{String,Any}[front_record(e, opts.ops, data.varnames) for e in front]

"""
    progress_message(p, data, opts) -> Dict{String,Any}

The fields of a `progress` frame (without "type" and "id"): "iteration",
"niterations", "evals", "evals_per_second", "elapsed", "best_loss",
"records" (the current front) and "status" (a note on the layout, "" when
there is nothing to say).
"""
function progress_message(p::SearchProgress, data::Dataset, opts::Options)::Dict{String,Any}
    return Dict{String,Any}(
        "iteration" => p.iteration, "niterations" => p.niterations, "evals" => p.evals,
        "evals_per_second" => p.evals_per_second, "elapsed" => p.elapsed,
        "best_loss" => p.best_loss, "records" => front_records(p.front, data, opts),
        "status" => p.status)
end

"""
    result_message(r, data, opts) -> Dict{String,Any}

The fields of a `result` frame that come from the search (without "type",
"id" and "interrupted"): "records", "stop_reason", "iterations", "evals",
"elapsed".
"""
function result_message(r::SearchResult, data::Dataset, opts::Options)::Dict{String,Any}
    return Dict{String,Any}(
        "records" => front_records(r.front, data, opts), "stop_reason" => r.stop_reason,
        "iterations" => r.iterations, "evals" => r.evals, "elapsed" => r.elapsed)
end
