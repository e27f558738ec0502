"""The methods of the AI-Feynman comparison study, each behind one driver.

Three methods are compared on identical data, operators, wall-clock budget and
thread count, each through its own scikit-learn API:

``keplersr``
    :class:`keplersr.SymbolicRegressor` with ``timeout_in_seconds`` = the budget
    and ``procs`` = the threads.
``pyoperon``
    :class:`pyoperon.sklearn.SymbolicRegressor` (Operon, Burlacu et al.).
``gplearn``
    :class:`gplearn.genetic.SymbolicRegressor` (Stephens), which has no time
    limit: its driver adds one generation per ``fit`` until the budget is spent.

This package says which methods exist (:data:`METHODS`), whether a peer can
run here (:func:`require`, naming :data:`INSTALL_HINT`) and with how many
threads (:func:`available_threads`), and runs one fit (:func:`run_method`: a
driver takes a fitted-on-demand estimator and returns an :class:`Outcome`).
Its parts, one concept each (their names are re-exported here):

``operators``
    the study's operators (KeplerSR names) mapped to each peer's own
    (:func:`operator_plan`), gplearn's protected custom functions;
``formulas``
    the peers' formulas as sympy (:func:`gplearn_to_sympy`,
    :func:`parse_operon_model`);
``drivers``
    :class:`Outcome` and one driver per method (what each reads: selected
    formula, front, time to recovery, candidates);
``factories``
    the study's default peer estimators (:func:`pyoperon_factory`,
    :func:`gplearn_factory`) and :func:`warm_up_gplearn`.
"""

from __future__ import annotations

import importlib
import os
from typing import Dict, Optional, Tuple

import numpy as np
import pandas as pd
import sympy

from keplersr.study.peers.drivers import DRIVERS as _DRIVERS
from keplersr.study.peers.drivers import Outcome, record_expr
from keplersr.study.peers.factories import gplearn_factory, pyoperon_factory, warm_up_gplearn
from keplersr.study.peers.formulas import gplearn_to_sympy, parse_operon_model
from keplersr.study.peers.operators import (
    OperatorPlan,
    gplearn_function_set,
    operator_plan,
    pyoperon_symbols,
)

__all__ = [
    "INSTALL_HINT",
    "METHODS",
    "MissingPeerError",
    "OperatorPlan",
    "Outcome",
    "available_threads",
    "gplearn_factory",
    "gplearn_function_set",
    "gplearn_to_sympy",
    "operator_plan",
    "parse_operon_model",
    "pyoperon_factory",
    "pyoperon_symbols",
    "record_expr",
    "require",
    "run_method",
    "warm_up_gplearn",
]

#: Methods the study knows, in report order.
METHODS: Tuple[str, ...] = ("keplersr", "pyoperon", "gplearn")

#: The module each peer needs.
_PEER_MODULES = {"pyoperon": "pyoperon.sklearn", "gplearn": "gplearn.genetic"}

INSTALL_HINT = "pip install 'keplersr[compare]'"


class MissingPeerError(RuntimeError):
    """A requested peer method is not installed."""


def require(method: str) -> None:
    """Raise :class:`MissingPeerError` (naming the install command) if ``method`` cannot run here."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHODS)}")
    module = _PEER_MODULES.get(method)
    if module is None:
        return
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise MissingPeerError(
            f"method {method!r} needs the {method} package, which cannot be imported ({exc}); "
            f"install the peers with: {INSTALL_HINT}"
        ) from exc


def available_threads() -> int:
    """CPUs this process may run on (``os.sched_getaffinity``), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def run_method(method: str, estimator, X: pd.DataFrame, y: np.ndarray, budget_seconds: float,
               names: Dict[str, sympy.Symbol], fit_kwargs: Optional[dict] = None) -> Outcome:
    """Fit ``estimator`` (built for ``method``) on ``(X, y)`` within the budget; return the :class:`Outcome`.

    ``names`` maps variable names to the sympy symbols the formulas are written
    in; ``fit_kwargs`` (units) reach KeplerSR only.
    """
    try:
        driver = _DRIVERS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHODS)}") from None
    return driver(estimator, X, y, float(budget_seconds), names, dict(fit_kwargs or {}))
