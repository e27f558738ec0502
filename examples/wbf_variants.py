"""Which definitions reproduce the published shape constants of the 4-parameter family?

``t = -x1 (x2 + c)(a - b Delta_eta) sin(Delta_phi + d)`` is fitted (weighted least squares,
sandwich errors; see examples/wbf_fit.py) for

* definitions of the variables, on the default sample (WW fusion, toy PDFs): jets ordered by
  rapidity (the generator's f/b) or by pT; only x1, x2 ordered by pT with Delta_phi, Delta_eta
  kept rapidity-ordered; x = pT / mH or pT / mW; Delta_eta signed or absolute;
* process content and PDFs (rapidity-ordered, x = pT/mH): WW fusion only (default), WW + ZZ
  fusion, the full electroweak structure of the operator (photon exchange in the CP-odd
  amplitude), with the toy PDFs or the GRV94 LO parametrisation;
* selections: the default (pT > 30 GeV, |eta| < 4.5, opposite hemispheres, Delta_eta > 3.6,
  m_jj > 500 GeV) or only the jet cuts (no Delta_eta, m_jj cuts; pT > 30 or 20 GeV);
* detector level: presets A and B for the default sample, A for full EW + GRV94;
* every sample also with x1, x2 ordered by pT (Delta_phi, Delta_eta kept rapidity-ordered).

Run on its own (prints the table used in docs/physics-score.md):
    python examples/wbf_variants.py [--n-events 300000] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO_PYTHON = os.path.join(_HERE, "..", "python")
if os.path.isdir(os.path.join(_REPO_PYTHON, "keplersr")):
    sys.path.insert(0, os.path.abspath(_REPO_PYTHON))
sys.path.insert(0, _HERE)

import wbf_fit  # noqa: E402
from keplersr.datasets.pdfs import GRV94LO  # noqa: E402
from keplersr.datasets.wbf import wbf_cp_score  # noqa: E402

#: (label, order, scale [GeV], signed Delta_eta) on the default parton-level sample
DEFINITIONS = [
    ("rapidity-ordered, x = pT/mH, |Delta_eta| (default)", "eta", 125.0, False),
    ("x1, x2 by pT; Delta_phi, Delta_eta rapidity-ordered", "pT-x", 125.0, False),
    ("all by pT (Delta_phi = phi_lead - phi_sub), |Delta_eta|", "pT", 125.0, False),
    ("all by pT, signed Delta_eta = eta_lead - eta_sub", "pT", 125.0, True),
    ("rapidity-ordered, x = pT/mW", "eta", 80.4, False),
]

#: looser selections: only the jet pT cut (and opposite hemispheres, |eta| < 4.5)
NO_VBF_CUTS = {"Delta_eta_min": 0.0, "m_jj_min": 0.0}
PT20_ONLY = {"pT_min": 20.0, "Delta_eta_min": 0.0, "m_jj_min": 0.0}

#: (label, level (detector preset), process, PDFs, cut overrides); each sample is also fitted
#: with x1, x2 ordered by pT
SAMPLES = [
    ("WW + ZZ fusion, toy PDFs", "parton", "WW+ZZ", None, None),
    ("full EW operator structure, toy PDFs", "parton", "EW", None, None),
    ("WW fusion, GRV94 LO PDFs", "parton", "WW", "GRV94LO", None),
    ("full EW, GRV94 LO", "parton", "EW", "GRV94LO", None),
    ("WW, toy; no Delta_eta, m_jj cuts (pT > 30 only)", "parton", "WW", None, NO_VBF_CUTS),
    ("full EW, GRV94 LO; pT > 30 only", "parton", "EW", "GRV94LO", NO_VBF_CUTS),
    ("full EW, GRV94 LO; pT > 20 only", "parton", "EW", "GRV94LO", PT20_ONLY),
    ("detector A: WW fusion, toy PDFs (default)", "A", "WW", None, None),
    ("detector B: WW fusion, toy PDFs", "B", "WW", None, None),
    ("detector A: full EW, GRV94 LO", "A", "EW", "GRV94LO", None),
    ("detector A: full EW, GRV94 LO; pT > 30 only", "A", "EW", "GRV94LO", NO_VBF_CUTS),
]


def _inputs(df, order, scale, signed):
    if order == "pT-x":  # reorder only x1, x2 by pT
        X = wbf_fit.family_inputs(df, "eta", scale, signed)
        x_f, x_b = X[0].copy(), X[1].copy()
        X[0], X[1] = np.maximum(x_f, x_b), np.minimum(x_f, x_b)
        return X
    return wbf_fit.family_inputs(df, order, scale, signed)


def _fit_row(label, df, order="eta", scale=125.0, signed=False):
    from keplersr.physics import fisher_fraction

    X = _inputs(df, order, scale, signed)
    t, w = df["t"].to_numpy(), df["weight"].to_numpy()
    popt, err, cov = wbf_fit.fit_family(X, t, w)
    ba, dba = wbf_fit.ratio_error(popt, cov)
    return {"variant": label, "a": popt[0], "da": err[0], "b": popt[1], "db": err[1], "c": popt[2],
            "dc": err[2], "d": popt[3], "dd": err[3], "b/a": ba, "db/a": dba,
            "F": fisher_fraction(wbf_fit.family(X, *popt), t, weights=w)}


def variant_table(n_events=200_000, seed=0, samples=None, reuse=None, verbose=True):
    """Fit every variant; ``reuse`` may hold the default parton/detector tables (by level)."""
    reuse = dict(reuse or {})
    rows = []
    t0 = time.perf_counter()
    base = reuse.get("parton")
    if base is None:
        base = wbf_cp_score(n_events, level="parton", seed=seed)
    for label, order, scale, signed in DEFINITIONS:
        rows.append(_fit_row(label, base, order, scale, signed))
    for label, level, process, pdf, cuts in (SAMPLES if samples is None else samples):
        if process == "WW" and pdf is None and cuts is None and level in reuse:
            df = reuse[level]
        else:
            df = wbf_cp_score(n_events, level="parton" if level == "parton" else "detector",
                              detector="A" if level == "parton" else level, seed=seed + 7,
                              process=process, pdfs=GRV94LO() if pdf == "GRV94LO" else None, cuts=cuts)
        rows.append(_fit_row(label, df))
        rows.append(_fit_row("  same, x1, x2 by pT", df, order="pT-x"))
        if verbose:
            print(f"  [{label}: {len(df)} events, {time.perf_counter() - t0:.0f} s]", flush=True)
    return pd.DataFrame(rows)


def print_variant_table(table):
    def pm(v, e, digits):
        return f"{v:+.{digits}f}({e:.{digits}f})"

    print("t = -x1 (x2 + c)(a - b Delta_eta) sin(Delta_phi + d); robust errors; paper: c = 0.24165(8), "
          "b/a = 0.094 (parton), c = 0.3542(20) (detector)")
    out = pd.DataFrame({
        "variant": table["variant"],
        "a": [pm(v, e, 4) for v, e in zip(table["a"], table["da"])],
        "b": [pm(v, e, 5) for v, e in zip(table["b"], table["db"])],
        "c": [pm(v, e, 3) for v, e in zip(table["c"], table["dc"])],
        "d": [pm(v, e, 4) for v, e in zip(table["d"], table["dd"])],
        "b/a": [pm(v, e, 3) for v, e in zip(table["b/a"], table["db/a"])],
        "F": [f"{v:.4f}" for v in table["F"]]})
    with pd.option_context("display.max_colwidth", 70, "display.width", 250):
        print(out.to_string(index=False))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-events", type=int, default=300_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    print_variant_table(variant_table(args.n_events, args.seed))
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
