"""``python -m benchmarks eval``: evaluator speed in ns per node per row.

Runs benchmarks/julia/bench.jl with 1 and 2 Julia threads; each prints the
engine's evaluator next to a hand-fused Julia loop for the same trees at
1e3, 1e4 and 1e5 rows, and their ratio. Then, on 1 thread, the ns per row of
each unary operator of the Feynman set (sin cos exp log sqrt square tanh asin
acos) with the engine's fast kernels next to Base's libm functions, at
10,000 rows (``--unary-rows``; 0 skips that table)."""

from __future__ import annotations

import argparse
import os
import subprocess

BENCH_JL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "julia", "bench.jl")


def main(argv=None):
    from keplersr.julia_env import find_julia, julia_project_dir

    p = argparse.ArgumentParser(prog="python -m benchmarks eval", description=__doc__)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--unary-rows", type=int, default=10_000,
                   help="rows of the per-operator table, fast kernels vs Base (0: skip it)")
    args = p.parse_args(argv or [])
    julia = find_julia()
    jdir = julia_project_dir()
    cmd = [julia, f"--project={jdir}", "--startup-file=no", "-O3"]
    for t in args.threads:
        print(f"== {t} thread(s) ==", flush=True)
        subprocess.run(cmd + ["-t", str(t), BENCH_JL], check=True)
    if args.unary_rows > 0:
        print(f"== unary operators: ns per row, fast kernels vs Base libm, "
              f"{args.unary_rows} rows, 1 thread ==", flush=True)
        subprocess.run(cmd + ["-t", "1", BENCH_JL, "unary",
                              str(args.unary_rows)], check=True)
    return 0
