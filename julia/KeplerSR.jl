"""
KeplerSR search engine: symbolic regression by evolution of expression trees.
Standard library only; runs on Julia 1.5 and on current Julia.

The sources are in folders by concern, included below in dependency order:

    core/         operators, expression trees, dual numbers, options, complexity
    evaluation/   evaluating a tree on a dataset, the dataset, the losses
    dimensions/   physical dimensions and the dimensional analysis of a tree
    constants/    fitting the constants of a tree, their standard errors,
                  closed-form linear scaling
    evolution/    populations, mutation, crossover, selection, simplification,
                  enumeration of small expressions
    halloffame/   the best formula per complexity and the Pareto front
    search/       the search: per-population state, scoring, linear scaling,
                  evolution step, migration, islands (where populations
                  evolve), snapshots, seeding, the search state and the main
                  loop, its typed results
    io/           the protocol with Python: JSON, frames, options and fit
                  messages, result/progress records, the engine description,
                  checkpoints
    parallel/     worker processes (Distributed: local, SSH hosts, Slurm) and
                  the islands spread over them

The worker (`worker.jl`) serves the protocol; see docs/ARCHITECTURE.md and
docs/PROTOCOL.md.
"""
module KeplerSR

using LinearAlgebra
using Random
using Printf
using Statistics
import Distributed

const ENGINE_VERSION = "0.1.0"

include("core/fast_math.jl")
include("core/operators.jl")
include("core/expression.jl")
include("core/dual.jl")
include("evaluation/evaluation.jl")
include("core/declared_defaults.jl")
include("core/options.jl")
include("evaluation/dataset.jl")
include("evaluation/losses.jl")
include("core/complexity.jl")
include("dimensions/dim.jl")
include("dimensions/spec.jl")
include("dimensions/analysis.jl")
include("core/options_spec.jl")
include("constants/workspace.jl")
include("constants/linear_algebra.jl")
include("constants/levenberg_marquardt.jl")
include("constants/bfgs.jl")
include("constants/optimize.jl")
include("constants/standard_errors.jl")
include("constants/linear_scaling.jl")
include("evolution/population.jl")
include("evolution/simplify.jl")
include("evolution/mutation.jl")
include("evolution/crossover.jl")
include("evolution/selection.jl")
include("evolution/enumeration.jl")
include("halloffame/halloffame.jl")
include("search/result.jl")
include("search/scaled_variants.jl")
include("search/state.jl")
include("search/scoring.jl")
include("search/evolve.jl")
include("search/migration.jl")
include("search/islands.jl")
include("search/snapshot.jl")
include("search/seeding.jl")
include("search/seed_expressions.jl")
include("search/search_state.jl")
include("search/run.jl")
include("io/json.jl")
include("io/framing.jl")
include("io/options_message.jl")
include("io/fit_message.jl")
include("io/records.jl")
include("io/description.jl")
include("io/checkpoint.jl")
include("parallel/slurm.jl")
include("parallel/host_names.jl")
include("parallel/worker_start_error.jl")
include("parallel/processes.jl")
include("parallel/process_pool.jl")
include("parallel/island_host.jl")
include("parallel/distributed_islands.jl")
include("parallel/layout.jl")

end # module
