"""``python -m benchmarks search``: search throughput and where its time goes, by row count.

Samples one AI-Feynman equation (default I.34.27, seed 1) at several row
counts and runs ``benchmarks/julia/bench_search.jl`` with each thread
count: for every (rows, batching mode) it prints the enumeration seeding's
seconds, then a search without seeding (the evolution's rate), seeded and
deterministic with a fixed number of iterations sized to take about
``--seconds`` on one thread, so every thread count does the same work:
candidates/s, node-rows/s, the share of the threads' time spent in the
evaluator, ns per node-row inside the evaluator and the GC share. A summary
table follows with the thread speed-up (the ratio of the search times).
``on(-)``: batching asked for but not active (``batch_size`` >= rows).
Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile

import numpy as np

BENCH_SEARCH_JL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "julia", "bench_search.jl")

TINY = dict(rows=[200, 3000], threads=[1], seconds=1.0)


def write_dataset(path: str, X: np.ndarray, y: np.ndarray) -> None:
    """The file format ``benchmarks/julia/bench_search.jl`` reads: Int64 n, Int64 p, X column-major, y."""
    X = np.asarray(X, dtype=np.float64)
    with open(path, "wb") as f:
        np.array(X.shape, dtype=np.int64).tofile(f)
        np.asfortranarray(X).ravel(order="F").tofile(f)
        np.asarray(y, dtype=np.float64).tofile(f)


def parse_result(line: str) -> dict:
    """A ``RESULT key=value ...`` line as a dict (numbers converted)."""
    out = {}
    for field in line.split()[1:]:
        key, _, value = field.partition("=")
        for conv in (int, float):
            try:
                value = conv(value)
                break
            except ValueError:
                pass
        out[key] = value
    return out


def summary(results: list) -> str:
    """Candidates/s per thread count, the speed-up over the fewest threads, and the evaluator share."""
    threads = sorted({r["threads"] for r in results})
    keys = sorted({(r["rows"], r["batching"]) for r in results}, key=lambda k: (k[0], k[1]))
    by = {(r["rows"], r["batching"], r["threads"]): r for r in results}
    head = f"{'rows':>8} {'batching':>8} " + " ".join(f"{f'cand/s {t}t':>12}" for t in threads)
    if len(threads) > 1:
        head += f" {f'speed-up {threads[-1]}t':>12}"
    head += " " + " ".join(f"{f'in eval {t}t':>11}" for t in threads)
    lines = [head]
    for rows, mode in keys:
        rs = [by.get((rows, mode, t)) for t in threads]
        batched = any(r and str(r.get("batched")).lower() == "true" for r in rs)
        label = mode if (mode == "off" or batched) else mode + "(-)"
        s = f"{rows:>8} {label:>8} " + " ".join(
            f"{r['cands_per_s']:>12.0f}" if r else f"{'-':>12}" for r in rs)
        if len(threads) > 1:
            s += (f" {rs[-1]['cands_per_s'] / rs[0]['cands_per_s']:>11.2f}x"
                  if rs[0] and rs[-1] and rs[0]["cands_per_s"] > 0 else f" {'-':>12}")
        s += " " + " ".join(f"{100 * r['eval_share']:>10.0f}%" if r else f"{'-':>11}" for r in rs)
        lines.append(s)
    return "\n".join(lines)


def main(argv=None):
    from keplersr.datasets.feynman import load_feynman_equations, sample, select
    from keplersr.julia_env import find_julia, julia_project_dir

    p = argparse.ArgumentParser(prog="python -m benchmarks search", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", nargs="+", type=int, default=[100, 1000, 10_000, 100_000])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--seconds", type=float, default=10.0,
                   help="rough wall time of each search on one thread (sets its iterations)")
    p.add_argument("--batching", nargs="+", choices=["off", "on", "auto"], default=["off", "on"])
    p.add_argument("--batch-size", type=int, default=0, help="rows per batch (0: the engine's default)")
    p.add_argument("--equation", default="I.34.27", help="AI-Feynman equation to sample")
    p.add_argument("--tiny", action="store_true",
                   help=f"a quick smoke run: rows {TINY['rows']}, threads {TINY['threads']}, "
                        f"about {TINY['seconds']:g} s per search")
    args = p.parse_args(argv or [])
    if args.tiny:
        args.rows, args.threads, args.seconds = TINY["rows"], TINY["threads"], TINY["seconds"]
    eq = select(load_feynman_equations(), [args.equation])[0]
    julia = find_julia()
    jdir = julia_project_dir()
    print(f"search benchmark: {eq.name} ({eq.formula}), operators + - * / sin cos exp log sqrt square tanh "
          f"asin acos, about {args.seconds:g} s per search on one thread", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="keplersr-bench-search-") as tmp:
        files = []
        for n in args.rows:
            X, y = sample(eq, n, seed=1)
            path = os.path.join(tmp, f"rows{n}.bin")
            write_dataset(path, X.to_numpy(), y)
            files.append(path)
        for t in args.threads:
            print(f"== {t} thread(s) ==", flush=True)
            cmd = [julia, f"--project={jdir}", "--startup-file=no", "-O3", "-t", str(t),
                   BENCH_SEARCH_JL, str(args.seconds), ",".join(args.batching),
                   str(args.batch_size), *files]
            with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
                for line in proc.stdout:
                    if line.startswith("RESULT "):
                        results.append(parse_result(line))
                    else:
                        print(line, end="", flush=True)
            if proc.returncode != 0:
                raise SystemExit(f"bench_search.jl failed with exit code {proc.returncode}")
    print("\nsummary")
    print(summary(results))
    return 0
