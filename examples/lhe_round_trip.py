"""The LHE round trip: the score read back from reweighting weights against the generators' exact score.

    PYTHONPATH=python python examples/lhe_round_trip.py [--events 10000] [--seed 0] [--dir DIR]

For WBF (theta = f_WWtilde/Lambda^2) and ZH (theta = C_Hq^(3)/Lambda^2): generate events at the SM
with their four-momenta, write them as a Les Houches file with weights at theta = -1, 0, 1 (as
MadGraph's reweighting module would), read the file back with keplersr.physics.read_lhe and
compute the joint score at theta = 0 from the weights (polynomial morphing and central
differences). Prints the largest relative difference to the generator's score ``t`` per event
(WBF: CP-odd, no rate term at the SM, rate_term=0; ZH: the rate term from the sample, as the
generator), the Fisher fraction of the read-back score, and how long each step took.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from keplersr.datasets.wbf import wbf_cp_score  # noqa: E402
from keplersr.datasets.wbf_lhe import write_wbf_lhe  # noqa: E402
from keplersr.datasets.zh_d6 import zh_d6_score  # noqa: E402
from keplersr.datasets.zh_d6_lhe import write_zh_d6_lhe  # noqa: E402
from keplersr.physics import fisher_fraction, read_lhe  # noqa: E402


def round_trip(name, generate, write, rate_term, n, seed, folder):
    t0 = time.perf_counter()
    df = generate(n, seed=seed, momenta=True)
    t1 = time.perf_counter()
    path = os.path.join(folder, f"{name}.lhe")
    write(df, path, thetas=(-1.0, 0.0, 1.0))
    t2 = time.perf_counter()
    events = read_lhe(path)
    t3 = time.perf_counter()
    exact = df["t"].to_numpy()
    for method in ("morphing", "central"):
        s = events.score(theta_ref=0.0, method=method, rate_term=rate_term)
        rel = np.max(np.abs(s.t - exact) / np.abs(exact))
        print(f"{name}: {len(events)} events, {method:9s} max |t_lhe - t| / |t| = {rel:.2e}"
              f"   Fisher fraction of t_lhe = {fisher_fraction(s.t, exact):.12f}")
    print(f"{name}: generate {t1 - t0:.2f} s, write {t2 - t1:.2f} s ({os.path.getsize(path) / 1e6:.1f} MB), "
          f"read {t3 - t2:.2f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=None, help="where to write the LHE files (default: a temporary folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or tmp
        round_trip("WBF", wbf_cp_score, write_wbf_lhe, 0.0, args.events, args.seed, folder)
        round_trip("ZH", zh_d6_score, write_zh_d6_lhe, "sample", args.events, args.seed, folder)


if __name__ == "__main__":
    main()
