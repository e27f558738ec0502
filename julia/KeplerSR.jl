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

include("operators.jl")
include("expression.jl")
include("dual.jl")
include("evaluation.jl")
include("options.jl")
include("loss.jl")
include("complexity.jl")

end # module
