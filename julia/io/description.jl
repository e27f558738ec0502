# The `description` reply to a `describe` request: what the engine knows and
# accepts (option defaults, built-in operators, mutation kinds, losses), so
# that the Python side need not keep its own copy. See docs/PROTOCOL.md.

"""
    builtin_operator_names() -> (binary = [...], unary = [...])

The names of the built-in operators, sorted.
"""
builtin_operator_names() = (binary = sort!(collect(keys(BUILTIN_BINARY))),
                            unary = sort!(collect(keys(BUILTIN_UNARY))))

"""
    engine_description() -> Dict{String,Any}

The fields of a `description` frame (without "type" and "id"):
"option_defaults" (`option_defaults()`), "binary_operators" and
"unary_operators" (built-in names), "mutation_kinds" (the keys of the
"mutation_weights" option, in order), "losses" (built-in loss names; a
custom loss is given by "elementwise_loss_source") and "protocol_version".
"""
function engine_description()::Dict{String,Any}
    names = builtin_operator_names()
    return Dict{String,Any}(
        "option_defaults" => option_defaults(),
        "binary_operators" => names.binary, "unary_operators" => names.unary,
        "mutation_kinds" => String[String(k) for k in MUTATION_KINDS],
        "losses" => String[BUILTIN_LOSSES...],
        "protocol_version" => PROTOCOL_VERSION)
end
