"""Phase space, observables and cuts for WBF Higgs production pp -> H j j.

Sampling (sqrt(s) = 13 TeV, mH = 125 GeV, mW = 80.4 GeV):

1. jet rapidities ``y1, y2 ~ U(-5, 5)``, Higgs rapidity ``yH ~ U(-4.5, 4.5)``,
   azimuths ``phi1, phi2 ~ U(-pi, pi)``;
2. jet transverse momenta through ``u ~ U[1/(2000^2 + mW^2), 1/(20^2 + mW^2)]``,
   ``pT = sqrt(1/u - mW^2)`` (flattens the W propagators), Jacobian
   ``prod_i (pT_i^2 + mW^2)^2``;
3. ``pT_H = -(pT1 + pT2)``, ``x_{1,2} = sum_i mT_i exp(+-y_i) / sqrt(s)``; events
   with ``x >= 1`` are rejected.

Jet 1 belongs to the quark line of the +z beam (``pa``), jet 2 to the -z beam (``pb``).
All momenta are ``(E, px, py, pz)`` in GeV.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SQRT_S = 13000.0
M_H = 125.0
M_W = 80.4
PT_GEN_MIN = 20.0
PT_GEN_MAX = 2000.0
Y_JET_MAX = 5.0
Y_H_MAX = 4.5

#: Parton/detector-level selection (same numbers at both levels).
CUTS = {"pT_min": 30.0, "abs_eta_max": 4.5, "Delta_eta_min": 3.6,
        "eta1_eta2": "< 0", "m_jj_min": 500.0}


@dataclass
class PartonEvents:
    """A batch of parton-level events (arrays of length N; 4-vectors shape (N, 4))."""

    pa: np.ndarray
    pb: np.ndarray
    p1: np.ndarray
    p2: np.ndarray
    pH: np.ndarray
    x1: np.ndarray
    x2: np.ndarray
    jacobian: np.ndarray

    def subset(self, mask):
        """The events selected by a boolean mask or index array."""
        return PartonEvents(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def __len__(self):
        return self.x1.shape[0]


def massless(pt, y, phi):
    """Massless 4-vector from transverse momentum, rapidity and azimuth."""
    return np.stack([pt * np.cosh(y), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(y)], axis=-1)


def massive(pt, y, phi, m):
    """Massive 4-vector from transverse momentum, rapidity, azimuth and mass."""
    mt = np.sqrt(m ** 2 + pt ** 2)
    return np.stack([mt * np.cosh(y), pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y)], axis=-1)


def make_cuts(overrides=None):
    """The selection: :data:`CUTS` with ``overrides`` (keys ``pT_min``, ``abs_eta_max``,
    ``Delta_eta_min``, ``m_jj_min``; GeV).  ValueError for an unknown key or a negative value."""
    cuts = dict(CUTS)
    for k, v in (overrides or {}).items():
        if k not in CUTS or k == "eta1_eta2":
            raise ValueError(f"unknown cut {k!r}; cuts can set {sorted(set(CUTS) - {'eta1_eta2'})}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            raise ValueError(f"cut {k!r} must be a finite number >= 0, got {v!r}")
        cuts[k] = float(v)
    if cuts["pT_min"] < PT_GEN_MIN:
        raise ValueError(f"pT_min must be >= the generation threshold {PT_GEN_MIN} GeV")
    return cuts


def loose_precut_values(cuts=None):
    """(Delta_eta, m_jj) thresholds applied before detector smearing: 0.6 and 30% below the cuts."""
    c = CUTS if cuts is None else cuts
    return max(c["Delta_eta_min"] - 0.6, 0.0), 0.7 * c["m_jj_min"]


def sample_phase_space(n, rng, preselect=None, cuts=None):
    """Draw ``n`` phase-space points; returns the ``PartonEvents`` with ``x1, x2 < 1``.

    ``preselect`` drops points early, before 4-vectors are built (a pure speed-up: only
    points that cannot pass the later selection are dropped; weights are unaffected):

    * ``"parton"``: the jet rapidity / pT part of :func:`pass_cuts` (jets are massless,
      so rapidity = pseudorapidity), a subset of the parton-level cuts;
    * ``"detector"``: the rapidity part of :func:`pass_loose_precuts`;
    * ``None``: no preselection.
    """
    y1 = rng.uniform(-Y_JET_MAX, Y_JET_MAX, n)
    y2 = rng.uniform(-Y_JET_MAX, Y_JET_MAX, n)
    umin = 1.0 / (PT_GEN_MAX ** 2 + M_W ** 2)
    umax = 1.0 / (PT_GEN_MIN ** 2 + M_W ** 2)
    u1 = rng.uniform(umin, umax, n)
    u2 = rng.uniform(umin, umax, n)
    yh = rng.uniform(-Y_H_MAX, Y_H_MAX, n)
    phi1 = rng.uniform(-np.pi, np.pi, n)
    phi2 = rng.uniform(-np.pi, np.pi, n)
    c = CUTS if cuts is None else cuts
    if preselect == "parton":
        umax_cut = 1.0 / (c["pT_min"] ** 2 + M_W ** 2)
        sel = ((np.abs(y1) < c["abs_eta_max"]) & (np.abs(y2) < c["abs_eta_max"]) & (y1 * y2 < 0.0)
               & (np.abs(y1 - y2) > c["Delta_eta_min"]) & (u1 < umax_cut) & (u2 < umax_cut))
    elif preselect == "detector":
        sel = ((np.abs(y1 - y2) > loose_precut_values(c)[0])
               & ((y1 * y2 < 0.0) | (np.minimum(np.abs(y1), np.abs(y2)) < 0.5)))
    elif preselect is None:
        sel = None
    else:
        raise ValueError(f"preselect must be 'parton', 'detector' or None, got {preselect!r}")
    if sel is not None:
        y1, y2, u1, u2, yh, phi1, phi2 = (v[sel] for v in (y1, y2, u1, u2, yh, phi1, phi2))
    pt1 = np.sqrt(1.0 / u1 - M_W ** 2)
    pt2 = np.sqrt(1.0 / u2 - M_W ** 2)
    jac = (pt1 ** 2 + M_W ** 2) ** 2 * (pt2 ** 2 + M_W ** 2) ** 2
    c1, s1, c2, s2 = np.cos(phi1), np.sin(phi1), np.cos(phi2), np.sin(phi2)
    hx = -(pt1 * c1 + pt2 * c2)
    hy = -(pt1 * s1 + pt2 * s2)
    mth = np.sqrt(M_H ** 2 + hx ** 2 + hy ** 2)
    ey1, ey2, eyh = np.exp(y1), np.exp(y2), np.exp(yh)
    x1 = (pt1 * ey1 + pt2 * ey2 + mth * eyh) / SQRT_S
    x2 = (pt1 / ey1 + pt2 / ey2 + mth / eyh) / SQRT_S
    ok = (x1 < 1.0) & (x2 < 1.0)
    y1, y2, yh, pt1, pt2, c1, s1, c2, s2, hx, hy, mth, x1, x2, jac = (
        v[ok] for v in (y1, y2, yh, pt1, pt2, c1, s1, c2, s2, hx, hy, mth, x1, x2, jac))
    p1 = np.stack([pt1 * np.cosh(y1), pt1 * c1, pt1 * s1, pt1 * np.sinh(y1)], axis=-1)
    p2 = np.stack([pt2 * np.cosh(y2), pt2 * c2, pt2 * s2, pt2 * np.sinh(y2)], axis=-1)
    ph = np.stack([mth * np.cosh(yh), hx, hy, mth * np.sinh(yh)], axis=-1)
    zero = np.zeros(x1.shape[0])
    e1 = 0.5 * SQRT_S * x1
    e2 = 0.5 * SQRT_S * x2
    pa = np.stack([e1, zero, zero, e1], axis=-1)
    pb = np.stack([e2, zero, zero, -e2], axis=-1)
    return PartonEvents(pa, pb, p1, p2, ph, x1, x2, jac)


def pseudorapidity(p):
    """Pseudorapidity of 4-vectors (N, 4)."""
    pt = np.hypot(p[:, 1], p[:, 2])
    return np.arcsinh(p[:, 3] / pt)


def azimuth(p):
    """Azimuth in (-pi, pi]."""
    return np.arctan2(p[:, 2], p[:, 1])


def wrap_angle(dphi):
    """Wrap angles to (-pi, pi]."""
    w = np.mod(dphi + np.pi, 2.0 * np.pi) - np.pi
    return np.where(w == -np.pi, np.pi, w)


def invariant_mass(*ps):
    """Invariant mass of the sum of 4-vectors (clipped at 0 before the sqrt)."""
    s = sum(ps)
    m2 = s[:, 0] ** 2 - s[:, 1] ** 2 - s[:, 2] ** 2 - s[:, 3] ** 2
    return np.sqrt(np.clip(m2, 0.0, None))


def observables(j1, j2, h):
    """Regression inputs from two jets and the Higgs (any level).

    Jets are ordered by pseudorapidity (f = forward, larger eta; b = backward).
    Returns a dict with ``x_f, x_b`` (pT / mH), ``Delta_eta = eta_f - eta_b`` (>= 0),
    ``Delta_phi = phi_f - phi_b`` wrapped to (-pi, pi], ``m_jj``, ``m_Hjj`` and the Higgs
    transverse momentum ``pT_H`` (GeV), plus the helper arrays ``eta_f, eta_b, pT_f, pT_b``
    used by the cuts.  At parton level ``m_Hjj^2 = s_hat`` (the final state carries the whole
    partonic energy) and ``pT_H = |pT_f + pT_b|``.
    """
    eta1, eta2 = pseudorapidity(j1), pseudorapidity(j2)
    swap = eta2 > eta1
    jf = np.where(swap[:, None], j2, j1)
    jb = np.where(swap[:, None], j1, j2)
    eta_f = np.maximum(eta1, eta2)
    eta_b = np.minimum(eta1, eta2)
    pt_f = np.hypot(jf[:, 1], jf[:, 2])
    pt_b = np.hypot(jb[:, 1], jb[:, 2])
    return {
        "x_f": pt_f / M_H,
        "x_b": pt_b / M_H,
        "Delta_eta": eta_f - eta_b,
        "Delta_phi": wrap_angle(azimuth(jf) - azimuth(jb)),
        "m_jj": invariant_mass(j1, j2),
        "m_Hjj": invariant_mass(j1, j2, h),
        "pT_H": np.hypot(h[:, 1], h[:, 2]),
        "eta_f": eta_f,
        "eta_b": eta_b,
        "pT_f": pt_f,
        "pT_b": pt_b,
    }


def pass_cuts(obs, cuts=None):
    """Boolean mask of the WBF selection: pT > 30 GeV, |eta| < 4.5, Delta_eta > 3.6,
    eta_f * eta_b < 0, m_jj > 500 GeV."""
    c = CUTS if cuts is None else cuts
    return ((obs["pT_f"] > c["pT_min"]) & (obs["pT_b"] > c["pT_min"])
            & (np.abs(obs["eta_f"]) < c["abs_eta_max"]) & (np.abs(obs["eta_b"]) < c["abs_eta_max"])
            & (obs["Delta_eta"] > c["Delta_eta_min"]) & (obs["eta_f"] * obs["eta_b"] < 0.0)
            & (obs["m_jj"] > c["m_jj_min"]))


def pass_loose_precuts(obs, cuts=None):
    """Generator-level pre-selection used before detector simulation (very loose, so that
    migrations into the detector-level selection from outside it are negligible):
    Delta_eta > 3.0, m_jj > 350 GeV (with the default cuts; see :func:`loose_precut_values`),
    min(|eta_f|, |eta_b|) < 0.5 or eta_f * eta_b < 0."""
    opposite = (obs["eta_f"] * obs["eta_b"] < 0.0) | (np.minimum(np.abs(obs["eta_f"]), np.abs(obs["eta_b"])) < 0.5)
    deta_min, mjj_min = loose_precut_values(cuts)
    return (obs["Delta_eta"] > deta_min) & (obs["m_jj"] > mjj_min) & opposite
