"""Dimensional reduction (Buckingham pi): y = M(x) * f(pi_1, ..., pi_k).

With units for every feature and for y, y is written as a monomial M of the
features with y's units times a function of the k dimensionless groups
(:func:`keplersr.units.buckingham_pi`); the search then only has to find f
of k variables, k = p - rank of the dimension matrix. The groups and M are
written back into the original variables with the search's operators
(integer and half-integer powers up to 4), so the result is a formula in the
user's variables.

Layer: above :mod:`keplersr.decomposition.codes` and :mod:`keplersr.units`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import List, Optional, Sequence

import numpy as np

from ..units import buckingham_pi
from .codes import Node, OperatorIndex, monomial

__all__ = ["Reduction", "reduce_dimensions"]


@dataclass
class Reduction:
    """y = M * f(groups): exponents of M and of each group over the original features."""

    output_exponents: List[Fraction]
    group_exponents: List[List[Fraction]]

    @staticmethod
    def _powers(X: np.ndarray, exps: Sequence[Fraction]) -> np.ndarray:
        out = np.ones(X.shape[0])
        with np.errstate(all="ignore"):
            for j, e in enumerate(exps):
                if e != 0:
                    out = out * np.power(X[:, j], float(e))
        return out

    def groups(self, X: np.ndarray) -> np.ndarray:
        """The dimensionless groups on rows ``X`` (n x k)."""
        return np.column_stack([self._powers(X, g) for g in self.group_exponents]) if self.group_exponents \
            else np.zeros((X.shape[0], 0))

    def scale(self, X: np.ndarray) -> np.ndarray:
        """M on rows ``X``."""
        return self._powers(X, self.output_exponents)

    def describe(self, names: Sequence[str]) -> str:
        """``"units: y = M * f(pi1, ...), pi1 = ..."`` in the features' names."""
        def mono(exps):
            parts = [n if e == 1 else f"{n}^{e}" for n, e in zip(names, exps) if e != 0]
            return "*".join(parts) or "1"
        k = len(self.group_exponents)
        head = f"units: y = {mono(self.output_exponents)} * f({', '.join(f'pi{i + 1}' for i in range(k))})"
        return head + "".join(f", pi{i + 1} = {mono(g)}" for i, g in enumerate(self.group_exponents))

    def trees(self, ops: OperatorIndex):
        """``(M, [group trees])`` over the original features (``KeyError``: an operator is missing)."""
        variables = [ops.var(j + 1) for j in range(len(self.output_exponents))]
        m = monomial(self.output_exponents, variables, ops)
        groups = [monomial(g, variables, ops) for g in self.group_exponents]
        return m, groups


def _fraction(v) -> Fraction:
    return Fraction(v).limit_denominator(1000) if isinstance(v, float) else Fraction(v)


def reduce_dimensions(x_dims: Sequence[Sequence], y_dim: Sequence) -> Optional[Reduction]:
    """The reduction for features of dimensions ``x_dims`` and target ``y_dim``, or None when y's
    dimension is no product of powers of the features' (or nothing would be reduced)."""
    import sympy

    p = len(x_dims)
    D = sympy.Matrix([[sympy.Rational(_fraction(x_dims[j][b])) for j in range(p)] for b in range(len(y_dim))])
    target = sympy.Matrix([sympy.Rational(_fraction(v)) for v in y_dim])
    try:
        sol, params = D.gauss_jordan_solve(target)
    except ValueError:
        return None       # y's units are not a product of the features' units
    sol = sol.subs({t: 0 for t in params})
    out = [Fraction(int(sympy.fraction(v)[0]), int(sympy.fraction(v)[1])) for v in sol]
    matrix = [[_fraction(x_dims[j][b]) for j in range(p)] for b in range(len(y_dim))]
    groups = [[Fraction(e) for e in g] for g in buckingham_pi(matrix)]
    if len(groups) >= p:
        return None       # every feature is dimensionless: nothing to reduce
    return Reduction(out, groups)
