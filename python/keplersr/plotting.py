"""Matplotlib figures for a symbolic-regression run.

* :func:`plot_pareto_front` - loss versus complexity of the hall of fame.
* :func:`plot_predictions` - predicted versus true target.
* :func:`plot_progress` - best loss over time / iterations.

Every function draws on ``ax`` if given, otherwise on a new
:class:`matplotlib.figure.Figure` created without ``pyplot`` (no global state,
works with the headless Agg backend), returns the Figure, and saves it to
``path`` when one is given.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["plot_pareto_front", "plot_predictions", "plot_progress"]

PathLike = Union[str, "os.PathLike[str]"]


def _figure_and_axes(ax, figsize: Tuple[float, float]):
    """Return (figure, axes): ``ax``'s figure, or a fresh pyplot-free Figure."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _finish(fig, path: Optional[PathLike]):
    if path is not None:
        fig.savefig(os.fspath(path), dpi=120)
    return fig


def _shorten(text: str, width: int = 60) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _set_loss_scale(ax, values: np.ndarray) -> None:
    """Log scale for positive losses, symlog when a loss is zero or negative."""
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite > 0):
        ax.set_yscale("log")
    elif finite.size and np.any(finite > 0):
        ax.set_yscale("symlog", linthresh=float(np.min(finite[finite > 0])))


def plot_pareto_front(
    equations,
    ax=None,
    highlight: Optional[Any] = None,
    path: Optional[PathLike] = None,
):
    """Plot loss versus complexity of the hall of fame.

    Parameters
    ----------
    equations
        DataFrame with at least ``complexity`` and ``loss`` columns
        (``score`` and ``equation`` are used when present).
    ax
        Matplotlib Axes to draw on; a new Figure is made if ``None``.
    highlight
        Index label of the row to mark as the selected equation.  ``None``
        marks the row with the highest ``score`` (lowest ``loss`` if there is
        no score column).
    path
        Save the figure there (format from the extension) when given.

    The Pareto front is drawn as a step line (best loss reachable at each
    complexity), the individual equations as points, loss on a log axis.
    Returns the Figure.
    """
    missing = [c for c in ("complexity", "loss") if c not in getattr(equations, "columns", ())]
    if missing:
        raise ValueError(f"equations must be a DataFrame with columns {missing}; got {list(getattr(equations, 'columns', []))}")
    if len(equations) == 0:
        raise ValueError("equations is empty: nothing to plot")
    eq = equations.sort_values("complexity")
    cx = eq["complexity"].to_numpy(dtype=float)
    loss = eq["loss"].to_numpy(dtype=float)

    if highlight is None:
        if "score" in eq.columns and np.any(np.isfinite(eq["score"].to_numpy(dtype=float))):
            highlight = eq["score"].astype(float).idxmax()
        else:
            highlight = eq["loss"].astype(float).idxmin()
    elif highlight not in eq.index:
        raise ValueError(f"highlight={highlight!r} is not an index label of equations (labels: {list(eq.index)})")

    fig, ax = _figure_and_axes(ax, (6.0, 4.0))
    front = np.minimum.accumulate(np.where(np.isfinite(loss), loss, np.inf))
    ok = np.isfinite(front)
    ax.step(cx[ok], front[ok], where="post", color="0.5", lw=1.2, label="Pareto front")
    ax.plot(cx, loss, "o", color="tab:blue", ms=5, label="equations")
    row = eq.loc[highlight]
    label = "selected"
    if "equation" in eq.columns:
        label += f": {_shorten(row['equation'])}"
    ax.plot([float(row["complexity"])], [float(row["loss"])], "*", color="tab:red", ms=14, label=label)
    _set_loss_scale(ax, loss)
    ax.set_xlabel("complexity")
    ax.set_ylabel("loss")
    ax.set_title("Hall of fame: loss vs complexity")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    return _finish(fig, path)


def plot_predictions(y_true, y_pred, ax=None, path: Optional[PathLike] = None):
    """Scatter predicted against true target values with the identity line.

    Non-finite predictions are left out (their count is shown); the title
    gives R^2 and RMSE over the finite points.  Returns the Figure.
    """
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("y_true is empty: nothing to plot")
    ok = np.isfinite(y_true) & np.isfinite(y_pred)
    fig, ax = _figure_and_axes(ax, (4.5, 4.5))
    t, p = y_true[ok], y_pred[ok]
    ax.plot(t, p, ".", color="tab:blue", alpha=0.7, label="data")
    title = "Predictions"
    if t.size:
        lo = float(min(t.min(), p.min()))
        hi = float(max(t.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], "--", color="tab:red", lw=1.0, label="y = x")
        rmse = float(np.sqrt(np.mean((p - t) ** 2)))
        ss_tot = float(np.sum((t - t.mean()) ** 2))
        r2 = 1.0 - float(np.sum((p - t) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
        title += f": $R^2$ = {r2:.4g}, RMSE = {rmse:.3g}"
    n_bad = int(np.sum(~ok))
    if n_bad:
        title += f" ({n_bad} non-finite omitted)"
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _finish(fig, path)


_X_KEYS = ("time", "elapsed", "iteration", "cycle", "step")
_Y_KEYS = ("best_loss", "loss", "min_loss")


def _pick_key(history: List[Dict[str, Any]], key: Optional[str], candidates: Sequence[str], what: str) -> str:
    if key is not None:
        absent = [i for i, h in enumerate(history) if key not in h]
        if absent:
            raise ValueError(f"history entries {absent[:5]} have no key {key!r} ({what})")
        return key
    for k in candidates:
        if all(k in h for h in history):
            return k
    raise ValueError(
        f"cannot find the {what} in history: entries need one of the keys {list(candidates)} "
        f"(found keys {sorted(history[0])}); pass it explicitly"
    )


def plot_progress(
    history: List[Dict[str, Any]],
    ax=None,
    path: Optional[PathLike] = None,
    x: Optional[str] = None,
    y: Optional[str] = None,
):
    """Plot the best loss found so far against time or iteration.

    ``history`` is a list of dicts, one per progress report.  The x key is
    ``x`` or the first of ``time``, ``elapsed``, ``iteration``, ``cycle``,
    ``step`` present in every entry; the y key is ``y`` or the first of
    ``best_loss``, ``loss``, ``min_loss``.  The running minimum of y is drawn
    as a step line on a log axis.  Returns the Figure.
    """
    history = list(history)
    if not history:
        raise ValueError("history is empty: nothing to plot")
    if not all(isinstance(h, dict) for h in history):
        raise ValueError("history must be a list of dicts")
    xk = _pick_key(history, x, _X_KEYS, "x axis")
    yk = _pick_key(history, y, _Y_KEYS, "loss")
    xs = np.array([float(h[xk]) for h in history])
    ys = np.array([float(h[yk]) for h in history])
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    best = np.minimum.accumulate(np.where(np.isfinite(ys), ys, np.inf))
    ok = np.isfinite(best)

    fig, ax = _figure_and_axes(ax, (6.0, 4.0))
    ax.step(xs[ok], best[ok], where="post", color="tab:blue", lw=1.5, label=f"best {yk}")
    ax.plot(xs[np.isfinite(ys)], ys[np.isfinite(ys)], ".", color="0.5", ms=4, label=f"reported {yk}")
    _set_loss_scale(ax, ys)
    ax.set_xlabel("time [s]" if xk in ("time", "elapsed") else xk)
    ax.set_ylabel(yk)
    ax.set_title("Search progress")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _finish(fig, path)
