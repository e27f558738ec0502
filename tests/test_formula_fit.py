"""fit_formula (keplersr.formula_fit) and measurement errors (y_err) in fit_formula and SymbolicRegressor.fit.

The fits are checked against scipy.optimize.curve_fit: values, standard
errors and covariance, in the relative (weights / none) and the absolute
(y_err) convention; chi2_dof of the true formula on data with known Gaussian
errors is close to 1. The error cases run without Julia.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from keplersr import SymbolicRegressor, fit_formula


def _quadratic(rng, n=400, sigma=0.1):
    x = rng.uniform(-2, 2, n)
    y = 1.5 * x**2 - 0.7 + rng.normal(0, sigma, n)
    return x, y


def test_fit_formula_agrees_with_curve_fit(julia_worker):
    x, y = _quadratic(np.random.default_rng(0))
    r = fit_formula("a*x**2 + b", x, y)
    popt, pcov = curve_fit(lambda x, a, b: a * x**2 + b, x, y)
    assert r.params["a"] == pytest.approx(1.5, abs=0.05) and r.params["b"] == pytest.approx(-0.7, abs=0.05)
    assert [r.params["a"], r.params["b"]] == pytest.approx(list(popt), rel=1e-6)
    assert [r.errors["a"], r.errors["b"]] == pytest.approx(list(np.sqrt(np.diag(pcov))), rel=0.03)
    assert list(r.covariance.index) == ["a", "b"] and list(r.covariance.columns) == ["a", "b"]
    np.testing.assert_allclose(r.covariance.to_numpy(), pcov, rtol=0.03)
    assert r.chi2 is None and r.chi2_dof is None
    assert r.loss == pytest.approx(np.mean((popt[0] * x**2 + popt[1] - y) ** 2), rel=1e-6)
    np.testing.assert_allclose(r.predict(x[:5]), popt[0] * x[:5] ** 2 + popt[1], rtol=1e-9)
    assert float(r.sympy().subs("x", 2.0)) == pytest.approx(4 * popt[0] + popt[1])


def test_fit_formula_dataframe_fixed_numbers_and_weights(julia_worker):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"t": rng.uniform(0, 3, 300), "u": rng.uniform(1, 2, 300)})
    y = 2.0 * np.exp(-df.t / 1.3) + 0.5 * df.u + rng.normal(0, 0.02, 300)
    w = rng.uniform(0.5, 2, 300)
    # 0.5 is a fixed number, not a parameter; p0 starts tau near its value
    r = fit_formula("A*exp(-t/tau) + 0.5*u", df, y, weights=w, p0={"tau": 1.0})
    popt, pcov = curve_fit(lambda X, A, tau: A * np.exp(-X[0] / tau) + 0.5 * X[1], (df.t, df.u), y,
                           p0=[1, 1], sigma=1 / np.sqrt(w))
    assert [r.params["A"], r.params["tau"]] == pytest.approx(list(popt), rel=1e-5)
    assert [r.errors["A"], r.errors["tau"]] == pytest.approx(list(np.sqrt(np.diag(pcov))), rel=0.03)
    A, tau = r.params["A"], r.params["tau"]
    np.testing.assert_allclose(r.predict(df.iloc[:4]), A * np.exp(-df.t[:4] / tau) + 0.5 * df.u[:4], rtol=1e-9)


def test_fit_formula_y_err_absolute_sigma_and_chi2(julia_worker):
    rng = np.random.default_rng(2)
    n = 10_000
    x = rng.uniform(-2, 2, n)
    sig = rng.uniform(0.05, 0.3, n)
    y = 1.5 * x**2 - 0.7 + rng.normal(0, 1, n) * sig
    r = fit_formula("a*x**2 + b", x, y, y_err=sig)
    popt, pcov = curve_fit(lambda x, a, b: a * x**2 + b, x, y, sigma=sig, absolute_sigma=True)
    assert [r.params["a"], r.params["b"]] == pytest.approx(list(popt), rel=1e-6)
    np.testing.assert_allclose(r.covariance.to_numpy(), pcov, rtol=0.03)
    assert 0.9 <= r.chi2_dof <= 1.1
    assert r.chi2 == pytest.approx(np.sum(((popt[0] * x**2 + popt[1] - y) / sig) ** 2), rel=1e-6)
    # with errors twice as large the (absolute) standard errors double; relative ones would not change
    r2 = fit_formula("a*x**2 + b", x, y, y_err=2 * sig)
    assert r2.errors["a"] == pytest.approx(2 * r.errors["a"], rel=1e-3)
    assert r2.chi2_dof == pytest.approx(r.chi2_dof / 4, rel=1e-3)


def test_search_with_y_err_chi2_dof(julia_worker, fast):
    rng = np.random.default_rng(3)
    n = 10_000
    X = rng.uniform(-1, 1, (n, 1))
    sig = rng.uniform(0.05, 0.2, n)
    y = 2 * X[:, 0] + 1 + rng.normal(0, 1, n) * sig
    model = SymbolicRegressor(binary_operators=["+", "*"], niterations=3, random_state=0, **fast)
    model.fit(X, y, y_err=sig)
    eq = model.equations_
    assert "chi2_dof" in eq.columns
    true = eq[eq["constants"].apply(len) == 2]
    true = true[true["loss"] == true["loss"].min()]
    assert len(true) == 1
    row = true.iloc[0]
    assert sorted(row["constants"]) == pytest.approx([1.0, 2.0], abs=0.01)
    assert 0.9 <= row["chi2_dof"] <= 1.1
    # standard errors: curve_fit's absolute_sigma=True
    _, pcov = curve_fit(lambda x, a, b: a * x + b, X[:, 0], y, sigma=sig, absolute_sigma=True)
    assert sorted(row["constants_stderr"]) == pytest.approx(sorted(np.sqrt(np.diag(pcov))), rel=0.03)


# ---------------------------------------------------------------- errors, no Julia

X1 = np.linspace(0, 1, 20)
Y1 = 2 * X1


@pytest.mark.parametrize("formula, match", [
    ("a*x +", "cannot parse"),
    ("a*gamma_fn(x)", "no operator"),
    ("2*x + 1", "no free parameter"),
    ("a*x + a", "more than once"),
    ("", "non-empty"),
])
def test_fit_formula_formula_errors(formula, match):
    with pytest.raises(ValueError, match=match):
        fit_formula(formula, X1, Y1)


def test_fit_formula_data_errors():
    with pytest.raises(ValueError, match="shape"):
        fit_formula("a*x", X1, Y1[:-1])
    with pytest.raises(ValueError, match="y_err"):
        fit_formula("a*x", X1, Y1, y_err=np.zeros(20))
    with pytest.raises(ValueError, match="y_err"):
        fit_formula("a*x", X1, Y1, y_err=np.ones(5))
    with pytest.raises(ValueError, match="not both"):
        fit_formula("a*x", X1, Y1, y_err=1.0, weights=np.ones(20))
    with pytest.raises(ValueError, match="L2"):
        fit_formula("a*x", X1, Y1, y_err=1.0, elementwise_loss="L1")
    with pytest.raises(ValueError, match="neither columns"):
        fit_formula("a*x + c", X1, Y1, params=["a"])
    with pytest.raises(ValueError, match="p0"):
        fit_formula("a*x", X1, Y1, p0={"b": 1.0})
    with pytest.raises(ValueError, match="unknown options"):
        fit_formula("a*x", X1, Y1, no_such_option=3)


def test_search_y_err_errors():
    X = np.linspace(0, 1, 20)[:, None]
    model = SymbolicRegressor()
    with pytest.raises(ValueError, match="not both"):
        model.fit(X, Y1, weights=np.ones(20), y_err=np.ones(20))
    with pytest.raises(ValueError, match="finite and > 0"):
        model.fit(X, Y1, y_err=np.r_[np.ones(19), np.nan])
    with pytest.raises(ValueError, match="L2"):
        SymbolicRegressor(elementwise_loss="Huber").fit(X, Y1, y_err=1.0)
