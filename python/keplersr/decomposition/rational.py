"""Sparse rational fits of a leaf: t(y) = P(x) / Q(x) with few terms, by linear least squares.

AI Feynman tries a polynomial fit of every sub-problem before searching it;
this generalises it to ratios of polynomials, which covers the velocity
addition (u + v)/(1 + u v / c^2), resonance denominators 1/(w0^2 - w^2) and,
after y -> 1/y^2, relativistic factors such as 1/(u^2 sqrt(1 - u^2)).

``y Q(x) = P(x)`` is linear in the coefficients of P and Q. One coefficient
of Q is fixed to 1 (the monomial the smallest singular vector of the
homogeneous system weighs most), the rest are found by least squares, and
columns are dropped one at a time while the residual does not grow
significantly (an F-test, with the residual of all columns as the noise
scale). A fit is kept only when few terms remain and it describes y closely.
The fits are candidates beside the leaf's sub-searches, never a verdict.

When no exact ratio is found and no variable is 0 on the data, sparse
Laurent polynomials are tried too (monomials with negative powers, no
denominator): sums of products such as x1 y1 + x2 y2 + x3 y3 come out of
units as 1/pi3 + 1/(pi1 pi4) + 1/(pi2 pi5).

Layer: above :mod:`keplersr.decomposition.codes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement, product
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from .codes import Node, OperatorIndex, power

__all__ = ["RationalFit", "fit_rational", "rational_candidates", "eliminate", "laurent_exponents", "polynomial_tree",
           "monomial_tree", "relative_error", "spread_rows", "monomial_columns", "unscale_terms", "polynomial_values",
           "EXACT_ERROR", "KEEP_ERROR", "MAX_TERMS", "MAX_LAURENT_COLUMNS"]

#: Columns of the linear system at most (monomials of P and of Q together); it sets the degree.
MAX_COLUMNS = 40
#: Highest total degree tried, whatever the number of variables.
MAX_DEGREE = 6
#: A kept fit has at most this many terms in P and Q together (Q's fixed 1 counts).
MAX_TERMS = 7
#: Rows the fit uses (an evenly spread subsample); the residual is checked on all rows.
FIT_ROWS = 600
#: A column is dropped when the residual sum of squares grows by less than this many noise variances.
F_DROP = 12.0
#: A fit is kept when its RMS error is below this fraction of RMS(y) ...
KEEP_ERROR = 0.02
#: ... and it counts as exact (the leaf needs no search) below this one.
EXACT_ERROR = 1e-7
#: Laurent polynomials (y = sum of c x^e with negative e too, e.g. 1/a + b/c): columns at most, and
#: the largest |exponent| of one variable.
MAX_LAURENT_COLUMNS = 64
LAURENT_POWER = 2
#: The noise variance is never taken below (this * RMS(target))^2: rounding is no signal.
ROUNDING = 1e-11


@dataclass(frozen=True)
class _Target:
    """A transform of y whose rational fit is tried, and how a formula of it is undone."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]       # y from target values
    applies: Callable[[np.ndarray], bool]
    undo: Callable[[Node, OperatorIndex], Node]       # a formula of y from one of the target


def _positive(y: np.ndarray) -> bool:
    return bool(np.all(y > 0))


def _nonzero(y: np.ndarray) -> bool:
    return bool(np.all(y > 0) or np.all(y < 0))


_TARGETS: Tuple[_Target, ...] = (
    _Target("y", lambda y: y, lambda v: v, lambda y: True, lambda g, ops: g),
    _Target("1/y", lambda y: 1.0 / y, lambda v: 1.0 / v, _nonzero, lambda g, ops: ops.div(ops.const(1.0), g)),
    _Target("y^2", lambda y: y * y, np.sqrt, _positive, lambda g, ops: ops.un("sqrt", g)),
    _Target("1/y^2", lambda y: 1.0 / (y * y), lambda v: 1.0 / np.sqrt(v), _positive,
            lambda g, ops: ops.div(ops.const(1.0), ops.un("sqrt", g))),
    _Target("sqrt(y)", lambda y: np.sqrt(np.abs(y)), lambda v: v * v, _positive, lambda g, ops: ops.square(g)),
)


def _target(name: str) -> _Target:
    return next(t for t in _TARGETS if t.name == name)


@dataclass
class RationalFit:
    """``target(y) = sum(P) / sum(Q)``: each a list of (exponents, coefficient); Q empty means 1."""

    target: str
    numerator: List[Tuple[Tuple[int, ...], float]]
    denominator: List[Tuple[Tuple[int, ...], float]]
    relative_error: float            # RMS(y - fit) / RMS(y), on all rows, after undoing the target
    positive_parts: bool = False     # P > 0 and Q > 0 on every row: a root of P/Q is written sqrt(P)/sqrt(Q)
    # how sqrt(P) and sqrt(Q) are written (see _find_roots): None (as is), ("square", R) with R^2 = P,
    # or ("monomial", e, rest) with P = x^(2e) * rest
    roots: Tuple[Optional[tuple], Optional[tuple]] = (None, None)

    @property
    def terms(self) -> int:
        return len(self.numerator) + len(self.denominator)

    @property
    def exact(self) -> bool:
        return self.relative_error < EXACT_ERROR

    def describe(self, names: Sequence[str]) -> str:
        def poly(terms):
            parts = []
            for e, a in terms:
                mono = "*".join(n if k == 1 else f"{n}^{k}" for n, k in zip(names, e) if k)
                parts.append(f"{a:.6g}" + (f"*{mono}" if mono else ""))
            return " + ".join(parts).replace("+ -", "- ")
        body = poly(self.numerator)
        if self.denominator:
            body = f"({body}) / ({poly(self.denominator)})"
        return f"{self.target} = {body} ({'exact' if self.exact else f'error {self.relative_error:.2g} of RMS(y)'})"

    def tree(self, ops: OperatorIndex, variables: Sequence[Node]) -> Node:
        """The formula of y in ``variables``, with the search's operators (``KeyError`` if one is missing)."""
        target = _target(self.target)
        top = polynomial_tree(self.numerator, ops, variables)
        rooted = self.target in ("y^2", "1/y^2")

        def root(poly, how):
            if how is None:
                return ops.un("sqrt", poly)
            if how[0] == "square":
                return polynomial_tree(how[1], ops, variables)
            return ops.mul(monomial_tree(how[1], ops, variables), ops.un("sqrt", polynomial_tree(how[2], ops, variables)))

        if not self.denominator:
            if rooted and self.roots[0] is not None:
                r = root(top, self.roots[0])
                return r if self.target == "y^2" else ops.div(ops.const(1.0), r)
            return target.undo(top, ops)
        bottom = polynomial_tree(self.denominator, ops, variables)
        if self.positive_parts and rooted:
            # as a physicist writes it: c/sqrt(1 - v^2/c^2), not sqrt(1/(1 - v^2/c^2))*Abs(c)
            root_p, root_q = root(top, self.roots[0]), root(bottom, self.roots[1])
            return ops.div(root_p, root_q) if self.target == "y^2" else ops.div(root_q, root_p)
        return target.undo(ops.div(top, bottom), ops)


def polynomial_tree(terms, ops: OperatorIndex, variables: Sequence[Node]) -> Node:
    out = None
    for exps, coef in terms:
        m = monomial_tree(exps, ops, variables)
        term = ops.const(coef) if m is None else ops.mul(ops.const(coef), m)
        out = term if out is None else ops.add(out, term)
    return out


def monomial_tree(exps: Sequence[int], ops: OperatorIndex, variables: Sequence[Node]) -> Optional[Node]:
    """prod x^e; negative exponents (Laurent monomials) go to a denominator."""
    def product(pairs):
        out = None
        for v, e in pairs:
            f = power(v, int(e), ops)
            out = f if out is None else ops.mul(out, f)
        return out

    num = product((v, e) for v, e in zip(variables, exps) if e > 0)
    den = product((v, -e) for v, e in zip(variables, exps) if e < 0)
    if den is None:
        return num
    return ops.div(ops.const(1.0) if num is None else num, den)


def laurent_exponents(d: int, k: int) -> List[Tuple[int, ...]]:
    """Exponent tuples in {-LAURENT_POWER..LAURENT_POWER}^d with sum of |e| <= k (Laurent monomials)."""
    out = [tuple([0] * d)]
    for e in product(range(-LAURENT_POWER, LAURENT_POWER + 1), repeat=d) if d <= 6 else ():
        if 0 < sum(abs(x) for x in e) <= k:
            out.append(tuple(e))
    return sorted(out, key=lambda e: sum(abs(x) for x in e))


def _exponents(d: int, degree: int) -> List[Tuple[int, ...]]:
    """Exponent tuples of the monomials of total degree <= ``degree`` in ``d`` variables, by degree."""
    out = []
    for k in range(degree + 1):
        for combo in combinations_with_replacement(range(d), k):
            e = [0] * d
            for j in combo:
                e[j] += 1
            out.append(tuple(e))
    return out


def _degree(d: int) -> int:
    deg = MAX_DEGREE
    while deg > 1 and 2 * len(_exponents(d, deg)) > MAX_COLUMNS:
        deg -= 1
    return deg


def eliminate(A: np.ndarray, b: np.ndarray, max_terms: int) -> Optional[Tuple[List[int], np.ndarray]]:
    """Backward elimination: the columns of ``A`` kept, and their coefficients, for ``b ~ A c``."""
    norms = np.linalg.norm(A, axis=0)
    usable = norms > 0
    keep = [j for j in range(A.shape[1]) if usable[j]]
    if not keep:
        return None
    An = A[:, keep] / norms[keep]
    n = len(b)
    floor = (ROUNDING * np.sqrt(np.mean(b * b))) ** 2 * n

    def solve(cols):
        M = An[:, cols]
        U, s, Vt = np.linalg.svd(M, full_matrices=False)
        tol = s[0] * 1e-12 if len(s) else 0.0
        inv = np.where(s > tol, 1.0 / np.where(s > tol, s, 1.0), 0.0)
        coef = Vt.T @ (inv * (U.T @ b))
        rss = float(np.sum((b - M @ coef) ** 2))
        # RSS growth if column k is dropped: coef_k^2 / [(M'M)^-1]_kk
        diag = np.sum((Vt.T * inv) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where(diag > 0, coef * coef / diag, 0.0)
        return coef, rss, growth

    cols = list(range(len(keep)))
    coef, rss, growth = solve(cols)
    sigma2 = max(rss, floor) / max(n - len(cols), 1)
    while len(cols) > 1:
        k = int(np.argmin(growth))
        if growth[k] > F_DROP * sigma2:
            break
        cols.pop(k)
        coef, rss, growth = solve(cols)
    if len(cols) > max_terms:
        return None
    return [keep[c] for c in cols], coef / norms[[keep[c] for c in cols]]


def _fit_degree(Z: np.ndarray, b: np.ndarray, exps):
    """P and Q over the monomials ``exps`` of the scaled variables ``Z`` for target values ``b``, or None."""
    M = monomial_columns(Z, exps)
    # y Q = P with Q's monomials beside P's: the homogeneous system [P | -y Q] v = 0
    H = np.hstack([M, -b[:, None] * M])
    Hn = H / np.maximum(np.linalg.norm(H, axis=0), 1e-300)
    v = np.linalg.svd(Hn, full_matrices=False)[2][-1]
    m = len(exps)
    fixed = m + int(np.argmax(np.abs(v[m:])))           # the Q monomial whose coefficient is set to 1
    others = [j for j in range(2 * m) if j != fixed]
    res = eliminate(H[:, others], -H[:, fixed], MAX_TERMS - 1)     # -H[:, fixed] = b * q_fixed
    if res is None:
        return None
    cols, coef = res
    P, Q = [], [(exps[fixed - m], 1.0)]
    for c, a in zip(cols, coef):
        j = others[c]
        (P if j < m else Q).append((exps[j % m], float(a)))
    return (P, Q) if P else None


def relative_error(pred: np.ndarray, y: np.ndarray) -> float:
    """RMS(pred - y) / RMS(y); inf when not finite."""
    with np.errstate(all="ignore"):
        err = float(np.sqrt(np.mean((pred - y) ** 2)) / max(np.sqrt(np.mean(y * y)), 1e-300))
    return err if np.isfinite(err) else np.inf


def fit_rational(X: np.ndarray, y: np.ndarray, target: str = "y") -> Optional[RationalFit]:
    """The sparse rational fit of ``target(y)`` on ``X``, or None (too many terms, or not close)."""
    t = _target(target)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] == 0 or len(y) < 20 or not t.applies(y):
        return None
    with np.errstate(all="ignore"):
        ty = t.forward(y)
    if not np.all(np.isfinite(ty)) or not np.all(np.isfinite(X)):
        return None
    n, d = X.shape
    rows = spread_rows(n)
    scale = np.max(np.abs(X), axis=0)
    if np.any(scale == 0):
        return None
    Z = X[rows] / scale
    b = ty[rows]
    # the lowest degree that fits exactly (above it P and Q share factors and the system has many
    # solutions), else the closest fit of any degree
    best = None
    for degree in range(1, _degree(d) + 1):
        found = _fit_degree(Z, b, _exponents(d, degree))
        if found is None:
            continue
        fit = _unscaled(target, *found, scale)
        pred = _undo_values(fit, X)
        err = relative_error(pred, y)
        if err <= KEEP_ERROR and (best is None or err < best.relative_error):
            fit.relative_error = err
            _orient(fit, X)
            if fit.exact:
                _find_roots(fit, X)
            best = fit
            if fit.exact:
                break
    if (best is None or not best.exact) and np.all(X != 0):
        best = _laurent_fit(target, X, y, Z, b, scale, best)
    return best


def _laurent_fit(target: str, X, y, Z, b, scale, best: Optional[RationalFit]) -> Optional[RationalFit]:
    """The sparse Laurent polynomial fit of the target (no denominator), if closer than ``best``."""
    d = X.shape[1]
    for k in range(1, 2 * LAURENT_POWER * d + 1):
        exps = laurent_exponents(d, k)
        if len(exps) > MAX_LAURENT_COLUMNS or k > 4:
            break
        M = monomial_columns(Z, exps)
        if not np.all(np.isfinite(M)):
            return best
        res = eliminate(M, b, MAX_TERMS)
        if res is None:
            continue
        cols, coef = res
        P = unscale_terms([(exps[c], a) for c, a in zip(cols, coef)], scale)
        fit = RationalFit(target, P, [], np.inf)
        pred = _undo_values(fit, X)
        err = relative_error(pred, y)
        if err <= KEEP_ERROR and (best is None or err < best.relative_error):
            fit.relative_error = err
            if fit.exact:
                _find_roots(fit, X)
            best = fit
            if fit.exact:
                break
    return best


def _unscaled(target: str, P, Q, scale: np.ndarray) -> RationalFit:
    """The fit in the unscaled variables (x^e / scale^e), a polynomial when Q is a constant."""
    P, Q = unscale_terms(P, scale), unscale_terms(Q, scale)
    if len(Q) == 1 and not any(Q[0][0]):
        c0 = Q[0][1]
        P, Q = [(e, a / c0) for e, a in P], []
    else:
        # P/Q is defined up to a common factor: Q's constant term (else P's, else Q's first) becomes 1,
        # so that the coefficients read as the law's (x/(1 - x/3), not 1.41x/(1.41 - 0.47x))
        const = [a for e, a in Q if not any(e)] or [a for e, a in P if not any(e)] or [Q[0][1]]
        c0 = const[0]
        P, Q = [(e, a / c0) for e, a in P], [(e, a / c0) for e, a in Q]
    return RationalFit(target, P, Q, np.inf)


def _orient(fit: RationalFit, X: np.ndarray) -> None:
    """Give P and Q the sign that makes both positive on the rows when one sign does (P/Q is unchanged)."""
    if not fit.denominator:
        return
    with np.errstate(all="ignore"):
        P, Q = polynomial_values(fit.numerator, X), polynomial_values(fit.denominator, X)
    if np.all(P < 0) and np.all(Q < 0):
        fit.numerator = [(e, -a) for e, a in fit.numerator]
        fit.denominator = [(e, -a) for e, a in fit.denominator]
        P, Q = -P, -Q
    fit.positive_parts = bool(np.all(P > 0) and np.all(Q > 0))


def _square_root_terms(terms, X: np.ndarray) -> Optional[list]:
    """The polynomial R (positive on the rows) with R^2 = P, P the polynomial ``terms``, or None."""
    P = polynomial_values(terms, X)
    if not np.all(P > 0) or len(terms) < 2:
        return None
    degree = max(sum(e) for e, _ in terms)
    if degree % 2:
        return None
    d = X.shape[1]
    exps = _exponents(d, degree // 2)
    rows = spread_rows(len(X))
    scale = np.max(np.abs(X), axis=0)
    target = np.sqrt(P)
    res = eliminate(monomial_columns(X[rows] / scale, exps), target[rows], MAX_TERMS)
    if res is None:
        return None
    cols, coef = res
    R = unscale_terms([(exps[c], a) for c, a in zip(cols, coef)], scale)
    err = np.sqrt(np.mean((polynomial_values(R, X) - target) ** 2) / np.mean(P))
    return R if err < EXACT_ERROR else None


def _root_of(terms, X: np.ndarray) -> Optional[tuple]:
    """How sqrt of the polynomial ``terms`` is written: its root if it is an exact square, else the
    square of a common monomial factor taken outside (when that monomial is positive on the rows)."""
    R = _square_root_terms(terms, X)
    if R is not None:
        return ("square", R)
    low = np.min(np.array([e for e, _ in terms]), axis=0)
    half = tuple(int(k) // 2 for k in low)
    if not any(half) or not np.all(np.prod(X ** np.array(half), axis=1) > 0):
        return None
    rest = [(tuple(int(k) - 2 * h for k, h in zip(e, half)), a) for e, a in terms]
    return ("monomial", half, rest)


def _find_roots(fit: RationalFit, X: np.ndarray) -> None:
    """For a root target (y^2, 1/y^2): sqrt(P) and sqrt(Q) without squares under the root, as a
    physicist writes them (and as they compare equal symbolically without sign assumptions)."""
    if fit.target not in ("y^2", "1/y^2") or (fit.denominator and not fit.positive_parts):
        return
    with np.errstate(all="ignore"):
        fit.roots = (_root_of(fit.numerator, X), _root_of(fit.denominator, X) if fit.denominator else None)


def spread_rows(n: int) -> np.ndarray:
    """At most ``FIT_ROWS`` evenly spread row indices of ``n`` rows (the rows a fit solves on)."""
    return np.unique(np.linspace(0, n - 1, min(n, FIT_ROWS)).astype(int))


def monomial_columns(Z: np.ndarray, exps) -> np.ndarray:
    """One column per exponent tuple: prod_j Z[:, j] ** e_j (negative e allowed)."""
    with np.errstate(all="ignore"):
        return np.column_stack([np.prod(Z ** np.array(e, dtype=float), axis=1) for e in exps])


def unscale_terms(terms, scale: np.ndarray) -> list:
    """Terms fitted in the scaled variables x/scale, in the variables themselves: a x^e / scale^e."""
    return [(e, float(a) / float(np.prod(scale ** np.array(e, dtype=float)))) for e, a in terms]


def polynomial_values(terms, X: np.ndarray) -> np.ndarray:
    """Values of the polynomial (exponents, coefficient) ``terms`` on the rows of ``X``."""
    if not terms:
        return np.zeros(len(X))
    return monomial_columns(X, [e for e, _ in terms]) @ np.array([a for _, a in terms], dtype=float)


def _undo_values(fit: RationalFit, X: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        r = polynomial_values(fit.numerator, X)
        if fit.denominator:
            r = r / polynomial_values(fit.denominator, X)
        return _target(fit.target).inverse(r)


def rational_candidates(X: np.ndarray, y: np.ndarray, ops: OperatorIndex) -> List[Tuple[Node, RationalFit]]:
    """The sparse rational fits of ``y`` over every target transform, as formulas in ``X``'s columns,
    fewest terms then smallest error first (fits that need a missing operator are left out)."""
    fits = [f for f in (fit_rational(X, y, t.name) for t in _TARGETS) if f is not None]
    fits.sort(key=lambda f: (not f.exact, f.terms, f.relative_error))
    variables = [ops.var(j + 1) for j in range(np.asarray(X).shape[1])]
    out = []
    for f in fits:
        try:
            out.append((f.tree(ops, variables), f))
        except KeyError:
            pass
    return out
