"""Symbolic-regression part of the WBF example: the search and the information-ranked front.

Used by ``examples/wbf_cp_score.py``.  The search regresses ``y = SCALE * t`` on the
observables a physicist would offer (``INPUTS``); the masses and the Higgs pT are given in
TeV.  Every formula of the front is then evaluated on an independent sample as an
*observable*: its Fisher fraction (centred, so a formula's offset and scale do not matter)
and the expected limit it gives.  The formula reported is chosen by information, not by loss:
the simplest one whose Fisher fraction is within ``tol`` of the best on the front.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from keplersr.physics import expected_limit, fisher_fraction

SCALE = 10.0
INPUTS = ["x_f", "x_b", "Delta_eta", "Delta_phi", "m_jj", "m_Hjj", "pT_H"]
TEV_COLUMNS = ("m_jj", "m_Hjj", "pT_H")
BINARY_OPERATORS = ["+", "-", "*", "/"]
UNARY_OPERATORS = ["sin", "square"]
# sin(sin(x)) ~ 0.84 sin(x) stands in for a constant factor at one node less: forbid it.
NESTED_CONSTRAINTS = {"sin": {"sin": 0}}


def inputs(df, features=INPUTS):
    """The regression inputs: masses and pT_H converted from GeV to TeV."""
    X = df[list(features)].copy()
    for c in TEV_COLUMNS:
        if c in X:
            X[c] = X[c] / 1000.0
    return X


def make_regressor(args, run_id=None, output_directory=None, timeout=None):
    """SymbolicRegressor for the WBF score: 2e5 rows, mini-batches, linear scaling."""
    from keplersr import SymbolicRegressor

    return SymbolicRegressor(
        binary_operators=BINARY_OPERATORS, unary_operators=UNARY_OPERATORS,
        nested_constraints=NESTED_CONSTRAINTS, maxsize=args.maxsize, niterations=args.niterations,
        populations=args.populations, population_size=args.population_size,
        ncycles_per_iteration=args.ncycles, batching="on", batch_size=args.batch_size,
        linear_scaling=True, procs=args.procs, timeout_in_seconds=timeout or args.timeout,
        random_state=args.seed, progress=False, verbosity=0, output_directory=output_directory,
        run_id=run_id)


def run_search(df_fit, args, name, target="t"):
    """Fit ``y = SCALE * df_fit[target]`` on INPUTS with the events' weights."""
    out = os.path.join(args.output, "runs") if args.output else None
    model = make_regressor(args, run_id=f"wbf_{name}_seed{args.seed}", output_directory=out)
    model.fit(inputs(df_fit), SCALE * df_fit[target].to_numpy(), weights=df_fit["weight"].to_numpy())
    return model


def formula_in_t(expr, digits=4):
    """The sympy formula for y divided by SCALE (it predicts t), constants rounded."""
    import sympy as sp

    e = sp.sympify(expr) / SCALE
    return e.xreplace({f: sp.Float(f, digits) for f in e.atoms(sp.Float)})


def predict_t(model, df, index=None):
    """Predictions of front row ``index`` (default: the estimator's selection), in t units."""
    pred = np.asarray(model.predict(inputs(df), index=index), dtype=float) / SCALE
    return np.broadcast_to(pred, (len(df),)).copy()


def safe_fisher(g, t, w, information=None):
    """Fisher fraction, NaN for a formula that is not finite on the sample."""
    if not np.all(np.isfinite(g)):
        return np.nan
    return fisher_fraction(g, t, weights=w, information=information)


def information_table(model, df_eval, n_signal, target="t", detector_information=None, tol=0.002):
    """The front as an ``equations_``-like table ranked by information.

    Columns: complexity, dof (free constants), formula (t units), MSE [TeV^4] on the
    evaluation sample, ``F`` = Fisher fraction (of the information of ``df_eval[target]``;
    at detector level that is the parton-level information), ``F_det`` = fraction of the
    detector-level information (when ``detector_information`` is given), the expected 95% CL
    limit for ``n_signal`` events, and ``pick``: ``info`` marks the formula selected by
    information (simplest within ``tol`` of the best F), ``loss`` the estimator's own choice.
    """
    t = df_eval[target].to_numpy()
    w = df_eval["weight"].to_numpy()
    by_loss = model.get_best().name
    rows = []
    for i, eq in model.equations_.iterrows():
        pred = predict_t(model, df_eval, index=i)
        finite = bool(np.all(np.isfinite(pred)))
        f = safe_fisher(pred, t, w)
        row = {"complexity": int(eq["complexity"]), "dof": len(eq["constants"]),
               "formula": str(formula_in_t(eq["sympy_format"])),
               "MSE": float(np.average((pred - t) ** 2, weights=w)) if finite else np.nan, "F": f}
        if detector_information is not None:
            row["F_det"] = safe_fisher(pred, t, w, information=detector_information)
        row["limit95"] = (expected_limit(pred, t, n_events=n_signal, cl=0.95, weights=w)
                          if finite else np.nan)
        row["index"] = i
        row["pick"] = "loss" if i == by_loss else ""
        rows.append(row)
    table = pd.DataFrame(rows)
    best = np.nanmax(table["F"])
    ok = table[table["F"] >= best - tol]
    chosen = ok.sort_values("complexity").index[0]
    table.loc[chosen, "pick"] = "info" + ("+loss" if table.loc[chosen, "pick"] == "loss" else "")
    return table


def chosen_row(table):
    """The row selected by information."""
    return table[table["pick"].str.startswith("info")].iloc[0]


def print_table(table):
    fmt = {"MSE": lambda v: f"{v:.3e}", "F": lambda v: f"{v:.4f}", "F_det": lambda v: f"{v:.4f}",
           "limit95": lambda v: f"{v:.4g}"}
    with pd.option_context("display.max_colwidth", 110, "display.width", 260):
        print(table.drop(columns="index").to_string(index=False, formatters=fmt))


def plot_front(path, table, title, attainable=None):
    """Information lost, 1 - F (and 1 - F_det), along the front; the selected formula starred."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def lost(v):
        return np.clip(1.0 - np.asarray(v, dtype=float), 1e-5, None)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(table["complexity"], lost(table["F"]), "o-", label="1 - F (of the parton-level information)")
    if "F_det" in table:
        ax.semilogy(table["complexity"], lost(table["F_det"]), "s--", label="1 - F_det (of the detector-level)")
    if attainable is not None:
        ax.axhline(1.0 - attainable, color="0.5", ls=":", label="detector-level score (attainable)")
    sel = table[table["pick"].str.startswith("info")]
    ax.semilogy(sel["complexity"], lost(sel["F"]), "*", ms=16, color="C3", label="selected by information")
    ax.set_xlabel("complexity")
    ax.set_ylabel("information lost")
    ax.set_title(f"front ranked by information ({title})")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
