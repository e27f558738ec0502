"""Fronts of deterministic seeded fits on ten Feynman equations, as text.

A refactoring that should not change behaviour must leave this output
byte-identical:

    python benchmarks/fronts_fingerprint.py --out before.txt
    ... change ...
    python benchmarks/fronts_fingerprint.py --out after.txt
    cmp before.txt after.txt

Each fit is `deterministic=True` with a fixed `random_state`, a fixed number
of iterations and no time limit, on 1,000 rows drawn with a fixed seed.
"""
import argparse
import hashlib
import sys

import numpy as np

from keplersr import SymbolicRegressor
from keplersr.datasets import feynman


def fingerprint(count=10, sample_seed=0, rows=1000, niterations=8):
    equations = feynman.load_feynman_equations()
    rng = np.random.default_rng(sample_seed)
    chosen = [equations[i] for i in sorted(rng.choice(len(equations), size=count, replace=False))]
    lines = []
    for eq in chosen:
        X, y = feynman.sample(eq, rows, seed=sample_seed)
        model = SymbolicRegressor(
            niterations=niterations, populations=4, population_size=30, random_state=0,
            deterministic=True, progress=False, verbosity=0)
        model.fit(X, y)
        lines.append(f"## {eq.name}")
        for _, row in model.equations_.iterrows():
            lines.append(f"{row['complexity']}\t{row['loss']!r}\t{row['equation']}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the fronts here (default: standard output)")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--niterations", type=int, default=8)
    args = parser.parse_args(argv)
    text = fingerprint(count=args.count, niterations=args.niterations)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    print(f"sha256 {hashlib.sha256(text.encode()).hexdigest()}", file=sys.stderr)


if __name__ == "__main__":
    main()
