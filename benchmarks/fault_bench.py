"""``python -m benchmarks faults``: kill -9 Julia processes at random moments and count what survives.

Two experiments, each repeated ``--runs`` times (default 20) on the same small
search (10,000 rows by default would only slow it down; 2,000 rows, 4
populations):

* ``workers``: a multiprocessing search (``procs`` local worker processes);
  after a random delay, once the search has written its first checkpoint (the
  processes are kept between fits, so before that a kill would hit the pool
  the fit is about to replace), one worker process is killed with SIGKILL. Counted: fits
  that returned (with a front), hangs (no answer within ``--hang-after``
  seconds: the estimator's ``worker_timeout``), the stop reasons, and whether
  the progress status reported the lost process.
* ``coordinator``: a threaded search checkpointing every ``--interval``
  seconds; after a random delay the coordinating Julia process itself (the
  worker the Python process talks to) is killed with SIGKILL. The run is then
  continued with ``SymbolicRegressor.from_file(run_dir)`` and
  ``warm_start=True``. Counted: runs resumed from their checkpoint, and the
  work lost: seconds between the last checkpoint written and the kill
  (compared with the interval).

Figures only: nothing is asserted (tests/test_parallelism.py asserts the
behaviour).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import tempfile
import threading
import time

import numpy as np


def children(pid: int) -> list:
    """Pids of the live processes whose parent is ``pid``."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(d))
    return out


def _data(rows: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2.0, size=(rows, 3))
    return X, X[:, 0] * np.sin(X[:, 1]) + X[:, 2] ** 2


def _model(**kw):
    from keplersr import SymbolicRegressor
    base = dict(unary_operators=["sin", "cos", "exp"], populations=4, population_size=24,
                ncycles_per_iteration=80, progress=False, verbosity=0)
    base.update(kw)
    return SymbolicRegressor(**base)


def worker_kill_run(k: int, args, out_dir: str) -> dict:
    """One fit with ``procs`` worker processes, one of them killed after a random delay."""
    from keplersr.bridge import get_worker
    rng = random.Random(args.seed * 1000 + k)
    delay = rng.uniform(args.min_delay, args.max_delay)
    X, y = _data(args.rows, k)
    m = _model(parallelism="multiprocessing", procs=args.procs, niterations=args.iterations,
               output_directory=out_dir, run_id=f"workers-{k}", worker_timeout=args.hang_after,
               checkpoint_interval=0.2)
    coordinator = get_worker().pid
    # the worker processes are kept between fits: kill one only once this search runs (its first
    # checkpoint is written), not one of the kept pool before the fit has taken it
    ck = os.path.join(out_dir, f"workers-{k}", "checkpoint.json")
    killed = []

    def killer():
        t0 = time.monotonic()
        while time.monotonic() - t0 < delay + 60:
            kids = children(coordinator)
            if len(kids) >= args.procs and time.monotonic() - t0 >= delay and os.path.exists(ck):
                victim = rng.choice(kids)
                os.kill(victim, signal.SIGKILL)
                killed.append((victim, time.monotonic() - t0))
                return
            time.sleep(0.02)

    t = threading.Thread(target=killer, daemon=True)
    t0 = time.monotonic()
    t.start()
    row = dict(run=k, delay=delay, outcome="", stop_reason="", front=0, status="")
    try:
        m.fit(X, y)
        row.update(outcome="returned", stop_reason=m.stop_reason_[0], front=len(m.equations_))
    except Exception as exc:       # noqa: BLE001 - every outcome is a figure here
        name = type(exc).__name__
        row.update(outcome="hang" if name == "WorkerHungError" else f"error:{name}",
                   front=len(getattr(m, "equations_", []) or []))
    row["seconds"] = time.monotonic() - t0
    t.join(1)
    row["killed_at"] = killed[0][1] if killed else None
    statuses = [h.get("status") for h in (getattr(m, "history_", None) or []) if h.get("status")]
    row["status"] = statuses[-1] if statuses else ""
    return row


def coordinator_kill_run(k: int, args, out_dir: str) -> dict:
    """One checkpointing fit whose coordinating Julia process is killed, then resumed from its run directory."""
    from keplersr import SymbolicRegressor
    from keplersr.bridge import get_worker
    rng = random.Random(args.seed * 1000 + 500 + k)
    delay = rng.uniform(args.min_delay, args.max_delay)
    X, y = _data(args.rows, k)
    run_id = f"coordinator-{k}"
    run_dir = os.path.join(out_dir, run_id)
    ck = os.path.join(run_dir, "checkpoint.json")
    # no decomposition: its sub-searches come before the main search and write no checkpoint, and with
    # this many iterations they would outlast every kill delay
    m = _model(niterations=100_000, checkpoint_interval=args.interval, output_directory=out_dir,
               run_id=run_id, worker_timeout=args.hang_after, decomposition_depth=0)
    pid = get_worker().pid
    killed = {}

    def killer():
        t0 = time.monotonic()
        while time.monotonic() - t0 < delay + 120:
            if os.path.exists(ck) and time.monotonic() - t0 >= delay:
                killed["at"] = time.time()
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.02)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    row = dict(run=k, delay=delay, outcome="", lost_s=None, resumed=False, iterations_before=None)
    try:
        m.fit(X, y)
        row["outcome"] = "not killed"
    except Exception as exc:       # noqa: BLE001
        row["outcome"] = type(exc).__name__
    t.join(1)
    if "at" not in killed or not os.path.exists(ck):
        return row
    row["lost_s"] = killed["at"] - os.path.getmtime(ck)
    with open(ck) as fh:
        row["iterations_before"] = json.load(fh)["iteration"]
    try:
        r = SymbolicRegressor.from_file(run_dir)
        r.set_params(warm_start=True, niterations=args.resume_iterations, worker_timeout=args.hang_after,
                     progress=False, verbosity=0)
        r.fit(X, y)
        with open(ck) as fh:
            after = json.load(fh)["iteration"]
        row["resumed"] = after == row["iterations_before"] + args.resume_iterations and len(r.equations_) > 0
    except Exception as exc:       # noqa: BLE001
        row["resumed"] = f"error:{type(exc).__name__}: {exc}"[:120]
    return row


def summarise_workers(rows: list) -> str:
    n = len(rows)
    returned = sum(r["outcome"] == "returned" for r in rows)
    hangs = sum(r["outcome"] == "hang" for r in rows)
    fronts = sum(r["front"] > 0 for r in rows)
    reported = sum("lost" in r["status"] for r in rows)
    reasons = sorted({r["stop_reason"] or r["outcome"] for r in rows})
    return (f"worker process killed: {n} runs -> {returned} returned, {hangs} hangs, {fronts} fronts, "
            f"{reported} progress lines reporting the loss; outcomes {reasons}")


def summarise_coordinator(rows: list, interval: float) -> str:
    n = len(rows)
    resumed = sum(r["resumed"] is True for r in rows)
    lost = [r["lost_s"] for r in rows if r["lost_s"] is not None]
    worst = max(lost) if lost else float("nan")
    return (f"coordinator killed: {n} runs -> {resumed} resumed from their checkpoint; work lost "
            f"(kill time - last checkpoint) median {np.median(lost) if lost else float('nan'):.2f} s, "
            f"max {worst:.2f} s (checkpoint interval {interval:g} s)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--experiments", nargs="+", choices=("workers", "coordinator"),
                   default=["workers", "coordinator"])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--procs", type=int, default=2, help="worker processes (workers experiment)")
    p.add_argument("--iterations", type=int, default=60, help="iterations per fit (workers experiment)")
    p.add_argument("--interval", type=float, default=1.0, help="checkpoint interval, s (coordinator experiment)")
    p.add_argument("--resume-iterations", type=int, default=3)
    p.add_argument("--min-delay", type=float, default=0.0, help="earliest kill, s after the fit starts")
    p.add_argument("--max-delay", type=float, default=6.0, help="latest kill, s after the fit starts")
    p.add_argument("--hang-after", type=float, default=120.0,
                   help="seconds of silence after which a fit counts as hung (worker_timeout)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="run directories go here (default: a temp dir)")
    args = p.parse_args(argv)
    out_dir = args.out or tempfile.mkdtemp(prefix="keplersr-faults-")
    if "workers" in args.experiments:
        rows = []
        for k in range(args.runs):
            r = worker_kill_run(k, args, out_dir)
            rows.append(r)
            print(f"  workers run {k:2d}: kill at {r['killed_at'] if r['killed_at'] is not None else '-'} s "
                  f"-> {r['outcome']} {r['stop_reason']} front {r['front']} in {r['seconds']:.1f} s; "
                  f"{r['status'][:90]}", flush=True)
        print(summarise_workers(rows), flush=True)
    if "coordinator" in args.experiments:
        rows = []
        for k in range(args.runs):
            r = coordinator_kill_run(k, args, out_dir)
            rows.append(r)
            lost = f"{r['lost_s']:.2f}" if r["lost_s"] is not None else "-"
            print(f"  coordinator run {k:2d}: {r['outcome']}, checkpoint at iteration {r['iterations_before']}, "
                  f"lost {lost} s, resumed {r['resumed']}", flush=True)
        print(summarise_coordinator(rows, args.interval), flush=True)
    print(f"run directories: {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
