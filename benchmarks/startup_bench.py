"""``python -m benchmarks startup``: how long until a fit shows progress, and what a fit costs.

Two measurements, each against its target:

* **cold start**: a fresh ``python`` process imports keplersr, fits a small
  problem with ``SymbolicRegressor`` (100 rows, 2 features, 3 iterations,
  progress on) and reports the wall time from the process start to the first
  progress message, to the first progress of iteration >= 1, and to the end
  of the fit. This is run with the KeplerSR system image (when one exists,
  see ``keplersr.sysimage``) and without it (``KEPLERSR_SYSIMAGE=off``).
  Target: first progress <= 10 s.
* **warm fits**: in this process, one fit (which starts the worker), then N
  more; the overhead of each later fit is its ``fit()`` wall time minus the
  engine's own search time (``FitResult.elapsed``): data transfer, option
  handling, operator setup and the Python side. Target: median and max
  <= 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

COLD_TARGET = 10.0
WARM_TARGET = 0.3
MARK = "KSR_STARTUP_BENCH "

# The cold-start child: it wraps JuliaWorker.fit to timestamp progress frames.
_CHILD = r"""
import json, sys, time
t_spawn = float(sys.argv[1])
t_python = time.time()
import numpy as np
from keplersr import bridge
marks = {}
_fit = bridge.JuliaWorker.fit
def fit(self, *a, on_progress=None, **k):
    def cb(p):
        now = time.time()
        marks.setdefault("first_progress", now)
        if p.get("iteration", 1) >= 1:
            marks.setdefault("first_iteration", now)
        if on_progress is not None:
            on_progress(p)
    marks["worker"] = self
    return _fit(self, *a, on_progress=cb, **k)
bridge.JuliaWorker.fit = fit
from keplersr import SymbolicRegressor
rng = np.random.default_rng(0)
X = rng.uniform(0.5, 2.0, size=(ROWS, 2))
y = 2.5 * X[:, 0] ** 2 / X[:, 1]
est = SymbolicRegressor(niterations=ITERS, random_state=0, progress=True, verbosity=0,
                        output_directory=None)
est.fit(X, y)
t_end = time.time()
w = marks.get("worker")
out = {k: marks[k] - t_spawn for k in ("first_progress", "first_iteration") if k in marks}
out.update(python_start=t_python - t_spawn, fit_end=t_end - t_spawn,
           sysimage=getattr(w, "sysimage", None), julia=(w.info.get("julia_version") if w else None))
print("MARK" + json.dumps(out), flush=True)
"""


def cold_run(use_sysimage: bool, rows: int = 100, iterations: int = 3, timeout: float = 600.0) -> dict:
    """One cold start in a fresh Python process; times in seconds from its spawn."""
    env = dict(os.environ)
    if not use_sysimage:
        env["KEPLERSR_SYSIMAGE"] = "off"
    src = _CHILD.replace("ROWS", str(int(rows))).replace("ITERS", str(int(iterations))).replace(
        '"MARK"', repr(MARK))
    t0 = time.time()
    r = subprocess.run([sys.executable, "-c", src, repr(t0)], capture_output=True, text=True,
                       env=env, timeout=timeout)
    for line in r.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"the cold-start child failed (exit code {r.returncode}):\n"
                       f"{(r.stdout + r.stderr)[-3000:]}")


def warm_runs(nfits: int = 5, rows: int = 100, iterations: int = 3) -> dict:
    """First fit plus ``nfits`` more in this process; overhead = fit() wall time - engine time."""
    import numpy as np
    from keplersr import bridge
    from keplersr.estimator import SymbolicRegressor

    results = []
    original = bridge.JuliaWorker.fit

    def recording_fit(self, *a, **k):
        res = original(self, *a, **k)
        results.append(res)
        return res

    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 2.0, size=(rows, 2))
    y = 2.5 * X[:, 0] ** 2 / X[:, 1]
    walls, engine = [], []
    bridge.JuliaWorker.fit = recording_fit
    try:
        for i in range(nfits + 1):
            est = SymbolicRegressor(niterations=iterations, random_state=i, progress=False,
                                    verbosity=0, output_directory=None)
            t = time.perf_counter()
            est.fit(X, y)
            walls.append(time.perf_counter() - t)
            engine.append(results[-1].elapsed)
    finally:
        bridge.JuliaWorker.fit = original
    over = [w - e for w, e in zip(walls[1:], engine[1:])]
    worker = bridge.get_worker()
    return {"first_fit": walls[0], "overheads": over, "median": statistics.median(over),
            "max": max(over), "engine_median": statistics.median(engine[1:]),
            "sysimage": worker.sysimage}


def _verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks startup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fits", type=int, default=5, help="warm fits after the first (default 5)")
    p.add_argument("--rows", type=int, default=100)
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--no-cold", action="store_true", help="skip the cold-start runs")
    p.add_argument("--no-warm", action="store_true", help="skip the warm-fit runs")
    p.add_argument("--json", action="store_true", help="also print the raw numbers as JSON")
    args = p.parse_args(argv or [])
    if args.fits < 1:
        p.error("--fits must be >= 1")
    from keplersr.sysimage import find_sysimage, sysimage_disabled

    image = None if sysimage_disabled() else find_sysimage()
    raw = {"sysimage": str(image) if image else None}
    rows = []   # (measurement, seconds, target or None)
    ok = True
    if not args.no_cold:
        variants = ([True] if image else []) + [False]
        for use in variants:
            label = "with sysimage" if use else "without sysimage"
            print(f"cold start {label} ...", flush=True)
            c = cold_run(use, args.rows, args.iterations)
            raw["cold_" + ("image" if use else "plain")] = c
            # the target applies to the default set-up (the image when there is one)
            target = COLD_TARGET if use == bool(image) else None
            rows.append((f"cold, {label}: first progress", c.get("first_progress"), target))
            rows.append((f"cold, {label}: first iteration", c.get("first_iteration"), None))
            rows.append((f"cold, {label}: fit end", c.get("fit_end"), None))
        if image is None:
            print("note: no current system image (build one with `python -m keplersr.sysimage`)")
    if not args.no_warm:
        print(f"warm fits (1 + {args.fits}) ...", flush=True)
        w = warm_runs(args.fits, args.rows, args.iterations)
        raw["warm"] = w
        rows.append(("warm: first fit in this process", w["first_fit"], None))
        rows.append(("warm: later fit overhead, median", w["median"], WARM_TARGET))
        rows.append(("warm: later fit overhead, max", w["max"], WARM_TARGET))
        rows.append(("warm: engine search time, median", w["engine_median"], None))
    width = max(len(r[0]) for r in rows) if rows else 10
    print()
    print(f"{'measurement':<{width}}  {'seconds':>8}  {'target':>7}  result")
    print("-" * (width + 28))
    for name, val, target in rows:
        v = "n/a" if val is None else f"{val:8.2f}"
        t = "" if target is None else f"<= {target:g}"
        res = "" if target is None else ("MISS" if val is None else _verdict(val, target))
        ok = ok and res != "MISS"
        print(f"{name:<{width}}  {v:>8}  {t:>7}  {res}")
    print(f"\nsystem image: {raw['sysimage'] or 'none'}")
    if args.json:
        print(json.dumps(raw, indent=1, default=str))
    return 0 if ok else 1
