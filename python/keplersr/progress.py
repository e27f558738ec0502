"""Live progress display: one status line (iteration, evaluations/s, best
loss) and, at higher verbosity, the current Pareto front."""

from __future__ import annotations

import sys
import time


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


def format_front(records) -> str:
    """Plain-text table of hall-of-fame records."""
    lines = [f"{'complexity':>10}  {'loss':>12}  {'score':>8}  equation"]
    for r in records:
        lines.append(f"{r['complexity']:>10}  {r['loss']:>12.6g}  {r.get('score', 0.0):>8.4g}  {r['equation']}")
    return "\n".join(lines)
