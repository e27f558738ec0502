"""Sparse exponential fits of a leaf: y = C * prod x_j^a_j * exp(L(x)), L a sparse Laurent polynomial.

Gaussians exp(-(t/s)^2/2)/(sqrt(2 pi) s), Boltzmann and Arrhenius factors
exp(-E/kT) times a power law: ``log|y| = log|C| + sum a_j log x_j + L(x)``
is linear in log C, the powers a_j and L's coefficients, so the sparse
least-squares elimination of :mod:`.rational` applies to the target log|y|
with the columns log x_j beside L's Laurent monomials. A fit counts only
when the powers come out as integers or halves (written with ``*``, ``/``
and ``sqrt``) and it describes y itself closely.

Layer: above :mod:`keplersr.decomposition.rational`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .codes import Node, OperatorIndex, monomial
from .rational import (EXACT_ERROR, KEEP_ERROR, MAX_LAURENT_COLUMNS, MAX_TERMS, eliminate, laurent_exponents,
                       monomial_columns, polynomial_tree, polynomial_values, relative_error, spread_rows,
                       unscale_terms)

__all__ = ["ExponentialFit", "fit_exponential", "exponential_candidates"]

#: A power a_j is taken as the nearest half-integer when this close to it (exact data only).
POWER_TOLERANCE = 1e-6


@dataclass
class ExponentialFit:
    """``y = coefficient * prod x^powers * exp(sum of c x^e over exponent)``."""

    coefficient: float
    powers: Tuple[Fraction, ...]
    exponent: List[Tuple[Tuple[int, ...], float]]
    relative_error: float

    @property
    def terms(self) -> int:
        return 1 + sum(1 for p in self.powers if p) + len(self.exponent)

    @property
    def exact(self) -> bool:
        return self.relative_error < EXACT_ERROR

    def values(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            P = np.prod(X ** np.array([float(p) for p in self.powers]), axis=1)
            return self.coefficient * P * np.exp(polynomial_values(self.exponent, X))

    def describe(self, names: Sequence[str]) -> str:
        power = "*".join(f"{n}^{p}" for n, p in zip(names, self.powers) if p)
        inner = " + ".join(f"{a:.6g}" + "".join(f"*{n}^{k}" for n, k in zip(names, e) if k)
                           for e, a in self.exponent).replace("+ -", "- ")
        quality = "exact" if self.exact else f"error {self.relative_error:.2g} of RMS(y)"
        return f"y = {self.coefficient:.6g}" + (f"*{power}" if power else "") + f"*exp({inner}) ({quality})"

    def tree(self, ops: OperatorIndex, variables: Sequence[Node]) -> Node:
        """The formula in ``variables`` (``KeyError`` when the search lacks ``exp`` or another operator)."""
        out = ops.mul(ops.const(self.coefficient), ops.un("exp", polynomial_tree(self.exponent, ops, variables)))
        m = monomial(list(self.powers), variables, ops)
        return out if m is None else ops.mul(out, m)


def fit_exponential(X: np.ndarray, y: np.ndarray) -> Optional[ExponentialFit]:
    """The sparse exponential fit of ``y`` (of one sign) on ``X``, or None. Variables that are not
    positive on every row get neither a power nor negative exponents."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] == 0 or len(y) < 20 or not np.all(np.isfinite(X)) or not np.all(np.isfinite(y)):
        return None
    if not (np.all(y > 0) or np.all(y < 0)):
        return None
    n, d = X.shape
    # a variable that is not positive everywhere (a difference x_i - x_j) gets no power and no
    # negative exponent in L
    positive = np.all(X > 0, axis=0)
    sign = float(np.sign(y[0]))
    rows = spread_rows(n)
    scale = np.max(np.abs(X), axis=0)
    if np.any(scale == 0):
        return None
    Z = X[rows] / scale
    b = np.log(np.abs(y[rows]))
    logs = [np.log(Z[:, j]) for j in range(d) if positive[j]]
    best = None
    for k in range(1, 2 * d * 2 + 1):
        exps = [e for e in laurent_exponents(d, k) if all(positive[j] or e[j] >= 0 for j in range(d))]
        if len(exps) + len(logs) > MAX_LAURENT_COLUMNS or k > 4:
            break
        M = np.column_stack([monomial_columns(Z, exps)] + logs)
        res = eliminate(M, b, MAX_TERMS + len(logs))
        if res is None:
            continue
        fit = _assemble(res, exps, [j for j in range(d) if positive[j]], d, scale, sign)
        if fit is None:
            continue
        err = relative_error(fit.values(X), y)
        if err <= KEEP_ERROR and fit.terms <= MAX_TERMS and \
                (best is None or err < best.relative_error):
            fit.relative_error = err
            best = fit
            if fit.exact:
                break
    return best


def _assemble(res, exps, log_vars: List[int], d: int, scale: np.ndarray, sign: float) -> Optional[ExponentialFit]:
    """The fit from the kept columns: Laurent terms, a constant, and half-integer powers (else None)."""
    cols, coef = res
    powers = [Fraction(0)] * d
    const = 0.0
    terms = []
    for c, a in zip(cols, coef):
        if c >= len(exps):                                   # a log x_j column: a power of x_j
            j = log_vars[c - len(exps)]
            half = round(2 * float(a)) / 2
            if abs(float(a) - half) > POWER_TOLERANCE or abs(half) > 4:
                return None
            powers[j] = Fraction(int(round(2 * half)), 2)
        elif not any(exps[c]):
            const += float(a)
        else:
            terms.append((exps[c], a))
    if not terms:
        return None                                          # a power law: the rational fits cover it
    # back to the unscaled variables: log(x/s) = log x - log s
    const -= float(sum(float(p) * np.log(s) for p, s in zip(powers, scale)))
    return ExponentialFit(sign * float(np.exp(const)), tuple(powers), unscale_terms(terms, scale), np.inf)


def exponential_candidates(X: np.ndarray, y: np.ndarray, ops: OperatorIndex) -> List[Tuple[Node, ExponentialFit]]:
    """The sparse exponential fit of ``y`` as a formula in ``X``'s columns (none without ``exp``)."""
    if not ops.has("exp"):
        return []
    fit = fit_exponential(X, y)
    if fit is None:
        return []
    try:
        return [(fit.tree(ops, [ops.var(j + 1) for j in range(np.asarray(X).shape[1])]), fit)]
    except KeyError:
        return []
