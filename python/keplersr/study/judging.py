"""Judging one fit of the comparison study: the selected formula, the front, time, R^2, candidates/s.

:func:`judge_outcome` turns a driver's :class:`keplersr.study.peers.Outcome`
into the result columns of one (equation, method) row, with SRBench's rule
(:func:`keplersr.study.srbench_judge.judge`) memoised per formula.
"""

from __future__ import annotations

import math
from typing import Dict

import numpy as np
import pandas as pd
import sympy

from keplersr.study.srbench_judge import judge, r2_score
from keplersr.datasets.feynman import FeynmanEquation

__all__ = ["judge_outcome", "predict_formula", "positive_domain", "recovered_on_positive_domain"]


def predict_formula(expr: sympy.Expr, X: pd.DataFrame) -> np.ndarray:
    """``expr`` evaluated on the columns of ``X`` named like its symbols (complex results become NaN)."""
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    unknown = [s.name for s in syms if s.name not in X.columns]
    if unknown:
        raise ValueError(f"formula {expr} uses unknown variable(s) {unknown}")
    fn = sympy.lambdify(syms, expr, modules="numpy")
    with np.errstate(all="ignore"):
        out = fn(*[np.asarray(X[s.name], dtype=float) for s in syms])
    out = np.asarray(out)
    if np.iscomplexobj(out):
        out = np.where(np.abs(out.imag) > 0, np.nan, out.real)
    return np.broadcast_to(out.astype(float), (len(X),))


class _JudgeCache:
    """Memoises SRBench verdicts per formula for one equation."""

    def __init__(self, eq: FeynmanEquation, timeout: float):
        self.eq = eq
        self.timeout = timeout
        self.cache: Dict[str, object] = {}

    def __call__(self, expr: sympy.Expr):
        key = sympy.srepr(expr)
        if key not in self.cache:
            self.cache[key] = judge(self.eq.expr, expr, timeout=self.timeout, domains=self.eq.ranges)
        return self.cache[key]


def positive_domain(eq: FeynmanEquation) -> bool:
    """Whether every variable of ``eq`` is sampled from a positive range (the positive-domain verdict applies)."""
    return bool(eq.ranges) and all(lo > 0 for lo, _ in eq.ranges.values())


def recovered_on_positive_domain(eq: FeynmanEquation, formula, timeout: float, strict: bool = False) -> bool:
    """The positive-domain verdict on one formula (a sympy expression or its text): SRBench's rule with
    positive symbols, for an equation whose variables are all sampled positive; ``strict``: the
    real-symbol verdict, which implies it."""
    if strict:
        return True
    if not positive_domain(eq) or formula is None or (isinstance(formula, str) and not formula.strip()):
        return False
    try:
        return bool(judge(eq.expr, formula, timeout=timeout, domains=eq.ranges, positive=True).recovered)
    except Exception:  # noqa: BLE001 - an unparsable formula is not a recovery
        return False


def judge_outcome(eq: FeynmanEquation, out, X_test: pd.DataFrame, y_test: np.ndarray, fit_time_s: float,
                  judge_timeout: float, reason: str = "") -> dict:
    """The judged columns of one row: ``recovered, recovered_positive, on_front, selected_formula, selected_complexity,
    front_formula, time_to_recovery_s, time_source, r2_heldout, r2_above_0999, n_candidates,
    candidates_per_s, candidates_source, judge_reason`` (``reason`` is prepended to the last).

    ``recovered``: the selected formula passes SRBench's rule; ``recovered_positive``: it passes the
    rule with positive symbols (see :mod:`.srbench_judge`); ``on_front``: it
    or another formula of the final front does. The time to recovery (only
    for recovered equations) is the first history snapshot holding a recovered
    formula, else ``fit_time_s``. R^2: the estimator's own ``predict`` on the
    held-out points if it has one, else the selected formula.
    """
    row = {"recovered": False, "time_to_recovery_s": float("nan"), "time_source": "",
           "candidates_per_s": float("nan"), "judge_reason": reason}
    verdict = _JudgeCache(eq, judge_timeout)
    row["selected_formula"] = str(out.selected) if out.selected is not None else out.selected_text
    row["selected_complexity"] = out.selected_complexity
    if out.selected is None:
        row["judge_reason"] += f"selected model not convertible to sympy: {out.selected_text}"
    else:
        res = verdict(out.selected)
        row["recovered"] = bool(res.recovered)
        row["judge_reason"] += "selected: " + res.reason
    row["recovered_positive"] = recovered_on_positive_domain(eq, out.selected, judge_timeout, row["recovered"])
    front_found = None
    if row["recovered"]:
        front_found = row["selected_formula"]
    else:
        for _, expr, _text in out.front:
            if expr is not None and verdict(expr).recovered:
                front_found = str(expr)
                break
        if front_found is not None:
            row["judge_reason"] += f"; on the front: {front_found}"
        else:
            row["judge_reason"] += f"; none of the {len(out.front)} formulas of the front recovered"
    row["on_front"] = front_found is not None
    row["front_formula"] = front_found or ""
    if row["recovered"]:
        elapsed = None
        for t, exprs in out.history:
            if any(verdict(e).recovered for e in exprs):
                elapsed = t
                break
        if elapsed is not None:
            row["time_to_recovery_s"], row["time_source"] = float(elapsed), out.history_source
        else:
            row["time_to_recovery_s"], row["time_source"] = fit_time_s, "fit_wall_time"

    pred, r2 = None, float("nan")
    if out.predict is not None:
        try:
            pred = np.asarray(out.predict(X_test), dtype=float).ravel()
        except Exception as exc:  # noqa: BLE001 - fall back on the sympy form
            row["judge_reason"] += f"; predict failed ({type(exc).__name__}: {exc}), R^2 from the formula"
    try:
        if pred is None and out.selected is not None:
            pred = predict_formula(out.selected, X_test)
        if pred is not None:
            r2 = r2_score(y_test, pred)
    except ValueError as exc:
        r2 = float("-inf")
        row["judge_reason"] += f"; R^2 not computable: {exc}"
    row["r2_heldout"] = r2
    row["r2_above_0999"] = bool(np.isfinite(r2) and r2 > 0.999)
    row["n_candidates"] = out.n_candidates
    if math.isfinite(out.n_candidates) and math.isfinite(out.candidates_time_s) and out.candidates_time_s > 0:
        row["candidates_per_s"] = out.n_candidates / out.candidates_time_s
    row["candidates_source"] = out.candidates_source
    return row
