"""Dimensional analysis with unit vectors: the AI-Feynman units table, the
dimensions of an equation's variables, the dimension of a sympy formula, and
Buckingham-Pi dimensionless groups.

Layer: above :mod:`keplersr.units.parsing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np

from .parsing import (BASE_UNITS, DIMENSIONLESS, Dimension, as_dimension, format_dimension, mul_dims,
                      parse_units, pow_dim)

__all__ = ["EquationDimensions", "buckingham_pi", "dimension_of_expression", "dimensionless_groups",
           "dimensions_for", "load_feynman_units"]


def load_feynman_units(path=None) -> Dict[str, Dimension]:
    """Read an AI-Feynman ``units.csv`` (``Variable,Units,m,s,kg,T,V``) -> ``{name: dimension}``.

    ``path=None`` reads the copy shipped with the package
    (``keplersr.datasets.feynman.FEYNMAN_UNITS``).

    The ``Units`` column is a description ("Area", "Force") and is not parsed;
    the exponents come from the five base columns. Handles the UTF-8 BOM and the
    trailing empty column of the real file.
    """
    import pandas as pd

    if path is None:
        from ..datasets.feynman import FEYNMAN_UNITS
        path = FEYNMAN_UNITS
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("Variable", *BASE_UNITS) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    units: Dict[str, Dimension] = {}
    for row_index, row in frame.iterrows():
        name = str(row["Variable"]).strip()
        if not name:
            continue
        try:
            dim = tuple(Fraction(str(row[b]).strip()) for b in BASE_UNITS)
        except ValueError as exc:
            raise ValueError(f"{path} row {row_index + 2} ({name}): bad exponent: {exc}") from exc
        if name in units and units[name] != dim:
            raise ValueError(f"{path}: variable {name!r} is listed twice with different units")
        units[name] = dim
    return units


@dataclass
class EquationDimensions:
    """Dimensions of an equation's inputs (in variable order) and output."""

    variables: Dict[str, Dimension]
    output: Dimension

    @property
    def matrix(self) -> np.ndarray:
        """Dimension matrix, rows = base units, columns = input variables (object dtype of Fractions)."""
        cols = list(self.variables.values())
        return np.array(cols, dtype=object).T if cols else np.zeros((len(BASE_UNITS), 0), dtype=object)

    def unit_strings(self) -> Tuple[List[str], str]:
        """``(X_units, y_units)`` as unit strings in :func:`parse_units` syntax."""
        return [format_dimension(d) for d in self.variables.values()], format_dimension(self.output)


def dimensions_for(eq, units: Mapping[str, Sequence]) -> EquationDimensions:
    """Dimensions of a :class:`~keplersr.datasets.feynman.FeynmanEquation`'s variables and output.

    ``units`` maps names to dimension vectors (e.g. from :func:`load_feynman_units`)
    or to unit strings. Raises ``ValueError`` listing every name without units.
    """
    names = list(eq.variable_names) + [eq.output]
    missing = [n for n in names if n not in units]
    if missing:
        raise ValueError(f"{eq.name}: no units for {sorted(set(missing))}")

    def conv(v):
        return parse_units(v) if isinstance(v, str) else as_dimension(v)

    variables = {n: conv(units[n]) for n in eq.variable_names}
    return EquationDimensions(variables=variables, output=conv(units[eq.output]))


def dimension_of_expression(expr, dims: Mapping[str, Sequence]) -> Dimension:
    """Dimension of a sympy expression whose symbols are named as in ``dims``.

    Raises ``ValueError`` when the expression is dimensionally inconsistent: a
    sum of terms with different dimensions, a transcendental function (exp, sin,
    log, ...) of a dimensioned argument, or a dimensioned base raised to a
    non-numeric power. Numbers are dimensionless.
    """
    import sympy

    def walk(e) -> Dimension:
        if e.is_Symbol:
            if e.name not in dims:
                raise ValueError(f"no dimension known for symbol {e.name!r}")
            return as_dimension(dims[e.name])
        if e.is_Number or e.is_NumberSymbol or e in (sympy.pi, sympy.E, sympy.I):
            return DIMENSIONLESS
        if e.is_Add:
            terms = [walk(a) for a in e.args]
            # Pure numbers in a sum only need to be dimensionless themselves.
            first = terms[0]
            for a, d in zip(e.args[1:], terms[1:]):
                if d != first:
                    raise ValueError(
                        f"inconsistent sum {e}: term {a} has dimension {format_dimension(d)}, "
                        f"expected {format_dimension(first)}"
                    )
            return first
        if e.is_Mul:
            out = DIMENSIONLESS
            for a in e.args:
                out = mul_dims(out, walk(a))
            return out
        if e.is_Pow:
            base, ex = e.args
            bd = walk(base)
            if bd == DIMENSIONLESS:
                if walk(ex) != DIMENSIONLESS:
                    raise ValueError(f"dimensioned exponent in {e}")
                return DIMENSIONLESS
            if not ex.is_Rational:
                raise ValueError(f"dimensioned base {base} raised to non-rational power {ex} in {e}")
            return pow_dim(bd, Fraction(int(ex.p), int(ex.q)))
        if isinstance(e, sympy.Abs):
            return walk(e.args[0])
        if isinstance(e, sympy.Function):
            for a in e.args:
                d = walk(a)
                if d != DIMENSIONLESS:
                    raise ValueError(f"argument {a} of {e.func.__name__} has dimension {format_dimension(d)}")
            return DIMENSIONLESS
        raise ValueError(f"cannot determine the dimension of {e} ({type(e).__name__})")

    return walk(sympy.sympify(expr))


def buckingham_pi(dim_matrix) -> List[Tuple[int, ...]]:
    """Integer basis of the null space of a dimension matrix (Buckingham pi theorem).

    ``dim_matrix`` has one row per base dimension and one column per variable
    (entries: ints, Fractions or floats that are small rationals). Each returned
    vector ``e`` of integer exponents satisfies ``dim_matrix @ e == 0``, i.e.
    ``prod_j x_j ** e_j`` is dimensionless. Vectors are scaled to coprime
    integers with the first non-zero entry positive. There are
    ``n_variables - rank`` of them (an empty list if no dimensionless group exists).
    """
    import sympy

    arr = np.asarray(dim_matrix, dtype=object)
    if arr.ndim != 2:
        raise ValueError(f"dim_matrix must be 2-D (base dimensions x variables), got shape {arr.shape}")
    rows = [list(r) for r in arr]

    def rat(v):
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError(f"non-finite entry {v} in dim_matrix")
            v = Fraction(v).limit_denominator(10**6)
        f = Fraction(v)
        return sympy.Rational(f.numerator, f.denominator)

    M = sympy.Matrix([[rat(v) for v in r] for r in rows])
    basis = []
    for vec in M.nullspace():
        dens = [sympy.fraction(x)[1] for x in vec]
        lcm = sympy.ilcm(*dens) if len(dens) > 1 else dens[0]
        ints = [int(x * lcm) for x in vec]
        g = 0
        for v in ints:
            g = math.gcd(g, abs(v))
        ints = [v // g for v in ints] if g else ints
        first = next((v for v in ints if v != 0), 1)
        if first < 0:
            ints = [-v for v in ints]
        basis.append(tuple(ints))
    return basis


def dimensionless_groups(dims: Mapping[str, Sequence]) -> List[Dict[str, int]]:
    """Dimensionless products of the given quantities: ``[{name: exponent}, ...]``.

    ``dims`` maps names to dimension vectors (or unit strings). A thin wrapper
    around :func:`buckingham_pi` that names the exponents and drops zeros.
    """
    names = list(dims)
    cols = [parse_units(dims[n]) if isinstance(dims[n], str) else as_dimension(dims[n]) for n in names]
    if not cols:
        return []
    matrix = [[c[i] for c in cols] for i in range(len(BASE_UNITS))]
    return [{n: e for n, e in zip(names, vec) if e != 0} for vec in buckingham_pi(matrix)]
