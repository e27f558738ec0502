"""Tests for keplersr.expressions: prefix decoding, sympy, callables, LaTeX."""

import math
import pickle

import numpy as np
import pytest
import sympy

from keplersr.expressions import (
    BUILTIN_SYMPY,
    CompiledExpression,
    codes_to_string,
    codes_to_sympy,
    round_constants,
    sympy_to_callable,
    to_latex,
)

BIN = ["+", "-", "*", "/", "^"]
UNA = ["neg", "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "square", "cube",
       "inv", "tanh", "sinh", "cosh", "asin", "acos", "atan"]


def bcode(name, ops=BIN):
    """Engine code of binary operator `name` (index 0 -> -1000)."""
    return -1000 - ops.index(name)


def ucode(name, ops=UNA):
    return -(ops.index(name) + 1)


x, y = sympy.symbols("x y", real=True)

NUMPY_UNARY = {
    "neg": np.negative, "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp,
    "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "square": np.square,
    "cube": lambda v: v**3, "inv": lambda v: 1 / v, "tanh": np.tanh, "sinh": np.sinh,
    "cosh": np.cosh, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
}


def test_builtin_table_covers_engine_operators():
    assert set(BUILTIN_SYMPY) == set(BIN) | set(UNA)


@pytest.mark.parametrize("name", BIN)
def test_each_binary_operator(name):
    e = codes_to_sympy([bcode(name), 1, 2], [], BIN, UNA, ["x", "y"])
    expected = {"+": x + y, "-": x - y, "*": x * y, "/": x / y, "^": x**y}[name]
    assert sympy.simplify(e - expected) == 0
    assert e.free_symbols == {x, y}


@pytest.mark.parametrize("name", UNA)
def test_each_unary_operator(name):
    e = codes_to_sympy([ucode(name), 1], [], BIN, UNA, ["x"])
    # Evaluate at a point inside every operator's domain and compare with numpy.
    val = float(e.subs(x, 0.37))
    assert val == pytest.approx(float(NUMPY_UNARY[name](0.37)), rel=1e-14)
    assert e.free_symbols == {x}


def test_unary_special_forms():
    sq = codes_to_sympy([ucode("square"), 1], [], BIN, UNA, ["x"])
    cu = codes_to_sympy([ucode("cube"), 1], [], BIN, UNA, ["x"])
    inv = codes_to_sympy([ucode("inv"), 1], [], BIN, UNA, ["x"])
    neg = codes_to_sympy([ucode("neg"), 1], [], BIN, UNA, ["x"])
    assert sq == x**2 and cu == x**3 and inv == 1 / x and neg == -x


def test_nested_tree_and_operand_order():
    # prefix: - ( / x 2.5 ) ( sin y )  ->  x/2.5 - sin(y)
    codes = [bcode("-"), bcode("/"), 1, 0, ucode("sin"), 2]
    e = codes_to_sympy(codes, [2.5], BIN, UNA, ["x", "y"])
    assert float(e.subs({x: 5.0, y: 0.0})) == pytest.approx(2.0)
    assert float(e.subs({x: 0.0, y: math.pi / 2})) == pytest.approx(-1.0)
    assert codes_to_string(codes, [2.5], BIN, UNA, ["x", "y"]) == "((x / 2.5) - sin(y))"


def test_codes_to_string_user_ops_and_unknown_columns():
    s = codes_to_string([-1000, -1, 3, 0], [1e-300], ["myop"], ["inv2"], ["a"])
    assert s == "myop(inv2(x2), 1e-300)"


@pytest.mark.parametrize("name", ["gamma", "lambda", "E_n", "beta", "pi", "E", "I", "S",
                                  "N", "Q", "zeta", "O", "sin", "lambda.1"])
def test_clashing_names_stay_plain_symbols(name):
    e = codes_to_sympy([bcode("*"), 1, 0], [2.0], BIN, UNA, [name])
    sym = sympy.Symbol(name, real=True)
    assert e.free_symbols == {sym}
    assert float(e.subs(sym, 3.0)) == 6.0
    f = sympy_to_callable(e, [name])
    np.testing.assert_allclose(f(np.array([[1.0], [4.0]])), [2.0, 8.0])


def test_names_of_the_generated_code_do_not_shadow_its_functions():
    # a column named like a function or constant the compiled formula calls (exp, sqrt, pi, e,
    # abs, numpy) must not replace it; plain names (x, theta) compile without renaming
    names = ["exp", "sqrt", "pi", "e", "abs", "numpy", "x", "theta"]
    s = {n: sympy.Symbol(n, real=True) for n in names}
    expr = (sympy.exp(s["exp"]) + sympy.sqrt(s["sqrt"]) + sympy.pi * s["pi"] + sympy.E * s["e"]
            + sympy.Abs(s["abs"]) + sympy.sin(s["numpy"]) + s["x"] ** 2 / s["theta"])
    X = np.array([[0.5, 4.0, 2.0, 3.0, -1.5, 0.3, 1.5, 2.0]])
    want = np.exp(0.5) + 2.0 + np.pi * 2.0 + np.e * 3.0 + 1.5 + np.sin(0.3) + 1.5 ** 2 / 2.0
    np.testing.assert_allclose(CompiledExpression(expr, names)(X), [want], rtol=1e-15)
    np.testing.assert_allclose(CompiledExpression(s["x"] * s["theta"], ["x", "theta"])(X[:, 6:]), [3.0])


def test_constants_round_trip_exactly():
    rng = np.random.default_rng(1)
    values = [1 / 3, 1e-300, -2.5382, 5e-324, 1.7976931348623157e308, math.pi, 0.1, -0.0]
    values += list(rng.standard_normal(200) * 10.0 ** rng.integers(-30, 30, 200))
    for v in values:
        e = codes_to_sympy([0], [v], BIN, UNA, [])
        assert isinstance(e, sympy.Float)
        assert float(e) == v
        # and the printed 17-digit form parses back to the same double
        assert float(sympy.Float(str(e), 17)) == v or v == 0.0


def test_constants_inside_tree_keep_full_precision():
    c = [0.123456789012345678, -2.5382]
    e = codes_to_sympy([bcode("+"), bcode("*"), 0, 1, 0], c, BIN, UNA, ["x"])
    floats = sorted(float(a) for a in e.atoms(sympy.Float))
    assert floats == sorted(c)


def test_unknown_operator_requires_mapping():
    with pytest.raises(ValueError, match=r"inv2.*extra_sympy_mappings"):
        codes_to_sympy([-1, 1], [], [], ["inv2"], ["x"])
    e = codes_to_sympy([-1, 1], [], [], ["inv2"], ["x"],
                       extra_sympy_mappings={"inv2": lambda a: 1 / a**2})
    assert e == x**-2
    # an unmapped operator that the formula does not use is fine
    e2 = codes_to_sympy([-2, 1], [], [], ["inv2", "sin"], ["x"])
    assert e2 == sympy.sin(x)


def test_binary_user_operator_mapping():
    e = codes_to_sympy([-1001, 1, 0], [3.0], ["+", "hyp"], [], ["x"],
                       extra_sympy_mappings={"hyp": lambda a, b: sympy.sqrt(a**2 + b**2)})
    assert float(e.subs(x, 4.0)) == pytest.approx(5.0)


@pytest.mark.parametrize("codes,consts,msg", [
    ([], [], "empty"),
    ([-1000, 1], [], "truncated"),
    ([1, 1], [], "trailing"),
    ([0], [], "constant"),
    ([1], [2.0], "constant"),
    ([-1017, 1, 1], [], "binary operator #18"),
    ([-18, 1], [], "unary operator #18"),
    ([3], [], "feature column 3"),
])
def test_malformed_encodings(codes, consts, msg):
    with pytest.raises(ValueError, match=msg):
        codes_to_sympy(codes, consts, BIN, UNA, ["x", "y"])


def test_deep_tree_no_recursion_limit():
    depth = 5000
    codes = [ucode("neg")] * depth + [1]
    e = codes_to_string(codes, [], BIN, UNA, ["x"])
    assert e.count("neg(") == depth


def test_callable_matches_numpy_reference():
    codes = [bcode("+"), bcode("*"), 0, ucode("exp"), 1, ucode("cos"), bcode("^"), 2, 0]
    consts = [1.5, 2.0]
    e = codes_to_sympy(codes, consts, BIN, UNA, ["x", "y"])
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (50, 2))
    ref = 1.5 * np.exp(X[:, 0]) + np.cos(X[:, 1] ** 2.0)
    out = sympy_to_callable(e, ["x", "y"])(X)
    assert out.shape == (50,)
    np.testing.assert_allclose(out, ref, rtol=1e-13)


def test_callable_binds_columns_by_variable_names_order():
    f = CompiledExpression(x - y, ["y", "x"])
    np.testing.assert_array_equal(f(np.array([[1.0, 10.0]])), [9.0])


def test_domain_errors_give_nan_without_warnings():
    e = sympy.log(x) + sympy.sqrt(y)
    X = np.array([[1.0, 4.0], [-1.0, 4.0], [1.0, -4.0]])
    with np.errstate(all="raise"):  # would raise if the callable leaked FP errors
        out = sympy_to_callable(e, ["x", "y"])(X)
    assert out[0] == pytest.approx(2.0)
    assert np.isnan(out[1]) and np.isnan(out[2])


def test_complex_constant_subexpression_gives_nan():
    # sympy folds sqrt(-2.0) to 1.414*I: the result is complex -> NaN
    e = codes_to_sympy([bcode("+"), 1, ucode("sqrt"), 0], [-2.0], BIN, UNA, ["x"])
    out = sympy_to_callable(e, ["x"])(np.ones((3, 1)))
    assert np.all(np.isnan(out))
    e2 = codes_to_sympy([ucode("asin"), 0], [2.0], BIN, UNA, ["x"])
    assert np.all(np.isnan(sympy_to_callable(e2, ["x"])(np.ones((2, 1)))))


def test_constant_expression_broadcasts():
    f = sympy_to_callable(sympy.Float(2.5), ["x", "y"])
    out = f(np.zeros((4, 2)))
    assert out.shape == (4,)
    np.testing.assert_array_equal(out, 2.5)


def test_callable_shape_errors():
    f = sympy_to_callable(x + y, ["x", "y"])
    with pytest.raises(ValueError, match="3 column"):
        f(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not in variable_names"):
        CompiledExpression(x + y, ["x"])


def test_compiled_expression_pickles_without_function():
    f = CompiledExpression(sympy.sin(x) * 2, ["x"])
    X = np.linspace(0, 1, 5).reshape(-1, 1)
    before = f(X)
    assert f._func is not None
    blob = pickle.dumps(f)
    g = pickle.loads(blob)
    assert g._func is None
    np.testing.assert_array_equal(g(X), before)
    assert g.expr == f.expr and g.variable_names == ["x"]


def test_to_latex_rounds_for_display_only():
    e = codes_to_sympy([bcode("*"), 0, 1], [3.14159265358979], BIN, UNA, ["gamma"])
    s = to_latex(e, precision=3)
    assert "3.14" in s and "3.1415" not in s and r"\gamma" in s
    assert "3.1416" in to_latex(e, precision=5)
    assert float(list(e.atoms(sympy.Float))[0]) == 3.14159265358979  # unchanged
    assert to_latex(x**2 / y) == r"\frac{x^{2}}{y}"
    with pytest.raises(ValueError):
        to_latex(e, precision=0)


def test_round_constants_srbench_convention():
    e = sympy.Float(1.23456, 17) * x + sympy.Float(3e-5, 17) * y + sympy.Float(-0.99996, 17)
    r = round_constants(e, decimals=3, zero_below=1e-4)
    assert y not in r.free_symbols  # tiny coefficient dropped exactly
    floats = sorted(float(a) for a in r.atoms(sympy.Float))
    assert floats == [-1.0, 1.235]
    # integer exponents are not touched
    assert round_constants(x**2 * sympy.Float(2.00049)) == sympy.Float(2.0) * x**2
