"""``keplersr bench eval``: evaluator speed in ns per node per row.

Runs the engine's julia/bench.jl with 1 and 2 Julia threads; each prints the
engine's evaluator next to a hand-fused Julia loop for the same trees at
1e3, 1e4 and 1e5 rows, and their ratio."""

from __future__ import annotations

import argparse
import os
import subprocess


def main(argv=None):
    from ..julia_env import find_julia, julia_project_dir

    p = argparse.ArgumentParser(prog="keplersr bench eval", description=__doc__)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    args = p.parse_args(argv or [])
    julia = find_julia()
    jdir = julia_project_dir()
    for t in args.threads:
        print(f"== {t} thread(s) ==", flush=True)
        subprocess.run([julia, f"--project={jdir}", "--startup-file=no", "-O3", "-t", str(t),
                        os.path.join(jdir, "bench.jl")], check=True)
    return 0
