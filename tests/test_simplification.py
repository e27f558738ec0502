"""Display simplification (keplersr.simplification): formulas of the front as a
physicist writes them, accepted only when the loss on the data is not worse;
the time limit; equations_ keeps the engine's form in sympy_raw; constants
shown rounded to their standard errors. Pure Python except the last test."""

import time

import numpy as np
import pytest
import sympy
from sympy import Float, Rational, Symbol

from keplersr import SymbolicRegressor
from keplersr.display import value_with_error
from keplersr.expressions import CompiledExpression
from keplersr.simplification import FormulaSimplifier, integer_floats, simplify_formula


def F(v):
    """A constant as the engine's formulas carry it (codes_to_sympy: 17 digits)."""
    return Float(v, 17)


def S(names):
    return [Symbol(n, real=True) for n in names.split()]


def exact(expr, digits=9):
    """Floats rounded to `digits` decimals and made exact, so that == compares structure, not precision."""
    return expr.xreplace({f: Rational(str(round(float(f), digits))) for f in expr.atoms(Float)})


def floats(expr):
    return [float(f) for f in expr.atoms(Float)]


def data(names, fn, n=300, low=1.1, high=3.0, seed=0):
    X = np.random.default_rng(seed).uniform(low, high, size=(n, len(names.split())))
    return X, fn(*X.T)


def loss(expr, X, y, names):
    return float(np.mean((CompiledExpression(expr, names.split())(X) - y) ** 2))


# ------------------------------------------------------- the three laws
def test_spring_energy_is_half_k_x_squared():
    k, x = S("k x")
    raw = k * (F(0.5) * x * (x - F(2.0)) + x) + F(5.2e-17)
    X, y = data("k x", lambda k, x: 0.5 * k * x ** 2)
    got = simplify_formula(raw, X, y, None, ["k", "x"])
    assert exact(got) == Rational(1, 2) * k * x ** 2, got
    assert 1.0 not in floats(got) and 2.0 not in floats(got)
    assert all(abs(v) > 1e-10 for v in floats(got))            # the tiny constant is gone
    assert loss(got, X, y, "k x") <= loss(raw, X, y, "k x") + 1e-30


def test_adiabatic_energy_is_V_p_over_gamma_minus_one():
    V, pr, gamma = S("V pr gamma")
    raw = V * (pr / (F(1.0) * gamma - F(1.0)) + F(5.1e-17))
    X, y = data("V pr gamma", lambda V, p, g: V * p / (g - 1))
    got = simplify_formula(raw, X, y, None, ["V", "pr", "gamma"])
    assert got == V * pr / (gamma - 1), got                     # no float left at all
    assert not got.atoms(Float)


def test_fourier_heat_flow_loses_its_one_point_zero():
    A, kappa, T1, T2, d = S("A kappa T1 T2 d")
    raw = F(1.0) * A * kappa * (-T1 + T2) / d
    X, y = data("A kappa T1 T2 d", lambda A, k, T1, T2, d: A * k * (T2 - T1) / d)
    got = simplify_formula(raw, X, y, None, ["A", "kappa", "T1", "T2", "d"])
    assert got == A * kappa * (T2 - T1) / d and not got.atoms(Float)
    # without data: the integer rewrite alone, which is all this formula needs
    assert simplify_formula(raw, variable_names=["A", "kappa", "T1", "T2", "d"]) == got


# ------------------------------------------------------- tiny constants
def test_tiny_constants_are_judged_against_the_data_scale():
    (x,) = S("x")
    X, y = data("x", lambda x: 1e-20 * x)                       # a physically tiny quantity
    kept = simplify_formula(F(1e-20) * x + F(3e-31), X, y, None, ["x"])
    assert 3e-31 in floats(kept)                                # 3e-31 > 1e-12 * 1e-20: a real term
    dropped = simplify_formula(F(1e-20) * x + F(3e-33), X, y, None, ["x"])
    assert dropped == F(1e-20) * x
    # nested in a product, judged against the sum it belongs to
    X2, y2 = data("x", lambda x: 1e6 * (x + 1.0))
    got = simplify_formula(F(1e6) * (x + F(1.0) + F(4e-18) * x), X2, y2, None, ["x"])
    assert exact(got, 6) in (1000000 * (x + 1), 1000000 * x + 1000000), got


def test_integer_floats_become_integers_but_large_ones_stay_floats():
    (x,) = S("x")
    got = integer_floats(F(-1.0) * x ** F(2.0) + F(3.0) * x + F(1e20))
    assert got == -x ** 2 + 3 * x + F(1e20)
    assert integer_floats(x + F(2.5)) == x + F(2.5)


# ------------------------------------------------------- acceptance rule
def test_a_rewrite_that_worsens_the_loss_is_rejected():
    # 1/(1/x + 1/y) is x*y/(x + y), fewer operations, but x*y overflows for these data
    x, yv = S("x y")
    raw = 1 / (1 / x + 1 / yv)
    X = np.random.default_rng(2).uniform(1e200, 3e200, size=(50, 2))
    y = 1 / (1 / X[:, 0] + 1 / X[:, 1])
    simp = FormulaSimplifier(X, y, None, ["x", "y"])
    assert sympy.count_ops(x * yv / (x + yv)) < sympy.count_ops(raw)
    assert not simp.accepts(raw, x * yv / (x + yv))
    assert simp(raw) == raw
    # the same formula on ordinary data is rewritten
    X1 = np.random.default_rng(2).uniform(1, 3, size=(50, 2))
    y1 = 1 / (1 / X1[:, 0] + 1 / X1[:, 1])
    assert FormulaSimplifier(X1, y1, None, ["x", "y"])(raw) == x * yv / (x + yv)


def test_acceptance_allows_rounding_only():
    (x,) = S("x")
    X, y = data("x", lambda x: 2.0 * x)
    simp = FormulaSimplifier(X, y, None, ["x"])
    scale = np.sqrt(np.mean(y ** 2))
    assert simp.accepts(2 * x, 2 * x + F(1e-14 * scale))        # within 1e-12 of y's scale
    assert not simp.accepts(2 * x, 2 * x + F(1e-9 * scale))     # a visible change of a perfect fit
    # an imperfect fit: a candidate a little better is fine, a little worse is not
    assert simp.accepts(F(2.1) * x, F(2.05) * x)
    assert not simp.accepts(F(2.1) * x, F(2.1000001) * x)


def test_the_search_loss_is_used():
    (x,) = S("x")
    X, y = data("x", lambda x: 2.0 * x)
    y = y.copy()
    y[0] += 100.0                                               # one outlier
    # a candidate closer on the outlier but worse elsewhere: L2 prefers it, L1 does not
    raw, cand = F(2.0) * x, F(2.0) * x + F(0.5)
    assert FormulaSimplifier(X, y, None, ["x"], loss="L2").accepts(raw, cand)
    assert not FormulaSimplifier(X, y, None, ["x"], loss="L1").accepts(raw, cand)
    assert not FormulaSimplifier(X, y, None, ["x"], loss="Huber", huber_delta=1.0).accepts(raw, cand)
    assert FormulaSimplifier(X, y, None, ["x"], loss=lambda p, t: (p - t) ** 2).accepts(raw, cand)
    # zero weight on the outlier: L2 no longer prefers the candidate
    w = np.ones(len(y))
    w[0] = 0.0
    assert not FormulaSimplifier(X, y, w, ["x"], loss="L2").accepts(raw, cand)
    with pytest.raises(ValueError, match="loss"):
        FormulaSimplifier(X, y, None, ["x"], loss="L3")


def test_without_data_only_the_integer_rewrite_and_only_where_it_evaluates_alike():
    k, x = S("k x")
    raw = k * (F(0.5) * x * (x - F(2.0)) + x) + F(5.2e-17)
    got = simplify_formula(raw, variable_names=["k", "x"])
    assert got == k * (F(0.5) * x * (x - 2) + x) + F(5.2e-17)   # no expansion, tiny constant kept
    # sympy turns (x**1.5)**2 into x**3: defined for x < 0 where the original is not -> kept as is
    domain = (x ** F(1.5)) ** F(2.0)
    assert integer_floats(domain) == x ** 3
    assert simplify_formula(domain, variable_names=["x"]) == domain


def test_a_formula_undefined_on_the_data_is_kept():
    (x,) = S("x")
    X = np.array([[-1.0], [2.0], [3.0]])
    raw = F(1.0) * sympy.log(x) + F(2.0)
    assert simplify_formula(raw, X, np.array([0.0, 1.0, 2.0]), None, ["x"]) == raw


# ------------------------------------------------------------ time limit
def _heavy():
    """sympy.simplify takes ~6 s on this 29-operation formula."""
    x, y, z = S("x y z")
    return ((x + F(1.3) * y) ** 4 * (x - z) ** 3 + sympy.sin(x + y) ** 2 * sympy.cos(x - z) ** 2
            - F(0.7) * sympy.exp(x * y) / (x + z) ** 2) / ((x ** 2 - y ** 2) * (F(2.1) * z + x) ** 2)


def test_the_time_limit_stops_a_slow_simplification():
    expr = _heavy()
    X, y = data("x y z", sympy.lambdify(S("x y z"), expr), n=500, low=0.5, high=2.0)
    t = time.perf_counter()
    got = simplify_formula(expr, X, y, None, ["x", "y", "z"], time_limit=0.2)
    elapsed = time.perf_counter() - t
    assert elapsed < 1.0, elapsed
    assert loss(got, X, y, "x y z") <= loss(expr, X, y, "x y z") * (1 + 1e-9) + 1e-24
    # formulas beyond max_ops get only the cheap steps
    x, y_, z = S("x y z")
    big = sum(sympy.sin(F(0.3) * i * x + y_) ** 2 * sympy.cos(z - F(0.2) * i * x) / (x + F(i) * y_ + z)
              for i in range(1, 9))
    assert sympy.count_ops(big) > 60
    Xb, yb = data("x y z", sympy.lambdify(S("x y z"), big), n=500, low=0.5, high=2.0)
    t = time.perf_counter()
    got = simplify_formula(big, Xb, yb, None, ["x", "y", "z"])
    assert time.perf_counter() - t < 1.0
    assert not any(v == round(v) for v in floats(got))          # 1.0, 2.0, ... made integers


def _front():
    """20 formulas of growing size, engine-like (17-digit constants), for 4 variables."""
    a, b, c, d = S("a b c d")
    r = [F(v) for v in (0.50019, 1.0, 2.0, 3.1415, 0.7, 1.3, 2.5, 5.2e-17, 0.1, 9.81)]
    return [
        a, r[0] * a, r[0] * a * b, r[0] * a * b + r[7], r[1] * a * b / c,
        r[0] * a * (b - r[2]) + a, a * (r[0] * b * (b - r[2]) + b) + r[7],
        r[3] * a ** 2 / (r[1] * c - r[1]), sympy.sin(r[4] * a) + r[5] * b,
        sympy.sqrt(a ** 2 + b ** 2) * r[6] + r[7], sympy.exp(-a / (r[9] * c)) * b + r[8],
        (a + b) * (a - b) / (c + r[1]) + r[7] * a, r[0] * a * b * (c - d) / (d + r[2]) + r[1] * a,
        sympy.cos(a * r[4] + b) ** 2 + sympy.sin(a * r[4] + b) ** 2 * r[1],
        a * b / (r[1] / a + r[1] / b) + r[8] * (c - d),
        (a ** 2 * r[5] + b * a * r[2]) / (a * (c + r[1])) + r[7],
        r[6] * sympy.log(a * b) - r[6] * sympy.log(a) + c * (d + r[8]) * (d - r[8]),
        (a + r[1]) ** 3 - a ** 3 - r[2] * a ** 2 + sympy.exp(b) * c / (d + r[1] * c),
        sympy.sqrt(a * b * r[9]) * (c + d) ** 2 / (a + b) + r[4] * sympy.cos(a - b) * d,
        ((a + r[5] * b) ** 3 * (c - d) ** 2 + sympy.sin(a + b) ** 2 * sympy.cos(c - d) ** 2
         - r[4] * sympy.exp(a * b) / (a + c) ** 2) / ((a ** 2 - b ** 2) * (r[6] * d + a) ** 2),
    ]


def test_a_front_of_twenty_formulas_simplifies_in_well_under_five_seconds():
    names = ["a", "b", "c", "d"]
    front = _front()
    assert len(front) == 20
    X = np.random.default_rng(4).uniform(1.1, 3.0, size=(10_000, 4))
    y = 0.5 * X[:, 0] * X[:, 1] ** 2 + np.sin(X[:, 2])
    simp = FormulaSimplifier(X, y, None, names)
    t = time.perf_counter()
    out = [simp(e) for e in front]
    elapsed = time.perf_counter() - t
    assert elapsed < 4.0, elapsed
    for raw, got in zip(front, out):
        assert simp.accepts(raw, got) or got == raw
        assert sympy.count_ops(got) <= sympy.count_ops(raw)
    a, b, c = S("a b c")
    assert out[3] == F(0.50019) * a * b                        # tiny constant dropped
    assert out[4] == a * b / c                                  # 1.0 gone
    # 0.50019*b*(b - 2) + b is not 0.50019*b**2: the linear term stays, collected
    assert exact(out[6], 12) == a * b * (Rational(50019, 100000) * b - Rational(38, 100000)), out[6]


# ------------------------------------------------------- equations_
CODES = {"+": -1000, "-": -1001, "*": -1002, "/": -1003}


def _model_with_records(records, names):
    m = SymbolicRegressor(binary_operators=["+", "-", "*", "/"], unary_operators=[])
    m.variable_names_ = list(names)
    m.binary_operators_ = ["+", "-", "*", "/"]
    m.unary_operators_ = []
    m.multioutput_ = False
    return m


def test_equations_hold_the_simplified_and_the_engine_form():
    # (x0 * (x1 * 1.0)) + 5.2e-17 and (x0 * x1) * (1.0 * 2.5)
    records = [
        {"complexity": 5, "loss": 1.0, "score": 0.1, "equation": "((x0 * (x1 * 1.0)) + 5.2e-17)",
         "codes": [CODES["+"], CODES["*"], 1, CODES["*"], 2, 0, 0], "constants": [1.0, 5.2e-17],
         "constants_stderr": [0.01, 1e-3]},
        {"complexity": 7, "loss": 0.0, "score": 2.0, "equation": "((x0 * x1) * (1.0 * 2.5))",
         "codes": [CODES["*"], CODES["*"], 1, 2, CODES["*"], 0, 0], "constants": [1.0, 2.5],
         "constants_stderr": [0.0, 0.0]},
    ]
    X = np.random.default_rng(5).uniform(1, 2, size=(40, 2))
    y = 2.5 * X[:, 0] * X[:, 1]
    m = _model_with_records(records, ["x0", "x1"])
    eq = m._records_to_frame(records, data=(X, y, None))
    x0, x1 = S("x0 x1")
    assert list(eq["sympy_format"]) == [x0 * x1, F(2.5) * x0 * x1]
    assert eq.loc[0, "sympy_raw"] == x0 * x1 * F(1.0) + F(5.2e-17)
    assert list(eq["equation"]) == [r["equation"] for r in records]
    assert list(eq["constants"][0]) == [1.0, 5.2e-17]               # exact engine constants
    np.testing.assert_allclose(eq.loc[1, "lambda_format"](X), y, rtol=1e-15)
    # without data (from_file): only the integer rewrite
    eq = m._records_to_frame(records)
    assert list(eq["sympy_format"]) == [x0 * x1 + F(5.2e-17), F(2.5) * x0 * x1]


# ------------------------------------------------------------- display
@pytest.mark.parametrize("value, error, text", [
    (0.5002, 0.0031, "0.500(3)"),
    (-0.5002, 0.0031, "-0.500(3)"),
    (2.5, 0.012, "2.500(12)"),
    (9.81, 0.27, "9.81(27)"),
    (0.0123, 0.0096, "0.012(10)"),          # the error rounds up to a new digit
    (12345.0, 340.0, "12300(300)"),
    (1234.5, 23.0, "1234(23)"),
    (6.674e-11, 3.1e-15, "6.6740(3)e-11"),
    (3.2e5, 1.1e5, "3.2(11)e+05"),
    (-0.0004, 0.003, "0.000(3)"),           # no "-0.000"
    (2.5, float("inf"), "2.5"),
    (2.5, float("nan"), "2.5"),
    (1.0, 0.0, "1"),
    (0.1, 1e-20, "0.1"),                    # an exact fit: no noise digits
])
def test_constants_are_shown_to_the_precision_their_error_allows(value, error, text):
    assert value_with_error(value, error) == text


def test_the_html_front_shows_rounded_constants():
    records = [{"complexity": 3, "loss": 1e-3, "score": 3.8, "equation": "(0.50021 * x0)",
                "codes": [CODES["*"], 0, 1], "constants": [0.50021], "constants_stderr": [0.0031]}]
    m = SymbolicRegressor(binary_operators=["+", "-", "*", "/"], unary_operators=[])
    state = {"status": "finished", "variable_names": ["x0"], "feature_names_in": None,
             "binary_operators": ["+", "-", "*", "/"], "unary_operators": [], "multioutput": False,
             "outputs": [records]}
    page = m._load_state(state, "nowhere")._repr_mimebundle_()["text/html"]
    assert "0.500(3)" in page
    assert m.equations_.loc[0, "constants"] == [0.50021]             # the exact value stays


@pytest.mark.julia
def test_a_fit_shows_simplified_formulas_that_predict_as_well(julia_worker, fast):
    rng = np.random.default_rng(6)
    X = rng.uniform(1, 3, size=(200, 2))
    y = 0.5 * X[:, 0] * X[:, 1] ** 2
    m = SymbolicRegressor(niterations=20, random_state=0, early_stop_condition=1e-24, **fast).fit(X, y)
    eq = m.equations_
    assert "sympy_raw" in eq.columns
    for _, row in eq.iterrows():
        new = np.mean((row["lambda_format"](X) - y) ** 2)
        old = np.mean((CompiledExpression(row["sympy_raw"], ["x0", "x1"])(X) - y) ** 2)
        assert new <= max(old, 1e-300) * (1 + 1e-6) + 1e-24 * np.mean(y ** 2)
        assert sympy.count_ops(row["sympy_format"]) <= sympy.count_ops(row["sympy_raw"])
    np.testing.assert_allclose(m.predict(X), eq.loc[m.get_best().name, "lambda_format"](X))


def test_integer_floats_up_to_rounding():
    (x,) = S("x")
    assert integer_floats(F(0.99999999999999978) * x) == x               # a least-squares 1
    assert integer_floats(x - F(2.0000000000000004)) == x - 2
    assert F(0.9999) in integer_floats(F(0.9999) * x).atoms(sympy.Float)  # a real constant stays
    assert F(1e-20) in integer_floats(F(1e-20) * x).atoms(sympy.Float)    # near zero: not snapped


def test_the_sign_of_a_logarithm_goes_into_its_argument():
    n, T, V1, V2 = S("n T V1 V2")
    X, y = data("n T V1 V2", lambda n, T, V1, V2: n * T * np.log(V2 / V1))
    out = simplify_formula(-n * T * sympy.log(V1 / V2), X, y, None, ["n", "T", "V1", "V2"])
    assert out == n * T * sympy.log(V2 / V1)


def test_abs_of_a_one_signed_quantity_is_dropped():
    a, b = S("a b")
    X, y = data("a b", lambda a, b: b * (1 + a * np.cos(b)))
    out = simplify_formula(b * sympy.Abs(a) * sympy.cos(b) + b, X, y, None, ["a", "b"])
    assert not out.has(sympy.Abs)
    X2 = np.column_stack([np.linspace(-1, 1, 300), np.ones(300)])
    y2 = np.abs(X2[:, 0])
    assert simplify_formula(sympy.Abs(a) * b, X2, y2, None, ["a", "b"]).has(sympy.Abs)   # a changes sign
