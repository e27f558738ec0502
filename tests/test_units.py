"""Tests for keplersr.units: unit grammar, units.csv, dimensional consistency, Buckingham pi."""

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from keplersr.datasets.feynman import load_feynman_equations
from keplersr.units import (
    BASE_UNITS,
    DIMENSIONLESS,
    buckingham_pi,
    dimension_of_expression,
    dimensionless_groups,
    dimensions_for,
    format_dimension,
    load_feynman_units,
    parse_units,
)

from keplersr.datasets.feynman import FEYNMAN_CSV as CSV
from keplersr.datasets.feynman import FEYNMAN_UNITS as UNITS


def v(m=0, s=0, kg=0, T=0, V=0):
    return tuple(Fraction(x) for x in (m, s, kg, T, V))


FORCE = v(m=1, s=-2, kg=1)
ENERGY = v(m=2, s=-2, kg=1)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("kg*m/s^2", FORCE),
        ("kg m s^-2", FORCE),
        ("kg*m*s**-2", FORCE),
        ("N", FORCE),
        ("kg m2 s-2", ENERGY),
        ("J", ENERGY),
        ("N*m", ENERGY),
        ("kg·m²·s⁻²", ENERGY),
        ("m^2 s^-1", v(m=2, s=-1)),
        ("1/s", v(s=-1)),
        ("Hz", v(s=-1)),
        ("J/(kg K)", v(m=2, s=-2, T=-1)),
        ("J/kg K", v(m=2, s=-2, T=1)),  # '/' takes only the next factor
        ("m^(1/2)", v(m=Fraction(1, 2))),
        ("m**(-3/2)", v(m=Fraction(-3, 2))),
        ("m^0.5", v(m=Fraction(1, 2))),
        ("(m/s)^2", v(m=2, s=-2)),
        ("", DIMENSIONLESS),
        ("1", DIMENSIONLESS),
        ("dimensionless", DIMENSIONLESS),
        ("C", v(m=2, s=-2, kg=1, V=-1)),  # coulomb = J/V, as q in units.csv
        ("A", v(m=2, s=-3, kg=1, V=-1)),
        ("W", v(m=2, s=-3, kg=1)),
        ("Wb/m^2", v(m=-2, s=1, V=1)),  # tesla, as B in units.csv
    ],
)
def test_grammar(text, expected):
    assert parse_units(text) == expected


@pytest.mark.parametrize(
    "text, token",
    [
        ("kg*xyz", "'xyz'"),
        ("km", "'km'"),
        ("m^", "end"),
        ("(m", "missing"),
        ("m)", "')'"),
        ("2*m", "'2'"),
        ("m^1/2", "'2'"),
        ("m**a", "'a'"),
        ("m $", "'$'"),
    ],
)
def test_grammar_errors_name_the_token(text, token):
    with pytest.raises(ValueError, match=re.escape(token)):
        parse_units(text)


def test_format_roundtrip():
    for dim in [FORCE, ENERGY, DIMENSIONLESS, v(m=Fraction(-3, 2), V=2), v(T=-1)]:
        assert parse_units(format_dimension(dim)) == dim
    assert format_dimension(DIMENSIONLESS) == "1"


def test_units_csv_and_every_feynman_variable_has_units():
    units = load_feynman_units(UNITS)
    assert len(units) >= 100
    assert units["F"] == FORCE and units["E_n"] == ENERGY
    assert units["q"] == parse_units("C")
    assert units["B"] == parse_units("Wb/m^2")
    assert units["T"] == parse_units("K")
    equations = load_feynman_equations(CSV)
    missing = {}
    for eq in equations:
        names = eq.variable_names + [eq.output]
        lacking = [n for n in names if n not in units]
        if lacking:
            missing[eq.name] = lacking
    assert not missing, f"variables without units: {missing}"
    dims = dimensions_for(equations[0], units)
    assert list(dims.variables) == equations[0].variable_names
    x_units, y_units = dims.unit_strings()
    assert x_units == ["1"] and y_units == "1"


def test_feynman_formulas_are_dimensionally_consistent():
    """Every formula's dimension equals its output's, except one known data quirk."""
    units = load_feynman_units(UNITS)
    equations = load_feynman_equations(CSV)
    bad = []
    for eq in equations:
        d = dimensions_for(eq, units)
        try:
            ok = dimension_of_expression(eq.expr, d.variables) == d.output
        except ValueError:
            ok = False
        if not ok:
            bad.append(eq.name)
    # units.csv gives mu_drift the units of kg/s, but in I.43.16 it is a mobility.
    assert bad == ["I.43.16"]


def test_dimension_of_expression_detects_inconsistency():
    import sympy

    x, t = sympy.symbols("x t")
    dims = {"x": v(m=1), "t": v(s=1)}
    assert dimension_of_expression(x / t**2, dims) == v(m=1, s=-2)
    with pytest.raises(ValueError, match="inconsistent sum"):
        dimension_of_expression(x + t, dims)
    with pytest.raises(ValueError, match="exp"):
        dimension_of_expression(sympy.exp(x), dims)


def test_dimensions_for_reports_missing():
    class Eq:
        name, output, variable_names = "X.1", "F", ["m", "zzz"]

    with pytest.raises(ValueError, match="zzz"):
        dimensions_for(Eq, {"m": "kg", "F": "N"})


def test_buckingham_pi_pendulum():
    # period t, length L, gravity g, mass m: one group t^2 g / L
    names = ["t", "L", "g", "m"]
    dims = [parse_units(u) for u in ["s", "m", "m/s^2", "kg"]]
    matrix = np.array([[d[i] for d in dims] for i in range(len(BASE_UNITS))], dtype=object)
    basis = buckingham_pi(matrix)
    assert len(basis) == 1
    e = basis[0]
    assert all(isinstance(x, int) for x in e)
    assert e == (2, -1, 1, 0)
    # product is dimensionless
    assert all(sum(matrix[i, j] * e[j] for j in range(4)) == 0 for i in range(5))
    groups = dimensionless_groups(dict(zip(names, ["s", "m", "m/s^2", "kg"])))
    assert groups == [{"t": 2, "L": -1, "g": 1}]


def test_buckingham_pi_fractional_and_count():
    # columns: a = m^(1/2), b = m -> a^2 / b
    basis = buckingham_pi([[Fraction(1, 2), 1], [0, 0]])
    assert basis == [(2, -1)]
    # three lengths -> two groups; a force alone -> none
    assert len(buckingham_pi([[1, 1, 1]])) == 2
    assert buckingham_pi(np.array([[1], [-2], [1], [0], [0]])) == []
    with pytest.raises(ValueError, match="2-D"):
        buckingham_pi([1, 2, 3])
