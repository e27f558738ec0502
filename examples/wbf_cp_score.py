"""Optimal observable for CP violation in weak-boson fusion, found by symbolic regression.

Steps (parton level and detector level A):
  1. generate events with the per-event score t = d log p / d theta, theta = f_WWtilde/Lambda^2;
  2. run KeplerSR's SymbolicRegressor on (x_f, x_b, Delta_eta, Delta_phi) -> t and print the
     Pareto front (complexity, number of constants, formula, MSE, Fisher fraction);
  3. fit the 4-parameter family t = -x_f (x_b + c)(a - b Delta_eta) sin(Delta_phi + d)
     with standard errors (scipy curve_fit);
  4. compare expected limits on theta: sin(Delta_phi) alone, the found formula, the fit, the
     exact score; report the detector-level MSE floor E[Var(t|x)];
  5. save plots (Pareto front, t vs Delta_phi, limits) to the output directory.

The regression target is rescaled: y = SCALE * t with SCALE = 10 (t is ~1e-2..1e-1 TeV^2),
so formulas and losses printed by the regressor are for y; MSE and Fisher fractions in the
table are converted back to t (TeV^4).

Run:  python examples/wbf_cp_score.py --output wbf_output
      python examples/wbf_cp_score.py --skip-regression   (data, fit, limits and plots only)
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from keplersr.datasets.wbf import wbf_cp_score
from keplersr.physics import expected_limit, fisher_fraction, mse_floor

SCALE = 10.0
FEATURES = ["x_f", "x_b", "Delta_eta", "Delta_phi"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output", default="./wbf_output", help="directory for the PNG plots")
    p.add_argument("--n-events", type=int, default=300_000, help="events per level (evaluation)")
    p.add_argument("--n-fit", type=int, default=5_000, help="events given to the regressor")
    p.add_argument("--n-signal", type=float, default=1000.0,
                   help="expected number of selected signal events for the limits")
    p.add_argument("--detector", default="A", choices=["A", "B"])
    p.add_argument("--niterations", type=int, default=40)
    p.add_argument("--populations", type=int, default=8)
    p.add_argument("--timeout", type=float, default=300.0, help="regressor time limit per level (s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-regression", action="store_true",
                   help="skip the symbolic regression (data, fit, limits and plots only)")
    return p.parse_args(argv)


def family(X, a, b, c, d):
    """The published 4-parameter optimal-observable family."""
    x_f, x_b, deta, dphi = X
    return -x_f * (x_b + c) * (a - b * deta) * np.sin(dphi + d)


def fit_family(df):
    """curve_fit of the 4-parameter family to t.

    Returns (params, curve_fit standard errors, robust standard errors).  curve_fit's errors
    assume equal-variance residuals; the residuals of t are heteroscedastic and heavy
    tailed, so we also give the sandwich (HC0) errors (J^T J)^-1 J^T diag(r^2) J (J^T J)^-1,
    which are the honest ones for this fit.
    """
    X = np.vstack([df[f].to_numpy() for f in FEATURES])
    t = df["t"].to_numpy()
    # starting point from the linear least-squares fit t ~ x_f x_b sin(dphi) (A + B deta)
    g = df["x_f"] * df["x_b"] * np.sin(df["Delta_phi"])
    (A, B), *_ = np.linalg.lstsq(np.vstack([g, g * df["Delta_eta"]]).T, t, rcond=None)
    popt, pcov = curve_fit(family, X, t, p0=[-A, B, 0.0, 0.0])
    r = t - family(X, *popt)
    J = np.empty((t.size, 4))
    for k in range(4):
        h = 1e-6 * max(1.0, abs(popt[k]))
        up, dn = popt.copy(), popt.copy()
        up[k] += h
        dn[k] -= h
        J[:, k] = (family(X, *up) - family(X, *dn)) / (2 * h)
    bread = np.linalg.inv(J.T @ J)
    robust = bread @ (J.T * r ** 2) @ J @ bread
    return popt, np.sqrt(np.diag(pcov)), np.sqrt(np.diag(robust))


def physics_baseline(df):
    """Least-squares combination of physics observables, used to detrend the MSE-floor estimate."""
    s = np.sin(df["Delta_phi"].to_numpy())
    xx = (df["x_f"] * df["x_b"]).to_numpy()
    full = xx * s * (1 + df["m_Hjj"].to_numpy() ** 2 / df["m_jj"].to_numpy() ** 2)
    B = np.column_stack([full, xx * s, xx * s * df["Delta_eta"].to_numpy(), s])
    coef, *_ = np.linalg.lstsq(B, df["t"].to_numpy(), rcond=None)
    return B @ coef


def run_regression(df_fit, args):
    from keplersr import SymbolicRegressor  # the estimator (lead's API)

    m = SymbolicRegressor(binary_operators=["+", "-", "*", "/"],
                          unary_operators=["sin", "square", "cube"], maxsize=25,
                          niterations=args.niterations, populations=args.populations,
                          timeout_in_seconds=args.timeout, random_state=0, progress=False)
    m.fit(df_fit[FEATURES], SCALE * df_fit["t"], weights=None)
    return m


def pareto_table(model, df_eval):
    """Pareto front with MSE (TeV^4) and Fisher fraction evaluated on an independent sample."""
    rows = []
    t = df_eval["t"].to_numpy()
    for i, eq in model.equations_.iterrows():
        pred = np.asarray(model.predict(df_eval[FEATURES], index=i), dtype=float) / SCALE
        ok = np.all(np.isfinite(pred)) and np.any(pred != 0)
        rows.append({"complexity": int(eq["complexity"]), "dof": len(eq["constants"]),
                     "formula": str(eq["sympy_format"]),
                     "MSE": float(np.mean((pred - t) ** 2)) if ok else np.nan,
                     "Fisher": fisher_fraction(pred, t) if ok else np.nan})
    return pd.DataFrame(rows)


def limits(df, extra):
    """Expected 68% / 95% CL limits (TeV^-2) for n_signal events, observables in `extra`."""
    t = df["t"].to_numpy()
    obs = {"sin(Delta_phi)": np.sin(df["Delta_phi"].to_numpy()), **extra, "exact score": t}
    rows = []
    for name, g in obs.items():
        rows.append({"observable": name, "Fisher": fisher_fraction(g, t),
                     "limit68": expected_limit(g, t, n_events=ARGS.n_signal, cl=0.68),
                     "limit95": expected_limit(g, t, n_events=ARGS.n_signal, cl=0.95)})
    return pd.DataFrame(rows)


def plot_all(outdir, level, df, table, lim):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(outdir, exist_ok=True)
    if table is not None and len(table):
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.semilogy(table["complexity"], table["MSE"], "o-")
        ax.set_xlabel("complexity")
        ax.set_ylabel("MSE [TeV$^4$]")
        ax.set_title(f"Pareto front ({level})")
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, f"pareto_{level}.png"), dpi=120)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    sub = df.sample(min(len(df), 20_000), random_state=0)
    ax.scatter(sub["Delta_phi"], sub["t"], s=1, alpha=0.2)
    bins = np.linspace(-np.pi, np.pi, 31)
    idx = np.digitize(df["Delta_phi"], bins) - 1
    prof = [df["t"].to_numpy()[idx == i].mean() for i in range(30)]
    ax.plot(0.5 * (bins[1:] + bins[:-1]), prof, "r-", label="mean t")
    ax.set_xlabel(r"$\Delta\phi_{jj}$")
    ax.set_ylabel(r"$t$ [TeV$^2$]")
    ax.set_ylim(np.quantile(df["t"], [0.005, 0.995]))
    ax.legend()
    ax.set_title(f"score vs $\\Delta\\phi$ ({level})")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, f"t_vs_dphi_{level}.png"), dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.barh(lim["observable"], lim["limit95"])
    ax.set_xlabel(r"expected 95% CL on $f_{\tilde W W}/\Lambda^2$ [TeV$^{-2}$]")
    ax.set_title(f"{ARGS.n_signal:g} events ({level})")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, f"limits_{level}.png"), dpi=120)
    plt.close(fig)


def study(level, args):
    print(f"\n=== {level} level ===")
    t0 = time.perf_counter()
    df = wbf_cp_score(args.n_events, level=level, detector=args.detector, seed=args.seed)
    print(f"generated {len(df)} events in {time.perf_counter() - t0:.1f} s; "
          f"E[t] = {df.t.mean():.2e}, E[t^2] = {np.mean(df.t ** 2):.3e} TeV^4, "
          f"w_max at quantile {df.attrs['w_max_quantile']}")
    t = df["t"].to_numpy()
    extra = {}
    table = None
    if not args.skip_regression:
        df_fit = wbf_cp_score(args.n_fit, level=level, detector=args.detector, seed=args.seed + 100)
        model = run_regression(df_fit, args)
        table = pareto_table(model, df)
        with pd.option_context("display.max_colwidth", 80, "display.width", 200):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        best = np.asarray(model.predict(df[FEATURES]), dtype=float) / SCALE
        extra["found formula (best)"] = best
    popt, perr, prob = fit_family(df)
    print("4-parameter fit  t = -x_f (x_b + c)(a - b Delta_eta) sin(Delta_phi + d):")
    for name, v, e, er in zip("abcd", popt, perr, prob):
        print(f"  {name} = {v:+.5g} +- {er:.2g} (robust)   [curve_fit: +- {e:.2g}]")
    print("  (a, b < 0 here: our eps^{0123} = +1 convention flips the overall sign of t"
          " relative to the published formula; b/a = %.4f)" % (popt[1] / popt[0]))
    X = np.vstack([df[f].to_numpy() for f in FEATURES])
    extra["4-parameter fit"] = family(X, *popt)
    obs_cols = ["x_f", "x_b", "Delta_eta", "Delta_phi", "m_jj", "m_Hjj"]
    Z = np.column_stack([np.log(df.x_f), np.log(df.x_b), df.Delta_eta, np.sin(df.Delta_phi),
                         np.cos(df.Delta_phi), np.log(df.m_jj), np.log(df.m_Hjj)])
    fl = mse_floor(Z, t, baseline=physics_baseline(df))
    print(f"MSE floor E[Var(t|x)] (kNN, detrended, inputs {obs_cols}): {fl:.3g} TeV^4 "
          f"= {fl / np.mean(t ** 2):.2%} of E[t^2];  MSE of the 4-parameter fit: "
          f"{np.mean((extra['4-parameter fit'] - t) ** 2):.3g}")
    lim = limits(df, extra)
    print(f"expected limits on f/Lambda^2 [TeV^-2] for {args.n_signal:g} events:")
    print(lim.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    plot_all(args.output, level, df, table, lim)


def main(argv=None):
    global ARGS
    ARGS = parse_args(argv)
    if not ARGS.skip_regression:
        try:
            import keplersr
            keplersr.SymbolicRegressor  # noqa: B018
        except (ImportError, AttributeError) as exc:
            raise SystemExit(f"keplersr.SymbolicRegressor is not available ({exc}); "
                             "use --skip-regression") from exc
    for level in ("parton", "detector"):
        study(level, ARGS)
    print(f"\nplots written to {os.path.abspath(ARGS.output)}")


ARGS = None

if __name__ == "__main__":
    main()
