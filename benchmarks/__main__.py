"""``python -m benchmarks <name> [options]``: one command per developer benchmark."""

import argparse
import importlib
import sys

# name -> (module, what it measures)
BENCHMARKS = {
    "eval": ("eval_bench", "evaluator ns per node per row against a hand-fused loop; unary kernels vs Base"),
    "search": ("search_bench", "fixed-work searches: candidates/s and the evaluator's share, by rows and threads"),
    "scaling": ("scaling_bench", "one fixed-work search under every parallel layout, ratios to serial"),
    "soak": ("soak_bench", "a long search on 1e5 rows: resident memory of every Julia process"),
    "faults": ("fault_bench", "kill -9 of worker processes and of the coordinator: fronts, hangs, resumes"),
    "startup": ("startup_bench", "cold start to first progress line; second-fit overhead"),
    "fronts": ("fronts_fingerprint", "fronts of deterministic seeded fits on ten Feynman equations"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__,
        epilog="\n".join(f"  {name:8s} {what}" for name, (_, what) in BENCHMARKS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="the benchmark's own options")
    args = parser.parse_args(argv[:1] if argv and not argv[0].startswith("-") else argv)
    module = importlib.import_module(f"benchmarks.{BENCHMARKS[args.name][0]}")
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
