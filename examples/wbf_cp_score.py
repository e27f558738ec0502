"""Optimal observable for CP violation in weak-boson fusion, found by symbolic regression.

The per-event score t = d log p / d theta (theta = f_WWtilde / Lambda^2 in TeV^-2, t in TeV^2)
is the optimal observable for theta.  This example regresses t on the observables a physicist
would offer -- x_f, x_b (jet pT / mH), Delta_eta, Delta_phi, m_jj, m_Hjj and pT_H (TeV) --
and ranks the formulas of the front by the Fisher information they keep, measured on an
independent sample, not by their loss.  At leading order the exact score is
2e-6 mH^2 x_f x_b sin(Delta_phi) (1 + m_Hjj^2/m_jj^2) for quark-quark lines (0.9999 of the
information); the search should find it, or a formula close to it.

Per level (parton, then detector preset A):
  1. events: a fit sample (default 2e5, searched with mini-batches) and an evaluation sample;
  2. the search, then the front as a table: complexity, constants, formula (t units), MSE,
     Fisher fraction F, at detector level also F_det (fraction of the detector-level
     information), and the expected 95% CL limit for --n-signal events; "info" marks the
     simplest formula within --info-tol of the best F, "loss" the estimator's own choice;
  3. reference observables and their fractions and limits;
  4. the 4-parameter fit t = -x_f (x_b + c)(a - b Delta_eta) sin(Delta_phi + d), errors, and
     the paper's shape constants beside it;
  5. detector level: Fisher fractions are fractions of the *parton-level* information (the
     joint score t(z) is the target).  The attainable maximum is the information of the
     detector-level score E[t|x], estimated by a least-squares CP-odd series regression of
     t(z) (cross-fitted) and by the kNN MSE floor.
Then the saturating score at theta != 0 (two values) as a second target, and the table of the
4-parameter fit for each definition of its variables and each process / PDF variant
(examples/wbf_variants.py).

The run checks the claims: exit status 1 if the formula selected by information keeps less
than --min-parton (0.98) at parton level or --min-detector (0.97, of the parton-level
information) at detector level.

    python examples/wbf_cp_score.py                      # everything, about 10 minutes
    python examples/wbf_cp_score.py --levels parton --skip-theta --skip-variants
    python examples/wbf_cp_score.py --skip-search        # data, fits, limits, variants only
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
import wbf_search as search  # noqa: E402
from keplersr.datasets.wbf import closed_form_observable, cp_odd_basis, wbf_cp_score  # noqa: E402
from keplersr.physics import (expected_limit, fisher_fraction, fisher_information, mse_floor,  # noqa: E402
                              regress_score)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output", default="./wbf_output", help="directory for plots and run directories")
    p.add_argument("--levels", default="parton,detector")
    p.add_argument("--detector", default="A", choices=["A", "B"])
    p.add_argument("--n-fit", type=int, default=200_000, help="events given to the search")
    p.add_argument("--n-eval", type=int, default=200_000, help="independent evaluation events")
    p.add_argument("--n-signal", type=float, default=1000.0, help="signal events for the limits")
    p.add_argument("--timeout", type=float, default=90.0, help="search time per level (s)")
    p.add_argument("--thetas", default="2,5", help="theta values (TeV^-2) for the saturating-score fronts")
    p.add_argument("--theta-timeout", type=float, default=60.0)
    p.add_argument("--theta-events", type=int, default=100_000)
    p.add_argument("--variant-events", type=int, default=60_000,
                   help="events per generated variant sample (the default samples are reused)")
    p.add_argument("--maxsize", type=int, default=25)
    p.add_argument("--niterations", type=int, default=100_000, help="(the timeout stops the search)")
    p.add_argument("--populations", type=int, default=8)
    p.add_argument("--population-size", type=int, default=33)
    p.add_argument("--ncycles", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--procs", type=int, default=2, help="Julia threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--info-tol", type=float, default=0.001,
                   help="select the simplest formula whose Fisher fraction is within this of the best")
    p.add_argument("--min-parton", type=float, default=0.98)
    p.add_argument("--min-detector", type=float, default=0.97)
    p.add_argument("--skip-search", action="store_true")
    p.add_argument("--skip-theta", action="store_true")
    p.add_argument("--skip-variants", action="store_true")
    args = p.parse_args(argv)
    args.levels = [s.strip() for s in args.levels.split(",") if s.strip()]
    if not args.levels or any(s not in ("parton", "detector") for s in args.levels):
        p.error("--levels must list parton and/or detector")
    args.thetas = [float(s) for s in args.thetas.split(",") if s.strip()]
    return args


def knn_inputs(df):
    return np.column_stack([np.log(df.x_f), np.log(df.x_b), df.Delta_eta, np.sin(df.Delta_phi),
                            np.cos(df.Delta_phi), np.log(df.m_jj), np.log(df.m_Hjj), np.log(df.pT_H)])


def detector_score(df_fit, df):
    """Cross-fitted series estimate of E[t|x] on df, its information, and the kNN floor."""
    t_hat = regress_score(cp_odd_basis(df_fit), df_fit["t"], cp_odd_basis(df), weights=df_fit["weight"])
    t, w = df["t"].to_numpy(), df["weight"].to_numpy()
    info = fisher_information(t_hat, t, weights=w)
    floor = mse_floor(knn_inputs(df), t, baseline=t_hat)
    return t_hat, info, 1.0 - floor / np.var(t)


def reference_table(df, observables, n_signal, information=None):
    t, w = df["t"].to_numpy(), df["weight"].to_numpy()
    rows = []
    for name, g in observables.items():
        row = {"observable": name, "F": fisher_fraction(g, t, weights=w)}
        if information is not None:
            row["F_det"] = fisher_fraction(g, t, weights=w, information=information)
        row["limit68"] = expected_limit(g, t, n_events=n_signal, cl=0.68, weights=w)
        row["limit95"] = expected_limit(g, t, n_events=n_signal, cl=0.95, weights=w)
        rows.append(row)
    return pd.DataFrame(rows)


def study_level(level, args):
    label = f"{level} level" + (f", detector preset {args.detector}" if level == "detector" else "")
    print(f"\n=== WBF, {label} ===")
    res = {"level": level}
    t0 = time.perf_counter()
    df_fit = wbf_cp_score(args.n_fit, level=level, detector=args.detector, seed=args.seed + 100)
    df = wbf_cp_score(args.n_eval, level=level, detector=args.detector, seed=args.seed)
    t, w = df["t"].to_numpy(), df["weight"].to_numpy()
    print(f"{len(df_fit)} fit + {len(df)} evaluation events in {time.perf_counter() - t0:.0f} s; "
          f"E[t^2] = {np.average(t ** 2, weights=w):.3e} TeV^4 (the parton-level information per event)")
    info_det = None
    if level == "detector":
        t1 = time.perf_counter()
        t_hat, info_det, knn_max = detector_score(df_fit, df)
        res["max_series"], res["max_knn"] = info_det / np.var(t), knn_max
        print("Fisher fractions below are fractions of the PARTON-LEVEL information E[t(z)^2].")
        print(f"attainable maximum at detector level (information of the detector-level score E[t|x]): "
              f"{res['max_series']:.4f} (CP-odd series regression of t(z), cross-fitted: a lower bound), "
              f"{knn_max:.4f} (1 - kNN MSE floor / Var t) [{time.perf_counter() - t1:.0f} s]")
        print("F_det = fraction of that detector-level information (series estimate as reference).")
    fit4 = wbf_fit.fit_summary(df)
    X4 = wbf_fit.family_inputs(df)
    obs = {"sin(Delta_phi)": np.sin(df["Delta_phi"].to_numpy()),
           "x_f x_b sin(Delta_phi)": (df.x_f * df.x_b * np.sin(df.Delta_phi)).to_numpy(),
           "4-parameter fit": wbf_fit.family(X4, *[fit4[k] for k in "abcd"]),
           "closed form (qq) of observables": closed_form_observable(df)}
    if not args.skip_search:
        print(f"search: {len(df_fit)} events, batches of {args.batch_size}, {args.timeout:g} s ...")
        t1 = time.perf_counter()
        model = search.run_search(df_fit, args, level)
        res["search_seconds"] = time.perf_counter() - t1
        print(f"search finished in {res['search_seconds']:.0f} s (stop: {', '.join(model.stop_reason_)}); "
              f"front ranked by information on the evaluation sample:")
        table = search.information_table(model, df, args.n_signal, detector_information=info_det,
                                         tol=args.info_tol)
        search.print_table(table)
        row = search.chosen_row(table)
        res.update(formula=row["formula"], fisher=row["F"], table=table)
        search.plot_front(os.path.join(args.output, f"front_{level}.png"), table, label,
                          attainable=res.get("max_series"))
        print(f"selected by information: t = {row['formula']}   F = {row['F']:.4f}"
              + (f"   F_det = {row['F_det']:.4f}" if info_det is not None else ""))
        obs["found formula (selected)"] = search.predict_t(model, df, index=row["index"])
    if level == "detector":
        obs["detector-level score (series)"] = t_hat
    if level == "parton":
        obs["exact score t(z)"] = t
    print(f"observables (F: fraction of the parton-level information; limits in TeV^-2 for "
          f"{args.n_signal:g} signal events):")
    lim = reference_table(df, obs, args.n_signal, info_det)
    print(lim.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    res["limits"] = lim
    wbf_fit.print_fit_beside_paper(fit4, level)
    res["fit4"] = fit4
    res["df"] = df
    return res


def study_theta(theta, args):
    """The saturating score at theta as target (parton level)."""
    print(f"\n=== WBF, parton level, theta = {theta:g} TeV^-2: target = the saturating score at theta ===")
    t0 = time.perf_counter()
    df_fit = wbf_cp_score(args.theta_events, theta=theta, seed=args.seed + 200)
    df = wbf_cp_score(args.theta_events, theta=theta, seed=args.seed + 300)
    t, w = df["t"].to_numpy(), df["weight"].to_numpy()
    print(f"{len(df_fit)} + {len(df)} events drawn from p(x|theta) in {time.perf_counter() - t0:.0f} s; "
          f"information at theta Var(t) = {np.var(t):.3e} TeV^4 (SM: ~2.1e-3)")
    sm = closed_form_observable(df)
    print(f"the SM-optimal observable (closed form at theta = 0) keeps F = {fisher_fraction(sm, t, weights=w):.4f}")
    res = {"theta": theta}
    if args.skip_search:
        return res
    model = search.make_regressor(args, run_id=f"wbf_theta{theta:g}_seed{args.seed}",
                                  output_directory=os.path.join(args.output, "runs"),
                                  timeout=args.theta_timeout)
    model.fit(search.inputs(df_fit), search.SCALE * df_fit["t"].to_numpy(), weights=df_fit["weight"].to_numpy())
    table = search.information_table(model, df, args.n_signal, tol=args.info_tol)
    search.print_table(table)
    row = search.chosen_row(table)
    found = search.predict_t(model, df, index=row["index"])
    attainable = 1.0 - mse_floor(knn_inputs(df), t, baseline=found) / np.var(t)
    print(f"selected by information: t = {row['formula']}   F = {row['F']:.4f} of the information at theta "
          f"(attainable with these observables, kNN: about {attainable:.4f})")
    res.update(formula=row["formula"], fisher=row["F"], attainable=attainable)
    return res


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    t0 = time.perf_counter()
    results = {level: study_level(level, args) for level in args.levels}
    thetas = [] if args.skip_theta else [study_theta(th, args) for th in args.thetas]
    if not args.skip_variants:
        import wbf_variants

        print("\n=== the 4-parameter fit for each definition of the variables and each process variant ===")
        reuse = {("parton" if lv == "parton" else args.detector): r["df"] for lv, r in results.items()}
        wbf_variants.print_variant_table(wbf_variants.variant_table(args.variant_events, args.seed, reuse=reuse))
    print(f"\n=== summary (WBF, total {time.perf_counter() - t0:.0f} s) ===")
    status = 0
    for level, r in results.items():
        if "fisher" not in r:
            continue
        need = args.min_parton if level == "parton" else args.min_detector
        extra = (f" (attainable: {r['max_series']:.4f} series, {r['max_knn']:.4f} kNN)"
                 if level == "detector" else "")
        ok = r["fisher"] >= need
        status |= not ok
        print(f"{level:>8}: F = {r['fisher']:.4f} of the parton-level information{extra} "
              f"{'>=' if ok else '<'} {need}  {'OK' if ok else 'FAILED'}: t = {r['formula']}")
    for r in thetas:
        if "fisher" in r:
            print(f"theta={r['theta']:g}: F = {r['fisher']:.4f} of the information at theta "
                  f"(attainable about {r['attainable']:.4f}): t = {r['formula']}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
