"""Exact constants: a fitted 0.15915494 shown as 1/(2*pi) when the data cannot tell them apart.

After the search, each constant ``c`` of a formula (with its standard error
``s`` from the engine) is compared with simple exact values: integers and
fractions p/q (q <= 12), each times 1, pi, 1/pi, pi^2, 1/pi^2, sqrt(pi),
1/sqrt(pi), sqrt(2 pi), 1/sqrt(2 pi), sqrt(2), sqrt(3) or e. The simplest
value within ``WINDOW`` standard errors (and within rounding, ``ROUNDING``
relative, when the fit is exact to rounding) is its candidate, if it takes
clearly fewer bits to write than the constant's precision carries (see
:func:`exact_candidate`); 0 is a candidate too (the term then drops out).

**The decision** (L2 loss only; the other losses keep the fitted constants):
the constants that have a candidate are snapped together, the others keep
their fitted values, and the snapped formula is kept if its weighted sum of
squared residuals ``RSS_s`` is statistically equivalent to the fitted
formula's ``RSS_0``: the F statistic ``((RSS_s - RSS_0) / q) / (RSS_0 / (n -
p))`` (q snapped of p constants, n rows) is below the 99.9% quantile of
F(q, n - p). ``RSS_0`` is never taken below ``n (ROUNDING * RMS(y))^2``, so
rounding-level differences of an exact fit count as none. If snapping all of
them fails, they are snapped one at a time, closest (in standard errors)
first, as long as the test passes.

Layer: above :mod:`keplersr.expressions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

import numpy as np
import sympy

from .expressions import CompiledExpression, codes_to_sympy

__all__ = ["ConstantSnapper", "exact_candidate", "WINDOW", "LEVEL", "ROUNDING"]

#: A constant may snap to an exact value at most this many standard errors away.
WINDOW = 4.0
#: Significance level of the F-test that keeps a snapped formula.
LEVEL = 0.001
#: Relative rounding: values this close count as equal whatever the standard error says.
ROUNDING = 1e-12
#: Denominators of the fractions tried, and the largest numerator.
DENOMINATORS = tuple(range(1, 13))
MAX_NUMERATOR = 100

_PI = sympy.pi
#: Exact factors of the candidates with their description cost in bits (1: none; pi, 1/pi: 2; others: 3).
_FACTORS: Tuple[Tuple[sympy.Expr, float], ...] = (
    (sympy.Integer(1), 0.0), (_PI, 2.0), (1 / _PI, 2.0), (_PI**2, 3.0), (1 / _PI**2, 3.0),
    (sympy.sqrt(_PI), 3.0), (1 / sympy.sqrt(_PI), 3.0), (sympy.sqrt(2 * _PI), 3.0), (1 / sympy.sqrt(2 * _PI), 3.0),
    (sympy.sqrt(2), 3.0), (sympy.sqrt(3), 3.0), (sympy.E, 3.0),
)
#: A candidate is taken only if it needs this many bits fewer than the constant's precision carries.
MARGIN_BITS = 4.0


@lru_cache(maxsize=None)
def _factor_values() -> Tuple[Tuple[float, sympy.Expr, float], ...]:
    return tuple((float(f), f, cost) for f, cost in _FACTORS)


def exact_candidate(value: float, stderr: float) -> Optional[sympy.Expr]:
    """The simplest exact value within ``WINDOW * stderr`` (or rounding) of ``value``, or None.

    0 if it is within the window. Otherwise ``p/q * factor``, of the fewest
    bits (log2|p| + log2 q + the factor's cost); it is taken only if those
    bits are at least ``MARGIN_BITS`` fewer than the precision of the
    constant, log2(|value| / window): a noisy constant snaps to 2 or 1/8,
    never to 61/(5*pi**2). ``stderr`` may be NaN or 0 (rounding only).
    """
    if not np.isfinite(value):
        return None
    tol = ROUNDING * abs(value)
    if np.isfinite(stderr) and stderr > 0:
        tol = max(tol, WINDOW * stderr)
    if abs(value) <= tol:
        return sympy.Integer(0)
    budget = np.log2(abs(value) / tol) - MARGIN_BITS
    best = None
    for fval, fexpr, fbits in _factor_values():
        r = value / fval
        for q in DENOMINATORS:
            p = round(r * q)
            if p == 0 or abs(p) > MAX_NUMERATOR * q or np.gcd(abs(p), q) != 1:
                continue                        # p/q not in lowest terms: tried at a smaller q
            if abs(p / q * fval - value) <= tol:
                bits = np.log2(abs(p)) + np.log2(q) + fbits
                if bits <= budget and (best is None or bits < best[0]):
                    best = (bits, sympy.Rational(p, q) * fexpr)
                break                           # larger q only costs more with this factor
    return None if best is None else best[1]


@dataclass
class Snapped:
    """A formula with exact constants: the expression, and per constant its exact value or None."""

    expr: sympy.Expr
    values: List[Optional[sympy.Expr]]

    @property
    def count(self) -> int:
        return sum(v is not None for v in self.values)


class ConstantSnapper:
    """Snaps the constants of one front's formulas on the fit's data (see the module docstring)."""

    def __init__(self, X, y, weights, variable_names: Sequence[str], binary_operators, unary_operators,
                 extra_sympy_mappings=None):
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y, dtype=float).reshape(-1)
        self.w = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
        self.names = [str(v) for v in variable_names]
        self.ops = (list(binary_operators), list(unary_operators), extra_sympy_mappings)
        n = len(self.y)
        scale = float(np.sqrt(self._mean(self.y * self.y))) or 1.0
        self.floor = n * (ROUNDING * scale) ** 2

    def _mean(self, v):
        return float(np.mean(v)) if self.w is None else float(np.sum(self.w * v) / np.sum(self.w))

    def _rss(self, expr) -> float:
        if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):    # e.g. a 0 snapped into a denominator
            return np.inf
        try:
            with np.errstate(all="ignore"):
                r = CompiledExpression(expr, self.names)(self.X) - self.y
                v = self._mean(r * r) * len(self.y)
        except Exception:   # noqa: BLE001 - not evaluable: not equivalent
            return np.inf
        return v if np.isfinite(v) else np.inf

    def _build(self, codes, constants, values) -> sympy.Expr:
        b, u, extra = self.ops
        return codes_to_sympy(codes, constants, b, u, self.names, extra_sympy_mappings=extra,
                              constant_values=values)

    def _equivalent(self, rss0: float, rss: float, q: int, p: int) -> bool:
        from scipy.stats import f as f_dist

        n = len(self.y)
        if not np.isfinite(rss) or n - p < 1:
            return False
        stat = max(rss - rss0, 0.0) / q / (max(rss0, self.floor) / (n - p))
        return bool(stat <= f_dist.ppf(1.0 - LEVEL, q, n - p))

    def __call__(self, codes: Sequence[int], constants: Sequence[float],
                 stderr: Sequence[float]) -> Optional[Snapped]:
        """The formula with exact constants, or None when no constant snaps (or the test rejects all)."""
        constants = [float(c) for c in constants]
        p = len(constants)
        if p == 0:
            return None
        errs = [float(s) for s in stderr] if len(stderr) == p else [np.nan] * p
        cands = [exact_candidate(c, s) for c, s in zip(constants, errs)]
        which = [i for i, v in enumerate(cands) if v is not None]
        if not which:
            return None
        rss0 = self._rss(self._build(codes, constants, None))
        if not np.isfinite(rss0):
            return None

        def attempt(chosen):
            values = [cands[i] if i in chosen else None for i in range(p)]
            expr = self._build(codes, constants, values)
            return Snapped(expr, values) if self._equivalent(rss0, self._rss(expr), len(chosen), p) else None

        found = attempt(set(which))
        if found is not None or len(which) == 1:
            return found

        def distance(i):
            s = errs[i] if np.isfinite(errs[i]) and errs[i] > 0 else ROUNDING * max(abs(constants[i]), 1e-300)
            return abs(constants[i] - float(cands[i])) / s

        chosen: set = set()
        best = None
        for i in sorted(which, key=distance):
            trial = attempt(chosen | {i})
            if trial is not None:
                chosen.add(i)
                best = trial
        return best
