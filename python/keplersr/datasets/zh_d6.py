"""Associated ZH production with the CP-even operator O_Hq^(3): the energy-growing score dataset.

:func:`zh_d6_score` generates unweighted parton-level events ``p p -> Z H -> l- l+ H``
(Drell-Yan-like ``u ubar`` and ``d dbar`` annihilation through an s-channel Z, leading order,
full ``2 -> 3`` matrix element with the Z decay spin correlations and a Breit-Wigner Z) and
returns lepton/Higgs observables together with the per-event joint score

    t(z) = d/dtheta log p(z | theta) = d log |M(z)|^2 / dtheta - d log sigma_fid / dtheta,

``theta = C_Hq^(3) / Lambda^2`` in TeV^-2, ``t`` in TeV^2.  The operator, its Feynman rules and
the closed forms are documented in :mod:`keplersr.datasets.zh_d6_amplitudes` and
``docs/zh-score.md``.  Conventions follow :func:`keplersr.datasets.wbf_cp_score` (metric
(+,-,-,-), GeV momenta, unweighted events with a ``weight`` column, ``df.attrs`` metadata,
pluggable PDFs, seeds).

Rate term.  Unlike the CP-odd WBF case, the cross section changes at linear order, so the
score has a rate term.  It is estimated from the generated sample itself:
``d log sigma_fid / dtheta = E_theta[d log |M|^2 / dtheta]`` (the derivative of
``sigma = int p_SM(z) |M(z;theta)|^2 / |M_SM|^2``), i.e. the weighted sample mean of the joint
derivative ratio.  Hence ``E[t] = 0`` exactly on the returned sample.  The value and its Monte
Carlo error are stored in ``df.attrs["dlogsigma_dtheta"]`` / ``["dlogsigma_dtheta_err"]``.
"""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import zh_d6_amplitudes as amp
from .event_generation import check_positive_int, generator_setup, unweighted_events
from .pdfs import evaluate_pdfs
from .wbf_phase_space import azimuth, invariant_mass, pseudorapidity, wrap_angle

SQRT_S = 13000.0
M_H = amp.M_H
M_Z = amp.M_Z
GAMMA_Z = amp.GAMMA_Z
#: 1 GeV^-2 in fb.
GEV2_TO_FB = 0.3893794e12

#: Generation window of the lepton-pair mass (also a selection cut).
MLL_WINDOW = (81.0, 101.0)

#: Lepton selection (both leptons), plus the m_ll window.
CUTS = {"pT_l_min": 25.0, "abs_eta_l_max": 2.5, "m_ll_min": MLL_WINDOW[0], "m_ll_max": MLL_WINDOW[1]}

#: Observables returned (all functions of the l-, l+ and H momenta).
FEATURES = ("pT_Z", "y_Z", "y_H", "m_ZH", "y_ZH", "m_ll", "pT_l1", "pT_l2", "eta_l1", "eta_l2",
            "phi_l1", "phi_l2", "Delta_phi_ll", "cos_theta_star", "cos_theta_l", "phi_l")

UNITS = {
    "pT_Z": "GeV", "y_Z": "1", "y_H": "1", "m_ZH": "GeV", "y_ZH": "1", "m_ll": "GeV",
    "pT_l1": "GeV", "pT_l2": "GeV", "eta_l1": "1", "eta_l2": "1", "phi_l1": "rad", "phi_l2": "rad",
    "Delta_phi_ll": "rad", "cos_theta_star": "1", "cos_theta_l": "1", "phi_l": "rad",
    "t": "TeV^2 (score per unit C_Hq3/Lambda^2 in TeV^-2)", "t_joint": "TeV^2", "t_sm": "TeV^2",
    "q": "TeV^4", "weight": "1", "theta": "TeV^-2", "quark_beam": "+1 (quark from the +z beam) or -1",
}

#: With ``momenta=True``: the four-momenta, columns ``<particle>_<E|px|py|pz>`` (GeV) of the beam
#: partons ``p1`` (+z) and ``p2`` (-z), ``p3`` (l-), ``p4`` (l+) and the Higgs ``pH``.
MOMENTA = ("p1", "p2", "p3", "p4", "pH")
MOMENTUM_COMPONENTS = ("E", "px", "py", "pz")

#: Sub-channels: (channel code, quark beam) with channel 0 = u ubar, 1 = d dbar.
_SUBCHANNELS = ((0, +1), (0, -1), (1, +1), (1, -1))


@dataclass
class ZHEvents:
    """A batch of parton-level events: beam partons ``p1`` (+z), ``p2`` (-z), ``p3 = l-``,
    ``p4 = l+``, ``pH``; momentum fractions and the phase-space weight ``jacobian`` [fb GeV^2]
    (the event weight is ``jacobian * f(x1) f(x2) * |M|^2``)."""

    p1: np.ndarray
    p2: np.ndarray
    p3: np.ndarray
    p4: np.ndarray
    pH: np.ndarray
    x1: np.ndarray
    x2: np.ndarray
    jacobian: np.ndarray

    def subset(self, mask):
        return ZHEvents(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def __len__(self):
        return self.x1.shape[0]


def _kallen(a, b, c):
    return a * a + b * b + c * c - 2 * (a * b + a * c + b * c)


def boost(p, beta):
    """Boost 4-vectors ``p`` (N, 4) by velocity ``beta`` (N, 3): the rest frame moving with
    ``-beta`` sees ``p``; i.e. a particle at rest is given velocity ``beta``."""
    b2 = np.sum(beta * beta, axis=-1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[:, 1:], axis=-1)
    safe = np.where(b2 > 0, b2, 1.0)
    coef = np.where(b2 > 0, (gamma - 1.0) * bp / safe, 0.0) + gamma * p[:, 0]
    e = gamma * (p[:, 0] + bp)
    return np.concatenate([e[:, None], p[:, 1:] + coef[:, None] * beta], axis=-1)


def _helicity_axes(n):
    """Unit vectors ``(x', y')`` orthogonal to the Z direction ``n`` (N, 3): ``y' = z x n / |z x n|``,
    ``x' = y' x n`` (in the plane of +z and n, pointing away from +z); x' = x, y' = y along z."""
    yax = np.cross(np.broadcast_to(np.array([0.0, 0.0, 1.0]), n.shape), n)
    norm = np.linalg.norm(yax, axis=-1, keepdims=True)
    fallback = np.broadcast_to(np.array([0.0, 1.0, 0.0]), n.shape)
    yax = np.where(norm > 1e-12, yax / np.where(norm > 1e-12, norm, 1.0), fallback)
    xax = np.cross(yax, n)
    return xax, yax


def build_momenta(shat, m_ll, y_zh, cos_star, phi_star, cos_l, phi_l):
    """Lab momenta ``(p3 = l-, p4 = l+, pH)`` and ``lambda(1, m_ll^2/s, mH^2/s)`` from the ZH mass
    squared, the lepton-pair mass, the ZH rapidity, the Z angles in the ZH frame (w.r.t. +z) and
    the l- angles in the Z helicity frame (the conventions of :func:`decay_angles`, which
    returns ``cos_star, cos_l, phi_l`` again).  All arguments are arrays of length N."""
    k = shat.shape[0]
    m2 = m_ll ** 2
    sq = np.sqrt(shat)
    lam = np.clip(_kallen(1.0, m2 / shat, M_H ** 2 / shat), 0.0, None)
    pz = 0.5 * sq * np.sqrt(lam)
    ez = (shat + m2 - M_H ** 2) / (2.0 * sq)
    sth = np.sqrt(1.0 - cos_star ** 2)
    nz = np.stack([sth * np.cos(phi_star), sth * np.sin(phi_star), cos_star], axis=-1)
    kz = np.concatenate([ez[:, None], pz[:, None] * nz], axis=-1)
    kh = np.concatenate([(sq - ez)[:, None], -pz[:, None] * nz], axis=-1)
    xax, yax = _helicity_axes(nz)
    sl = np.sqrt(1.0 - cos_l ** 2)
    direction = (sl * np.cos(phi_l))[:, None] * xax + (sl * np.sin(phi_l))[:, None] * yax + cos_l[:, None] * nz
    half = 0.5 * m_ll
    l_rest = np.concatenate([half[:, None], half[:, None] * direction], axis=-1)
    lbar_rest = l_rest * np.array([1.0, -1.0, -1.0, -1.0])
    bz = kz[:, 1:] / ez[:, None]
    p3 = boost(l_rest, bz)
    p4 = boost(lbar_rest, bz)
    blong = np.stack([np.zeros(k), np.zeros(k), np.tanh(y_zh)], axis=-1)
    return boost(p3, blong), boost(p4, blong), boost(kh, blong), lam


def sample_phase_space(n, rng, sqrt_s=SQRT_S):
    """Draw ``n`` points of ``p p -> (q qbar) -> l- l+ H``; returns :class:`ZHEvents`.

    1. ``m_ll``: Breit-Wigner mapping ``m^2 = mZ^2 + mZ GammaZ tan(rho)``, rho uniform, m_ll in
       :data:`MLL_WINDOW`;
    2. ``s_hat = s_min / z`` with z ~ U(0, 1], ``s_min = (m_ll + mH)^2`` (density ~ 1/s_hat^2),
       points with ``s_hat > s`` are dropped;
    3. ZH rapidity ``y ~ U(-ymax, ymax)``, ``ymax = -log(tau)/2``; ``x_{1,2} = sqrt(tau) e^{+-y}``;
    4. Z direction in the ZH frame and l- direction in the Z helicity frame uniform on the
       sphere (:func:`build_momenta`).

    ``jacobian = (ds_hat/dz / s) (2 ymax) / (2 s_hat) * dPhi_3 * GEV2_TO_FB`` with
    ``dPhi_3 = [lambda^1/2 / (8 pi)] [dm^2 / (2 pi)] [1 / (8 pi)]`` (angles averaged).
    """
    s = sqrt_s ** 2
    mg = M_Z * GAMMA_Z
    rlo = np.arctan((MLL_WINDOW[0] ** 2 - M_Z ** 2) / mg)
    rhi = np.arctan((MLL_WINDOW[1] ** 2 - M_Z ** 2) / mg)
    rho = rng.uniform(rlo, rhi, n)
    m2 = M_Z ** 2 + mg * np.tan(rho)
    m = np.sqrt(m2)
    jac_m = (rhi - rlo) * ((m2 - M_Z ** 2) ** 2 + mg ** 2) / mg / (2.0 * np.pi)
    smin = (m + M_H) ** 2
    z = 1.0 - rng.uniform(size=n)
    shat = smin / z
    ok = shat < s
    shat, m2, m, jac_m, smin = shat[ok], m2[ok], m[ok], jac_m[ok], smin[ok]
    k = shat.shape[0]
    jac_s = shat ** 2 / smin
    tau = shat / s
    ymax = -0.5 * np.log(tau)
    y = rng.uniform(-1.0, 1.0, k) * ymax
    x1 = np.sqrt(tau) * np.exp(y)
    x2 = np.sqrt(tau) * np.exp(-y)
    p3, p4, kh, lam = build_momenta(shat, m, y, rng.uniform(-1.0, 1.0, k), rng.uniform(-np.pi, np.pi, k),
                                    rng.uniform(-1.0, 1.0, k), rng.uniform(-np.pi, np.pi, k))
    e1 = 0.5 * sqrt_s * x1
    e2 = 0.5 * sqrt_s * x2
    zero = np.zeros(k)
    p1 = np.stack([e1, zero, zero, e1], axis=-1)
    p2 = np.stack([e2, zero, zero, -e2], axis=-1)
    dphi3 = np.sqrt(lam) / (8.0 * np.pi) * jac_m / (8.0 * np.pi)
    jac = jac_s / s * (2.0 * ymax) / (2.0 * shat) * dphi3 * GEV2_TO_FB
    return ZHEvents(p1, p2, p3, p4, kh, x1, x2, jac)


def _pt(p):
    return np.hypot(p[:, 1], p[:, 2])


def _rapidity(p):
    return 0.5 * np.log((p[:, 0] + p[:, 3]) / (p[:, 0] - p[:, 3]))


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def decay_angles(p3, p4, ph):
    """``(cos_theta_star, cos_theta_l, phi_l)`` of l- (p3), l+ (p4) and the Higgs.

    * ``cos_theta_star``: polar angle of the Z in the ZH rest frame, measured from +z;
    * ``cos_theta_l``: polar angle of l- in the Z rest frame (reached from the ZH frame by a
      boost along the Z direction), measured from the Z flight direction (helicity frame);
    * ``phi_l``: azimuth of l- around the Z direction in that frame, with the x axis in the
      plane of the +z beam and the Z, pointing away from +z (y = z_beam x n_Z normalised):
      the angle between the production and the decay planes, in (-pi, pi].
    """
    zh = p3 + p4 + ph
    b = zh[:, 1:] / zh[:, :1]
    l3, l4 = boost(p3, -b), boost(p4, -b)
    kz = l3 + l4
    n = _unit(kz[:, 1:])
    cos_star = n[:, 2]
    lz = boost(l3, -kz[:, 1:] / kz[:, :1])
    lv = _unit(lz[:, 1:])
    cos_l = np.sum(lv * n, axis=-1)
    xax, yax = _helicity_axes(n)
    phi = np.arctan2(np.sum(lv * yax, axis=-1), np.sum(lv * xax, axis=-1))
    return cos_star, cos_l, phi


def observables(p3, p4, ph):
    """Regression inputs from l- (p3), l+ (p4) and the Higgs (see :data:`FEATURES`).

    Leptons are ordered by pT (l1 = leading); ``Delta_phi_ll = |phi_l1 - phi_l2|`` in [0, pi];
    rapidities ``y`` (massive), pseudorapidities ``eta`` (leptons).  At leading order the ZH
    system has no transverse momentum, so ``pT_H = pT_Z``.
    """
    z = p3 + p4
    swap = _pt(p4) > _pt(p3)
    l1 = np.where(swap[:, None], p4, p3)
    l2 = np.where(swap[:, None], p3, p4)
    cs, cl, phi = decay_angles(p3, p4, ph)
    return {
        "pT_Z": _pt(z), "y_Z": _rapidity(z), "y_H": _rapidity(ph),
        "m_ZH": invariant_mass(z, ph), "y_ZH": _rapidity(z + ph), "m_ll": invariant_mass(z),
        "pT_l1": _pt(l1), "pT_l2": _pt(l2), "eta_l1": pseudorapidity(l1), "eta_l2": pseudorapidity(l2),
        "phi_l1": azimuth(l1), "phi_l2": azimuth(l2),
        "Delta_phi_ll": np.abs(wrap_angle(azimuth(l1) - azimuth(l2))),
        "cos_theta_star": cs, "cos_theta_l": cl, "phi_l": phi,
    }


def pass_cuts(p3, p4):
    """Lepton selection: both leptons pT > 25 GeV and |eta| < 2.5, 81 < m_ll < 101 GeV."""
    c = CUTS
    mll = invariant_mass(p3 + p4)
    return ((_pt(p3) > c["pT_l_min"]) & (_pt(p4) > c["pT_l_min"])
            & (np.abs(pseudorapidity(p3)) < c["abs_eta_l_max"])
            & (np.abs(pseudorapidity(p4)) < c["abs_eta_l_max"])
            & (mll > c["m_ll_min"]) & (mll < c["m_ll_max"]))


def subchannel_weights(ev, pdfs, theta=0.0):
    """Per-sub-channel weights ``w`` (N, 4) [fb] and the joint ``t``, ``q`` per sub-channel.

    Sub-channels (:data:`_SUBCHANNELS`): u from beam 1, u from beam 2, d from beam 1, d from
    beam 2; ``w = jacobian * f_q(x_q) f_qbar(x_qbar) * |M_SM|^2 (1 + theta t + theta^2 q)``.
    The PDF scale is ``Q = m_ZH``.
    """
    scale = invariant_mass(ev.p3 + ev.p4 + ev.pH)
    f1 = evaluate_pdfs(pdfs, ev.x1, scale)
    f2 = evaluate_pdfs(pdfs, ev.x2, scale)
    lums = (f1["u"] * f2["ubar"], f1["ubar"] * f2["u"], f1["d"] * f2["dbar"], f1["dbar"] * f2["d"])
    n = len(ev)
    w = np.empty((n, 4))
    t = np.empty((n, 4))
    q = np.empty((n, 4))
    for c, ((code, beam), lum) in enumerate(zip(_SUBCHANNELS, lums)):
        pa, pb = (ev.p1, ev.p2) if beam > 0 else (ev.p2, ev.p1)
        chan = amp.CHANNELS[code]
        msq = amp.closed_form_sm(pa, pb, ev.p3, ev.p4, chan)
        t[:, c], q[:, c] = amp.closed_form_score(pa, pb, ev.p3, ev.p4, chan)
        w[:, c] = ev.jacobian * lum * msq * (1.0 + theta * t[:, c] + theta ** 2 * q[:, c])
    return w, t, q


def zh_d6_score(n_events, theta=0.0, seed=None, pdfs=None, return_metadata=False,
                w_max_quantile=0.9999, batch_size=200_000, n_pilot=100_000, momenta=False):
    """Generate the ZH dataset with the joint score for ``theta = C_Hq^(3) / Lambda^2``.

    Parameters
    ----------
    n_events : int
        Number of unweighted events after the lepton selection.
    theta : float
        ``C_Hq^(3) / Lambda^2`` in TeV^-2 of the generated sample.  Events are drawn from
        ``p(x | theta)`` and ``t`` is the score at ``theta``:
        ``(t0 + 2 theta q) / (1 + theta t0 + theta^2 q) - d log sigma / d theta``.
    seed : None, int or numpy.random.Generator
    pdfs : None or callable ``pdfs(x, Q) -> {"u", "d", "ubar", "dbar": ndarray}``
        Parton number densities (``Q = m_ZH`` in GeV); ``None`` uses
        :class:`~keplersr.datasets.pdfs.ToyPDFs`.
    return_metadata : bool
        If True return ``(df, metadata)``; the metadata is always in ``df.attrs``.
    w_max_quantile : float in (0, 1]
        Unweighting maximum = this quantile of the pilot-run weights; events above it keep
        ``weight = w / w_max > 1``.
    batch_size, n_pilot : int
        Raw phase-space points per batch; selected events in the pilot run.
    momenta : bool
        Also return the four-momenta (:data:`MOMENTA`, columns ``p1_E, p1_px, ...``), e.g. to
        write the events as a Les Houches file with
        :func:`keplersr.datasets.zh_d6_lhe.write_zh_d6_lhe`.  The events are the same as without.

    Returns
    -------
    pandas.DataFrame with the :data:`FEATURES` columns, ``t`` (target: joint score incl. the
    rate term, TeV^2), ``t_joint`` (``d log |M|^2 / d theta`` at theta, without the rate term),
    ``q`` (TeV^4), ``channel`` ("uubar"/"ddbar"), ``quark_beam`` (+1/-1: beam of the quark),
    ``weight`` and, if ``theta != 0``, ``t_sm`` (the SM score of the same events).
    """
    n_events = check_positive_int(n_events, "n_events")
    batch_size = check_positive_int(batch_size, "batch_size")
    n_pilot = check_positive_int(n_pilot, "n_pilot")
    if not isinstance(momenta, bool):
        raise ValueError(f"momenta must be True or False, got {momenta!r}")
    theta, pdfs, rng = generator_setup(theta, w_max_quantile, pdfs, seed)

    t_start = time.perf_counter()
    n_raw = 0
    sum_w = 0.0
    sum_w2 = 0.0

    def weighted_batch():
        nonlocal n_raw, sum_w, sum_w2
        ev = sample_phase_space(batch_size, rng)
        n_raw += batch_size
        ev = ev.subset(pass_cuts(ev.p3, ev.p4))
        w_c, t_c, q_c = subchannel_weights(ev, pdfs, theta)
        w = w_c.sum(axis=1)
        sum_w += float(w.sum())
        sum_w2 += float(np.sum(w * w))
        return ev, w_c, t_c, q_c

    def make_chunk(batch, acc, w, w_max):
        ev, w_c, t_c, q_c = batch
        ev, w_c, t_c, q_c = ev.subset(acc), w_c[acc], t_c[acc], q_c[acc]
        cum = np.cumsum(w_c, axis=1)
        sub = np.minimum(np.sum(cum < (rng.uniform(size=w.shape[0]) * w)[:, None], axis=1), 3)
        rows = np.arange(w.shape[0])
        obs = observables(ev.p3, ev.p4, ev.pH)
        cols = {f: obs[f] for f in FEATURES}
        cols["t_joint"] = t_c[rows, sub]
        cols["q"] = q_c[rows, sub]
        cols["channel"] = np.array([c for c, _ in _SUBCHANNELS], dtype=np.int8)[sub]
        cols["quark_beam"] = np.array([b for _, b in _SUBCHANNELS], dtype=np.int8)[sub]
        cols["weight"] = np.maximum(1.0, w / w_max)
        if momenta:
            for name in MOMENTA:
                p = getattr(ev, name)
                cols.update({f"{name}_{c}": p[:, i] for i, c in enumerate(MOMENTUM_COMPONENTS)})
        return pd.DataFrame(cols)

    df, w_max, n_overweight = unweighted_events(weighted_batch, make_chunk, n_events, n_pilot,
                                                w_max_quantile, rng)

    # the score: joint derivative ratio at theta minus its sample mean (the rate term)
    t0, q = df["t_joint"].to_numpy(), df["q"].to_numpy()
    wt = df["weight"].to_numpy()
    r = 1.0 + theta * t0 + theta ** 2 * q
    s = (t0 + 2.0 * theta * q) / r
    dlogsig = float(np.sum(wt * s) / np.sum(wt))
    dlogsig_err = float(np.sqrt(np.sum(wt * (s - dlogsig) ** 2) / np.sum(wt) / len(df)))
    df["t"] = s - dlogsig
    df["t_joint"] = s
    extra = {}
    if theta != 0.0:
        wsm = wt / r
        mean_t0_sm = float(np.sum(wsm * t0) / np.sum(wsm))
        df["t_sm"] = t0 - mean_t0_sm
        extra["dlogsigma_dtheta_sm"] = mean_t0_sm
    df["channel"] = pd.Categorical.from_codes(df["channel"].to_numpy(), categories=list(amp.CHANNELS))
    order = [*FEATURES, "t", "t_joint", "q", *(["t_sm"] if theta != 0.0 else []), "channel", "quark_beam",
             "weight", *([f"{p}_{c}" for p in MOMENTA for c in MOMENTUM_COMPONENTS] if momenta else [])]
    df = df[order]

    sigma = sum_w / n_raw
    sigma_err = np.sqrt(max(sum_w2 / n_raw - sigma ** 2, 0.0) / n_raw)
    elapsed = time.perf_counter() - t_start
    meta = _metadata(theta, pdfs, seed, w_max, w_max_quantile, n_raw, n_overweight, df, elapsed,
                     dlogsig, dlogsig_err, sigma, sigma_err, extra)
    df.attrs.update(meta)
    return (df, meta) if return_metadata else df


def _metadata(theta, pdfs, seed, w_max, quantile, n_raw, n_over, df, elapsed, dlogsig, dlogsig_err,
              sigma, sigma_err, extra):
    frac = df["channel"].value_counts(normalize=True)
    return {
        "dataset": "zh_d6_score",
        "process": "p p -> Z H -> l- l+ H (q qbar -> Z* -> Z H, q = u, d; LO; one lepton flavour), "
                   "CP-even operator O_Hq^(3)",
        "sqrt_s_GeV": SQRT_S, "m_H_GeV": M_H, "m_Z_GeV": M_Z, "Gamma_Z_GeV": GAMMA_Z,
        "v_GeV": amp.V_EW, "sw2": amp.SW2,
        "level": "parton",
        "theta": theta,
        "features": list(FEATURES),
        "target": "t",
        "units": dict(UNITS),
        "conventions": {
            "metric": "(+,-,-,-)",
            "operator": "O_Hq^(3) = (H^dag i D<->^a_mu H)(qbar_L tau^a gamma^mu q_L), first generation; "
                        "D_mu = d_mu - i g W^a tau^a/2 - i g' Y B_mu",
            "theta": "C_Hq^(3) / Lambda^2 in TeV^-2",
            "feynman_rules": "Zqq: i e_Z gamma^mu [(g_L + eta_q theta v^2/2) P_L + g_R P_R]; "
                             "qqZh contact: i e_Z eta_q theta v gamma^mu P_L; hZZ: i e_Z mZ g^{mu nu}; "
                             "e_Z = g/cW = 2 mZ/v, eta_u = +1, eta_d = -1, g_L = T3 - Q sW^2, g_R = -Q sW^2",
            "amplitude": "A_{L sigma} = A_{L sigma}^SM (1 + theta kappa_q s_hat), A_R unchanged",
            "kappa_q": "eta_q v^2 / (2 mZ^2 g_L^q) per TeV^-2 (s_hat in TeV^2)",
            "kappa_u": amp.kappa(0) * 1e6, "kappa_d": amp.kappa(1) * 1e6,
            "score": "|M|^2 = |M_SM|^2 (1 + theta t_joint + theta^2 q); t_joint = 2 kappa_q s_hat f_L, "
                     "q = kappa_q^2 s_hat^2 f_L, f_L = left-handed-quark fraction of |M_SM|^2",
            "rate_term": "t = t_joint(theta) - d log sigma/d theta, estimated as the weighted sample mean "
                         "of t_joint(theta), so E[t] = 0 on the sample",
            "Z_width": "fixed GammaZ in the decay propagator (not shifted by the operator); "
                       "no width in the s-channel propagator",
            "leptons": "l1/l2 ordered by pT; the charge enters cos_theta_l and phi_l (angles of l-)",
            "Delta_phi_ll": "|phi_l1 - phi_l2| in [0, pi]",
            "cos_theta_star": "Z polar angle in the ZH rest frame w.r.t. +z",
            "cos_theta_l": "l- polar angle in the Z rest frame w.r.t. the Z flight direction (helicity frame)",
            "phi_l": "l- azimuth around the Z direction, x axis in the (+z beam, Z) plane away from +z",
        },
        "cuts": dict(CUTS),
        "generation": {
            "m_ll": "Breit-Wigner mapping in the m_ll window",
            "s_hat": "s_min / z, z ~ U(0,1], s_min = (m_ll + mH)^2",
            "y_ZH": "U(-ymax, ymax), ymax = -log(tau)/2",
            "angles": "Z direction (ZH frame) and l- direction (Z frame) uniform",
            "pdf_scale": "Q = m_ZH",
        },
        "pdfs": repr(pdfs),
        "seed": seed if seed is None or isinstance(seed, numbers.Integral) else repr(seed),
        "w_max": w_max,
        "w_max_quantile": quantile,
        "n_raw_points": n_raw,
        "n_overweight": n_over,
        "dlogsigma_dtheta": dlogsig,
        "dlogsigma_dtheta_err": dlogsig_err,
        **extra,
        "sigma_fid_fb": sigma,
        "sigma_fid_fb_err": sigma_err,
        "sigma_note": "fiducial LO cross section at theta for one lepton flavour, u/d quarks only, "
                      "with the given PDFs (a toy number with ToyPDFs)",
        "channel_fractions": {k: float(v) for k, v in frac.items()},
        "generation_seconds": elapsed,
    }
