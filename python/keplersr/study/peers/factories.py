"""The study's default peer estimators, given the budget, seed, threads and operators.

``pyoperon``
    :class:`pyoperon.sklearn.SymbolicRegressor` (Operon, Burlacu et al.) with
    ``max_time`` = the budget rounded to whole seconds (its parameter is an
    int; at least 1), ``n_threads`` = the threads, practically unlimited
    ``generations``/``max_evaluations``, objectives ``r2`` and ``length``
    (NSGA-II, so there is a Pareto front: ``pareto_front_``), 10
    Levenberg-Marquardt iterations per candidate (pyoperon's default is 0,
    i.e. no constant optimisation) and the final model chosen by BIC (its
    default, MDL, needs the noise level as input).
``gplearn``
    :class:`gplearn.genetic.SymbolicRegressor` (Stephens), defaults otherwise
    (population 1000, tournament 20, parsimony 0.001), ``n_jobs`` = the
    threads (joblib processes), built for one generation per ``fit`` with
    ``warm_start=True`` (its driver adds generations until the budget is
    spent: :mod:`keplersr.study.peers.drivers`).
    :func:`warm_up_gplearn` starts its joblib workers before the study.

KeplerSR's own default estimator is
:func:`keplersr.study.feynman_study.default_estimator_factory`
(``timeout_in_seconds`` = the budget, ``procs`` = the threads).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from keplersr.study.peers.operators import gplearn_function_set, pyoperon_symbols

__all__ = ["gplearn_factory", "pyoperon_factory", "warm_up_gplearn"]


def pyoperon_factory(equation=None, budget_seconds: float = 60.0, seed: int = 0, threads: int = 1,
                     binary_operators: Sequence[str] = ("+", "-", "*", "/"),
                     unary_operators: Sequence[str] = ()):
    """The study's :class:`pyoperon.sklearn.SymbolicRegressor` (see the module docstring)."""
    from pyoperon.sklearn import SymbolicRegressor

    return SymbolicRegressor(
        allowed_symbols=pyoperon_symbols(binary_operators, unary_operators),
        objectives=["r2", "length"],
        optimizer_iterations=10,
        model_selection_criterion="bayesian_information_criterion",
        max_time=max(1, int(round(budget_seconds))),
        generations=10**9,
        max_evaluations=10**15,
        n_threads=int(threads),
        random_state=int(seed),
    )


def gplearn_factory(equation=None, budget_seconds: float = 60.0, seed: int = 0, threads: int = 1,
                    binary_operators: Sequence[str] = ("+", "-", "*", "/"),
                    unary_operators: Sequence[str] = ()):
    """The study's :class:`gplearn.genetic.SymbolicRegressor` (one generation per ``fit``; see the module docstring)."""
    from gplearn.genetic import SymbolicRegressor

    return SymbolicRegressor(
        function_set=gplearn_function_set(binary_operators, unary_operators),
        population_size=1000,
        generations=1,
        warm_start=True,
        low_memory=True,
        n_jobs=int(threads),
        random_state=int(seed),
    )


def warm_up_gplearn(threads: int) -> None:
    """Start gplearn's joblib worker processes once (a tiny fit), so the first equation is not charged for it.

    joblib keeps the pool for the next fits with the same ``n_jobs`` (it
    shuts idle workers down after minutes, far longer than one budget).
    """
    if int(threads) <= 1:
        return
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, (20, 2))
    est = gplearn_factory(budget_seconds=1.0, seed=0, threads=threads, unary_operators=("exp",))
    est.set_params(population_size=2 * int(threads))
    est.fit(X, X[:, 0] * X[:, 1])
