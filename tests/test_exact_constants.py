"""Exact constants (keplersr/exact_constants.py): candidates, the F-test, and snapping inside fit."""

import numpy as np
import pytest
import sympy

from keplersr.exact_constants import ConstantSnapper, exact_candidate

BIN = ["+", "-", "*", "/"]
PLUS, TIMES = -1000, -1002
x = sympy.Symbol("x", real=True)


@pytest.mark.parametrize("value, stderr, expected", [
    (0.15915494309189535, 1e-17, 1 / (2 * sympy.pi)),
    (6.2831853071795862, 0.0, 2 * sympy.pi),             # no standard error: rounding only
    (0.99999999999999978, float("nan"), sympy.Integer(1)),
    (2.0013, 0.002, sympy.Integer(2)),                      # a noisy 2
    (0.125010759, 1e-4, sympy.Rational(1, 8)),
    (0.0026, 0.001, sympy.Integer(0)),                      # within 4 standard errors of 0
    (0.3989422804014327, 1e-12, 1 / sympy.sqrt(2 * sympy.pi)),
    (4.18879020478639, 1e-9, 4 * sympy.pi / 3),
])
def test_exact_candidates(value, stderr, expected):
    assert sympy.simplify(exact_candidate(value, stderr) - expected) == 0


@pytest.mark.parametrize("value, stderr", [
    (1.2345678, 1e-3),      # 61/(5 pi^2) is within the window but needs more bits than the data carry
    (0.7390851, 1e-4),
    (2.5, 0.01),
    (float("inf"), 1.0),
])
def test_no_candidate_for_an_ordinary_constant(value, stderr):
    assert exact_candidate(value, stderr) is None


def _line_fit(X, y):
    """Least-squares a, b of y = a x + b, with standard errors."""
    A = np.column_stack([X[:, 0], np.ones(len(y))])
    coef, rss, *_ = np.linalg.lstsq(A, y, rcond=None)
    cov = np.linalg.inv(A.T @ A) * float(rss[0]) / (len(y) - 2)
    return coef, np.sqrt(np.diag(cov))


def test_noisy_constants_snap_when_the_data_cannot_tell():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 5, (10000, 1))
    y = 2 * X[:, 0] + 3 + 0.01 * rng.standard_normal(10000)
    coef, err = _line_fit(X, y)
    snap = ConstantSnapper(X, y, None, ["x"], BIN, [])
    out = snap([PLUS, TIMES, 0, 1, 0], list(coef), list(err))          # a*x + b
    assert out is not None and out.count == 2
    assert out.expr == 2 * x + 3


def test_the_f_test_rejects_a_snap_the_data_contradict():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 5, (10000, 1))
    y = 2.01 * X[:, 0] + 1e-4 * rng.standard_normal(10000)
    snap = ConstantSnapper(X, y, None, ["x"], BIN, [])
    # a (wrongly) large standard error puts 2 within the window: the loss test still says no
    assert exact_candidate(2.01, 0.01) == 2
    assert snap([TIMES, 0, 1], [2.01], [0.01]) is None


def test_constants_snap_one_at_a_time_when_all_together_fail():
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 5, (10000, 1))
    y = 2 * X[:, 0] + 3.02 + 1e-3 * rng.standard_normal(10000)
    snap = ConstantSnapper(X, y, None, ["x"], BIN, [])
    # the claimed error of b is too large (3 looks possible); a = 2 is right, b = 3 is not
    out = snap([PLUS, TIMES, 0, 1, 0], [2.0000001, 3.02], [1e-5, 0.01])
    assert out is not None and out.count == 1 and out.values[1] is None
    assert float(out.expr.subs(x, 0)) == pytest.approx(3.02)


@pytest.mark.julia
def test_fit_shows_h_omega_over_two_pi_exactly(julia_worker, fast):
    from keplersr import SymbolicRegressor

    rng = np.random.default_rng(4)
    X = rng.uniform(1, 5, (1000, 2))
    y = X[:, 0] * X[:, 1] / (2 * np.pi)
    model = SymbolicRegressor(**dict(fast, niterations=4, random_state=0, deterministic=True,
                                     binary_operators=BIN))
    model.fit(X, y, variable_names=["h", "omega"])
    h, omega = sympy.symbols("h omega", real=True)
    assert sympy.simplify(model.sympy() - h * omega / (2 * sympy.pi)) == 0
    assert model.get_best()["constants"] != []                  # the fitted value is kept beside it
    again = SymbolicRegressor.from_file(model.run_dir_)           # stored with the run: a reload shows it
    assert sympy.simplify(again.sympy() - h * omega / (2 * sympy.pi)) == 0
    off = SymbolicRegressor(**dict(fast, niterations=4, random_state=0, deterministic=True,
                                   binary_operators=BIN, snap_constants=False))
    off.fit(X, y, variable_names=["h", "omega"])
    assert off.sympy().atoms(sympy.Float)


def test_a_zero_snapped_into_a_denominator_is_refused():
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 5, (500, 1))
    y = X[:, 0] / (X[:, 0] + 0.001)
    snap = ConstantSnapper(X, y, None, ["x"], BIN, [])
    # x / (x*0.0 + 0.001): the 0 candidate of the first constant makes a division by zero
    out = snap([-1003, 1, PLUS, TIMES, 1, 0, 0], [0.0, 0.001], [0.1, 1.0])
    assert out is None or not out.expr.has(sympy.zoo)
