"""``python -m benchmarks soak``: does a long search hold its memory flat?

Runs one search on ``--rows`` rows (default 100,000, AI-Feynman I.16.6, seed
1) for ``--minutes`` minutes (``timeout_in_seconds``; default 30, ``--quick``:
1) and, from a Python thread, samples the resident memory (``VmRSS`` of
``/proc/<pid>/status``) of every Julia process under this Python process
every ``--interval`` seconds (10; 2 with ``--quick``): the worker, its local
worker processes, and processes started through a loopback sshd (``--ssh``).
Processes on other machines are not seen. It prints a table time -> RSS per
process and in total, the peak, then the growth of the total between the
first samples after the warm-up (1/6 of the run) and the last ones before
the time limit (the final full-data refit after it makes a short spike):
``flat (< 5%)`` or ``GROWING``. ``--parallelism``/``--procs`` soak another
layout. A small warm-up fit first compiles the engine in the worker
(``--no-warmup``); worker processes are new in every fit and compile during
the soak's first minutes.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from benchmarks.loopback_sshd import descendants

FLAT_PERCENT = 5.0
MAX_TABLE_ROWS = 31


def read_rss_kb(pid: int) -> int | None:
    """Resident set size of ``pid`` in kB (``VmRSS`` of ``/proc/<pid>/status``), None if gone or unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def julia_processes(root: int | None = None) -> dict:
    """Julia processes under ``root`` (default: this process): ``{pid: "worker" | "proc"}``.

    "worker" is a direct child of ``root`` (the bridge's worker); "proc" any
    deeper one (Distributed worker processes, local or through a loopback sshd).
    """
    root = os.getpid() if root is None else root
    out = {}
    for pid in descendants(root):
        if _comm(pid).startswith("julia"):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            out[pid] = "worker" if ppid == root else "proc"
    return out


class RSSSampler(threading.Thread):
    """Samples ``(seconds, {pid: kB})`` of the Julia processes every ``interval`` s until ``stop()``."""

    def __init__(self, interval: float, root: int | None = None):
        super().__init__(name="keplersr-rss-sampler", daemon=True)
        self.interval = interval
        self.root = root
        self.samples: list = []
        self.roles: dict = {}
        self._stop_event = threading.Event()
        self._t0 = time.monotonic()

    def sample(self):
        procs = julia_processes(self.root)
        rss = {pid: kb for pid in procs if (kb := read_rss_kb(pid)) is not None}
        self.roles.update({pid: procs[pid] for pid in rss})
        self.samples.append((time.monotonic() - self._t0, rss))

    def run(self):
        while True:
            self.sample()
            if self._stop_event.wait(self.interval):
                return

    def stop(self):
        self._stop_event.set()
        self.join(timeout=self.interval + 5)


def total_mb(rss: dict) -> float:
    """The sum of one sample's RSS values, in MB."""
    return sum(rss.values()) / 1024.0


def _mean_mb(window: list, pid=None) -> float | None:
    vals = [total_mb(rss) if pid is None else rss[pid] / 1024.0 for _, rss in window if pid is None or pid in rss]
    return sum(vals) / len(vals) if vals else None


def growth(samples: list, warmup: float, window: int = 3, until: float | None = None) -> tuple:
    """``(start, end, percent)``: growth of the total RSS from just after ``warmup`` s to ``until`` s.

    GC makes single samples jumpy, so each end is the mean of up to
    ``window`` samples (the first ones at or after ``warmup``, the last ones
    up to ``until``: the end of the search proper, before the final
    full-data refit), never overlapping. ``start``/``end`` are the lists of
    samples ``(t, {pid: kB})`` averaged; percent is None without two samples
    with memory in that span.
    """
    after = [s for s in samples if s[1] and s[0] >= warmup and (until is None or s[0] <= until)]
    if len(after) < 2:
        return after, after, None
    w = max(1, min(window, len(after) // 2))
    start, end = after[:w], after[-w:]
    a, b = _mean_mb(start), _mean_mb(end)
    return start, end, 100.0 * (b - a) / a


def verdict(percent: float | None) -> str:
    """``flat (< 5%)`` or ``GROWING`` (``unknown`` without a growth figure)."""
    if percent is None:
        return "unknown (too few samples after the warm-up)"
    return f"flat (< {FLAT_PERCENT:g}%)" if percent < FLAT_PERCENT else "GROWING"


def format_rss_table(samples: list, roles: dict, max_rows: int = MAX_TABLE_ROWS, keep=()) -> str:
    """Time -> RSS (MB) per Julia process and in total; at most ``max_rows`` rows (evenly spread, the
    last and the samples in ``keep`` always shown)."""
    pids = sorted({pid for _, rss in samples for pid in rss}, key=lambda p: (roles.get(p) != "worker", p))
    idx = set(range(0, len(samples), max(1, -(-len(samples) // max_rows))))
    idx |= {len(samples) - 1} if samples else set()
    idx |= {k for k, s in enumerate(samples) if any(s is x for x in keep)}
    names = [f"{roles.get(p, '?')} {p}" for p in pids]
    head = f"{'t [s]':>8} {'total MB':>9} " + " ".join(f"{n:>13}" for n in names)
    lines = [head]
    for k in sorted(idx):
        t, rss = samples[k]
        lines.append(f"{t:>8.1f} {total_mb(rss):>9.1f} "
                     + " ".join(f"{rss[p] / 1024:>13.1f}" if p in rss else f"{'-':>13}" for p in pids))
    return "\n".join(lines)


def main(argv=None):
    from keplersr import SymbolicRegressor
    from keplersr.datasets.feynman import load_feynman_equations, sample, select
    from benchmarks.scaling_bench import SEARCH, ssh_environment

    p = argparse.ArgumentParser(prog="python -m benchmarks soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--interval", type=float, default=None, help="seconds between samples (10; 2 with --quick)")
    p.add_argument("--parallelism", choices=["serial", "multithreading", "multiprocessing"], default=None,
                   help="layout (default: the estimator's)")
    p.add_argument("--procs", type=int, default=None, help="threads or local worker processes")
    p.add_argument("--ssh", type=int, default=0, metavar="N",
                   help="multiprocessing over a loopback sshd: hosts=['127.0.0.1:N']")
    p.add_argument("--equation", default="I.16.6", help="AI-Feynman equation to sample")
    p.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                   help="a small fit first, so the engine is compiled before the soak")
    p.add_argument("--quick", action="store_true", help="1 minute, a sample every 2 s")
    args = p.parse_args(argv or [])
    if args.quick:
        args.minutes = 1.0
    interval = args.interval or (2.0 if args.quick else 10.0)
    seconds = 60.0 * args.minutes
    layout = {k: v for k, v in (("parallelism", args.parallelism), ("procs", args.procs)) if v is not None}
    if args.ssh:
        layout.update(parallelism="multiprocessing", hosts=[f"127.0.0.1:{args.ssh}"])
    eq = select(load_feynman_equations(), [args.equation])[0]
    X, y = sample(eq, args.rows, seed=1)
    params = dict(SEARCH, deterministic=False, random_state=0, niterations=10**8, populations=8,
                  timeout_in_seconds=seconds, batching="auto", **layout)
    print(f"soak: {eq.name} ({eq.formula}), {args.rows} rows, {args.minutes:g} min, "
          f"layout {layout or 'default'}, RSS every {interval:g} s", flush=True)
    with ssh_environment(bool(args.ssh)):
        if args.warmup:
            SymbolicRegressor(**dict(params, niterations=1, timeout_in_seconds=None)).fit(X[:500], y[:500])
        sampler = RSSSampler(interval)
        sampler.start()
        model = SymbolicRegressor(**params)
        try:
            model.fit(X, y)
        finally:
            sampler.stop()
    last = model.history_[-1] if model.history_ else {}
    print(f"search: stop reason {model.stop_reason_}, {last.get('iteration')} iterations, "
          f"{last.get('evals')} evals in {float(last.get('elapsed') or 0):.0f} s")
    start, end, pct = growth(sampler.samples, seconds / 6.0, until=seconds)
    print(format_rss_table(sampler.samples, sampler.roles, keep=start + end))
    peak = max(sampler.samples, key=lambda s: total_mb(s[1]))
    print(f"peak total RSS {total_mb(peak[1]):.1f} MB at {peak[0]:.0f} s")
    if pct is not None:
        span = lambda w: f"{w[0][0]:.0f}-{w[-1][0]:.0f} s"   # noqa: E731
        print(f"total RSS (mean of {len(start)} samples) {_mean_mb(start):.1f} MB at {span(start)} -> "
              f"{_mean_mb(end):.1f} MB at {span(end)}: {pct:+.1f}%  {verdict(pct)}")
        for pid in sorted({p for _, rss in start + end for p in rss}):
            a, b = _mean_mb(start, pid), _mean_mb(end, pid)
            if a and b:
                print(f"  {sampler.roles.get(pid, '?')} {pid}: {a:.1f} -> {b:.1f} MB ({100 * (b - a) / a:+.1f}%)")
    else:
        print(f"growth: {verdict(None)}")
    return 0
