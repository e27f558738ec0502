"""The comparison study's report: the summary table, results.md and the recovery plot.

Input is the study's results table (one row per equation and method, columns
of :data:`keplersr.study.results.RESULT_COLUMNS`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import pandas as pd

__all__ = ["plot_recovery", "summary_table", "write_markdown"]

_TIME_SOURCES = {
    "history": "first progress snapshot whose front holds a recovered formula",
    "generations": "first generation whose best program is recovered",
    "fit_wall_time": "the fit's wall time (no intermediate results)",
}


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _fmt_num(v, digits=1) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-" if v is None or math.isnan(v) else str(v)
    return f"{v:.{digits}f}"


def _fmt_rate(v) -> str:
    if not math.isfinite(v):
        return "-"
    return f"{v:.3g}" if v < 1e4 else f"{v:,.0f}"


def _methods(frame: pd.DataFrame, methods: Optional[Sequence[str]] = None) -> List[str]:
    present = list(dict.fromkeys(frame["method"].astype(str)))
    if methods is None:
        return present
    return [m for m in methods if m in present] + [m for m in present if m not in methods]


def summary_table(frame: pd.DataFrame, methods: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """One row per method: counts and medians over that method's equations.

    Columns: ``method, n, recovered, recovered_positive, on_front, r2_above_0999, failed,
    median_time_to_recovery_s`` (over recovered equations) and
    ``candidates_per_s`` (median over equations that report it).
    """
    rows = []
    for m in _methods(frame, methods):
        sub = frame[frame["method"].astype(str) == m]
        rec = sub[sub["recovered"].astype(bool)]
        times = rec["time_to_recovery_s"].astype(float).dropna()
        rates = sub["candidates_per_s"].astype(float)
        rates = rates[np.isfinite(rates)]
        rows.append({
            "method": m,
            "n": len(sub),
            "recovered": int(sub["recovered"].astype(bool).sum()),
            "recovered_positive": int(sub["recovered_positive"].fillna(False).astype(bool).sum()),
            "on_front": int(sub["on_front"].astype(bool).sum()),
            "r2_above_0999": int(sub["r2_above_0999"].astype(bool).sum()),
            "failed": int((sub["status"].astype(str) != "ok").sum()),
            "median_time_to_recovery_s": float(times.median()) if len(times) else float("nan"),
            "candidates_per_s": float(rates.median()) if len(rates) else float("nan"),
        })
    return pd.DataFrame(rows, columns=["method", "n", "recovered", "recovered_positive", "on_front",
                                       "r2_above_0999", "failed",
                                       "median_time_to_recovery_s", "candidates_per_s"])


def _count(k: int, n: int) -> str:
    return f"{k} / {n} ({100.0 * k / n:.0f}%)" if n else "0 / 0"


def _code(s) -> str:
    s = str(s)
    return "`" + s.replace("|", "\\|").replace("`", "'") + "`" if s and s != "nan" else ""


def write_markdown(frame: pd.DataFrame, path: Path, methods: Optional[Sequence[str]] = None) -> None:
    """Write results.md: the configuration, ONE summary table (a row per method), the per-equation table."""
    order = _methods(frame, methods)
    lines = ["# AI-Feynman comparison study", ""]
    if len(frame):
        cfg = frame.iloc[0]
        threads = _float(cfg.get("threads"))
        lines.append(
            f"Budget {_fmt_num(_float(cfg['budget_s']), 0)} s of wall time per equation and method, "
            f"{'%d threads, ' % threads if math.isfinite(threads) else ''}"
            f"noise {_float(cfg['noise']):g} x RMS(y), {int(_float(cfg['n_rows']))} training rows, "
            f"seed {int(_float(cfg['seed']))}; every method gets the same rows. "
            "Recovered: the selected formula (the one the user gets) passes SRBench's rule (real symbols); "
            "recovered, positive domain: it passes the same rule with positive symbols, as the variables are "
            "sampled (it accepts sqrt(a)*sqrt(b) for sqrt(a*b), Abs(c) for c); "
            "on the front: some formula of the final front passes SRBench's rule."
        )
        lines.append("")
        lines.append("Operators given to each method (`*`: a custom function through the method's own API):")
        lines.append("")
        for m in order:
            ops = frame.loc[frame["method"].astype(str) == m, "operators"].dropna().astype(str)
            lines.append(f"- {m}: {_code(ops.iloc[0]) if len(ops) else '-'}")
        lines.append("")
    summary = summary_table(frame, order)
    lines.append("| Method | Recovered (selected) | Recovered, positive domain | On the front | "
                 "Held-out R^2 > 0.999 | Median time to recovery (s) | Candidates/s | Failed to run |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for _, s in summary.iterrows():
        lines.append(
            f"| {s['method']} | **{_count(s['recovered'], s['n'])}** | {_count(s['recovered_positive'], s['n'])} | "
            f"{_count(s['on_front'], s['n'])} | "
            f"{_count(s['r2_above_0999'], s['n'])} | {_fmt_num(s['median_time_to_recovery_s'], 2)} | "
            f"{_fmt_rate(s['candidates_per_s'])} | {s['failed']} |"
        )
    lines.append("")
    sources = []
    for m in order:
        srcs = sorted(set(frame.loc[(frame["method"].astype(str) == m) & frame["recovered"].astype(bool),
                                    "time_source"].astype(str)) - {""})
        if srcs:
            sources.append(f"{m}: " + "; ".join(_TIME_SOURCES.get(s, s) for s in srcs))
    if sources:
        lines.append("Time to recovery (median over recovered equations) — " + ". ".join(sources) + ".")
        lines.append("")
    lines.append("| Equation | True formula | AI Feynman paper (s) | Method | Recovered | On front | "
                 "Time to recovery (s) | R^2 held-out | Selected formula |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    rank = {m: i for i, m in enumerate(order)}
    eq_order = list(dict.fromkeys(frame["name"].astype(str)))
    for name in eq_order:
        group = frame[frame["name"].astype(str) == name]
        group = group.iloc[np.argsort([rank.get(str(m), len(rank)) for m in group["method"]], kind="stable")]
        first = True
        for _, r in group.iterrows():
            if r["status"] != "ok":
                status, front = f"error: {r['status']}", ""
            else:
                status = "yes" if r["recovered"] else "no"
                front = "yes" if r["on_front"] else "no"
            head = (f"| {name} | {_code(r['true_formula'])} | {_fmt_num(_float(r['aifeynman_time_s']), 0)} "
                    if first else "| | | ")
            first = False
            lines.append(
                f"{head}| {r['method']} | {status} | {front} | {_fmt_num(_float(r['time_to_recovery_s']), 2)} | "
                f"{_fmt_num(_float(r['r2_heldout']), 6)} | {_code(r['selected_formula'])} |"
            )
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def plot_recovery(frame: pd.DataFrame, path: Path, budget_seconds: float,
                  methods: Optional[Sequence[str]] = None) -> None:
    """Fraction of equations recovered (selected formula) within a time t: one line per method.

    Each method's curve stops at its longest run (never extrapolated), marked
    by a dot; a method whose time is its fit's wall time (pyoperon) jumps there.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = _methods(frame, methods)
    rec_times = frame.loc[frame["recovered"].astype(bool), "time_to_recovery_s"].astype(float).to_numpy()
    fit_times = frame["fit_time_s"].astype(float).dropna()
    t_max = max(float(budget_seconds), float(fit_times.max()) if len(fit_times) else 0.0)
    t_min = float(budget_seconds) / 100
    positive = rec_times[np.isfinite(rec_times) & (rec_times > 0)]
    if positive.size:
        t_min = max(1e-3, min(t_min, float(positive.min()) / 2))
    grid = np.geomspace(t_min, t_max * 1.05, 400)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in order:
        sub = frame[frame["method"].astype(str) == m]
        n = len(sub)
        times = np.sort(sub.loc[sub["recovered"].astype(bool), "time_to_recovery_s"].astype(float).dropna().to_numpy())
        m_fit = sub["fit_time_s"].astype(float).dropna()
        t_run = max(float(budget_seconds), float(m_fit.max()) if len(m_fit) else 0.0)
        g = np.append(grid[grid < t_run], t_run)
        frac = np.searchsorted(times, g, side="right") / n if n else np.zeros_like(g)
        (line,) = ax.step(g, frac, where="post", lw=2,
                          label=f"{m}: {int(sub['recovered'].astype(bool).sum())} / {n}")
        ax.plot([t_run], [frac[-1]], "o", color=line.get_color(), ms=5)  # where the method's runs end
    ax.axvline(budget_seconds, color="grey", lw=0.8)
    ax.text(budget_seconds, 1.02, " budget", color="grey", va="bottom", fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("time per equation (s)")
    ax.set_ylabel("fraction recovered (selected formula, SRBench rule)")
    ax.set_title("AI-Feynman benchmark: recovery rate vs time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
