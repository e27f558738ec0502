# Forward-mode dual numbers: value + one directional derivative. Evaluating a
# tree over Dual with one constant seeded to 1 gives the exact derivative of
# the prediction with respect to that constant (used by constant fitting).
# Subtyping Real lets user operators written as plain Julia work unchanged.

struct Dual <: Real
    v::Float64
    d::Float64
end
Dual(v::Real) = Dual(Float64(v), 0.0)

value(x::Dual) = x.v
value(x::Real) = Float64(x)
partial(x::Dual) = x.d
partial(x::Real) = 0.0

Base.convert(::Type{Dual}, x::Dual) = x
Base.convert(::Type{Dual}, x::Real) = Dual(Float64(x), 0.0)
Base.promote_rule(::Type{Dual}, ::Type{<:Real}) = Dual
Base.zero(::Type{Dual}) = Dual(0.0, 0.0)
Base.one(::Type{Dual}) = Dual(1.0, 0.0)
Base.zero(::Dual) = Dual(0.0, 0.0)
Base.one(::Dual) = Dual(1.0, 0.0)
Base.float(x::Dual) = x
Base.isfinite(x::Dual) = isfinite(x.v) && isfinite(x.d)
Base.isnan(x::Dual) = isnan(x.v) || isnan(x.d)
Base.isinf(x::Dual) = isinf(x.v) || isinf(x.d)
Base.isinteger(x::Dual) = isinteger(x.v)
Base.:(==)(a::Dual, b::Dual) = a.v == b.v
Base.:(<)(a::Dual, b::Dual) = a.v < b.v
Base.:(<=)(a::Dual, b::Dual) = a.v <= b.v
Base.hash(a::Dual, h::UInt) = hash(a.v, h)

Base.:+(a::Dual, b::Dual) = Dual(a.v + b.v, a.d + b.d)
Base.:-(a::Dual, b::Dual) = Dual(a.v - b.v, a.d - b.d)
Base.:-(a::Dual) = Dual(-a.v, -a.d)
Base.:*(a::Dual, b::Dual) = Dual(a.v * b.v, a.d * b.v + a.v * b.d)
function Base.:/(a::Dual, b::Dual)
    q = a.v / b.v
    Dual(q, (a.d - q * b.d) / b.v)
end
Base.inv(a::Dual) = Dual(1.0 / a.v, -a.d / (a.v * a.v))
function Base.:^(a::Dual, b::Dual)
    p = a.v^b.v
    da = b.v == 0 ? 0.0 : b.v * a.v^(b.v - 1) * a.d
    db = b.d == 0 ? 0.0 : (a.v > 0 ? log(a.v) * p * b.d : (a.v == 0 ? 0.0 : NaN))
    Dual(p, da + db)
end
Base.:^(a::Dual, n::Integer) = n == 0 ? one(Dual) : Dual(a.v^n, n * a.v^(n - 1) * a.d)
Base.abs(a::Dual) = a.v < 0 ? -a : a
Base.sin(a::Dual) = Dual(sin(a.v), cos(a.v) * a.d)
Base.cos(a::Dual) = Dual(cos(a.v), -sin(a.v) * a.d)
Base.tan(a::Dual) = (t = tan(a.v); Dual(t, (1 + t * t) * a.d))
Base.exp(a::Dual) = (e = exp(a.v); Dual(e, e * a.d))
Base.log(a::Dual) = Dual(log(a.v), a.d / a.v)
Base.sqrt(a::Dual) = (s = sqrt(a.v); Dual(s, a.d / (2 * s)))
Base.tanh(a::Dual) = (t = tanh(a.v); Dual(t, (1 - t * t) * a.d))
Base.sinh(a::Dual) = Dual(sinh(a.v), cosh(a.v) * a.d)
Base.cosh(a::Dual) = Dual(cosh(a.v), sinh(a.v) * a.d)
Base.asin(a::Dual) = Dual(asin(a.v), a.d / sqrt(1 - a.v * a.v))
Base.acos(a::Dual) = Dual(acos(a.v), -a.d / sqrt(1 - a.v * a.v))
Base.atan(a::Dual) = Dual(atan(a.v), a.d / (1 + a.v * a.v))
Base.exp2(a::Dual) = exp(a * log(2.0))
Base.log2(a::Dual) = log(a) / log(2.0)
Base.log10(a::Dual) = log(a) / log(10.0)
Base.sign(a::Dual) = Dual(sign(a.v), 0.0)
Base.max(a::Dual, b::Dual) = a.v >= b.v ? a : b
Base.min(a::Dual, b::Dual) = a.v <= b.v ? a : b

# the fast kernels of core/fast_math.jl (the built-in operators): value and
# derivative both from the fast functions
function fast_sin(a::Dual)
    s, c = fast_sincos(a.v)
    Dual(s, c * a.d)
end
function fast_cos(a::Dual)
    s, c = fast_sincos(a.v)
    Dual(c, -s * a.d)
end
fast_exp(a::Dual) = (e = fast_exp(a.v); Dual(e, e * a.d))
fast_log(a::Dual) = Dual(fast_log(a.v), a.d / a.v)                  # NaN value for a.v <= 0
fast_sqrt(a::Dual) = (s = fast_sqrt(a.v); Dual(s, a.d / (2 * s)))    # NaN value for a.v < 0
fast_tanh(a::Dual) = (t = fast_tanh(a.v); Dual(t, (1 - t * t) * a.d))
fast_asin(a::Dual) = Dual(fast_asin(a.v), a.d / fast_sqrt(1 - a.v * a.v))   # NaN outside [-1, 1]
fast_acos(a::Dual) = Dual(fast_acos(a.v), -a.d / fast_sqrt(1 - a.v * a.v))
