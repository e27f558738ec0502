# The fit message -> `Dataset`: the arrays X, y and optional weights of a
# `fit` frame, with the variable names; and its seed expressions -> trees.
# See docs/PROTOCOL.md.

"""
    dataset_from_fit(msg, payload) -> Dataset

Build the `Dataset` of a `fit` message: arrays "X" (nrows x nfeatures,
column-major), "y" (nrows) and optional "weights" (nrows), plus
"variable_names"; "absolute_sigma" (optional, default false): the weights
are 1/σ² of measurement errors (`Dataset`'s `absolute_weights`).
"""
function dataset_from_fit(msg::AbstractDict, payload::Vector{UInt8})
    arrays = decode_arrays(msg, payload)
    haskey(arrays, "X") || throw(ProtocolError("fit message without array X"))
    haskey(arrays, "y") || throw(ProtocolError("fit message without array y"))
    X = arrays["X"]
    X isa Matrix{Float64} || throw(ProtocolError("X must be two-dimensional"))
    y = arrays["y"]
    y isa Vector{Float64} || throw(ProtocolError("y must be one-dimensional"))
    w = get(arrays, "weights", Float64[])
    w isa Vector{Float64} || throw(ProtocolError("weights must be one-dimensional"))
    names = _string_list(msg, "variable_names", String[])
    absolute = get(msg, "absolute_sigma", false)
    absolute isa Bool || throw(ProtocolError("absolute_sigma must be true or false"))
    (absolute && isempty(w)) && throw(ArgumentError("absolute_sigma needs weights (1/σ²)"))
    return Dataset(X, y, w; varnames=names, absolute_weights=absolute)
end

"""
    seed_trees_from_list(list, opts, nfeatures; field="seed_expressions") -> Vector{Node}

Decode the `seed_expressions` of a fit message: a list of objects with
"codes" (prefix codes, see docs/PROTOCOL.md) and "constants". Every code must
name an operator of the search or one of its `nfeatures` features. `field`:
the message field decoded (`guess_expressions` has the same form), named
in errors.
"""
function seed_trees_from_list(list, opts::Options, nfeatures::Int; field::String="seed_expressions")::Vector{Node}
    list === nothing && return Node[]
    list isa Vector || throw(ArgumentError("$(field) must be a list, got $(repr(list))"))
    nb = length(opts.ops.binops); nu = length(opts.ops.unaops)
    trees = Node[]
    for (i, e) in enumerate(list)
        (e isa AbstractDict && haskey(e, "codes") && haskey(e, "constants")) ||
            throw(ArgumentError("$(field)[$(i)] must be an object with codes and constants"))
        codes = e["codes"]; consts = e["constants"]
        (codes isa Vector && all(c -> c isa Integer, codes)) ||
            throw(ArgumentError("$(field)[$(i)].codes must be a list of integers"))
        (consts isa Vector && all(c -> c isa Real, consts)) ||
            throw(ArgumentError("$(field)[$(i)].constants must be a list of numbers"))
        for c in codes
            ok = (1 <= c <= nfeatures) || c == 0 || (-nu <= c <= -1) || (-1000 - nb + 1 <= c <= -1000)
            ok || throw(ArgumentError("$(field)[$(i)]: code $(c) names no feature or operator " *
                                      "of this search ($(nfeatures) features, $(nb) binary, $(nu) unary)"))
        end
        t = try
            decode_tree(Int[Int(c) for c in codes], Float64[Float64(c) for c in consts])
        catch err
            throw(ArgumentError("$(field)[$(i)]: $(sprint(showerror, err))"))
        end
        push!(trees, t)
    end
    return trees
end
