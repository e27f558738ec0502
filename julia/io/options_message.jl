# The options message -> `OptionsSpec` (plain data, core/options_spec.jl) ->
# `Options`: the options object of a `fit` frame (sent by Python, which
# validates every value; see docs/PROTOCOL.md) with each value converted to its
# option's type (a value of the wrong type is an error naming the key), the
# units keys read into a `UnitsSpec`, and the protocol's view of the option
# defaults (`option_defaults`, sent in `description`).

const _OPTION_KEYS_SPECIAL = ("binary_operators", "unary_operators", "extra_operator_sources",
    "elementwise_loss_source", "loss", "mutation_weights", "bin_constraints",
    "una_constraints", "nested_constraints",
    # units: read by units_spec_from_dict (below) into the spec's UnitsSpec
    "X_units", "y_units", "dimensional_constraint_penalty", "dimensionless_constants_only")
# Flat option names that are never set directly from the message: set from
# the special keys above.
const _OPTION_NAMES_NOT_PLAIN = (:custom_loss, :dims, :loss, :mutation_weights, :bin_constraints,
    :una_constraints, :nested_constraints)

"""Per-operator lists: `null` in the message means the default (one entry per operator)."""
const _PER_OPERATOR_OPTIONS = (:complexity_of_binops, :complexity_of_unaops)

function _string_list(d::AbstractDict, key::String, default::Vector{String})
    haskey(d, key) || return copy(default)
    v = d[key]
    v === nothing && return copy(default)
    (v isa Vector && all(x -> x isa String, v)) ||
        throw(ArgumentError("option $(key) must be a list of strings, got $(repr(v))"))
    return String[x for x in v]
end

function _as_int(key::String, v)
    if v isa Bool
        throw(ArgumentError("option $(key) must be an integer, got $(v)"))
    elseif v isa Integer
        return Int(v)
    elseif v isa AbstractFloat && isfinite(v) && isinteger(v)
        return Int(v)
    end
    throw(ArgumentError("option $(key) must be an integer, got $(repr(v))"))
end

function _as_float(key::String, v)
    v === nothing && return NaN       # null = "not set" for float knobs (e.g. early_stop_condition)
    (v isa Real && !(v isa Bool)) && return Float64(v)
    throw(ArgumentError("option $(key) must be a number, got $(repr(v))"))
end

function _as_bool(key::String, v)
    v isa Bool && return v
    throw(ArgumentError("option $(key) must be true or false, got $(repr(v))"))
end

"""Convert one JSON value to the type `T` of flat option `key` (clear errors)."""
function _convert_option(key::String, T::Type, v)
    if T === Int
        return _as_int(key, v)
    elseif T === Float64
        return _as_float(key, v)
    elseif T === Bool
        return _as_bool(key, v)
    elseif T === Symbol
        v isa String || throw(ArgumentError("option $(key) must be a string, got $(repr(v))"))
        s = Symbol(v)
        allowed = get(DECLARED_CHOICES, Symbol(key), nothing)
        (allowed === nothing || s in allowed) || throw(ArgumentError(
            "option $(key) must be one of $(join(repr.(String.(allowed)), ", ")), got $(repr(v))"))
        return s
    elseif T === Vector{Int}
        v isa Vector || throw(ArgumentError("option $(key) must be a list of integers, got $(repr(v))"))
        return Int[_as_int(key, x) for x in v]
    elseif T === Vector{String}
        (v isa Vector && all(x -> x isa String, v)) ||
            throw(ArgumentError("option $(key) must be a list of strings, got $(repr(v))"))
        return String[x for x in v]
    elseif T === Vector{Float64}
        v isa Vector || throw(ArgumentError("option $(key) must be a list of numbers, got $(repr(v))"))
        return Float64[_as_float(key, x) for x in v]
    end
    throw(ArgumentError("option $(key) (of type $(T)) cannot be set from the protocol"))
end

function _op_index(key::String, kind::Int, op, binary::Vector{String}, unary::Vector{String})
    names = kind == 2 ? binary : unary
    if op isa String
        i = findfirst(==(op), names)
        i === nothing && throw(ArgumentError(
            "option $(key): $(kind == 2 ? "binary" : "unary") operator $(repr(op)) is not in the operator set"))
        return i
    end
    i = _as_int(key, op)
    1 <= i <= length(names) || throw(ArgumentError(
        "option $(key): operator index $(i) out of range 1:$(length(names))"))
    return i
end

function _kind(key::String, k)
    k == "unary" && return 1
    k == "binary" && return 2
    i = k isa String ? 0 : _as_int(key, k)
    (i == 1 || i == 2) || throw(ArgumentError(
        "option $(key): operator kind must be \"unary\"/1 or \"binary\"/2, got $(repr(k))"))
    return i
end

# ---------------------------------------------------------------- units

"""Keys of the options message that `units_spec_from_dict` reads."""
const DIMENSION_OPTION_KEYS = ("X_units", "y_units", "dimensional_constraint_penalty",
                               "dimensionless_constants_only")

function _dim_vector(key::String, v)
    (v isa Vector && length(v) == NBASE_UNITS) || throw(ArgumentError(
        "option $(key) must be a list of $(NBASE_UNITS) exponents over ($(join(BASE_UNIT_NAMES, ", "))), got $(repr(v))"))
    try
        return Dim(v)
    catch err
        err isa ArgumentError || rethrow()
        throw(ArgumentError("option $(key): $(err.msg)"))
    end
end

"""
    units_spec_from_dict(d, nfeatures) -> UnitsSpec or nothing

Read the units from the options message: "X_units" (one list of 5 exponents
over m, s, kg, T, V per feature), optional "y_units" (5 exponents or null),
"dimensional_constraint_penalty" (a number; absent or null: the declared
default) and "dimensionless_constants_only" (bool; absent or null: false).
Returns `nothing` when "X_units" is absent or null (no dimensional
analysis); the other keys without "X_units" are an error. Malformed values
raise an `ArgumentError` naming the key.
"""
function units_spec_from_dict(d::AbstractDict, nfeatures::Int)
    xu = get(d, "X_units", nothing)
    if xu === nothing
        for k in DIMENSION_OPTION_KEYS[2:end]
            get(d, k, nothing) === nothing || throw(ArgumentError(
                "option $(k) given without X_units: dimensional analysis needs the units of the features"))
        end
        return nothing
    end
    (xu isa Vector && length(xu) == nfeatures) || throw(ArgumentError(
        "option X_units must be a list with one unit (5 exponents) per feature ($(nfeatures)), got $(repr(xu))"))
    xdims = Dim[_dim_vector("X_units[$(j)]", u) for (j, u) in enumerate(xu)]
    yu = get(d, "y_units", nothing)
    ydim = yu === nothing ? nothing : _dim_vector("y_units", yu)
    pen = get(d, "dimensional_constraint_penalty", nothing)
    penalty = pen === nothing ? DEFAULT_DIMENSION_PENALTY : _as_float("dimensional_constraint_penalty", pen)
    dco = get(d, "dimensionless_constants_only", nothing)
    return UnitsSpec(xdims, ydim, penalty, dco === nothing ? false : _as_bool("dimensionless_constants_only", dco))
end

# ---------------------------------------------------------------- options

"""
    options_spec_from_dict(d, nfeatures) -> OptionsSpec

Read the options message sent by Python into plain data.
Special keys: "binary_operators" / "unary_operators" (operator names,
default `["+","-","*","/"]` / none), "extra_operator_sources" (Julia source
of user operators), "elementwise_loss_source" (Julia source of a custom
elementwise loss; implies loss "custom"), "loss" ("L2", "L1", "Huber",
"custom"), "mutation_weights" (name => weight, merged over the defaults),
"bin_constraints" (one `[left, right]` per binary operator, -1 or null =
unlimited), "una_constraints" (one max per unary operator),
"nested_constraints" (`[outer_kind, outer_op, inner_kind, inner_op, max]`,
kind "unary"/"binary" or 1/2, op a name or 1-based index), "X_units",
"y_units", "dimensional_constraint_penalty", "dimensionless_constants_only"
(dimensional analysis: see `units_spec_from_dict`). Every other key
must be a flat option name (see julia/core/options.jl and `option_defaults`);
values are converted to the option's type (null for a float option means
NaN, for a per-operator list the default). Unknown keys raise an
`ArgumentError` naming them.
"""
function options_spec_from_dict(d::AbstractDict, nfeatures::Int)::OptionsSpec
    nfeatures >= 1 || throw(ArgumentError("nfeatures must be >= 1, got $(nfeatures)"))
    binary = _string_list(d, "binary_operators", ["+", "-", "*", "/"])
    unary = _string_list(d, "unary_operators", String[])
    sources = _string_list(d, "extra_operator_sources", String[])

    kw = Dict{Symbol,Any}()
    for (k, v) in d
        k in _OPTION_KEYS_SPECIAL && continue
        s = Symbol(k)
        (option_group(s) !== nothing && !(s in _OPTION_NAMES_NOT_PLAIN)) ||
            throw(ArgumentError("unknown option $(repr(k))"))
        (v === nothing && s in _PER_OPERATOR_OPTIONS) && continue
        kw[s] = _convert_option(k, option_type(s), v)
    end
    for key in ("complexity_of_binops", "complexity_of_unaops")
        s = Symbol(key)
        haskey(kw, s) || continue
        n = key == "complexity_of_binops" ? length(binary) : length(unary)
        length(kw[s]) == n || throw(ArgumentError(
            "option $(key) must have one entry per operator ($(n)), got $(length(kw[s]))"))
    end

    # loss: a built-in name (BUILTIN_LOSSES), or the source of a custom one
    lossname = get(d, "loss", nothing)
    losssrc = get(d, "elementwise_loss_source", nothing)
    if losssrc !== nothing
        losssrc isa String || throw(ArgumentError("option elementwise_loss_source must be a string"))
        (lossname === nothing || lossname == "custom") || throw(ArgumentError(
            "option elementwise_loss_source given together with loss $(repr(lossname))"))
    elseif lossname !== nothing
        lossname in BUILTIN_LOSSES || throw(ArgumentError(lossname == "custom" ?
            "loss \"custom\" needs elementwise_loss_source" :
            "option loss must be one of $(join(repr.(BUILTIN_LOSSES), ", ")) or \"custom\", got $(repr(lossname))"))
        kw[:loss] = Symbol(lossname)
    end

    # mutation weights merged over the defaults (MutationWeights(::AbstractDict))
    if haskey(d, "mutation_weights") && d["mutation_weights"] !== nothing
        mw = d["mutation_weights"]
        mw isa AbstractDict || throw(ArgumentError("option mutation_weights must be an object name => weight"))
        kw[:mutation_weights] = MutationWeights(
            Dict{String,Float64}(String(k) => _as_float("mutation_weights.$(k)", v) for (k, v) in mw))
    end

    # constraints
    if haskey(d, "bin_constraints") && d["bin_constraints"] !== nothing
        bc = d["bin_constraints"]
        (bc isa Vector && length(bc) == length(binary)) || throw(ArgumentError(
            "option bin_constraints must be a list with one [left, right] per binary operator ($(length(binary)))"))
        kw[:bin_constraints] = map(bc) do pair
            (pair isa Vector && length(pair) == 2) ||
                throw(ArgumentError("option bin_constraints: each entry must be [left, right], got $(repr(pair))"))
            (pair[1] === nothing ? -1 : _as_int("bin_constraints", pair[1]),
             pair[2] === nothing ? -1 : _as_int("bin_constraints", pair[2]))
        end
    end
    if haskey(d, "una_constraints") && d["una_constraints"] !== nothing
        uc = d["una_constraints"]
        (uc isa Vector && length(uc) == length(unary)) || throw(ArgumentError(
            "option una_constraints must be a list with one entry per unary operator ($(length(unary)))"))
        kw[:una_constraints] = Int[x === nothing ? -1 : _as_int("una_constraints", x) for x in uc]
    end
    if haskey(d, "nested_constraints") && d["nested_constraints"] !== nothing
        nc = d["nested_constraints"]
        nc isa Vector || throw(ArgumentError("option nested_constraints must be a list"))
        kw[:nested_constraints] = map(nc) do e
            (e isa Vector && length(e) == 5) || throw(ArgumentError(
                "option nested_constraints: each entry must be [outer_kind, outer_op, inner_kind, inner_op, max], got $(repr(e))"))
            ok = _kind("nested_constraints", e[1]); ik = _kind("nested_constraints", e[3])
            (ok, _op_index("nested_constraints", ok, e[2], binary, unary),
             ik, _op_index("nested_constraints", ik, e[4], binary, unary),
             _as_int("nested_constraints", e[5]))
        end
    end
    units = any(k -> haskey(d, k), DIMENSION_OPTION_KEYS) ? units_spec_from_dict(d, nfeatures) : nothing
    return OptionsSpec(binary, unary, sources, losssrc, kw, units)
end

"""
    options_from_dict(d, nfeatures) -> Options

The search `Options` of the options message `d`: `Options(options_spec_from_dict(d, nfeatures))`.
"""
options_from_dict(d::AbstractDict, nfeatures::Int)::Options = Options(options_spec_from_dict(d, nfeatures))

# ---------------------------------------------------------------- defaults

"""
    option_defaults() -> Dict{String,Any}

Every flat option name that the options message accepts as a plain key
(not the operator lists, constraints, mutation weights, custom-loss source
or units keys), with its default as a JSON-able value: `loss` as a string
("L2"), a float that is unset by default (`early_stop_condition`, NaN in
the engine) as `nothing` (JSON null, which the message reads back as
unset), and the per-operator lists `complexity_of_binops` /
`complexity_of_unaops` as `nothing` (their default, 1 per operator, depends
on the operator set; null in the message means that default). The result is
itself a valid options message.
"""
function option_defaults()::Dict{String,Any}
    ops = build_operator_set(String[], String[])
    out = Dict{String,Any}()
    for name in flat_option_names()
        name in _OPTION_NAMES_NOT_PLAIN && name !== :loss && continue
        v = name in _PER_OPERATOR_OPTIONS ? nothing : option_default(name, ops)
        out[String(name)] = v isa Symbol ? String(v) : (v isa AbstractFloat && isnan(v)) ? nothing : v
    end
    return out
end
