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


def _grv_valence(x, n, a, b, aa, bb, cc, d):
    """GRV valence-type form ``x f = N x^a (1 + A x^b + x (B + C sqrt x)) (1 - x)^D``."""
    return n * x ** a * (1.0 + aa * x ** b + x * (bb + cc * np.sqrt(x))) * (1.0 - x) ** d


def _grv_sea(x, s, alpha, beta, a, b, aa, bb, cc, d, e, es):
    """GRV sea-type form ``x f = [x^a (A + x (B + x C)) ln(1/x)^b + s^alpha exp(-E + sqrt(E' s^beta ln(1/x)))] (1-x)^D``."""
    lx = np.log(1.0 / x)
    return ((x ** a * (aa + x * (bb + x * cc)) * lx ** b
             + s ** alpha * np.exp(-e + np.sqrt(es * s ** beta * lx))) * (1.0 - x) ** d)


class GRV94LO:
    """The GRV94 leading-order parton densities in their published analytic parametrisation.

    M. Glueck, E. Reya and A. Vogt, Z. Phys. C67 (1995) 433: every density is a closed-form
    function of ``x`` and ``s = ln[ln(Q^2/L^2) / ln(mu^2/L^2)]`` with ``mu^2 = 0.23 GeV^2`` and
    ``L = 0.2322 GeV`` (valid for ``1e-5 < x < 1`` and ``0.4 < Q^2 < 1e6 GeV^2``; ``Q^2`` is
    clipped to that range).  Only the light quarks the WW-fusion luminosities use are
    returned: ``u = u_v + ubar``, ``d = d_v + dbar``, with ``ubar, dbar`` from the
    parametrised ``ubar + dbar`` and ``dbar - ubar``.  A PDF shape close to a real LO fit,
    with its scale dependence, without LHAPDF.
    """

    MU2 = 0.23
    LAMBDA2 = 0.2322 ** 2

    def __call__(self, x, Q):
        x = np.clip(np.asarray(x, dtype=float), 1e-5, 1.0 - 1e-9)
        q2 = np.clip(np.asarray(Q, dtype=float) ** 2, 0.4, 1e6)
        s = np.log(np.log(q2 / self.LAMBDA2) / np.log(self.MU2 / self.LAMBDA2))
        s2 = s * s
        xuv = _grv_valence(x, 2.284 + 0.802 * s + 0.055 * s2, 0.590 - 0.024 * s, 0.131 + 0.063 * s,
                           -0.449 - 0.138 * s - 0.076 * s2, 0.213 + 2.669 * s - 0.728 * s2,
                           8.854 - 9.135 * s + 1.979 * s2, 2.997 + 0.753 * s - 0.076 * s2)
        xdv = _grv_valence(x, 0.371 + 0.083 * s + 0.039 * s2, 0.376, 0.486 + 0.062 * s,
                           -0.509 + 3.310 * s - 1.248 * s2, 12.41 - 10.52 * s + 2.267 * s2,
                           6.373 - 6.208 * s + 1.418 * s2, 3.691 + 0.799 * s - 0.071 * s2)
        xdel = _grv_valence(x, 0.082 + 0.014 * s + 0.008 * s2, 0.409 - 0.005 * s, 0.799 + 0.071 * s,
                            -38.07 + 36.13 * s - 0.656 * s2, 90.31 - 74.15 * s + 7.645 * s2, 0.0,
                            7.486 + 1.217 * s - 0.159 * s2)
        xudb = _grv_sea(x, s, 1.451, 0.271, 0.410 - 0.232 * s, 0.534 - 0.457 * s, 0.890 - 0.140 * s,
                        -0.981, 0.320 + 0.683 * s, 4.752 + 1.164 * s + 0.286 * s2, 4.119 + 1.713 * s,
                        0.682 + 2.978 * s)
        ubar = np.clip(0.5 * (xudb - xdel), 0.0, None) / x
        dbar = np.clip(0.5 * (xudb + xdel), 0.0, None) / x
        return {"u": np.clip(xuv, 0.0, None) / x + ubar, "d": np.clip(xdv, 0.0, None) / x + dbar,
                "ubar": ubar, "dbar": dbar}

    def __repr__(self):
        return "GRV94LO()"
