"""The AI-Feynman recovery study: how many Feynman equations does KeplerSR find, and how fast?

For each selected equation of ``FeynmanEquations.csv``:

1. sample ``n_rows`` training points and ``n_test`` held-out points
   (:func:`keplersr.datasets.feynman.sample`, optional relative noise);
2. fit an estimator with a wall-clock budget (default:
   :class:`keplersr.SymbolicRegressor`; any factory can be passed);
3. judge every formula of the final Pareto front (``equations_``) from the
   simplest to the most complex with SRBench's rule
   (:func:`keplersr.benchmarks.srbench_judge.judge`); the first recovered one
   is the "found formula" (otherwise the lowest-loss formula is reported);
4. time to recovery: the ``elapsed`` of the first snapshot of
   ``estimator.history_`` holding a recovered formula, else the fit's wall
   time (column ``time_source`` says which);
5. R^2 of the found formula on the held-out points.

Rows are appended to ``out_dir/results.csv`` after every equation (atomic
rewrite), so an interrupted study resumes where it stopped (equations already
present with ``status == "ok"`` are skipped; failed ones are retried).
``results.md`` (a Markdown table) and ``recovery_rate_vs_budget.png`` are
rewritten at the end. The column ``aifeynman_time_s`` holds the solve times that
the AI Feynman paper (Udrescu & Tegmark 2020, Table 4) reports for the
equations it lists, for a side-by-side comparison.

Estimator factory
-----------------
``estimator_factory(equation=eq, budget_seconds=b, seed=s)`` must return an
object with ``fit(X: DataFrame, y)`` and, after fitting, ``equations_`` (a
DataFrame with columns ``complexity, loss, equation, sympy_format``) and
optionally ``history_`` (``[{"elapsed": s, "records": [{"complexity", "loss",
"equation", "sympy_format"}, ...]}, ...]``). If ``units_path`` is given and
``fit`` accepts ``X_units``/``y_units`` (or ``**kwargs``), unit strings in
:mod:`keplersr.units` syntax are passed.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
import sympy

from keplersr.benchmarks.srbench_judge import judge, r2_score
from keplersr.datasets.feynman import FeynmanEquation, load_feynman_equations, sample, select

__all__ = ["AIFEYNMAN_TIMES_S", "RESULT_COLUMNS", "default_estimator_factory", "main", "run_study"]

#: Solve times (seconds) published in the AI Feynman paper, keyed by CSV row name
#: (the paper's I.6.20 is row I.6.2 and its I.34.10 is row I.34.1).
AIFEYNMAN_TIMES_S: Dict[str, float] = {
    "I.6.2": 2992.0,
    "I.9.18": 5975.0,
    "I.10.7": 14.0,
    "I.11.19": 184.0,
    "I.34.1": 13.0,
    "I.34.27": 8.0,
    "I.40.1": 20.0,
}

RESULT_COLUMNS: List[str] = [
    "name",
    "number",
    "n_variables",
    "true_formula",
    "status",
    "recovered",
    "found_formula",
    "found_complexity",
    "time_to_recovery_s",
    "time_source",
    "fit_time_s",
    "r2_heldout",
    "r2_above_0999",
    "judge_reason",
    "units_passed",
    "aifeynman_time_s",
    "budget_s",
    "noise",
    "seed",
    "n_rows",
]

_CONFIG_COLUMNS = ("budget_s", "noise", "seed", "n_rows")

DEFAULT_UNARY_OPERATORS = ["sin", "cos", "exp", "log", "sqrt", "tanh", "asin"]
DEFAULT_BINARY_OPERATORS = ["+", "-", "*", "/"]


def default_estimator_factory(equation: FeynmanEquation, budget_seconds: float, seed: int):
    """A :class:`keplersr.SymbolicRegressor` that searches until the time budget runs out."""
    from keplersr import SymbolicRegressor  # imported lazily: needs the Julia engine

    return SymbolicRegressor(
        timeout_in_seconds=budget_seconds,
        niterations=10**9,
        binary_operators=list(DEFAULT_BINARY_OPERATORS),
        unary_operators=list(DEFAULT_UNARY_OPERATORS),
        random_state=seed,
        progress=False,
        verbosity=0,
        # noise-free data: an exact formula reaches rounding-level MSE; stop there
        early_stop_condition=1e-24,
        output_directory=None,   # the study's own results.csv is the record
    )


def _fit_accepts_units(estimator) -> bool:
    try:
        params = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False
    if "X_units" in params:
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _as_expr(record, names: Dict[str, sympy.Symbol]) -> Optional[sympy.Expr]:
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


def _predict(expr: sympy.Expr, X: pd.DataFrame) -> np.ndarray:
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
    """Memoises SRBench verdicts per formula string for one equation."""

    def __init__(self, eq: FeynmanEquation, timeout: float):
        self.eq = eq
        self.timeout = timeout
        self.cache: Dict[str, object] = {}

    def __call__(self, expr: sympy.Expr):
        key = sympy.srepr(expr)
        if key not in self.cache:
            self.cache[key] = judge(self.eq.expr, expr, timeout=self.timeout, domains=self.eq.ranges)
        return self.cache[key]


def _time_from_history(history, eq: FeynmanEquation, verdict: _JudgeCache) -> Optional[float]:
    snapshots = sorted(
        (h for h in history if isinstance(h, dict) and "elapsed" in h),
        key=lambda h: float(h["elapsed"]),
    )
    for snap in snapshots:
        records = sorted(snap.get("records") or [], key=lambda r: r.get("complexity", 0))
        for rec in records:
            expr = _as_expr(rec, eq.symbols)
            if expr is not None and verdict(expr).recovered:
                return float(snap["elapsed"])
    return None


def _run_one(
    eq: FeynmanEquation,
    factory: Callable,
    budget_seconds: float,
    n_rows: int,
    n_test: int,
    noise: float,
    seed: int,
    units: Optional[dict],
    judge_timeout: float,
) -> dict:
    row = {
        "name": eq.name,
        "number": eq.number,
        "n_variables": eq.n_variables,
        "true_formula": eq.formula,
        "status": "ok",
        "recovered": False,
        "found_formula": "",
        "found_complexity": np.nan,
        "time_to_recovery_s": np.nan,
        "time_source": "",
        "fit_time_s": np.nan,
        "r2_heldout": np.nan,
        "r2_above_0999": False,
        "judge_reason": "",
        "units_passed": False,
        "aifeynman_time_s": AIFEYNMAN_TIMES_S.get(eq.name, np.nan),
        "budget_s": float(budget_seconds),
        "noise": float(noise),
        "seed": int(seed),
        "n_rows": int(n_rows),
    }
    data_seed = int(seed) * 100_003 + 2 * int(eq.number)
    X, y = sample(eq, n_rows, seed=data_seed, noise=noise)
    X_test, y_test = sample(eq, n_test, seed=data_seed + 1, noise=0.0)

    estimator = factory(equation=eq, budget_seconds=budget_seconds, seed=seed)
    fit_kwargs = {}
    if units is not None:
        from keplersr.units import dimensions_for

        try:
            x_units, y_units = dimensions_for(eq, units).unit_strings()
        except ValueError as exc:
            row["judge_reason"] = f"units not passed: {exc}; "
        else:
            if _fit_accepts_units(estimator):
                fit_kwargs = {"X_units": x_units, "y_units": y_units}
                row["units_passed"] = True
    t0 = time.perf_counter()
    estimator.fit(X, y, **fit_kwargs)
    row["fit_time_s"] = time.perf_counter() - t0

    front = getattr(estimator, "equations_", None)
    if front is None or len(front) == 0:
        raise RuntimeError("the estimator produced no equations (equations_ is empty)")
    front = front.sort_values("complexity", kind="stable").reset_index(drop=True)
    verdict = _JudgeCache(eq, judge_timeout)
    found = None
    reasons = []
    for _, rec in front.iterrows():
        expr = _as_expr(rec, eq.symbols)
        if expr is None:
            continue
        result = verdict(expr)
        if result.recovered:
            found = (rec, expr, result)
            break
        reasons.append(result.reason)
    if found is None:
        best = front.loc[front["loss"].astype(float).idxmin()]
        expr = _as_expr(best, eq.symbols)
        row["judge_reason"] += f"no formula of {len(front)} recovered" + (
            f" (most complex: {reasons[-1]})" if reasons else ""
        )
        chosen = (best, expr)
    else:
        rec, expr, result = found
        row["recovered"] = True
        row["judge_reason"] += result.reason
        chosen = (rec, expr)
        history = getattr(estimator, "history_", None)
        elapsed = _time_from_history(history, eq, verdict) if history else None
        if elapsed is not None:
            row["time_to_recovery_s"], row["time_source"] = elapsed, "history"
        else:
            row["time_to_recovery_s"], row["time_source"] = row["fit_time_s"], "fit_wall_time"
    rec, expr = chosen
    row["found_formula"] = str(expr) if expr is not None else str(rec.get("equation", ""))
    row["found_complexity"] = rec.get("complexity", np.nan)
    if expr is not None:
        try:
            r2 = r2_score(y_test, _predict(expr, X_test))
        except ValueError as exc:
            r2 = float("-inf")
            row["judge_reason"] += f"; R^2 not computable: {exc}"
        row["r2_heldout"] = r2
        row["r2_above_0999"] = bool(np.isfinite(r2) and r2 > 0.999)
    return row


def _read_results(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=RESULT_COLUMNS)
    frame = pd.read_csv(path, keep_default_na=True)
    for col in RESULT_COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan
    for col in ("recovered", "r2_above_0999", "units_passed"):
        frame[col] = frame[col].map(lambda v: str(v).strip().lower() == "true")
    frame["found_formula"] = frame["found_formula"].fillna("").astype(str)
    frame["judge_reason"] = frame["judge_reason"].fillna("").astype(str)
    frame["time_source"] = frame["time_source"].fillna("").astype(str)
    return frame[RESULT_COLUMNS]


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _fmt_num(v, digits=1) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-" if v is None or math.isnan(v) else str(v)
    return f"{v:.{digits}f}"


def write_markdown(frame: pd.DataFrame, path: Path) -> None:
    """Write the results table as Markdown (one row per equation plus a summary)."""
    n = len(frame)
    ok = frame[frame["status"] == "ok"]
    n_rec = int(frame["recovered"].sum())
    n_r2 = int(frame["r2_above_0999"].sum())
    lines = ["# AI-Feynman recovery study", ""]
    if n:
        cfg = frame.iloc[0]
        lines.append(
            f"Budget {_fmt_num(float(cfg['budget_s']), 0)} s per equation, noise {float(cfg['noise']):g} x RMS(y), "
            f"{int(cfg['n_rows'])} training rows, seed {int(cfg['seed'])}. Recovery by SRBench's rule."
        )
        lines.append("")
    pct = 100.0 * n_rec / n if n else 0.0
    lines.append(
        f"**Recovered {n_rec} of {n} equations ({pct:.0f}%)**; held-out R^2 > 0.999 for {n_r2}; "
        f"{n - len(ok)} failed to run."
    )
    lines.append("")
    lines.append(
        "| Equation | True formula | Recovered | Time to recovery (s) | AI Feynman paper (s) | R^2 held-out | Found formula |"
    )
    lines.append("|---|---|---|---|---|---|---|")

    def code(s):
        return "`" + str(s).replace("|", "\\|").replace("`", "'") + "`" if str(s) else ""

    for _, r in frame.iterrows():
        status = "yes" if r["recovered"] else ("no" if r["status"] == "ok" else f"error: {r['status']}")
        lines.append(
            f"| {r['name']} | {code(r['true_formula'])} | {status} | {_fmt_num(_float(r['time_to_recovery_s']), 2)} | "
            f"{_fmt_num(_float(r['aifeynman_time_s']), 0)} | {_fmt_num(_float(r['r2_heldout']), 6)} | "
            f"{code(r['found_formula'])} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def plot_recovery(frame: pd.DataFrame, path: Path, budget_seconds: float) -> None:
    """Fraction of equations recovered within a time t, for t up to the budget (log x axis).

    If the study includes equations with published AI Feynman times, the same
    curve is also drawn for that subset, for KeplerSR and for the paper.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(frame)
    times = frame.loc[frame["recovered"], "time_to_recovery_s"].astype(float).to_numpy()
    paper = frame["aifeynman_time_s"].astype(float)
    subset = frame[paper.notna()]
    t_max = max(float(budget_seconds), float(np.nanmax(paper)) if paper.notna().any() else 0.0)
    t_min = 1e-2
    if times.size:
        t_min = max(1e-3, min(t_min, float(np.min(times[times > 0])) / 2 if np.any(times > 0) else t_min))
    grid = np.geomspace(t_min, t_max * 1.05, 400)

    # KeplerSR ran only up to its budget (or its slowest recorded fit): do not extrapolate.
    fit_times = frame["fit_time_s"].astype(float).dropna()
    t_run = max(float(budget_seconds), float(fit_times.max()) if len(fit_times) else 0.0)
    run_grid = grid[grid <= t_run]

    def curve(ts, total, g):
        ts = np.sort(np.asarray(ts, dtype=float))
        return np.searchsorted(ts, g, side="right") / total if total else np.zeros_like(g)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.step(run_grid, curve(times, n, run_grid), where="post", lw=2, label=f"KeplerSR, all {n} equations")
    if len(subset):
        sub_times = subset.loc[subset["recovered"], "time_to_recovery_s"].astype(float)
        ax.step(run_grid, curve(sub_times, len(subset), run_grid), where="post", ls="--",
                label=f"KeplerSR, {len(subset)} equations timed in the AI Feynman paper")
        ax.step(grid, curve(subset["aifeynman_time_s"].astype(float), len(subset), grid), where="post", ls=":",
                label="AI Feynman (paper times), same equations")
    ax.axvline(budget_seconds, color="grey", lw=0.8)
    ax.text(budget_seconds, 1.02, " budget", color="grey", va="bottom", fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("time budget per equation (s)")
    ax.set_ylabel("fraction recovered (SRBench rule)")
    ax.set_title("AI-Feynman benchmark: recovery rate vs time budget")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_study(
    csv_path,
    out_dir,
    names: Optional[Sequence] = None,
    budget_seconds: float = 60,
    n_rows: int = 1000,
    noise: float = 0.0,
    seed: int = 0,
    units_path=None,
    estimator_factory: Optional[Callable] = None,
    resume: bool = True,
    n_test: int = 1000,
    judge_timeout: float = 30.0,
    log: Optional[Callable[[str], None]] = None,
) -> pd.DataFrame:
    """Run (or resume) the recovery study and return the results table.

    ``names`` selects equations by name or number (default: all of them).
    ``resume=False`` discards an existing ``results.csv``; with ``resume=True``
    the existing rows must have the same budget/noise/seed/n_rows (else
    ``ValueError``). An estimator error is recorded in ``status`` and the study
    goes on. Returns every row of ``results.csv`` (in file order).
    """
    if budget_seconds <= 0:
        raise ValueError(f"budget_seconds must be > 0, got {budget_seconds}")
    if n_rows < 2 or n_test < 2:
        raise ValueError(f"n_rows and n_test must be >= 2, got {n_rows}, {n_test}")
    equations = load_feynman_equations(csv_path)
    if names is not None:
        equations = select(equations, names)
    units = None
    if units_path is not None:
        from keplersr.units import load_feynman_units

        units = load_feynman_units(units_path)
    factory = estimator_factory or default_estimator_factory
    log = log or (lambda msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.csv"
    if not resume and results_path.exists():
        results_path.unlink()
    results = _read_results(results_path)
    config = {"budget_s": float(budget_seconds), "noise": float(noise), "seed": int(seed), "n_rows": int(n_rows)}
    for col in _CONFIG_COLUMNS:
        if len(results):
            old = results[col].astype(float)
            if not np.allclose(old, config[col]):
                raise ValueError(
                    f"{results_path} holds results made with {col}={old.iloc[0]:g}, not {config[col]:g}; "
                    "use another out_dir or resume=False"
                )
    done = set(results.loc[results["status"] == "ok", "name"].astype(str))
    for i, eq in enumerate(equations, 1):
        if eq.name in done:
            log(f"[{i}/{len(equations)}] {eq.name}: already in {results_path.name}, skipped")
            continue
        try:
            row = _run_one(eq, factory, budget_seconds, n_rows, n_test, noise, seed, units, judge_timeout)
        except Exception as exc:  # noqa: BLE001 - one failing equation must not end the study
            row = {c: np.nan for c in RESULT_COLUMNS}
            row.update(
                name=eq.name, number=eq.number, n_variables=eq.n_variables, true_formula=eq.formula,
                status=f"{type(exc).__name__}: {exc}", recovered=False, r2_above_0999=False,
                units_passed=False, found_formula="", judge_reason="", time_source="",
                aifeynman_time_s=AIFEYNMAN_TIMES_S.get(eq.name, np.nan), **config,
            )
        results = results[results["name"].astype(str) != eq.name]
        results = pd.concat([results, pd.DataFrame([row], columns=RESULT_COLUMNS)], ignore_index=True)
        _write_atomic(results, results_path)
        log(
            f"[{i}/{len(equations)}] {eq.name}: "
            + (
                "recovered " + str(row["found_formula"])
                if row["recovered"]
                else ("not recovered" if row["status"] == "ok" else f"failed: {row['status']}")
            )
        )
    results = _read_results(results_path)
    write_markdown(results, out / "results.md")
    plot_recovery(results, out / "recovery_rate_vs_budget.png", budget_seconds)
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    """CLI entry point for ``keplersr bench feynman`` (``argv`` excludes ``bench feynman``)."""
    parser = argparse.ArgumentParser(
        prog="keplersr bench feynman",
        description="Run the AI-Feynman recovery study (SRBench criterion) on a local FeynmanEquations.csv.",
    )
    parser.add_argument("--csv", required=True, help="path to FeynmanEquations.csv")
    parser.add_argument("--out", required=True, help="output directory (results.csv, results.md, PNG)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per equation (default 60)")
    parser.add_argument("--noise", type=float, default=0.0, help="Gaussian noise, fraction of RMS(y)")
    parser.add_argument("--names", default=None, help="comma-separated names or numbers, e.g. I.6.2a,I.12.1")
    parser.add_argument("--rows", type=int, default=1000, help="training rows per equation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--units", default=None, help="path to units.csv: pass X_units/y_units to fit")
    parser.add_argument("--judge-timeout", type=float, default=30.0, help="seconds per sympy simplify check")
    parser.add_argument("--no-resume", action="store_true", help="discard an existing results.csv")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.names.split(",") if s.strip()] if args.names else None
    try:
        frame = run_study(
            args.csv, args.out, names=names, budget_seconds=args.budget, n_rows=args.rows,
            noise=args.noise, seed=args.seed, units_path=args.units, resume=not args.no_resume,
            judge_timeout=args.judge_timeout, log=lambda m: print(m, flush=True),
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n_rec = int(frame["recovered"].sum())
    print(f"recovered {n_rec} of {len(frame)}; results in {Path(args.out) / 'results.md'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
