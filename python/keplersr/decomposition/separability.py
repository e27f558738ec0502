"""Separability tests on the surrogate: is t(f) = g(A) + h(B), or f = g(A) * h(B)?

For a split of the variables into A and B and random pairs of points
(a, b), (a', b'), an additively separable t(f) has

    D = t(f(a, b)) + t(f(a', b')) - t(f(a, b')) - t(f(a', b)) = 0,

and a multiplicatively separable f the same with t = log|f|. The surrogate
is queried at the mixed points; D is compared with the error the
surrogate's own held-out error gives it (carried through t), point by point.
A split passes when the median of |D| / sigma_D is below ``threshold``: a
non-separable law gives ratios of the order of std(f) / error (hundreds).

Layer: above :mod:`keplersr.decomposition.transforms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from .transforms import TRANSFORMS, Transform

__all__ = ["Split", "find_split"]

#: A split passes when median(|D| / sigma_D) is below this.
THRESHOLD = 2.0
#: Pairs of points per tested split.
PAIRS = 1000


@dataclass
class Split:
    """``kind`` "additive" (``transform`` of f is g(A) + h(B)) or "multiplicative" (f = g(A) h(B))."""

    kind: str
    transform: Transform
    A: Tuple[int, ...]
    B: Tuple[int, ...]
    statistic: float


def _subsets(d: int) -> List[Tuple[int, ...]]:
    out = []
    for k in range(1, d // 2 + 1):
        for A in combinations(range(d), k):
            if 2 * k == d and 0 not in A:      # {A, B} and {B, A} are one split
                continue
            out.append(A)
    return out


def find_split(X: np.ndarray, oracle: Callable[[np.ndarray], np.ndarray], error: float,
               rng: np.random.Generator, transforms: Sequence[Transform] = TRANSFORMS,
               multiplicative: bool = True, threshold: float = THRESHOLD) -> Optional[Split]:
    """The best separable split of the columns of ``X`` under ``oracle``, or None.

    ``error``: the oracle's RMS error. Splits are ranked by kind (additive
    without a transform first, then multiplicative, then the transforms in
    ``transforms``' order), then by the smaller part, then by the statistic.
    """
    n, d = X.shape
    if d < 2 or not np.isfinite(error) or error <= 0:
        return None
    i = rng.integers(n, size=PAIRS)
    j = rng.integers(n, size=PAIRS)
    P, Q = X[i], X[j]
    fP, fQ = oracle(P), oracle(Q)
    kinds: List[Tuple[str, Transform]] = [("additive", t) for t in transforms]
    if multiplicative:
        kinds.insert(1, ("multiplicative", None))
    best: Optional[Tuple[tuple, Split]] = None
    for A in _subsets(d):
        B = tuple(k for k in range(d) if k not in A)
        PQ = P.copy()
        PQ[:, B] = Q[:, B]          # (a, b')
        QP = Q.copy()
        QP[:, B] = P[:, B]          # (a', b)
        f3, f4 = oracle(PQ), oracle(QP)
        F = np.stack([fP, fQ, f3, f4])
        for rank, (kind, t) in enumerate(kinds):
            if kind == "multiplicative":
                if not (np.all(F > 0) or np.all(F < 0)):
                    continue
                T, dT = np.log(np.abs(F)), 1.0 / np.abs(F)
                tr = None
            else:
                if not t.applies(F):
                    continue
                with np.errstate(all="ignore"):
                    T, dT = t.forward(F), np.abs(t.derivative(F))
                tr = t
            D = T[0] + T[1] - T[2] - T[3]
            sigma = error * np.sqrt(np.sum(dT ** 2, axis=0))
            with np.errstate(all="ignore"):
                ratio = np.abs(D) / sigma
            ratio = ratio[np.isfinite(ratio)]
            if len(ratio) < PAIRS // 2:
                continue
            stat = float(np.median(ratio))
            if stat < threshold:
                key = (rank, len(A), stat)
                if best is None or key < best[0]:
                    from .transforms import IDENTITY
                    best = (key, Split(kind, tr if tr is not None else IDENTITY, A, B, stat))
    return None if best is None else best[1]
