# Checkpoints: a `SearchSnapshot` (julia/search/snapshot.jl) as a JSON file
# in the run directory, written atomically (a temporary file renamed over
# the old one), and read back for a warm start. The file holds only data
# (trees in the protocol's prefix encoding, numbers, names): reading it never
# executes code from it.

const CHECKPOINT_FORMAT = "keplersr-checkpoint"
const CHECKPOINT_VERSION = 2
"""Versions this engine reads: 1 has no lagged losses, frequencies or pending plan (resumed with the current ones)."""
const CHECKPOINT_VERSIONS_READ = (1, 2)

function _member_dict(m::PopMember)::Dict{String,Any}
    codes, consts = encode_tree(m.tree)
    return Dict{String,Any}("codes" => codes, "constants" => consts, "loss" => m.loss, "score" => m.score,
                            "complexity" => m.complexity, "birth" => m.birth)
end

"""
    checkpoint_dict(s, opts) -> Dict

The JSON-able form of snapshot `s`, with the operator names and feature
count it needs to be read back (`snapshot_from_dict`).
"""
function checkpoint_dict(s::SearchSnapshot, opts::Options, nfeatures::Int)::Dict{String,Any}
    return Dict{String,Any}(
        "format" => CHECKPOINT_FORMAT, "version" => CHECKPOINT_VERSION, "engine_version" => ENGINE_VERSION,
        "binary_operators" => opts.ops.binnames, "unary_operators" => opts.ops.unanames,
        "nfeatures" => nfeatures, "iteration" => s.iteration, "master_seed" => string(s.master_seed),
        "other_evals" => s.other_evals, "elapsed" => s.elapsed, "freq" => s.freq,
        "hof" => [_member_dict(m) for m in s.hof],
        "lag_hof_loss" => s.lag_hof_loss, "lag_freq" => s.lag_freq,
        "pending" => [[Any[slot, _member_dict(m)] for (slot, m) in moves] for moves in s.pending],
        "islands" => [Dict{String,Any}("seed" => string(i.seed), "births" => i.births, "evals" => i.evals,
                                       "members" => [_member_dict(m) for m in i.members]) for i in s.islands])
end

"""Write snapshot `s` to `path` atomically (the previous checkpoint stays whole until the rename)."""
function write_checkpoint(path::AbstractString, s::SearchSnapshot, opts::Options, nfeatures::Int)
    mkpath(dirname(abspath(path)))
    tmp = string(path, ".tmp.", getpid())
    open(tmp, "w") do io
        json_write(io, checkpoint_dict(s, opts, nfeatures))
    end
    mv(tmp, path; force=true)
    return path
end

struct CheckpointError <: Exception
    msg::String
end
Base.showerror(io::IO, e::CheckpointError) = print(io, "checkpoint: ", e.msg)

function _field(d::AbstractDict, key::String, ::Type{T}, where_::String) where {T}
    haskey(d, key) || throw(CheckpointError("$(where_) has no $(repr(key))"))
    v = d[key]
    if T === Float64
        (v isa Real && !(v isa Bool)) && return Float64(v)
    elseif T === Int
        (v isa Integer && !(v isa Bool)) && return Int(v)
    elseif T === UInt
        v isa String && (u = tryparse(UInt, v)) !== nothing && return u
    elseif v isa T
        return v
    end
    throw(CheckpointError("$(where_): $(repr(key)) has the wrong type ($(typeof(v)))"))
end

"""Does every node of `n` name an operator and feature that exist?"""
_fits(n::Node, nu::Int, nb::Int, nf::Int)::Bool =
    n.degree == 0 ? (n.isconst || 1 <= n.feature <= nf) :
    n.degree == 1 ? (1 <= n.op <= nu && _fits(n.l, nu, nb, nf)) :
    (1 <= n.op <= nb && _fits(n.l, nu, nb, nf) && _fits(n.r, nu, nb, nf))

"""A tree from the checkpoint, checked against the operator set and the feature count."""
function _member(d, opts::Options, nfeatures::Int, where_::String)::PopMember
    d isa AbstractDict || throw(CheckpointError("$(where_) is not an object"))
    codes = _field(d, "codes", Vector{Any}, where_)
    consts = _field(d, "constants", Vector{Any}, where_)
    (all(c -> c isa Integer, codes) && all(c -> c isa Real, consts)) ||
        throw(CheckpointError("$(where_): codes must be integers and constants numbers"))
    t = try
        decode_tree(Int[c for c in codes], Float64[c for c in consts])
    catch err
        throw(CheckpointError("$(where_): bad tree ($(sprint(showerror, err)))"))
    end
    _fits(t, length(opts.ops.unaops), length(opts.ops.binops), nfeatures) || throw(CheckpointError("$(where_): a tree uses a feature or operator this fit does not have"))
    return PopMember(t, _field(d, "loss", Float64, where_), _field(d, "score", Float64, where_),
                     _field(d, "complexity", Int, where_), _field(d, "birth", Int, where_))
end

"""A pending migrant `[slot, member]` from the checkpoint."""
function _pending_move(mv, opts::Options, nfeatures::Int, where_::String)::Pair{Int,PopMember}
    (mv isa Vector{Any} && length(mv) == 2 && mv[1] isa Integer && !(mv[1] isa Bool) && mv[1] >= 1) ||
        throw(CheckpointError("$(where_): each is [slot, member]"))
    return Int(mv[1]) => _member(mv[2], opts, nfeatures, where_)
end

"""
    snapshot_from_dict(d, opts, nfeatures) -> SearchSnapshot

Check a checkpoint's format, operator set, feature count and populations
(number and size) against this fit (a `CheckpointError` names the first
difference) and rebuild the snapshot.
"""
function snapshot_from_dict(d, opts::Options, nfeatures::Int)::SearchSnapshot
    d isa AbstractDict || throw(CheckpointError("not a JSON object"))
    get(d, "format", nothing) == CHECKPOINT_FORMAT || throw(CheckpointError("not a KeplerSR checkpoint"))
    v = get(d, "version", nothing)
    v in CHECKPOINT_VERSIONS_READ ||
        throw(CheckpointError("format version $(v); this engine reads $(join(CHECKPOINT_VERSIONS_READ, " and "))"))
    for (key, names) in (("binary_operators", opts.ops.binnames), ("unary_operators", opts.ops.unanames))
        saved = _field(d, key, Vector{Any}, "checkpoint")
        saved == names || throw(CheckpointError(
            "made with $(key) [$(join(repr.(saved), ", "))]; this fit has [$(join(repr.(names), ", "))]: " *
            "use the same operators to continue it"))
    end
    nf = _field(d, "nfeatures", Int, "checkpoint")
    nf == nfeatures || throw(CheckpointError(
        "made with $(nf) features; this fit has $(nfeatures): continue it on data with the same columns"))
    hof = PopMember[_member(m, opts, nfeatures, "hall-of-fame entry $(k)")
                    for (k, m) in enumerate(_field(d, "hof", Vector{Any}, "checkpoint"))]
    islands = IslandSnapshot[]
    for (k, isl) in enumerate(_field(d, "islands", Vector{Any}, "checkpoint"))
        w = "island $(k)"
        isl isa AbstractDict || throw(CheckpointError("$(w) is not an object"))
        members = PopMember[_member(m, opts, nfeatures, "$(w) member $(j)")
                            for (j, m) in enumerate(_field(isl, "members", Vector{Any}, w))]
        push!(islands, IslandSnapshot(_field(isl, "seed", UInt, w), members, _field(isl, "births", Int, w),
                                      _field(isl, "evals", Int, w)))
    end
    freq = Float64[x for x in _field(d, "freq", Vector{Any}, "checkpoint") if x isa Real]
    lag_hof_loss, lag_freq, pending = Float64[], Float64[], Vector{Pair{Int,PopMember}}[]
    if v >= 2
        lag_hof_loss = Float64[x for x in _field(d, "lag_hof_loss", Vector{Any}, "checkpoint") if x isa Real]
        lag_freq = Float64[x for x in _field(d, "lag_freq", Vector{Any}, "checkpoint") if x isa Real]
        for (k, moves) in enumerate(_field(d, "pending", Vector{Any}, "checkpoint"))
            w = "pending migrants of island $(k)"
            moves isa Vector{Any} || throw(CheckpointError("$(w) are not a list"))
            push!(pending, Pair{Int,PopMember}[_pending_move(mv, opts, nfeatures, w) for mv in moves])
        end
    end
    s = SearchSnapshot(_field(d, "iteration", Int, "checkpoint"), _field(d, "master_seed", UInt, "checkpoint"),
                       islands, hof, freq, _field(d, "other_evals", Int, "checkpoint"),
                       _field(d, "elapsed", Float64, "checkpoint"), lag_hof_loss, lag_freq, pending)
    # another number or size of populations: a checkpoint that does not fit this fit, like other operators
    try
        check_resumable(s, opts)
    catch err
        err isa ArgumentError || rethrow()
        throw(CheckpointError(err.msg))
    end
    return s
end

"""Read the checkpoint at `path` for a fit with `opts` on `nfeatures` features (see `snapshot_from_dict`)."""
function read_checkpoint(path::AbstractString, opts::Options, nfeatures::Int)::SearchSnapshot
    isfile(path) || throw(CheckpointError("no checkpoint at $(path)"))
    d = try
        json_parse(read(path, String))
    catch err
        throw(CheckpointError("$(path) is not valid JSON ($(sprint(showerror, err)))"))
    end
    return snapshot_from_dict(d, opts, nfeatures)
end
