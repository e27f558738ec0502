# The fit message -> `Dataset`: the arrays X, y and optional weights of a
# `fit` frame, with the variable names. See docs/PROTOCOL.md.

"""
    dataset_from_fit(msg, payload) -> Dataset

Build the `Dataset` of a `fit` message: arrays "X" (nrows x nfeatures,
column-major), "y" (nrows) and optional "weights" (nrows), plus
"variable_names".
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
    return Dataset(X, y, w; varnames=names)
end
