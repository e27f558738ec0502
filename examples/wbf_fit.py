"""The published 4-parameter family and the definitions of its variables (WBF example helper).

``t = -x1 (x2 + c)(a - b Delta_eta) sin(Delta_phi + d)`` (Butter, Plehn, Soybelman, Brehmer,
arXiv:2109.10414).  Which jet is "1", what ``x`` is normalised to and whether ``Delta_eta`` is
signed change the fitted ``c`` and ``b/a``; :func:`family_inputs` builds the variables for
each definition from the generator's table.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit

#: The paper's shape constants (its normalisation of t differs from ours, so a is not compared).
PAPER = {"parton": {"c": (0.24165, 0.00008), "b/a": 0.094},
         "detector": {"c": (0.3542, 0.0020), "b/a": None}}

M_H = 125.0


def family(X, a, b, c, d):
    """The published 4-parameter optimal-observable family."""
    x1, x2, deta, dphi = X
    return -x1 * (x2 + c) * (a - b * deta) * np.sin(dphi + d)


def family_inputs(df, order="eta", scale=M_H, signed=False):
    """``(x1, x2, Delta_eta, Delta_phi)`` for one definition of the variables.

    order : ``"eta"`` (1 = forward jet, 2 = backward: the generator's convention) or ``"pT"``
        (1 = leading, 2 = subleading jet; Delta_phi = phi_1 - phi_2 then changes sign with the
        order, Delta_eta = eta_1 - eta_2 too).
    scale : GeV; ``x = pT / scale``.
    signed : keep the sign of ``Delta_eta = eta_1 - eta_2`` (else its absolute value).
    """
    pt_f, pt_b = df["x_f"].to_numpy() * M_H, df["x_b"].to_numpy() * M_H
    deta = df["eta_f"].to_numpy() - df["eta_b"].to_numpy()
    dphi = df["Delta_phi"].to_numpy()
    if order == "eta":
        x1, x2 = pt_f, pt_b
    elif order == "pT":
        swap = pt_b > pt_f
        x1, x2 = np.where(swap, pt_b, pt_f), np.where(swap, pt_f, pt_b)
        deta = np.where(swap, -deta, deta)
        dphi = np.where(swap, -dphi, dphi)
    else:
        raise ValueError(f"order must be 'eta' or 'pT', got {order!r}")
    if not signed:
        deta = np.abs(deta)
    return np.vstack([x1 / scale, x2 / scale, deta, dphi])


def fit_family(X, t, w):
    """Weighted least-squares fit of :func:`family`; returns ``(params, robust errors, cov)``.

    Starting point from the linear fit ``t ~ x1 x2 sin(dphi) (A + B deta)``.  The errors are
    sandwich (HC0) errors ``(J^T W J)^-1 J^T W diag(r^2) W J (J^T W J)^-1``: the residuals of
    ``t`` are heteroscedastic and heavy tailed, so curve_fit's own errors are 3-5 times too
    small; the sandwich errors match the seed-to-seed spread.
    """
    x1, x2, deta, dphi = X
    g = x1 * x2 * np.sin(dphi)
    sw = np.sqrt(w)
    B = np.vstack([g, g * deta]).T
    (A, Bc), *_ = np.linalg.lstsq(B * sw[:, None], t * sw, rcond=None)
    popt, _ = curve_fit(family, X, t, p0=[-A, Bc, 0.0, 0.0], sigma=1.0 / sw, maxfev=20000)
    r = t - family(X, *popt)
    J = np.empty((t.size, 4))
    for k in range(4):
        h = 1e-6 * max(1.0, abs(popt[k]))
        up, dn = popt.copy(), popt.copy()
        up[k] += h
        dn[k] -= h
        J[:, k] = (family(X, *up) - family(X, *dn)) / (2 * h)
    bread = np.linalg.inv((J.T * w) @ J)
    cov = bread @ ((J.T * (w * r) ** 2) @ J) @ bread
    return popt, np.sqrt(np.diag(cov)), cov


def ratio_error(popt, cov):
    """``b/a`` and its error (linear propagation with the covariance)."""
    a, b = popt[0], popt[1]
    r = b / a
    grad = np.array([-b / a ** 2, 1.0 / a, 0.0, 0.0])
    return r, float(np.sqrt(grad @ cov @ grad))


def fit_summary(df, order="eta", scale=M_H, signed=False):
    """Fit one variant on a table; returns a dict with a, b, c, d, their errors, b/a and F."""
    from keplersr.physics import fisher_fraction

    X = family_inputs(df, order, scale, signed)
    t, w = df["t"].to_numpy(), df["weight"].to_numpy()
    popt, err, cov = fit_family(X, t, w)
    ba, ba_err = ratio_error(popt, cov)
    out = {k: float(v) for k, v in zip("abcd", popt)}
    out.update({f"d{k}": float(e) for k, e in zip("abcd", err)})
    out.update({"b/a": ba, "db/a": ba_err, "F": fisher_fraction(family(X, *popt), t, weights=w)})
    return out


def format_fit(r):
    """One line: a, b, c, d with errors, b/a, Fisher fraction."""
    return (f"a = {r['a']:+.4f}({r['da']:.4f})  b = {r['b']:+.5f}({r['db']:.5f})  "
            f"c = {r['c']:+.4f}({r['dc']:.4f})  d = {r['d']:+.4f}({r['dd']:.4f})  "
            f"b/a = {r['b/a']:.4f}({r['db/a']:.4f})  F = {r['F']:.4f}")


def print_fit_beside_paper(r, level):
    """The 4-parameter fit with errors and the paper's shape constants beside it."""
    p = PAPER[level]
    print("4-parameter fit  t = -x_f (x_b + c)(a - b Delta_eta) sin(Delta_phi + d)"
          "  [x = pT/mH, rapidity-ordered, |Delta_eta|; robust errors]:")
    for k in "abcd":
        print(f"  {k} = {r[k]:+.5g} +- {r['d' + k]:.2g}", end="")
        if k == "c":
            print(f"    paper: {p['c'][0]} +- {p['c'][1]}", end="")
        print()
    paper_ba = f"{p['b/a']}" if p["b/a"] is not None else "not quoted here"
    print(f"  b/a = {r['b/a']:.4f} +- {r['db/a']:.4f}    paper: {paper_ba}")
    print(f"  Fisher fraction of the fitted formula: {r['F']:.4f}")
    print("  (a, b < 0: our eps^{0123} = +1 convention flips the overall sign of t; the paper's "
          "normalisation of t differs, so only c, d and b/a are comparable)")
