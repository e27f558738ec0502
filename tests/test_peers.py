"""Tests for the peers of the comparison study: operator plans, gplearn and Operon formulas as sympy, drivers."""

import numpy as np
import pytest
import sympy

from keplersr.study import feynman_study, peers
from keplersr.study.feynman_study import run_study
from keplersr.datasets.feynman import FEYNMAN_CSV as CSV


def _never_called(equation, budget_seconds, seed):
    raise AssertionError("the operators are checked before any estimator is built")


class _Node:
    """A stand-in for a gplearn function node (only name and arity matter to the converter)."""

    def __init__(self, name, arity):
        self.name, self.arity = name, arity


def test_gplearn_to_sympy_prefix_programs():
    a, b = sympy.symbols("a b", real=True)
    add, mul, div, sqrt, log = (_Node("add", 2), _Node("mul", 2), _Node("div", 2), _Node("sqrt", 1),
                                _Node("log", 1))
    conv = peers.gplearn_to_sympy
    assert conv([add, mul, 0, 1, 0.5], [a, b]) == a * b + 0.5
    assert conv([div, sqrt, 0, log, 1], [a, b]) == sympy.sqrt(a) / sympy.log(b)
    custom = [_Node(n, 1) for n in ("exp", "square", "tanh", "asin", "acos")]
    assert conv([custom[0], custom[1], 0], [a]) == sympy.exp(a**2)
    assert conv([_Node("sub", 2), custom[2], 0, _Node("mul", 2), custom[3], 1, custom[4], 0], [a, b]) == (
        sympy.tanh(a) - sympy.asin(b) * sympy.acos(a))
    assert conv([_Node("neg", 1), _Node("inv", 1), 1], [a, b]) == -1 / b
    with pytest.raises(ValueError, match="trailing"):
        conv([0, 1], [a, b])
    with pytest.raises(ValueError, match="truncated"):
        conv([add, 0], [a])
    with pytest.raises(ValueError, match="no sympy form"):
        conv([_Node("frobnicate", 1), 0], [a])


def test_gplearn_function_set_and_constant_folding():
    pytest.importorskip("gplearn")
    fs = peers.gplearn_function_set(["+", "-", "*", "/"], peers.operator_plan("keplersr", [], [
        "sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]).given)
    names = [f if isinstance(f, str) else f.name for f in fs]
    assert names == ["add", "sub", "mul", "div", "sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]
    funcs = {f.name: f for f in fs if not isinstance(f, str)}
    assert set(funcs) == {"exp", "square", "tanh", "asin", "acos"}
    big = np.array([-1e300, -5.0, 0.0, 2.0, 1e300])
    for f in funcs.values():  # protected: finite everywhere, as gplearn's own functions are
        assert np.all(np.isfinite(f(big))), f.name
    # a constant subtree is folded with gplearn's protected function: asin(1.5) is asin(1), not complex
    a = sympy.Symbol("a", real=True)
    expr = peers.gplearn_to_sympy([funcs["asin"], 1.5], [a])
    assert expr == sympy.Float(np.pi / 2)
    from gplearn.functions import _function_map

    expr = peers.gplearn_to_sympy([_function_map["add"], 0, _function_map["log"], -2.0], [a])
    assert sympy.simplify(expr - (a + float(np.log(2.0)))) == 0


def test_gplearn_program_converts_to_what_gplearn_predicts():
    pytest.importorskip("gplearn")
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (300, 2))
    y = X[:, 0] * X[:, 1] + np.exp(X[:, 0] / 3)
    est = peers.gplearn_factory(budget_seconds=1, seed=3, threads=1, binary_operators=["+", "-", "*", "/"],
                                unary_operators=["exp", "sqrt", "log", "square", "tanh"])
    est.set_params(generations=3, population_size=300)
    est.fit(X, y)
    syms = sympy.symbols("a b", real=True)
    expr = peers.gplearn_to_sympy(est._program, syms)
    f = sympy.lambdify(syms, expr, "numpy")
    np.testing.assert_allclose(np.broadcast_to(f(X[:, 0], X[:, 1]), (300,)), est.predict(X), rtol=1e-6, atol=1e-9)


def test_parse_operon_model_strings():
    theta, lam = sympy.symbols("theta lambd", real=True)
    parse = peers.parse_operon_model
    assert parse("((-0.5) + (2.0 * (0.25 * x0)))", [theta, lam]) == sympy.Float(-0.5) + sympy.Float(0.5) * theta
    e = parse("(1.5 * ((sin(x0) ^ 2) / sqrt(1 + x1 ^ 2)))", [theta, lam])
    assert sympy.simplify(e - 1.5 * sympy.sin(theta) ** 2 / sympy.sqrt(1 + lam**2)) == 0
    assert parse("max(x0, log(abs(x1)))", [theta, lam]) == sympy.Max(theta, sympy.log(sympy.Abs(lam)))
    assert parse("(asin(x0) - acos(x1)) * tanh(exp(x0))", [theta, lam]) == (
        (sympy.asin(theta) - sympy.acos(lam)) * sympy.tanh(sympy.exp(theta)))
    # names that are sympy functions or constants in the data are placeholders here: no clash possible
    I, gamma = sympy.Symbol("I", real=True), sympy.Symbol("gamma", real=True)
    assert parse("x0 * x1", [I, gamma]) == I * gamma


def test_pyoperon_model_string_converts_to_what_pyoperon_predicts():
    pytest.importorskip("pyoperon")
    from keplersr.datasets.feynman import load_feynman_equations, sample, select

    eq = select(load_feynman_equations(), ["I.12.1"])[0]
    X, y = sample(eq, 300, seed=1)
    est = peers.pyoperon_factory(budget_seconds=1, seed=1, threads=1, binary_operators=["+", "-", "*", "/"],
                                 unary_operators=["sin", "exp"])
    out = peers.run_method("pyoperon", est, X, y, 1, eq.symbols)
    assert out.selected is not None and out.front and all(f[1] is not None for f in out.front)
    assert out.selected.free_symbols <= set(eq.symbols.values())
    from keplersr.study.judging import predict_formula

    pred = predict_formula(out.selected, X)
    np.testing.assert_allclose(pred, out.predict(X), rtol=1e-4, atol=1e-4 * float(np.abs(y).max()))
    assert out.n_candidates >= est.population_size and out.candidates_source


def test_operator_plans():
    unary = feynman_study.DEFAULT_UNARY_OPERATORS
    assert unary == ["sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]
    binary = feynman_study.DEFAULT_BINARY_OPERATORS
    op = peers.operator_plan("pyoperon", binary, unary)
    assert op.given == ["add", "sub", "mul", "div"] + unary and not op.missing
    assert peers.pyoperon_symbols(binary, ["sin"]) == "add,sub,mul,div,sin,constant,variable"
    gp = peers.operator_plan("gplearn", binary, unary)
    assert gp.custom == ["exp", "square", "tanh", "asin", "acos"] and not gp.missing
    assert gp.describe().startswith("add sub mul div sin cos exp* log sqrt square*")
    op2 = peers.operator_plan("pyoperon", binary + ["^"], ["neg", "inv", "cube", "atan"])
    assert op2.missing == ["neg", "inv", "cube"] and op2.given[-2:] == ["pow", "atan"]
    assert "(missing: neg inv cube)" in op2.describe()
    assert peers.operator_plan("keplersr", binary, unary).describe() == " ".join(binary + unary)
    with pytest.raises(ValueError, match="unknown operator"):
        run_study(CSV, "/nonexistent", names=["I.12.1"], unary_operators=["sinc"],
                  estimator_factory=_never_called)
