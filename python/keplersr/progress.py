"""Live progress display: one status line (iteration, evaluations/s, best
loss) and, at higher verbosity, the current Pareto front.

Two flavours, chosen in one place (:func:`make_progress`): in a terminal,
:class:`ProgressPrinter` rewrites one line of stderr; inside a Jupyter
kernel, :class:`NotebookProgress` shows one HTML display that is updated in
place (``IPython.display.display(..., display_id=True)``, then
``handle.update``), no ipywidgets needed."""

from __future__ import annotations

import html
import sys
import time


def in_notebook() -> bool:
    """True inside a Jupyter (IPython) kernel; False in a terminal, plain IPython or a script.

    IPython is never imported here: a kernel has imported it already."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:   # pragma: no cover - a broken IPython install: fall back to the terminal
        return False
    if shell is None:
        return False
    if shell.__class__.__name__ == "ZMQInteractiveShell":
        return True
    try:
        return "IPKernelApp" in shell.config
    except Exception:   # pragma: no cover
        return False


def make_progress(enabled=True, verbosity=1, label="", stream=None):
    """The progress display for this session: the notebook flavour inside a Jupyter kernel
    (unless an explicit ``stream`` asks for text), else the terminal line."""
    if enabled and stream is None and in_notebook():
        return NotebookProgress(enabled=enabled, verbosity=verbosity, label=label)
    return ProgressPrinter(enabled=enabled, verbosity=verbosity, stream=stream, label=label)


class ProgressPrinter:
    """Consumes the engine's progress messages and prints them to ``stream``."""

    def __init__(self, enabled=True, verbosity=1, stream=None, label=""):
        self.enabled = enabled
        self.verbosity = verbosity
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self._last_front = 0.0
        self._wrote_line = False
        self._last_status = ""

    def __call__(self, p: dict, front=None) -> None:
        if not self.enabled:
            return
        it, nit = p.get("iteration", 0), p.get("niterations", 0)
        width = 24
        frac = min(1.0, it / nit) if nit else 0.0
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        best = p.get("best_loss", float("nan"))
        recs = p.get("records") or []
        best_eq = recs[-1]["equation"] if recs else ""
        if len(best_eq) > 60:
            best_eq = best_eq[:57] + "..."
        status = p.get("status") or ""
        if status and status != self._last_status:
            # a change of layout (e.g. a worker process lost) gets a line of its own
            self._last_status = status
            self.stream.write(("\n" if self._wrote_line else "") + f"{self.label}{status}\n")
        line = (f"\r{self.label}[{bar}] iter {it}/{nit}  {p.get('evals_per_second', 0.0):9.3g} evals/s  "
                f"best loss {best:.4g}  {best_eq}")
        self.stream.write(line[:160].ljust(100))
        self._wrote_line = True
        now = time.monotonic()
        if self.verbosity >= 2 and recs and now - self._last_front > 5.0:
            self._last_front = now
            self.stream.write("\n" + format_front(recs) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._wrote_line:
            self.stream.write("\n")
            self.stream.flush()
            self._wrote_line = False


class NotebookProgress:
    """Progress as one HTML display in a Jupyter notebook, updated in place.

    The first message creates the display (``display_id=True``); later ones
    update it at most every ``min_interval`` seconds, and :meth:`close` shows
    the last state, so the cell ends with the final iteration and best formula."""

    def __init__(self, enabled=True, verbosity=1, label="", min_interval=0.25):
        self.enabled = enabled
        self.verbosity = verbosity
        self.label = label
        self.min_interval = min_interval
        self._handle = None
        self._last_update = 0.0
        self._pending = None
        self._statuses = []

    def __call__(self, p: dict, front=None) -> None:
        if not self.enabled:
            return
        status = p.get("status") or ""
        if status and (not self._statuses or self._statuses[-1] != status):
            self._statuses.append(status)
        self._pending = p
        now = time.monotonic()
        if self._handle is None or now - self._last_update >= self.min_interval:
            self._show()

    def _show(self) -> None:
        from IPython.display import HTML, display

        if self._pending is None:
            return
        obj = HTML(self.render(self._pending))
        if self._handle is None:
            self._handle = display(obj, display_id=True)
        else:
            self._handle.update(obj)
        self._last_update = time.monotonic()
        self._pending = None

    def render(self, p: dict) -> str:
        """The HTML of one progress message."""
        it, nit = p.get("iteration", 0), p.get("niterations", 0)
        pct = 100.0 * min(1.0, it / nit) if nit else 0.0
        best = p.get("best_loss", float("nan"))
        recs = p.get("records") or []
        best_eq = recs[-1]["equation"] if recs else ""
        evals = p.get("evals")
        elapsed = p.get("elapsed")
        esc = html.escape
        rows = [("iteration", f"{it} / {nit}" if nit else str(it)),
                ("evaluations", f"{evals:.4g}" if isinstance(evals, (int, float)) else "-"),
                ("evals/s", f"{p.get('evals_per_second', 0.0):.3g}"),
                ("elapsed", f"{elapsed:.1f} s" if isinstance(elapsed, (int, float)) else "-"),
                ("best loss", f"{best:.4g}" if isinstance(best, (int, float)) else str(best))]
        cells = "".join(f"<td style='padding:0 1em 0 0'><b>{esc(k)}</b> {esc(v)}</td>" for k, v in rows)
        out = [f"<div class='keplersr-progress'>",
               f"<div>{esc(self.label)}<progress value='{pct:.1f}' max='100' style='width:16em'></progress> "
               f"{pct:.0f}%</div>",
               f"<table><tr>{cells}</tr></table>",
               f"<div>best formula: <code>{esc(best_eq)}</code></div>"]
        for s in self._statuses:
            out.append(f"<div><i>{esc(s)}</i></div>")
        if self.verbosity >= 2 and recs:
            out.append(f"<pre>{esc(format_front(recs))}</pre>")
        out.append("</div>")
        return "\n".join(out)

    def close(self) -> None:
        if self.enabled and self._pending is not None:
            self._show()


def format_front(records) -> str:
    """Plain-text table of hall-of-fame records."""
    lines = [f"{'complexity':>10}  {'loss':>12}  {'score':>8}  equation"]
    for r in records:
        lines.append(f"{r['complexity']:>10}  {r['loss']:>12.6g}  {r.get('score', 0.0):>8.4g}  {r['equation']}")
    return "\n".join(lines)
