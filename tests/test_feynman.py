"""Tests for keplersr.datasets.feynman on the real AI-Feynman table (the copy shipped with the package)."""

from pathlib import Path

import numpy as np
import pytest
import sympy

from keplersr.datasets.feynman import (
    load_feynman_equations,
    parse_formula,
    sample,
    select,
    variable_count_discrepancies,
)

from keplersr.datasets.feynman import FEYNMAN_CSV as CSV
from keplersr.datasets.feynman import FEYNMAN_UNITS as UNITS


@pytest.fixture(scope="module")
def equations():
    return load_feynman_equations(CSV)


def test_all_100_equations_load_and_parse(equations):
    assert len(equations) == 100
    assert len({e.name for e in equations}) == 100
    for e in equations:
        free = {s.name for s in e.expr.free_symbols}
        assert free <= set(e.variable_names), e.name
        # every free symbol is exactly the declared Symbol object
        assert all(s is e.symbols[s.name] or s == e.symbols[s.name] for s in e.expr.free_symbols)
        assert all(lo <= hi for _, lo, hi in e.variables)


def test_shipped_copies_are_the_defaults(equations):
    from keplersr.units import load_feynman_units

    assert CSV.is_file() and UNITS.is_file()
    assert [e.name for e in load_feynman_equations()] == [e.name for e in equations]
    assert load_feynman_units() == load_feynman_units(UNITS)


def test_first_row_handles_bom_and_values(equations):
    e = equations[0]
    assert e.name == "I.6.2a"  # not "\ufeffI.6.2a"-related column failure
    assert e.number == 1 and e.output == "f"
    theta = e.symbols["theta"]
    assert sympy.simplify(e.expr - sympy.exp(-theta**2 / 2) / sympy.sqrt(2 * sympy.pi)) == 0


def test_clashing_names_are_symbols(equations):
    by = {e.name: e for e in equations}
    gamma = by["I.39.11"].symbols["gamma"]
    assert isinstance(gamma, sympy.Symbol)
    assert gamma in by["I.39.11"].expr.free_symbols
    assert not by["I.39.11"].expr.has(sympy.gamma)
    assert isinstance(by["II.13.17"].symbols["I"], sympy.Symbol)  # not the imaginary unit
    assert by["II.13.17"].expr.free_symbols >= {by["II.13.17"].symbols["I"]}
    assert by["III.17.37"].symbols["beta"] in by["III.17.37"].expr.free_symbols
    assert by["I.12.1"].symbols["Nn"] in by["I.12.1"].expr.free_symbols
    assert by["III.8.54"].symbols["E_n"] in by["III.8.54"].expr.free_symbols
    # functions are sympy functions, pi the constant
    assert by["I.26.2"].expr.has(sympy.asin)
    assert by["I.44.4"].expr.has(sympy.log)
    assert by["II.35.21"].expr.has(sympy.tanh)
    assert by["II.3.24"].expr.has(sympy.pi)


def test_half_is_exact_rational(equations):
    e = select(equations, ["I.13.4"])[0]
    assert sympy.Rational(1, 2) in e.expr.atoms(sympy.Rational)
    assert not e.expr.atoms(sympy.Float)


def test_variable_count_quirks_recorded(equations):
    disc = dict((n, (d, k)) for n, d, k in variable_count_discrepancies(equations))
    assert disc["I.18.12"] == (2, 3)
    assert disc["I.18.14"] == (3, 4)
    assert disc["II.37.1"] == (6, 3)
    e = select(equations, ["I.18.12"])[0]
    assert e.variable_names == ["r", "F", "theta"] and e.has_count_mismatch
    assert len(disc) == 6, sorted(disc)


def test_select_by_name_and_number(equations):
    chosen = select(equations, ["I.12.1", 9, "10"])
    assert [e.name for e in chosen] == ["I.12.1", "I.13.4", "I.12.2"]  # Number is not row order
    with pytest.raises(ValueError, match="I.99.9"):
        select(equations, ["I.99.9"])


def test_parse_formula_rejects_undeclared_names():
    with pytest.raises(ValueError, match="'y'"):
        parse_formula("x*y", ["x"])
    expr, syms = parse_formula("lambda*2", ["lambda"])  # keyword as variable name
    assert expr == 2 * syms["lambda"]


def test_sampling_in_ranges_and_reproducible(equations):
    for e in equations:
        X, y = sample(e, 200, seed=3)
        assert list(X.columns) == e.variable_names
        assert y.shape == (200,) and np.all(np.isfinite(y))
        for name, lo, hi in e.variables:
            assert X[name].min() >= lo and X[name].max() <= hi
    e = select(equations, ["I.9.18"])[0]
    X1, y1 = sample(e, 50, seed=7)
    X2, y2 = sample(e, 50, seed=7)
    X3, _ = sample(e, 50, seed=8)
    assert X1.equals(X2) and np.array_equal(y1, y2)
    assert not X1.equals(X3)
    # y is the formula evaluated on X
    f = sympy.lambdify([e.symbols[n] for n in e.variable_names], e.expr)
    assert np.allclose(y1, f(*[X1[n].to_numpy() for n in e.variable_names]))


def test_noise_level(equations):
    e = select(equations, ["I.12.1"])[0]
    X, clean = sample(e, 20000, seed=1)
    _, noisy = sample(e, 20000, seed=1, noise=0.1)
    rms = np.sqrt(np.mean(clean**2))
    resid = noisy - clean
    assert abs(np.std(resid) / rms - 0.1) < 0.005
    assert abs(np.mean(resid)) < 0.005 * rms
    with pytest.raises(ValueError, match="noise"):
        sample(e, 10, seed=0, noise=-1)
