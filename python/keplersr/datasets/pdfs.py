"""Parton densities for the toy event generators (pluggable).

A PDF set is any callable ``pdfs(x, Q) -> mapping`` that takes momentum fractions
``x`` (ndarray, 0 < x < 1) and factorisation scales ``Q`` (ndarray, GeV, same shape)
and returns number densities ``f(x, Q)`` (not ``x f``) for at least the keys
``"u"``, ``"d"``, ``"ubar"``, ``"dbar"`` as arrays of the shape of ``x``.

A user with real PDFs wraps them, e.g. with LHAPDF (which returns ``x f``)::

    import lhapdf
    pdf = lhapdf.mkPDF("NNPDF31_lo_as_0118")
    def my_pdfs(x, Q):
        xf = lambda pid: np.array([pdf.xfxQ(pid, xi, qi) for xi, qi in zip(x, Q)]) / x
        return {"u": xf(2), "d": xf(1), "ubar": xf(-2), "dbar": xf(-1)}

PDFs change the distribution of the events, never the per-event score ``t(z)``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import beta as _beta

REQUIRED_FLAVOURS = ("u", "d", "ubar", "dbar")


class ToyPDFs:
    """Offline toy proton PDFs (no scale dependence).

    * valence ``u_v = N_u x^-0.3 (1-x)^3`` with ``int u_v dx = 2``;
    * valence ``d_v = N_d x^-0.3 (1-x)^4`` with ``int d_v dx = 1``;
    * sea ``S = 0.15 x^-1.2 (1-x)^7``; ``ubar = dbar = S`` (and ``sbar = S/2``, so that
      ``dbar + sbar = 1.5 S``; strange quarks do not enter the WW-fusion luminosities used);
    * ``u = u_v + ubar``, ``d = d_v + dbar``.
    """

    def __init__(self, sea_norm=0.15):
        if not np.isfinite(sea_norm) or sea_norm < 0:
            raise ValueError(f"sea_norm must be a finite non-negative number, got {sea_norm!r}")
        self.sea_norm = float(sea_norm)
        self._nu = 2.0 / _beta(0.7, 4.0)
        self._nd = 1.0 / _beta(0.7, 5.0)

    def __call__(self, x, Q=None):
        x = np.asarray(x, dtype=float)
        omx = 1.0 - x
        xm = x ** -0.3
        uv = self._nu * xm * omx ** 3
        dv = self._nd * xm * omx ** 4
        sea = self.sea_norm * x ** -1.2 * omx ** 7
        return {"u": uv + sea, "d": dv + sea, "ubar": sea, "dbar": sea, "sbar": 0.5 * sea}

    def __repr__(self):
        return f"ToyPDFs(sea_norm={self.sea_norm})"


def evaluate_pdfs(pdfs, x, Q):
    """Call a PDF set and check its output; returns a dict of float arrays.

    Raises ValueError naming the problem if ``pdfs`` is not callable, misses a flavour,
    returns the wrong shape, or returns negative / non-finite densities.
    """
    if not callable(pdfs):
        raise ValueError(f"pdfs must be a callable pdfs(x, Q) -> mapping, got {type(pdfs).__name__}")
    out = pdfs(x, Q)
    res = {}
    for k in REQUIRED_FLAVOURS:
        try:
            v = out[k]
        except (KeyError, TypeError, IndexError):
            raise ValueError(f"pdfs(x, Q) must return a mapping with key {k!r}") from None
        v = np.asarray(v, dtype=float)
        if v.shape != np.shape(x):
            raise ValueError(f"pdfs(x, Q)[{k!r}] has shape {v.shape}, expected {np.shape(x)}")
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"pdfs(x, Q)[{k!r}] contains negative or non-finite densities")
        res[k] = v
    return res


def channel_luminosities(f1, f2):
    """WW-fusion parton luminosities from the PDFs of beam 1 (+z) and beam 2 (-z).

    ``L_qq = u1 d2 + d1 u2 + dbar1 ubar2 + ubar1 dbar2``
    ``L_qqbar = u1 ubar2 + ubar1 u2 + dbar1 d2 + d1 dbar2``
    """
    l_qq = f1["u"] * f2["d"] + f1["d"] * f2["u"] + f1["dbar"] * f2["ubar"] + f1["ubar"] * f2["dbar"]
    l_qqb = f1["u"] * f2["ubar"] + f1["ubar"] * f2["u"] + f1["dbar"] * f2["d"] + f1["d"] * f2["dbar"]
    return l_qq, l_qqb
