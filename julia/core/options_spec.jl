# `OptionsSpec`: the options of one search as plain data (names, numbers,
# strings, source text), as parsed from the options message by io/ and shipped
# by parallel/ to worker processes, which build their own `Options` from it
# (so user operators and a custom loss are compiled where they are used). Only
# io/ knows the wire format; nothing here holds a function.

"""The units of a search as plain data (see `DimensionSpec`, built per operator set)."""
struct UnitsSpec
    features::Vector{Dim}
    target::Union{Nothing,Dim}
    penalty::Float64
    constants_dimensionless::Bool
end

"""
    OptionsSpec

Operator names and user-operator sources, the custom loss source (or
`nothing`), every other option as flat name => value already converted to
its field type (see `Options(ops, settings)`), and the units (or `nothing`).
"""
struct OptionsSpec
    binary_operators::Vector{String}
    unary_operators::Vector{String}
    operator_sources::Vector{String}
    loss_source::Union{Nothing,String}
    settings::Dict{Symbol,Any}
    units::Union{Nothing,UnitsSpec}
end

"""
    Options(spec::OptionsSpec) -> Options

Build the operator set (compiling user operators), the custom loss and the
units of `spec`, then the options. Called once per process that runs islands.
"""
function Options(spec::OptionsSpec)
    ops = build_operator_set(spec.binary_operators, spec.unary_operators, spec.operator_sources)
    settings = copy(spec.settings)
    if spec.loss_source !== nothing
        settings[:custom_loss] = compile_custom_loss(spec.loss_source)
        settings[:loss] = :custom
    end
    u = spec.units
    if u !== nothing
        settings[:dims] = DimensionSpec(u.features, u.target, ops; penalty=u.penalty,
                                        constants_dimensionless=u.constants_dimensionless)
    end
    return Options(ops, settings)
end
