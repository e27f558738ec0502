"""The smooth surrogate of a data set that the decomposition tests query.

A small multilayer perceptron (scikit-learn's ``MLPRegressor``: two tanh
layers of 64, L-BFGS) fitted on at most ``max_rows`` rows of standardised
data. Measured on 10,000-row tables of Feynman-like laws (2 to 6 variables): 0.5
to 5 s for 4,000 rows on one BLAS thread (with threads competing for the
other core the same fit took 20 s), a held-out RMS error of 2e-3 to 6e-3 of
std(y).
Its held-out error sets the noise level every test compares against, so a
poor fit makes the tests refuse rather than invent structure.

Layer: leaf (numpy, scikit-learn).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["Surrogate", "fit_surrogate"]


@dataclass
class Surrogate:
    """``predict(X)`` approximates y; ``error``: held-out RMS error in y's units."""

    model: object
    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float
    y_scale: float
    error: float
    seconds: float

    def predict(self, X: np.ndarray) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        Z = (np.asarray(X, dtype=float) - self.x_mean) / self.x_scale
        with threadpool_limits(1):
            return self.model.predict(Z) * self.y_scale + self.y_mean

    @property
    def relative_error(self) -> float:
        """Held-out RMS error over std(y)."""
        return self.error / self.y_scale


def fit_surrogate(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, max_rows: int = 4000,
                  hidden: int = 64, max_iter: int = 1000) -> Surrogate:
    """Fit the surrogate on a random subset of at most ``max_rows`` rows; 20% of them are held out."""
    import time

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    n = len(y)
    rows = rng.permutation(n)[:min(n, max_rows)]
    nval = max(1, len(rows) // 5)
    val, train = rows[:nval], rows[nval:]
    x_mean = X[train].mean(axis=0)
    x_scale = X[train].std(axis=0)
    x_scale[x_scale == 0] = 1.0
    y_mean = float(np.mean(y[train]))
    y_scale = float(np.std(y[train])) or 1.0
    model = MLPRegressor(hidden_layer_sizes=(hidden, hidden), activation="tanh", solver="lbfgs",
                         max_iter=max_iter, tol=1e-12, random_state=int(rng.integers(2**31 - 1)))
    # one BLAS thread: these matrices are small, and threads fighting the other core cost 20x
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit((X[train] - x_mean) / x_scale, (y[train] - y_mean) / y_scale)
    s = Surrogate(model, x_mean, x_scale, y_mean, y_scale, 0.0, 0.0)
    s.error = float(np.sqrt(np.mean((s.predict(X[val]) - y[val]) ** 2)))
    s.seconds = time.perf_counter() - t0
    return s
