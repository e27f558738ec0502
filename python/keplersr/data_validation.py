"""Validation of the data given to ``fit`` and ``predict``.

Built on scikit-learn's own ``validate_data`` (shapes, dtypes, sparse and
complex input, empty arrays, ``n_features_in_`` / ``feature_names_in_``, a
missing ``y``), so errors read as in any scikit-learn estimator. Added on
top, because a search needs them: non-numeric DataFrame columns named,
non-finite values located (row and column), weights checked, and variable
names that can appear in a formula.

Layer: leaf (scikit-learn, numpy, pandas).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

__all__ = ["validate_fit_data", "validate_predict_data", "variable_names_of"]

_FORBIDDEN_IN_NAMES = "()+-*/^,"


def _non_numeric_columns(frame: pd.DataFrame):
    return [str(c) for c in frame.columns
            if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]


def _check_finite(a: np.ndarray, what: str):
    bad = ~np.isfinite(a)
    if bad.any():
        where = np.argwhere(bad)[0]
        at = f"row {where[0]}" + (f", column {where[1]}" if a.ndim == 2 else "")
        raise ValueError(f"{what} contains NaN or Inf ({int(bad.sum())} values, first at {at})")


def variable_names_of(X, variable_names, n_features: int) -> list:
    """The names the formulas use: DataFrame column labels, ``variable_names``, or ``x0, x1, ...``."""
    if isinstance(X, pd.DataFrame):
        if variable_names is not None:
            raise ValueError("variable_names cannot be combined with a DataFrame X: its column names are used")
        names = [str(c) for c in X.columns]
    elif variable_names is None:
        names = [f"x{j}" for j in range(n_features)]
    else:
        names = [str(v) for v in variable_names]
        if len(names) != n_features:
            raise ValueError(f"variable_names has {len(names)} names for {n_features} features")
    if len(set(names)) != len(names):
        raise ValueError(f"variable names must be unique, got {names}")
    for nm in names:
        if not nm or any(ch.isspace() for ch in nm) or any(ch in nm for ch in _FORBIDDEN_IN_NAMES):
            raise ValueError(f"variable name {nm!r} is not usable in a formula (no spaces, operators or parentheses)")
    return names


def _check_weights(weights, n: int):
    if weights is None:
        return None
    w = np.asarray(weights)
    if w.dtype == object or not np.issubdtype(w.dtype, np.number) or np.iscomplexobj(w):
        raise ValueError(f"weights must be real numbers, got dtype {w.dtype}")
    w = w.astype(float).ravel() if w.ndim == 2 and 1 in w.shape else w.astype(float)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights must have shape ({n},), got {np.asarray(weights).shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain NaN or Inf")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    if not np.any(w > 0):
        raise ValueError("weights are all zero")
    return w


def validate_fit_data(estimator, X, y, weights=None, variable_names=None):
    """``(X, y, multioutput, weights, names)`` for a fit, with ``n_features_in_`` and
    ``feature_names_in_`` set on ``estimator`` (scikit-learn's conventions).

    ``y`` comes back 2-D (one column per output); ``multioutput`` says
    whether it was given 2-D.
    """
    if isinstance(X, pd.DataFrame):
        bad = _non_numeric_columns(X)
        if bad:
            raise ValueError(f"X has non-numeric columns: {bad}")
    if isinstance(y, (pd.Series, pd.DataFrame)):
        for c in ([y] if isinstance(y, pd.Series) else [y[c] for c in y.columns]):
            if not pd.api.types.is_numeric_dtype(c) or pd.api.types.is_bool_dtype(c):
                raise ValueError(f"y must be numeric, column {c.name!r} has dtype {c.dtype}")
    Xa, ya = validate_data(estimator, X, y, dtype=np.float64, ensure_all_finite=False,
                           multi_output=True, y_numeric=True)
    ya = np.asarray(ya, dtype=np.float64)
    _check_finite(Xa, "X")
    _check_finite(ya, "y")
    multi = ya.ndim == 2
    if not multi:
        ya = ya[:, None]
    if ya.shape[1] == 0:
        raise ValueError("y has no outputs (columns)")
    names = variable_names_of(X, variable_names, Xa.shape[1])
    w = _check_weights(weights, Xa.shape[0])
    return np.ascontiguousarray(Xa), ya, multi, w, names


def validate_predict_data(estimator, X) -> np.ndarray:
    """``X`` for ``predict``: a DataFrame's columns are put in the fitted order
    first; then scikit-learn's checks against ``n_features_in_`` /
    ``feature_names_in_``."""
    if isinstance(X, pd.DataFrame):
        if hasattr(estimator, "feature_names_in_"):
            missing = [c for c in estimator.feature_names_in_ if c not in X.columns]
            if missing:
                raise ValueError(f"X is missing the columns {missing} seen in fit")
            X = X[list(estimator.feature_names_in_)]
        bad = _non_numeric_columns(X)
        if bad:
            raise ValueError(f"X has non-numeric columns: {bad}")
    Xa = validate_data(estimator, X, reset=False, dtype=np.float64, ensure_all_finite=False)
    _check_finite(Xa, "X")
    return Xa
