"""Optimal observable for CP violation in weak-boson fusion, found by symbolic regression.

The per-event score t = d log p / d theta (theta = f_WWtilde / Lambda^2, t in TeV^2) is the
optimal observable for theta.  This example regresses t on the jet observables
(x_f, x_b, Delta_eta, Delta_phi) with KeplerSR and checks how much of the Fisher information
the found formula keeps (the exact score keeps 1.0, sin(Delta_phi) alone about 0.45).

Steps, at parton level and at detector level (preset A by default):
  1. generate events (a fit sample and an independent evaluation sample);
  2. run SymbolicRegressor (operators + - * / sin square cube, no sin inside sin) on (x_f, x_b, Delta_eta,
     Delta_phi) -> y = SCALE * t with the events' weights, and print the Pareto front:
     complexity, number of constants, formula (in t units), MSE and Fisher fraction, both
     measured on the evaluation sample;
  3. print the selected formula's constants with their standard errors;
  4. fit the published 4-parameter family t = -x_f (x_b + c)(a - b Delta_eta) sin(Delta_phi + d)
     with standard errors (scipy curve_fit plus heteroscedasticity-robust errors);
  5. compare expected limits on theta: sin(Delta_phi) alone, the found formula, the
     4-parameter fit and the exact score; report the detector-level MSE floor E[Var(t|x)];
  6. save plots (Pareto front, t vs Delta_phi, limits) as PNG files.

The target is rescaled, y = SCALE * t with SCALE = 10, so that it is of order 0.1-1 (t itself
is ~1e-2 TeV^2): the formulas printed by the regressor and its losses are for y; the table
converts formulas, MSE (TeV^4) and Fisher fractions back to t.

The run checks the claim instead of asserting it: it exits with status 1 when the selected
parton-level formula captures less than --min-fisher (default 0.95) of the Fisher information.

Run (from the repository root, with the project's virtualenv; `make setup` creates it):
    python examples/wbf_cp_score.py                      # parton + detector A, a few minutes
    python examples/wbf_cp_score.py --levels parton      # parton level only
    python examples/wbf_cp_score.py --skip-regression    # data, 4-parameter fit, limits, plots
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

# Inside a clone, use the clone's package (python/keplersr) rather than an installed copy.
_REPO_PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")
if os.path.isdir(os.path.join(_REPO_PYTHON, "keplersr")):
    sys.path.insert(0, os.path.abspath(_REPO_PYTHON))

from keplersr.datasets.wbf import wbf_cp_score
from keplersr.physics import expected_limit, fisher_fraction, mse_floor

SCALE = 10.0
FEATURES = ["x_f", "x_b", "Delta_eta", "Delta_phi"]
BINARY_OPERATORS = ["+", "-", "*", "/"]
UNARY_OPERATORS = ["sin", "square", "cube"]
# sin(sin(x)) ~ 0.84 sin(x) would stand in for a constant factor at one node less; forbid it
# so that the front shows the physics (c * x_f x_b sin(Delta_phi)) and not this degeneracy.
NESTED_CONSTRAINTS = {"sin": {"sin": 0}}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output", default="./wbf_output", help="directory for the PNG plots and run directories")
    p.add_argument("--levels", default="parton,detector",
                   help="comma-separated levels to study: parton, detector (default both)")
    p.add_argument("--detector", default="A", choices=["A", "B"], help="detector preset")
    p.add_argument("--n-events", type=int, default=300_000, help="events per level for evaluation")
    p.add_argument("--n-fit", type=int, default=20_000, help="events given to the regressor")
    p.add_argument("--n-signal", type=float, default=1000.0,
                   help="expected number of selected signal events for the limits")
    p.add_argument("--niterations", type=int, default=15)
    p.add_argument("--populations", type=int, default=8)
    p.add_argument("--maxsize", type=int, default=25)
    p.add_argument("--procs", type=int, default=2, help="Julia threads for the search")
    p.add_argument("--timeout", type=float, default=180.0, help="regressor time limit per level (s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-fisher", type=float, default=0.95,
                   help="exit with status 1 if the selected parton-level formula keeps less")
    p.add_argument("--skip-regression", action="store_true",
                   help="skip the symbolic regression (data, fit, limits and plots only)")
    args = p.parse_args(argv)
    args.levels = [s.strip() for s in args.levels.split(",") if s.strip()]
    bad = [s for s in args.levels if s not in ("parton", "detector")]
    if bad or not args.levels:
        p.error(f"--levels must list parton and/or detector, got {bad or 'nothing'}")
    return args


# ------------------------------------------------------------------ the published family
def family(X, a, b, c, d):
    """The published 4-parameter optimal-observable family."""
    x_f, x_b, deta, dphi = X
    return -x_f * (x_b + c) * (a - b * deta) * np.sin(dphi + d)


def fit_family(df):
    """Weighted curve_fit of the 4-parameter family to t.

    Returns (params, curve_fit standard errors, robust standard errors).  curve_fit's errors
    assume equal-variance residuals; the residuals of t are heteroscedastic and heavy
    tailed, so we also give the sandwich (HC0) errors (J^T W J)^-1 J^T W diag(r^2) W J
    (J^T W J)^-1, which are the honest ones for this fit (they match the seed-to-seed spread).
    """
    X = np.vstack([df[f].to_numpy() for f in FEATURES])
    t = df["t"].to_numpy()
    w = df["weight"].to_numpy()
    # starting point from the linear least-squares fit t ~ x_f x_b sin(dphi) (A + B deta)
    g = (df["x_f"] * df["x_b"] * np.sin(df["Delta_phi"])).to_numpy()
    sw = np.sqrt(w)
    B = np.vstack([g, g * df["Delta_eta"].to_numpy()]).T
    (A, Bc), *_ = np.linalg.lstsq(B * sw[:, None], t * sw, rcond=None)
    popt, pcov = curve_fit(family, X, t, p0=[-A, Bc, 0.0, 0.0], sigma=1.0 / sw)
    r = t - family(X, *popt)
    J = np.empty((t.size, 4))
    for k in range(4):
        h = 1e-6 * max(1.0, abs(popt[k]))
        up, dn = popt.copy(), popt.copy()
        up[k] += h
        dn[k] -= h
        J[:, k] = (family(X, *up) - family(X, *dn)) / (2 * h)
    bread = np.linalg.inv((J.T * w) @ J)
    robust = bread @ ((J.T * (w * r) ** 2) @ J) @ bread
    return popt, np.sqrt(np.diag(pcov)), np.sqrt(np.diag(robust))


def physics_baseline(df):
    """Least-squares combination of physics observables, used to detrend the MSE-floor estimate."""
    s = np.sin(df["Delta_phi"].to_numpy())
    xx = (df["x_f"] * df["x_b"]).to_numpy()
    full = xx * s * (1 + df["m_Hjj"].to_numpy() ** 2 / df["m_jj"].to_numpy() ** 2)
    B = np.column_stack([full, xx * s, xx * s * df["Delta_eta"].to_numpy(), s])
    coef, *_ = np.linalg.lstsq(B, df["t"].to_numpy(), rcond=None)
    return B @ coef


# ------------------------------------------------------------------ symbolic regression
def make_regressor(args, output_directory=None):
    """The SymbolicRegressor used for both levels (operators of the published study)."""
    from keplersr import SymbolicRegressor

    return SymbolicRegressor(binary_operators=BINARY_OPERATORS, unary_operators=UNARY_OPERATORS,
                             nested_constraints=NESTED_CONSTRAINTS, maxsize=args.maxsize,
                             niterations=args.niterations,
                             populations=args.populations, procs=args.procs,
                             timeout_in_seconds=args.timeout, random_state=args.seed,
                             progress=False, verbosity=0, output_directory=output_directory)


def run_regression(df_fit, args, level="parton"):
    """Fit y = SCALE * t on FEATURES with the event weights; returns the fitted model."""
    model = make_regressor(args, output_directory=os.path.join(args.output, "runs"))
    model.run_id = f"wbf_{level}_seed{args.seed}"
    model.fit(df_fit[FEATURES], SCALE * df_fit["t"], weights=df_fit["weight"].to_numpy())
    return model


def formula_in_t(expr, digits=4):
    """The sympy formula for y divided by SCALE (so it predicts t), constants rounded."""
    import sympy as sp

    e = sp.sympify(expr) / SCALE
    return e.xreplace({f: sp.Float(f, digits) for f in e.atoms(sp.Float)})


def predict_t(model, df, index=None):
    """Predictions of row `index` of the Pareto front (default: the selected one) in t units."""
    pred = np.asarray(model.predict(df[FEATURES], index=index), dtype=float) / SCALE
    return np.broadcast_to(pred, (len(df),)).copy()


def safe_fisher(g, t, w):
    """Fisher fraction, NaN when undefined (a formula that is identically zero or not finite)."""
    if not np.all(np.isfinite(g)):
        return np.nan
    try:
        return fisher_fraction(g, t, weights=w)
    except ValueError:
        return np.nan


def pareto_table(model, df_eval):
    """Pareto front with MSE (TeV^4) and Fisher fraction measured on an independent sample."""
    t = df_eval["t"].to_numpy()
    w = df_eval["weight"].to_numpy()
    selected = model.get_best().name
    rows = []
    for i, eq in model.equations_.iterrows():
        pred = predict_t(model, df_eval, index=i)
        finite = np.all(np.isfinite(pred))
        rows.append({"complexity": int(eq["complexity"]), "dof": len(eq["constants"]),
                     "formula": str(formula_in_t(eq["sympy_format"])),
                     "MSE": float(np.average((pred - t) ** 2, weights=w)) if finite else np.nan,
                     "Fisher": safe_fisher(pred, t, w),
                     "selected": "<--" if i == selected else ""})
    return pd.DataFrame(rows)


def print_table(table):
    with pd.option_context("display.max_colwidth", 100, "display.width", 250):
        print(table.to_string(index=False, formatters={
            "MSE": lambda v: f"{v:.3e}", "Fisher": lambda v: f"{v:.4f}"}))


def print_constants(model):
    """Constants of the selected formula (for y = SCALE * t) with the engine's standard errors."""
    row = model.get_best()
    if not row["constants"]:
        print("  the selected formula has no free constants")
        return
    for k, (c, e) in enumerate(zip(row["constants"], row["constants_stderr"] or
                                   [np.nan] * len(row["constants"]))):
        print(f"  c{k} = {c:+.6g} +- {e:.2g}")
    print("  (least-squares standard errors from the engine, for y = 10 t; they assume "
          "equal-variance residuals and are optimistic for heavy-tailed t, cf. the robust "
          "errors of the 4-parameter fit)")


# ------------------------------------------------------------------ limits and plots
def limits(df, extra, n_signal):
    """Expected 68% / 95% CL limits (TeV^-2) for n_signal events, observables in `extra`."""
    t = df["t"].to_numpy()
    w = df["weight"].to_numpy()
    obs = {"sin(Delta_phi)": np.sin(df["Delta_phi"].to_numpy()), **extra, "exact score": t}
    rows = []
    for name, g in obs.items():
        rows.append({"observable": name, "Fisher": fisher_fraction(g, t, weights=w),
                     "limit68": expected_limit(g, t, n_events=n_signal, cl=0.68, weights=w),
                     "limit95": expected_limit(g, t, n_events=n_signal, cl=0.95, weights=w)})
    return pd.DataFrame(rows)


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_pareto(path, table, level):
    """MSE (left axis) and Fisher fraction (right axis) along the Pareto front."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(table["complexity"], table["MSE"], "o-", color="C0", label="MSE")
    ax.set_xlabel("complexity")
    ax.set_ylabel(r"MSE [TeV$^4$]", color="C0")
    ax2 = ax.twinx()
    ax2.plot(table["complexity"], table["Fisher"], "s--", color="C1", label="Fisher fraction")
    ax2.axhline(0.95, color="C1", lw=0.8, ls=":")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("Fisher fraction", color="C1")
    sel = table[table["selected"] != ""]
    if len(sel):
        ax2.plot(sel["complexity"], sel["Fisher"], "*", ms=16, color="C3", label="selected")
        ax2.legend(loc="center right")
    ax.set_title(f"Pareto front ({level} level)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_t_vs_dphi(path, df, level, found=None):
    """Scatter of t against Delta_phi with the mean of t and of the found formula per bin."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    sub = df.sample(min(len(df), 20_000), random_state=0)
    ax.scatter(sub["Delta_phi"], sub["t"], s=1, alpha=0.15, color="0.4", label="events")
    bins = np.linspace(-np.pi, np.pi, 31)
    centres = 0.5 * (bins[1:] + bins[:-1])
    idx = np.clip(np.digitize(df["Delta_phi"], bins) - 1, 0, 29)
    w = df["weight"].to_numpy()

    def profile(v):
        return [np.average(v[idx == i], weights=w[idx == i]) for i in range(30)]

    ax.plot(centres, profile(df["t"].to_numpy()), "r-", lw=2, label="mean t")
    if found is not None:
        ax.plot(centres, profile(found), "b--", lw=2, label="mean of found formula")
    ax.set_xlabel(r"$\Delta\phi_{jj}$")
    ax.set_ylabel(r"$t$ [TeV$^2$]")
    ax.set_ylim(np.quantile(df["t"], [0.005, 0.995]))
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(rf"score vs $\Delta\phi$ ({level} level)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_limits(path, lim, level, n_signal):
    """Expected 95% CL limits, one bar per observable, Fisher fraction written on each bar."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.barh(lim["observable"], lim["limit95"], color="C2")
    for k, (v, f) in enumerate(zip(lim["limit95"], lim["Fisher"])):
        ax.text(v, k, f"  {v:.3g}  (F = {f:.3f})", va="center", fontsize=8)
    ax.set_xlim(0, 1.45 * lim["limit95"].max())
    ax.invert_yaxis()
    ax.set_xlabel(r"expected 95% CL on $f_{\tilde W W}/\Lambda^2$ [TeV$^{-2}$]")
    ax.set_title(f"{n_signal:g} signal events ({level} level)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ one level
def study(level, args):
    """Everything for one level; returns a dict of the results (table, found Fisher, limits)."""
    print(f"\n=== {level} level" + (f" (detector {args.detector})" if level == "detector" else "") + " ===")
    res = {"level": level}
    t0 = time.perf_counter()
    df = wbf_cp_score(args.n_events, level=level, detector=args.detector, seed=args.seed)
    t = df["t"].to_numpy()
    w = df["weight"].to_numpy()
    print(f"generated {len(df)} evaluation events in {time.perf_counter() - t0:.1f} s; "
          f"E[t] = {np.average(t, weights=w):.2e}, E[t^2] = {np.average(t ** 2, weights=w):.3e} TeV^4; "
          f"{int((w != 1).sum())} events with weight != 1 (max {w.max():.3f})")
    extra = {}
    res["table"] = None
    if not args.skip_regression:
        df_fit = wbf_cp_score(args.n_fit, level=level, detector=args.detector, seed=args.seed + 100)
        print(f"symbolic regression on {len(df_fit)} independent events (target y = {SCALE:g} t, "
              f"event weights, niterations={args.niterations}, timeout {args.timeout:g} s) ...")
        t1 = time.perf_counter()
        model = run_regression(df_fit, args, level)
        res["search_seconds"] = time.perf_counter() - t1
        print(f"search finished in {res['search_seconds']:.0f} s (stop: {', '.join(model.stop_reason_)})")
        table = pareto_table(model, df)
        res["table"] = table
        print("Pareto front (MSE and Fisher fraction on the evaluation sample; dof = number of constants):")
        print_table(table)
        best = model.get_best()
        found = predict_t(model, df)
        res["formula"] = str(formula_in_t(best["sympy_format"]))
        res["fisher"] = safe_fisher(found, t, w)
        res["fisher_best_on_front"] = float(np.nanmax(table["Fisher"]))
        print(f"selected formula: t = {res['formula']}   Fisher fraction {res['fisher']:.4f} "
              f"(best on the front {res['fisher_best_on_front']:.4f})")
        print_constants(model)
        extra["found formula"] = found
    popt, perr, prob = fit_family(df)
    res["family"] = (popt, prob)
    print("4-parameter fit  t = -x_f (x_b + c)(a - b Delta_eta) sin(Delta_phi + d):")
    for name, v, e, er in zip("abcd", popt, perr, prob):
        print(f"  {name} = {v:+.5g} +- {er:.2g} (robust)   [curve_fit: +- {e:.2g}]")
    print("  (a, b < 0 here: our eps^{0123} = +1 convention flips the overall sign of t"
          " relative to the published formula; b/a = %.4f)" % (popt[1] / popt[0]))
    X = np.vstack([df[f].to_numpy() for f in FEATURES])
    extra["4-parameter fit"] = family(X, *popt)
    Z = np.column_stack([np.log(df.x_f), np.log(df.x_b), df.Delta_eta, np.sin(df.Delta_phi),
                         np.cos(df.Delta_phi), np.log(df.m_jj), np.log(df.m_Hjj)])
    fl = mse_floor(Z, t, baseline=physics_baseline(df))
    res["mse_floor"] = fl
    ett = np.mean(t ** 2)
    print(f"MSE floor E[Var(t|x)] (kNN, detrended), x = all observables incl. m_jj, m_Hjj: {fl:.3g} TeV^4 "
          f"= {fl / ett:.2%} of E[t^2]")
    fl4 = mse_floor(Z[:, :5], t, baseline=extra["4-parameter fit"])
    res["mse_floor_inputs"] = fl4
    print(f"MSE floor with only the four regression inputs: {fl4:.3g} TeV^4, so no function of them keeps "
          f"more than about {1 - fl4 / ett:.3f} of the Fisher information; "
          f"MSE of the 4-parameter fit: {np.average((extra['4-parameter fit'] - t) ** 2, weights=w):.3g}")
    lim = limits(df, extra, args.n_signal)
    res["limits"] = lim
    print(f"expected limits on f/Lambda^2 [TeV^-2] for {args.n_signal:g} events:")
    print(lim.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    os.makedirs(args.output, exist_ok=True)
    if res["table"] is not None and len(res["table"]):
        plot_pareto(os.path.join(args.output, f"pareto_{level}.png"), res["table"], level)
    plot_t_vs_dphi(os.path.join(args.output, f"t_vs_dphi_{level}.png"), df, level,
                   extra.get("found formula"))
    plot_limits(os.path.join(args.output, f"limits_{level}.png"), lim, level, args.n_signal)
    return res


def main(argv=None):
    """Run the study; returns the exit status (1 if the parton-level claim fails)."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    results = {level: study(level, args) for level in args.levels}
    print(f"\nplots written to {os.path.abspath(args.output)}; total time {time.perf_counter() - t0:.0f} s")
    if args.skip_regression:
        return 0
    for level, r in results.items():
        print(f"{level:>8}: selected formula keeps {r['fisher']:.4f} of the Fisher information: t = {r['formula']}")
    if "parton" in results:
        f = results["parton"]["fisher"]
        if not f >= args.min_fisher:
            print(f"FAILED: the selected parton-level formula keeps {f:.4f} < {args.min_fisher} "
                  "of the Fisher information", file=sys.stderr)
            return 1
        print(f"OK: the selected parton-level formula keeps {f:.4f} >= {args.min_fisher} "
              "of the Fisher information")
    return 0


if __name__ == "__main__":
    sys.exit(main())
