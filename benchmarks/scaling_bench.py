"""``python -m benchmarks scaling``: one fixed-work search under each parallel layout.

Samples one AI-Feynman equation (default I.16.6, seed 1) and runs the same
deterministic search (``deterministic=True, random_state=0``, fixed
``niterations`` and ``populations``, batching off, so every layout does the
same work) with each layout:

  serial      ``parallelism="serial"``
  mt-1, mt-2  ``"multithreading"``, 1 and 2 Julia threads
  mp-1, mp-2, mp-4  ``"multiprocessing"``, 1, 2 and 4 local worker processes
  ssh-2       ``"multiprocessing"`` over SSH: ``hosts=["127.0.0.1:2"]``, two
              worker processes started through a loopback sshd
              (``keplersr.benchmarks.loopback_sshd``, ``KEPLERSR_SSH_FLAGS``)

The worker (the coordinator) runs with 1 Julia thread except for mt-2, so
each local worker process gets 1 thread too (they share the worker's
threads) and every layout uses at most as many cores as it has threads or
processes. For each it prints the wall time of ``fit`` (with the start of
worker processes), the search's own seconds and candidate evaluations (the
last progress record of ``history_``), the seconds to the end of the first
iteration ("1st it s"), the seconds of ``fit`` outside the search ("start
s": options, data, worker processes when new, the result), candidates/s
overall and after the first iteration ("steady"), the ratios to serial,
and whether the front (complexity, loss, equation) equals the serial one;
then ``fronts identical: yes/no``. By default every layout first runs a
small warm-up fit, so the worker's compilation is not timed and the timed
fit of a process layout runs on the kept pool of worker processes (its
"start s" is what a second fit pays; ``--no-warmup`` times their start too;
``--quick`` skips the warm-up). On a busy machine, layouts with more processes than
cores take a bigger share of the CPUs: run it on an idle one. Figures
only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

LAYOUTS = {
    "serial": dict(parallelism="serial", procs=1),
    "mt-1": dict(parallelism="multithreading", procs=1),
    "mt-2": dict(parallelism="multithreading", procs=2),
    "mp-1": dict(parallelism="multiprocessing", procs=1),
    "mp-2": dict(parallelism="multiprocessing", procs=2),
    "mp-4": dict(parallelism="multiprocessing", procs=4),
    "ssh-2": dict(parallelism="multiprocessing", hosts=["127.0.0.1:2"]),
}
SSH_LAYOUTS = {"ssh-2"}
SSH_ENV = "KEPLERSR_SSH_FLAGS"
FRONT_COLUMNS = ["complexity", "loss", "equation"]

QUICK = dict(rows=300, iterations=2, populations=4, population_size=20, ncycles=40)
# progress_interval at its minimum: a progress record after every iteration, so "1st it s" is the end of
# the first iteration (with the default 0.5 s it was up to 0.5 s later)
SEARCH = dict(deterministic=True, random_state=0, batching="off", progress=False, verbosity=0, progress_interval=0.05,
              output_directory=None, worker_timeout=600.0, maxsize=20,
              binary_operators=["+", "-", "*", "/"], unary_operators=["sin", "cos", "exp", "sqrt"])


def worker_threads(name: str) -> int:
    """Julia threads of the bridge's worker for layout ``name``: ``procs`` for multithreading, else 1."""
    params = layout_params(name)
    return (params.get("procs") or 1) if params["parallelism"] == "multithreading" else 1


def describe(name: str) -> str:
    """Layout ``name`` in words: processes and threads."""
    params = layout_params(name)
    if params["parallelism"] == "serial":
        return "serial, 1 thread"
    if params["parallelism"] == "multithreading":
        return f"1 process x {params['procs']} thread(s)"
    if params.get("hosts"):
        return f"coordinator + SSH processes {', '.join(params['hosts'])}, 1 thread each"
    return f"coordinator + {params['procs']} local process(es), 1 thread each"


def layout_params(name: str) -> dict:
    """The estimator options of layout ``name`` (``KeyError`` names the known ones)."""
    try:
        return dict(LAYOUTS[name])
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(LAYOUTS)}") from None


def front_of(model):
    """The front of a fitted model as a plain table (complexity, loss, equation), index reset."""
    return model.equations_[FRONT_COLUMNS].reset_index(drop=True)


def front_difference(front, reference) -> str:
    """'' when ``front`` equals ``reference`` exactly, else a short description of the first difference."""
    if front.equals(reference):
        return ""
    a, b = front.to_dict("records"), reference.to_dict("records")
    if len(a) != len(b):
        return f"{len(a)} formulas instead of {len(b)}"
    for k, (ra, rb) in enumerate(zip(a, b)):
        if ra != rb:
            return (f"row {k}: {ra['complexity']} {ra['loss']!r} {ra['equation']} instead of "
                    f"{rb['complexity']} {rb['loss']!r} {rb['equation']}")
    return "same rows, different column types"


def measure(model, wall: float) -> dict:
    """Timing of one fit from ``history_``: wall seconds; the search's seconds, evaluations and rate; the
    seconds to the end of the first iteration (``first``: with the start of worker processes and their
    compilation) and the rate after it (``steady``; 0 without two records from iteration 1 on)."""
    history = list(getattr(model, "history_", None) or [])
    last = history[-1] if history else {}
    elapsed = float(last.get("elapsed") or 0.0)
    evals = int(last.get("evals") or 0)
    begun = [h for h in history if (h.get("iteration") or 0) >= 1]
    first = float(begun[0].get("elapsed") or 0.0) if begun else 0.0
    steady = 0.0
    if len(begun) >= 2 and elapsed > first:
        steady = (evals - int(begun[0].get("evals") or 0)) / (elapsed - first)
    return dict(wall=wall, elapsed=elapsed, evals=evals, rate=evals / elapsed if elapsed > 0 else 0.0,
                first=first, steady=steady)


def _ratio(num, den):
    return num / den if num and den else None


def format_table(results: list, reference: str = "serial") -> str:
    """The results table: one row per layout; the ``x`` columns are ratios to ``reference`` (a layout)."""
    ref = next((r for r in results if r["layout"] == reference and not r.get("error")), None)
    x = "x " + reference

    def ratio(value):
        return f"{value:>8.2f}x" if value else f"{'-':>9}"

    head = (f"{'layout':<8} {'fit s':>8} {x:>9} {'search s':>9} {'1st it s':>9} {'start s':>8} {'evals':>9} "
            f"{'cand/s':>9} {x:>9} {'steady/s':>9} {x:>9}  front")
    lines = [head]
    for r in results:
        if r.get("error"):
            lines.append(f"{r['layout']:<8} failed: {r['error']}")
            continue
        front = "same" if not r.get("front_diff") else "DIFFERS: " + r["front_diff"]
        lines.append(f"{r['layout']:<8} {r['wall']:>8.2f} {ratio(_ratio(ref['wall'], r['wall']) if ref else None)}"
                     f" {r['elapsed']:>9.2f} {r.get('first', 0.0):>9.2f} {r['wall'] - r['elapsed']:>8.2f}"
                     f" {r['evals']:>9d} {r['rate']:>9.0f} "
                     f"{ratio(_ratio(r['rate'], ref['rate']) if ref else None)} {r.get('steady', 0.0):>9.0f} "
                     f"{ratio(_ratio(r.get('steady'), ref.get('steady')) if ref else None)}  {front}")
    return "\n".join(lines)


def fronts_identical(results: list) -> str:
    """'yes' if every layout that ran has the reference front, 'no' otherwise, '-' if fewer than two ran."""
    ran = [r for r in results if not r.get("error")]
    if len(ran) < 2:
        return "-"
    return "no" if any(r.get("front_diff") for r in ran) else "yes"


@contextlib.contextmanager
def ssh_environment(needed: bool):
    """With ``needed``: a loopback sshd, and ``KEPLERSR_SSH_FLAGS`` set for every worker started inside.

    The shared Julia worker reads the variable when it starts, so it is shut
    down on entry and on exit (the next fit starts a fresh one).
    """
    if not needed:
        yield None
        return
    from keplersr.bridge import shutdown_worker
    from benchmarks.loopback_sshd import loopback_sshd

    old = os.environ.get(SSH_ENV)
    with loopback_sshd() as server:
        os.environ[SSH_ENV] = server.ssh_flags
        shutdown_worker()
        try:
            yield server
        finally:
            shutdown_worker()      # its SSH worker processes go before sshd does
            if old is None:
                os.environ.pop(SSH_ENV, None)
            else:
                os.environ[SSH_ENV] = old


def run_layout(name: str, X, y, search: dict, warmup: bool) -> dict:
    """Fit once with layout ``name`` (after a small warm-up fit if asked); the measurements and the front."""
    from keplersr import SymbolicRegressor
    from keplersr.bridge import get_worker

    params = dict(search, **layout_params(name))
    get_worker(threads=worker_threads(name))      # fit reuses it (multiprocessing asks for no thread count)
    if warmup:
        small = dict(params, niterations=1)
        SymbolicRegressor(**small).fit(X[:min(len(X), 500)], y[:min(len(y), 500)])
    model = SymbolicRegressor(**params)
    t0 = time.perf_counter()
    model.fit(X, y)
    out = measure(model, time.perf_counter() - t0)
    out.update(layout=name, front=front_of(model))
    return out


def compare_fronts(results: list, reference: str = "serial"):
    """Set each result's ``front_diff`` against the reference layout's front (else the first that ran)."""
    ran = [r for r in results if not r.get("error")]
    ref = next((r for r in ran if r["layout"] == reference), ran[0] if ran else None)
    for r in ran:
        r["front_diff"] = front_difference(r["front"], ref["front"])
    return ref["layout"] if ref else None


def main(argv=None):
    from keplersr.datasets.feynman import load_feynman_equations, sample, select

    p = argparse.ArgumentParser(prog="python -m benchmarks scaling", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--iterations", type=int, default=20, help="niterations of every search")
    p.add_argument("--populations", type=int, default=8, help="populations (a multiple of 4 splits evenly)")
    p.add_argument("--population-size", type=int, default=33)
    p.add_argument("--ncycles", type=int, default=300, help="ncycles_per_iteration")
    p.add_argument("--layouts", nargs="+", choices=list(LAYOUTS), default=list(LAYOUTS))
    p.add_argument("--equation", default="I.16.6", help="AI-Feynman equation to sample")
    p.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=None,
                   help="a small fit per layout before the timed one (default: on, off with --quick)")
    p.add_argument("--quick", action="store_true",
                   help=f"a smoke run: {QUICK['rows']} rows, {QUICK['iterations']} iterations, "
                        f"{QUICK['populations']} populations of {QUICK['population_size']}, no warm-up")
    args = p.parse_args(argv or [])
    if args.quick:
        args.rows, args.iterations, args.populations = QUICK["rows"], QUICK["iterations"], QUICK["populations"]
        args.population_size, args.ncycles = QUICK["population_size"], QUICK["ncycles"]
    warmup = (not args.quick) if args.warmup is None else args.warmup
    eq = select(load_feynman_equations(), [args.equation])[0]
    X, y = sample(eq, args.rows, seed=1)
    search = dict(SEARCH, niterations=args.iterations, populations=args.populations,
                  population_size=args.population_size, ncycles_per_iteration=args.ncycles)
    print(f"scaling benchmark: {eq.name} ({eq.formula}), {args.rows} rows, {args.iterations} iterations, "
          f"{args.populations} populations of {args.population_size}, {args.ncycles} cycles, "
          f"deterministic, batching off, warm-up {'on' if warmup else 'off'}; {os.cpu_count()} cores",
          flush=True)
    results = []
    with ssh_environment(any(name in SSH_LAYOUTS for name in args.layouts)) as server:
        if server is not None:
            print(f"loopback sshd on {server.host}:{server.port}", flush=True)
        for name in args.layouts:
            print(f"== {name}: {describe(name)} {layout_params(name)}", flush=True)
            try:
                r = run_layout(name, X, y, search, warmup)
            except Exception as err:   # noqa: BLE001 - a failed layout is reported, the others still run
                r = dict(layout=name, error=f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
            results.append(r)
            print("   " + (r["error"] if r.get("error") else
                           f"{r['wall']:.2f} s, {r['evals']} evals in {r['elapsed']:.2f} s"), flush=True)
    reference = compare_fronts(results)
    print("\nsummary")
    print(format_table(results, reference or "serial"))
    print(f"fronts identical: {fronts_identical(results)}"
          + (f" (reference: {reference})" if reference and reference != "serial" else ""))
    if reference:
        ref = next(r for r in results if r["layout"] == reference)
        print(f"{reference} front:\n{ref['front'].to_string(index=False)}")
    return 0 if not any(r.get("error") for r in results) else 1
