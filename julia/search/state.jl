# The state of one population while it evolves on its own thread
# (`PopulationState`), and the stop signal shared by the population tasks.

"""Everything one population needs while it evolves on its own thread."""
mutable struct PopulationState
    pop::Population
    rng::MersenneTwister
    lw::LossWorkspace
    lwx::LossWorkspace                       # for explicit (scaled) trees offered to `best`
    cw::ConstantWorkspace
    idxbuf::Vector{Int}
    best::Vector{Union{Nothing,PopMember}}   # best seen per complexity this iteration
    freq::Vector{Float64}                    # complexity frequencies (adaptive parsimony)
    births::Int
    evals::Int
    scaling::Bool
    scale_ops::ScalingOps
end

function PopulationState(seed::UInt, data::Dataset, opts::Options)
    maxsize = opts.constraints.maxsize
    return PopulationState(Population(PopMember[]), MersenneTwister(seed), LossWorkspace(data.n),
        LossWorkspace(data.n), ConstantWorkspace(data.n), Int[],
        Union{Nothing,PopMember}[nothing for _ in 1:maxsize], zeros(maxsize), 0, 0,
        scaling_active(opts), ScalingOps(opts.ops))
end

"""Flags shared between the coordinating task and population tasks."""
struct StopSignal
    flag::Threads.Atomic{Bool}
    deadline::Float64      # time() after which populations stop (Inf: none)
end
stop_requested(s::StopSignal) = s.flag[] || time() > s.deadline
