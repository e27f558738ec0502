"""Symmetry tests on the surrogate: does f depend on x_i and x_j only through
x_i - x_j, x_i + x_j, x_i / x_j or x_i * x_j?

Each kind moves a point along the curve that keeps its combination fixed
(x_i - x_j: both up by delta; x_i / x_j: both scaled by 1 + eps; ...). f is
symmetric when the move changes the surrogate by no more than its own error,
while moving x_i alone (and x_j alone) changes it clearly: otherwise the
test says nothing. Moves that leave the range of the data are not made.

Layer: leaf (numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable, Optional

import numpy as np

__all__ = ["Symmetry", "KINDS", "find_symmetry"]

#: kind -> (how the combined variable is computed, the move)
KINDS = ("minus", "divide", "times", "plus")
#: Rows tested per pair and kind.
ROWS = 1000
#: Passes when each single move's RMS change is above SIGNAL_RATIO x the noise and the combined
#: move's is below NOISE_RATIO x the noise and below CHANGE_RATIO x the smaller single change.
NOISE_RATIO = 3.0
SIGNAL_RATIO = 5.0
CHANGE_RATIO = 0.2


@dataclass
class Symmetry:
    kind: str
    i: int
    j: int
    statistic: float      # RMS change of the combined move over its noise level

    def combine(self, X: np.ndarray) -> np.ndarray:
        """The combined variable on rows ``X``."""
        a, b = X[:, self.i], X[:, self.j]
        with np.errstate(all="ignore"):
            return {"minus": a - b, "plus": a + b, "divide": a / b, "times": a * b}[self.kind]


def _moves(kind: str, a: np.ndarray, b: np.ndarray, step: float):
    if kind == "minus":
        return a + step, b + step
    if kind == "plus":
        return a + step, b - step
    if kind == "divide":
        return a * (1 + step), b * (1 + step)
    return a * (1 + step), b / (1 + step)


def find_symmetry(X: np.ndarray, oracle: Callable[[np.ndarray], np.ndarray], error: float,
                  rng: np.random.Generator) -> Optional[Symmetry]:
    """The first symmetry found (pairs in order, kinds in ``KINDS`` order), or None."""
    n, d = X.shape
    if d < 2 or not np.isfinite(error) or error <= 0:
        return None
    rows = X[rng.integers(n, size=min(n, ROWS))]
    lo, hi = X.min(axis=0), X.max(axis=0)
    noise = np.sqrt(2.0) * error
    best = None
    for i, j in combinations(range(d), 2):
        f0 = oracle(rows)
        for kind in KINDS:
            if kind in ("divide", "times") and not (np.all(X[:, [i, j]] > 0)):
                continue
            step = 0.1 if kind in ("divide", "times") else 0.1 * float(min(np.std(X[:, i]), np.std(X[:, j])))
            if step <= 0:
                continue
            a, b = _moves(kind, rows[:, i], rows[:, j], step)
            keep = (a >= lo[i]) & (a <= hi[i]) & (b >= lo[j]) & (b <= hi[j])
            if keep.sum() < 50:
                continue
            moved = rows[keep].copy()
            moved[:, i], moved[:, j] = a[keep], b[keep]
            only_i = rows[keep].copy()
            only_i[:, i] = a[keep]
            only_j = rows[keep].copy()
            only_j[:, j] = b[keep]
            base = f0[keep]
            change = np.sqrt(np.mean((oracle(moved) - base) ** 2))
            sig_i = np.sqrt(np.mean((oracle(only_i) - base) ** 2))
            sig_j = np.sqrt(np.mean((oracle(only_j) - base) ** 2))
            if (min(sig_i, sig_j) > SIGNAL_RATIO * noise and change < NOISE_RATIO * noise
                    and change < CHANGE_RATIO * min(sig_i, sig_j)):
                stat = float(change / noise)
                if best is None or stat < best.statistic:
                    best = Symmetry(kind, i, j, stat)
        if best is not None:
            return best
    return best
