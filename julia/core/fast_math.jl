# Fast math: pure-Julia kernels for the transcendental unary operators
# (sin, cos, exp, log, tanh, asin, acos, and a non-throwing sqrt), written
# branch-free (selects with `ifelse`, integer work on the bit patterns, no
# table look-ups, no calls) so that the evaluator's loop over rows compiles to
# SIMD code. Base's libm functions are scalar calls of 12-50 ns per row.
#
# Accuracy: within a few ulp of the correctly rounded result over the whole
# domain (test_fast_math.jl measures it against BigFloat). The polynomials and
# argument reductions for sin, cos, log, asin and acos are FDLIBM's (the
# algorithms Base uses too); exp and tanh use a Taylor polynomial of e^r - 1 on
# |r| <= log(2)/2. Only `muladd` is used, never a required `fma`: the results
# stay accurate with or without a hardware FMA.
#
# The operators keep the engine's "safe" semantics: a domain error gives NaN
# (log of x <= 0, asin/acos outside [-1, 1], sqrt of x < 0, sin/cos of ±Inf)
# so that the candidate is rejected by the evaluator's finiteness check.
#
# sin and cos reduce their argument exactly only for |x| <= TRIG_FAST_MAX;
# beyond it they call Base. The scalar functions branch; the row loop instead
# uses `row_kernel` (which leaves such arguments unchanged), `row_pending`
# (true for them) and `finish_rows!` (a second pass over the rows, run only
# when some row is pending), so that the common path stays vectorised.

# --- bit-level helpers ---------------------------------------------------------

# x + 1.5*2^52 rounds x to an integer (ties to even) for |x| < 2^51; the integer
# is then both `(x + MAGIC) - MAGIC` and the low bits of the sum's pattern.
const ROUND_MAGIC = 6.755399441055744e15          # 0x1.8p52
const ROUND_MAGIC_BITS = reinterpret(Int64, ROUND_MAGIC)

"""`x` with the low 32 bits of its significand cleared (FDLIBM's "high word")."""
@inline high_word(x::Float64) = reinterpret(Float64, reinterpret(UInt64, x) & 0xffffffff00000000)

"""Float64(k) for |k| < 2^51 without an int-to-float instruction (none for 64 bits in AVX2)."""
@inline int_to_float(k::Int64) = reinterpret(Float64, ROUND_MAGIC_BITS + k) - ROUND_MAGIC

"""2^k for -1022 <= k <= 1023, built from its bit pattern."""
@inline pow2(k::Int64) = reinterpret(Float64, (k + 1023) << 52)

"""`x` with its sign flipped where `flip` is true."""
@inline flip_sign(x::Float64, flip::Bool) =
    reinterpret(Float64, reinterpret(UInt64, x) ⊻ (UInt64(flip) << 63))

# --- sqrt ----------------------------------------------------------------------

"""
    fast_sqrt(x)

Base's `sqrt` (a hardware instruction) without its domain-error branch:
NaN for x < 0, so that the row loop vectorises. sqrt(-0.0) = -0.0 as in IEEE.
"""
@inline fast_sqrt(x::Float64) = ifelse(x >= 0.0, copysign(sqrt(abs(x)), x), NaN)
fast_sqrt(x::Real) = x >= zero(x) ? sqrt(x) : oftype(float(x), NaN)

# --- sin, cos --------------------------------------------------------------------

"""|x| up to which sin/cos use the fast reduction (n = round(2x/π) < 2^20, FDLIBM's medium range)."""
const TRIG_FAST_MAX = 1.0e6

const INV_PIO2 = 6.36619772367581382433e-01
# π/2 = PIO2_1 + PIO2_2 + PIO2_3 + PIO2_3T (to about 2^-150), the first three
# with 33 significant bits, so that n * PIO2_k is exact for n < 2^20
const PIO2_1 = 1.57079632673412561417e+00
const PIO2_2 = 6.07710050630396597660e-11
const PIO2_3 = 2.02226624871116645580e-21
const PIO2_3T = 8.47842766036889956997e-32

"""`(s, e)` with s = fl(a + b) and s + e = a + b exactly (Knuth's TwoSum)."""
@inline function two_sum(a::Float64, b::Float64)
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
end

"""
    reduce_pio2(x) -> (n, hi, lo)

x = n*π/2 + (hi + lo) with |hi + lo| <= π/4 (about), for |x| <= TRIG_FAST_MAX:
Cody-Waite reduction with π/2 in four parts, the three exact products
subtracted with error-free sums (FDLIBM's constants; its conditional third
round made unconditional). n is returned as an Int64 from the bits of the
rounding sum.
"""
@inline function reduce_pio2(x::Float64)
    s = muladd(x, INV_PIO2, ROUND_MAGIC)
    fn = s - ROUND_MAGIC
    n = reinterpret(Int64, s) - ROUND_MAGIC_BITS
    a = x - fn * PIO2_1                     # exact
    r1, e1 = two_sum(a, -(fn * PIO2_2))     # fn * PIO2_k exact for k = 1, 2, 3
    r2, e2 = two_sum(r1, -(fn * PIO2_3))
    ntail = fn * PIO2_3T - (e1 + e2)        # subtracted, so that x = -0.0 gives hi = -0.0
    hi = r2 - ntail
    lo = (r2 - hi) - ntail
    return n, hi, lo
end

# FDLIBM __kernel_sin / __kernel_cos on [-π/4, π/4], for x = hi + lo
@inline function sin_poly(hi::Float64, lo::Float64)
    z = hi * hi
    v = z * hi
    S1 = -1.66666666666666324348e-01
    r = evalpoly(z, (8.33333333332248946124e-03, -1.98412698298579493134e-04,
                     2.75573137070700676789e-06, -2.50507602534068634195e-08,
                     1.58969099521155010221e-10))
    return hi - ((z * (0.5 * lo - v * r) - lo) - v * S1)
end
@inline function cos_poly(hi::Float64, lo::Float64)
    z = hi * hi
    r = z * evalpoly(z, (4.16666666666666019037e-02, -1.38888888888741095749e-03,
                         2.48015872894767294178e-05, -2.75573143513906633035e-07,
                         2.08757232129817482790e-09, -1.13596475577881948265e-11))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + (z * r - hi * lo))
end

"""(sin(x), cos(x)) for |x| <= TRIG_FAST_MAX from one reduction, branch-free."""
@inline function sincos_kernel(x::Float64)
    n, hi, lo = reduce_pio2(x)
    s = sin_poly(hi, lo); c = cos_poly(hi, lo)
    odd = n & 1 != 0     # quadrant n mod 4: (s, c), (c, -s), (-s, -c), (-c, s)
    return (flip_sign(ifelse(odd, c, s), n & 2 != 0),
            flip_sign(ifelse(odd, s, c), (n + 1) & 2 != 0))
end

# beyond the fast range: Base (exact reduction), and NaN (not an error) for ±Inf
@noinline sin_slow(x::Float64) = isfinite(x) ? sin(x) : NaN
@noinline cos_slow(x::Float64) = isfinite(x) ? cos(x) : NaN

@inline sin_kernel(x::Float64) = sincos_kernel(x)[1]
@inline cos_kernel(x::Float64) = sincos_kernel(x)[2]

"""sin(x) in a few ulp; NaN for ±Inf and NaN."""
@inline fast_sin(x::Float64) = abs(x) <= TRIG_FAST_MAX ? sin_kernel(x) : sin_slow(x)
"""cos(x) in a few ulp; NaN for ±Inf and NaN."""
@inline fast_cos(x::Float64) = abs(x) <= TRIG_FAST_MAX ? cos_kernel(x) : cos_slow(x)
"""(fast_sin(x), fast_cos(x)), sharing the argument reduction (for Dual numbers)."""
@inline fast_sincos(x::Float64) =
    abs(x) <= TRIG_FAST_MAX ? sincos_kernel(x) : (sin_slow(x), cos_slow(x))

# --- exp, expm1 --------------------------------------------------------------------

const INV_LN2 = 1.44269504088896338700e+00
# log(2) = LN2_HI + LN2_LO, LN2_HI with 32 significant bits (k * LN2_HI exact for |k| < 2^21)
const LN2_HI = 6.93147180369123816490e-01
const LN2_LO = 1.90821492927058770002e-10
# Taylor coefficients 1/2!, ..., 1/13! of e^r - 1 = r + r^2 P(r); on |r| <= log(2)/2
# the truncation error is below 2^-56 relative to e^r - 1
const EXPM1_TAYLOR = Tuple(Float64(1 // factorial(big(k))) for k in 2:13)

"""
    reduce_ln2(x) -> (k, r)

x = k*log(2) + r, |r| <= log(2)/2 (about), for |x| <= 2000.
"""
@inline function reduce_ln2(x::Float64)
    s = muladd(x, INV_LN2, ROUND_MAGIC)
    fk = s - ROUND_MAGIC
    k = reinterpret(Int64, s) - ROUND_MAGIC_BITS
    r = (x - fk * LN2_HI) - fk * LN2_LO
    return k, r
end

"""e^r - 1 for |r| <= log(2)/2, to about half an ulp."""
@inline expm1_poly(r::Float64) = muladd(r * r, evalpoly(r, EXPM1_TAYLOR), r)

"""
    fast_exp(x)

e^x in about 1 ulp: Inf above 709.78, 0 below -745.13, subnormal results in
between (the power of two is applied in two steps, so no branch is needed).
"""
@inline function fast_exp(x::Float64)
    xc = ifelse(x > 720.0, 720.0, ifelse(x < -750.0, -750.0, x))   # NaN stays NaN
    k, r = reduce_ln2(xc)
    k1 = k >> 1
    return (1.0 + expm1_poly(r)) * pow2(k1) * pow2(k - k1)
end

# --- tanh ----------------------------------------------------------------------------

"""
    fast_tanh(x)

tanh(x) = t/(t + 2) with t = e^(2|x|) - 1, the sign of x restored; ±1 exactly
for |x| >= 20 (the correctly rounded value from |x| > 19.06), tanh(±0) = ±0.
"""
@inline function fast_tanh(x::Float64)
    y = 2.0 * abs(x)
    y = ifelse(y > 40.0, 40.0, y)        # NaN stays NaN
    k, r = reduce_ln2(y)
    p = pow2(k)                            # 0 <= k <= 58
    t = muladd(p, expm1_poly(r), p - 1.0)  # e^y - 1 = 2^k (e^r - 1) + (2^k - 1)
    # the sign by a product, not copysign: a loop that stores an integer op's result
    # to the array it loaded doubles from is not vectorised (mixed access types)
    return copysign(1.0, x) * (t / (t + 2.0))
end

# --- log ------------------------------------------------------------------------------

"""
    fast_log(x)

log(x) in about 1 ulp (FDLIBM's algorithm) for x > 0, Inf for Inf, and NaN
for x <= 0 and NaN, like the engine's safe_log.
"""
@inline function fast_log(x::Float64)
    sub = x < 2.2250738585072014e-308                 # subnormal: scale by 2^54
    xs = ifelse(sub, x * 1.8014398509481984e16, x)
    # normalise the significand to [sqrt(2)/2, sqrt(2)), adjust the exponent
    ix = reinterpret(UInt64, xs) + (0x3ff0000000000000 - 0x3fe6a09e00000000)
    k = reinterpret(Int64, ix >> 52) - 1023 - ifelse(sub, 54, 0)
    ix = (ix & 0x000fffffffffffff) + 0x3fe6a09e00000000
    f = reinterpret(Float64, ix) - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * evalpoly(w, (3.999999999940941908e-01, 2.222219843214978396e-01,
                          1.531383769920937332e-01))
    t2 = z * evalpoly(w, (6.666666666666735130e-01, 2.857142874366239149e-01,
                          1.818357216161805012e-01, 1.479819860511658591e-01))
    R = t2 + t1
    dk = int_to_float(k)
    y = dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f)
    return ifelse(x > 0.0, ifelse(x < Inf, y, x), NaN)
end

# --- asin, acos ----------------------------------------------------------------------

const PIO2_HI = 1.57079632679489655800e+00
const PIO2_LO = 6.12323399573676603587e-17
const PIO4_HI = 7.85398163397448278999e-01
const PI_HI = 3.14159265358979311600e+00

"""FDLIBM's rational approximation R(t) = p(t)/q(t): asin(x) = x + x t R(t), t = x^2, |x| <= 1/2."""
@inline function arc_ratio(t::Float64)
    p = t * evalpoly(t, (1.66666666666666657415e-01, -3.25565818622400915405e-01,
                         2.01212532134862925881e-01, -4.00555345006794114027e-02,
                         7.91534994289814532176e-04, 3.47933107596021167570e-05))
    q = evalpoly(t, (1.0, -2.40339491173441421878e+00, 2.02094576023350569471e+00,
                     -6.88283971605453293030e-01, 7.70381505559019352791e-02))
    return p / q
end

"""
    fast_asin(x)

asin(x) in about 1 ulp (FDLIBM's algorithm, every case computed and one
selected); NaN outside [-1, 1], like the engine's safe_asin.
"""
@inline function fast_asin(x::Float64)
    a = abs(x)
    small = a < 0.5
    # |x| < 1/2: asin(x) = x + x R(x^2); else asin(|x|) = π/2 - 2 asin(sqrt((1-|x|)/2))
    t = ifelse(small, x * x, (1.0 - a) * 0.5)
    R = arc_ratio(t)
    s = sqrt(abs(t))                       # abs: no domain branch (t < 0 only for |x| > 1)
    near1 = PIO2_HI - (2.0 * muladd(s, R, s) - PIO2_LO)   # |x| >= 0.975
    s0 = high_word(s)
    c = (t - s0 * s0) / (s + s0)
    p = 2.0 * s * R - (PIO2_LO - 2.0 * c)
    q = PIO4_HI - 2.0 * s0
    mid = PIO4_HI - (p - q)                               # 1/2 <= |x| < 0.975
    large = copysign(ifelse(a >= 0.975, near1, mid), x)
    y = ifelse(small, muladd(x, R, x), large)
    return ifelse(a <= 1.0, y, NaN)                    # NaN stays NaN
end

"""
    fast_acos(x)

acos(x) in about 1 ulp (FDLIBM's algorithm, every case computed and one
selected); NaN outside [-1, 1], like the engine's safe_acos.
"""
@inline function fast_acos(x::Float64)
    a = abs(x)
    small = a < 0.5
    t = ifelse(small, x * x, (1.0 - a) * 0.5)
    R = arc_ratio(t)
    s = sqrt(abs(t))
    y_small = PIO2_HI - (x - (PIO2_LO - x * R))        # |x| < 1/2
    y_neg = PI_HI - 2.0 * (s + (R * s - PIO2_LO))      # x <= -1/2
    df = high_word(s)
    c = (t - df * df) / (s + df)                       # 0/0 at x = 1: selected away
    y_pos = 2.0 * (df + (R * s + c))                   # x >= 1/2
    y = ifelse(small, y_small, ifelse(x < 0.0, y_neg, ifelse(x == 1.0, 0.0, y_pos)))
    return ifelse(a <= 1.0, y, NaN)
end

# --- generic fallbacks (other real types; Dual methods are in dual.jl) ----------------

fast_sin(x::Real) = sin(x)
fast_cos(x::Real) = cos(x)
fast_exp(x::Real) = exp(x)
fast_log(x::Real) = x > zero(x) ? log(x) : oftype(float(x), NaN)
fast_tanh(x::Real) = tanh(x)
fast_asin(x::Real) = -one(x) <= x <= one(x) ? asin(x) : oftype(float(x), NaN)
fast_acos(x::Real) = -one(x) <= x <= one(x) ? acos(x) : oftype(float(x), NaN)

# --- the evaluator's row loops --------------------------------------------------------

"""
    row_kernel(f, x)

What the evaluator's row loop computes for operator `f` on one row: `f(x)`,
except for sin and cos on Float64, whose branch-free kernels return the
argument unchanged where it is beyond TRIG_FAST_MAX (see `row_pending`).
"""
@inline row_kernel(f::F, x) where {F} = f(x)
@inline row_kernel(::typeof(fast_sin), x::Float64) = ifelse(abs(x) <= TRIG_FAST_MAX, sin_kernel(x), x)
@inline row_kernel(::typeof(fast_cos), x::Float64) = ifelse(abs(x) <= TRIG_FAST_MAX, cos_kernel(x), x)

"""
    row_pending(f, v) -> Bool

Whether the row loop's value `v = row_kernel(f, x)` still needs `finish_rows!`
(false for every operator but sin and cos, whose fast results lie in [-1, 1]
while the arguments they left unchanged are beyond TRIG_FAST_MAX).
"""
@inline row_pending(f::F, v) where {F} = false
@inline row_pending(::Union{typeof(fast_sin),typeof(fast_cos)}, v::Float64) = !(abs(v) <= TRIG_FAST_MAX)

"""
    finish_rows!(f, out) -> Bool

Second pass over the rows after a loop of `row_kernel` that left some rows
pending: replaces them by `f` of their (unchanged) argument. Returns whether
all rows are finite.
"""
finish_rows!(f::F, out::AbstractVector) where {F} = true
function finish_rows!(f::Union{typeof(fast_sin),typeof(fast_cos)}, out::AbstractVector{Float64})
    ok = true
    @inbounds for i in eachindex(out)
        v = out[i]
        if row_pending(f, v)
            w = f(v)
            out[i] = w
            ok &= abs(w) < Inf
        end
    end
    return ok
end
