"""
KeplerSR search engine: symbolic regression by evolution of expression trees.
Standard library only; runs on Julia 1.5 and on current Julia.
See docs/ARCHITECTURE.md for the map of these files.
"""
module KeplerSR

using LinearAlgebra
using Random
using Printf
using Statistics

const ENGINE_VERSION = "0.1.0"

include("operators.jl")
include("expression.jl")
include("dual.jl")
include("evaluation.jl")
include("options.jl")
include("loss.jl")
include("complexity.jl")
include("dimensions.jl")
include("constants.jl")
include("population.jl")
include("simplify.jl")
include("mutation.jl")
include("crossover.jl")
include("selection.jl")
include("halloffame.jl")
include("enumeration.jl")
include("search.jl")
include("json.jl")
include("protocol.jl")

end # module
