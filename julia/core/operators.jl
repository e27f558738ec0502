# Operators: the built-in operator table, "safe" versions that return NaN
# outside their domain, and user operators compiled from Julia source strings.

const SAFE_NAN = NaN

safe_pow(x::T, y::T) where {T<:Real} =
    (x < zero(T) && !isinteger(y)) || (x == zero(T) && y < zero(T)) ? T(SAFE_NAN) : x^y
safe_log(x::T) where {T<:Real} = x > zero(T) ? log(x) : T(SAFE_NAN)
safe_sqrt(x::T) where {T<:Real} = x >= zero(T) ? sqrt(x) : T(SAFE_NAN)
safe_asin(x::T) where {T<:Real} = -one(T) <= x <= one(T) ? asin(x) : T(SAFE_NAN)
safe_acos(x::T) where {T<:Real} = -one(T) <= x <= one(T) ? acos(x) : T(SAFE_NAN)
safe_div(x::T, y::T) where {T<:Real} = x / y       # Inf/NaN caught by the finiteness check
safe_inv(x::T) where {T<:Real} = one(T) / x
safe_tan(x::T) where {T<:Real} = tan(x)
neg(x) = -x
square(x) = x * x
cube(x) = x * x * x
plus(x, y) = x + y
sub(x, y) = x - y
mult(x, y) = x * y

"""Built-in binary operators: user-facing name => implementation."""
const BUILTIN_BINARY = Dict{String,Any}(
    "+" => plus, "-" => sub, "*" => mult, "/" => safe_div, "^" => safe_pow,
)
"""
Built-in unary operators: user-facing name => implementation. sin, cos, exp,
log, sqrt, tanh, asin and acos are the vectorisable kernels of
core/fast_math.jl (a few ulp from Base, with the safe functions' NaN on domain
errors).
"""
const BUILTIN_UNARY = Dict{String,Any}(
    "neg" => neg, "sin" => fast_sin, "cos" => fast_cos, "tan" => safe_tan, "exp" => fast_exp,
    "log" => fast_log, "sqrt" => fast_sqrt, "abs" => abs, "square" => square,
    "cube" => cube, "inv" => safe_inv, "tanh" => fast_tanh, "sinh" => sinh,
    "cosh" => cosh, "asin" => fast_asin, "acos" => fast_acos, "atan" => atan,
)

"""
    OperatorSet

The operators one search may use. `binops[i]` / `unaops[i]` are the functions
that `Node.op == i` refers to for binary / unary nodes.  Functions are stored
untyped; evaluation calls them through a function barrier so that each
operator's inner loop over rows is compiled and type-stable.
"""
struct OperatorSet
    binops::Vector{Any}
    unaops::Vector{Any}
    binnames::Vector{String}
    unanames::Vector{String}
end

"""
    parse_user_operator(src) -> (name, arity, function)

Compile a user operator given as Julia source, PySR style, e.g.
`"inv2(x) = 1/x^2"` or `"myop(x, y) = x*y + 1"`. The function is defined in a
sandbox module so it cannot clobber engine names; it must be generic enough
to accept `Float64` and `Dual` arguments (plain arithmetic is).
"""
function parse_user_operator(src::AbstractString)
    m = match(r"^\s*([A-Za-z_][A-Za-z0-9_!]*)\s*\(([^)]*)\)\s*=", src)
    if m === nothing
        m = match(r"^\s*function\s+([A-Za-z_][A-Za-z0-9_!]*)\s*\(([^)]*)\)", src)
    end
    m === nothing && throw(ArgumentError(
        "operator definition must look like `name(x) = ...` or `name(x, y) = ...`, got: $(repr(src))"))
    name = String(m.captures[1])
    args = filter(!isempty, strip.(split(m.captures[2], ",")))
    arity = length(args)
    (arity == 1 || arity == 2) || throw(ArgumentError(
        "operator $(name) must take 1 or 2 arguments, got $(arity)"))
    expr = try
        Meta.parse(src)
    catch err
        throw(ArgumentError("cannot parse operator $(repr(src)): $(sprint(showerror, err))"))
    end
    Core.eval(UserOperators, expr)
    f = Base.invokelatest(Core.eval, UserOperators, Symbol(name))
    return name, arity, f
end

"""Module that holds user-defined operators, with the engine's safe functions in scope."""
module UserOperators
    import ..KeplerSR: safe_pow, safe_log, safe_sqrt, safe_asin, safe_acos,
        safe_div, safe_inv, neg, square, cube, fast_sin, fast_cos, fast_exp,
        fast_log, fast_sqrt, fast_tanh, fast_asin, fast_acos
end

"""
    build_operator_set(binary, unary, user_sources) -> OperatorSet

`binary`/`unary` are operator names (built-ins or names defined by one of
`user_sources`). Unknown names raise an `ArgumentError` naming them.
"""
function build_operator_set(binary::Vector{String}, unary::Vector{String},
                            user_sources::Vector{String}=String[])
    userbin = Dict{String,Any}()
    userun = Dict{String,Any}()
    for src in user_sources
        name, arity, f = parse_user_operator(src)
        (arity == 2 ? userbin : userun)[name] = f
    end
    binops = Any[]; unaops = Any[]
    for n in binary
        f = get(userbin, n, get(BUILTIN_BINARY, n, nothing))
        f === nothing && throw(ArgumentError("unknown binary operator $(repr(n)); built-ins are $(join(sort(collect(keys(BUILTIN_BINARY))), ", "))"))
        push!(binops, f)
    end
    for n in unary
        f = get(userun, n, get(BUILTIN_UNARY, n, nothing))
        f === nothing && throw(ArgumentError("unknown unary operator $(repr(n)); built-ins are $(join(sort(collect(keys(BUILTIN_UNARY))), ", "))"))
        push!(unaops, f)
    end
    return OperatorSet(binops, unaops, copy(binary), copy(unary))
end
