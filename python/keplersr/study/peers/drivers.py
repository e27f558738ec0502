"""One driver per method: fit an estimator within the budget and report an :class:`Outcome`.

A driver takes a fitted-on-demand estimator (the settings of the default ones:
:mod:`keplersr.study.peers.factories`) and reads what the user gets:

``keplersr``
    Selected formula: ``model.sympy()``; front: ``equations_``; time to
    recovery from the ``history_`` snapshots; candidates = the engine's
    ``evals``.
``pyoperon``
    Selected formula: ``get_model_string(model_)`` parsed to sympy
    (:func:`keplersr.study.peers.formulas.parse_operon_model`); front:
    ``pareto_front_``. pyoperon reports no intermediate results: its time to
    recovery is the fit's wall time. Candidates: ``stats_["evaluation_count"]``
    when non-zero (it is zero for multi-objective runs), else
    ``population_size + generations * pool_size``. The 0.6.2 wheel computes
    in float32 and its ``fit`` fails on float64 or read-only ``y``: it gets
    writable copies of the data in its own float type.
``gplearn``
    It has no time limit: the driver fits with ``warm_start=True``, one more
    generation per ``fit`` call, until the budget is spent or gplearn's own
    stopping criterion is met. The budget is rounded to the nearest whole
    generation (another generation starts only if less than half of it, at
    the last generation's pace, would fall past the budget), so a run may end
    up to half a generation early or late. Selected formula (= its whole
    "front"): ``_program`` converted to sympy
    (:func:`keplersr.study.peers.formulas.gplearn_to_sympy`); time to
    recovery from the per-generation best program; candidates =
    population_size x generations.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd
import sympy

from keplersr.study.peers.formulas import gplearn_to_sympy, parse_operon_model

__all__ = ["DRIVERS", "Outcome", "record_expr"]


@dataclass
class Outcome:
    """What a driver reports after one fit.

    ``selected`` is the formula the user gets (``None`` if it could not be
    converted; ``selected_text`` then says what it was). ``front`` holds
    ``(complexity, expr, text)`` for every formula of the final front.
    ``history`` holds ``(elapsed_s, [expr, ...])`` snapshots in time order
    (empty: no intermediate results; ``history_source`` says what they are).
    ``n_candidates`` candidates were evaluated in ``candidates_time_s``
    seconds (``candidates_source`` says how they were counted). ``predict``
    evaluates the selected model on a DataFrame (``None``: use ``selected``).
    """

    selected: Optional[sympy.Expr]
    selected_text: str
    selected_complexity: float = float("nan")
    front: List[Tuple[float, Optional[sympy.Expr], str]] = field(default_factory=list)
    history: List[Tuple[float, List[sympy.Expr]]] = field(default_factory=list)
    history_source: str = ""
    n_candidates: float = float("nan")
    candidates_time_s: float = float("nan")
    candidates_source: str = ""
    predict: Optional[Callable[[pd.DataFrame], np.ndarray]] = None
    units_passed: bool = False


def record_expr(record, names: Dict[str, sympy.Symbol]) -> Optional[sympy.Expr]:
    """The sympy expression of an ``equations_`` row or history record (None if unusable)."""
    expr = record.get("sympy_format") if hasattr(record, "get") else None
    if expr is not None and not (isinstance(expr, float) and math.isnan(expr)):
        return sympy.sympify(expr)
    text = record.get("equation") if hasattr(record, "get") else None
    if isinstance(text, str) and text:
        try:
            return sympy.sympify(text, locals=dict(names))
        except (sympy.SympifyError, SyntaxError, TypeError):
            return None
    return None


def _symbols_for(X: pd.DataFrame, names: Dict[str, sympy.Symbol]) -> List[sympy.Symbol]:
    return [names.get(c, sympy.Symbol(str(c), real=True)) for c in X.columns]


def _run_keplersr(estimator, X, y, budget_seconds, names, fit_kwargs) -> Outcome:
    estimator.fit(X, y, **fit_kwargs)
    front_df = getattr(estimator, "equations_", None)
    if front_df is None or len(front_df) == 0:
        raise RuntimeError("the estimator produced no equations (equations_ is empty)")
    front = []
    for _, rec in front_df.sort_values("complexity", kind="stable").iterrows():
        expr = record_expr(rec, names)
        text = str(expr if expr is not None else rec.get("equation"))
        front.append((float(rec.get("complexity", np.nan)), expr, text))
    # the selected formula: the estimator's own choice
    if callable(getattr(estimator, "sympy", None)):
        row = estimator.get_best() if callable(getattr(estimator, "get_best", None)) else None
        selected = sympy.sympify(estimator.sympy())
        complexity = float(row["complexity"]) if row is not None else float("nan")
    else:  # a stand-in without accessors: apply KeplerSR's selection rule to equations_
        from keplersr.model_selection import select_index

        rule = getattr(estimator, "model_selection", "best")
        table = front_df if "score" in front_df.columns else front_df.assign(score=0.0)
        row = table.loc[select_index(table, rule)]
        selected, complexity = record_expr(row, names), float(row.get("complexity", np.nan))
    history = []
    n_cand = t_cand = float("nan")
    for snap in sorted((h for h in (getattr(estimator, "history_", None) or [])
                        if isinstance(h, dict) and "elapsed" in h), key=lambda h: float(h["elapsed"])):
        recs = sorted(snap.get("records") or [], key=lambda r: r.get("complexity", 0))
        exprs = [e for e in (record_expr(r, names) for r in recs) if e is not None]
        history.append((float(snap["elapsed"]), exprs))
        if snap.get("evals") is not None:
            n_cand, t_cand = float(snap["evals"]), float(snap["elapsed"])
    predict = estimator.predict if callable(getattr(estimator, "predict", None)) else None
    return Outcome(
        selected=selected, selected_text=str(selected), selected_complexity=complexity, front=front,
        history=history, history_source="history" if history else "", n_candidates=n_cand,
        candidates_time_s=t_cand, candidates_source="engine evals" if np.isfinite(n_cand) else "",
        predict=predict, units_passed=bool(fit_kwargs),
    )


def _operon_dtype():
    """The float type pyoperon computes in (its ``Dataset`` values)."""
    try:
        import pyoperon

        return np.dtype(np.asarray(pyoperon.Dataset(np.zeros((2, 2), order="F")).Values).dtype)
    except Exception:  # noqa: BLE001 - a stand-in estimator without the package
        return np.dtype(np.float64)


def _run_pyoperon(estimator, X, y, budget_seconds, names, fit_kwargs) -> Outcome:
    symbols = _symbols_for(X, names)
    placeholders = [f"x{i}" for i in range(len(symbols))]
    # pyoperon's fit needs writable arrays of its own float type (float32 in the 0.6.2 wheel)
    dtype = _operon_dtype()
    Xa = np.array(X, dtype=dtype, order="C", copy=True)
    ya = np.array(y, dtype=dtype, copy=True)
    t0 = time.perf_counter()
    estimator.fit(Xa, ya)
    elapsed = time.perf_counter() - t0

    def convert(tree):
        text = estimator.get_model_string(tree, 12, names=placeholders)
        try:
            return parse_operon_model(text, symbols), text
        except (SyntaxError, TypeError, ValueError, sympy.SympifyError):
            return None, text

    front = []
    for sol in getattr(estimator, "pareto_front_", None) or []:
        expr, text = convert(sol["tree"])
        front.append((float(sol.get("length", np.nan)), expr, str(expr) if expr is not None else text))
    front.sort(key=lambda f: f[0])
    selected, text = convert(estimator.model_)
    stats = getattr(estimator, "stats_", {}) or {}
    n_eval = float(stats.get("evaluation_count", 0) or 0)
    source = "evaluation_count"
    if n_eval <= 0:
        pool = estimator.pool_size or estimator.population_size
        n_eval = float(estimator.population_size + int(stats.get("generations", 0)) * pool)
        source = "population_size + generations x pool_size"

    def predict(Xt):
        return np.asarray(estimator.predict(np.array(Xt, dtype=dtype, copy=True)), dtype=float)

    return Outcome(
        selected=selected, selected_text=str(selected) if selected is not None else text,
        selected_complexity=float(stats.get("model_length", np.nan)), front=front,
        n_candidates=n_eval, candidates_time_s=elapsed, candidates_source=source, predict=predict,
    )


def _run_gplearn(estimator, X, y, budget_seconds, names, fit_kwargs) -> Outcome:
    symbols = _symbols_for(X, names)
    Xa = np.array(X, dtype=float)
    ya = np.asarray(y, dtype=float)
    cache: Dict[str, Optional[sympy.Expr]] = {}

    def convert(program):
        key = str(program)
        if key not in cache:
            try:
                cache[key] = gplearn_to_sympy(program, symbols)
            except (ValueError, IndexError):
                cache[key] = None
        return cache[key], key

    history = []
    estimator.set_params(warm_start=True)
    t0 = time.perf_counter()
    generations = 0
    while True:
        generations += 1
        estimator.set_params(generations=generations)
        t_gen = time.perf_counter()
        estimator.fit(Xa, ya)
        elapsed = time.perf_counter() - t0
        expr, _ = convert(estimator._program)
        history.append((elapsed, [expr] if expr is not None else []))
        # the budget in whole generations, rounded to the nearest: start another one only if
        # (at the last generation's pace) less than half of it would fall past the budget
        if elapsed + 0.5 * (time.perf_counter() - t_gen) >= budget_seconds:
            break
        best = estimator.run_details_["best_fitness"][-1]
        if estimator._metric.greater_is_better:
            if best >= estimator.stopping_criteria:
                break
        elif best <= estimator.stopping_criteria:
            break
    selected, text = convert(estimator._program)
    complexity = float(estimator._program.length_)

    def predict(Xt):
        return np.asarray(estimator.predict(np.array(Xt, dtype=float)), dtype=float)

    return Outcome(
        selected=selected, selected_text=str(selected) if selected is not None else text,
        selected_complexity=complexity, front=[(complexity, selected, str(selected) if selected is not None else text)],
        history=history, history_source="generations",
        n_candidates=float(estimator.population_size * generations), candidates_time_s=elapsed,
        candidates_source="population_size x generations", predict=predict,
    )


#: method -> driver ``(estimator, X, y, budget_seconds, names, fit_kwargs) -> Outcome``.
DRIVERS = {"keplersr": _run_keplersr, "pyoperon": _run_pyoperon, "gplearn": _run_gplearn}
