"""Matrix elements for ``q qbar -> Z* -> Z H -> l- l+ H`` with the CP-even operator O_Hq^(3).

Physics (leading order, massless quarks and leptons, one lepton flavour l = e or mu)
----------------------------------------------------------------------------------
The model parameter is the Warsaw-basis coefficient of

    O_Hq^(3) = (H^dagger i D<->^a_mu H) (qbar_L tau^a gamma^mu q_L),   L = L_SM + (C / Lambda^2) O_Hq^(3),

``theta = C_Hq^(3) / Lambda^2`` in TeV^-2 (first-generation quarks only), with the covariant
derivative ``D_mu = d_mu - i g W^a_mu tau^a/2 - i g' Y B_mu`` and
``H^dagger i D<->_mu H = i H^dagger (D_mu H) - i (D_mu H)^dagger H``.  In unitary gauge,
``H = (0, (v + h)/sqrt2)``, ``H^dagger i D<->^3_mu H = (g/cW) (v + h)^2 / 2 Z_mu``, so

    L_6 = theta (g/cW) (v + h)^2 / 2  Z_mu (ubar_L gamma^mu u_L - dbar_L gamma^mu d_L)

(plus W couplings that do not enter here).  Writing ``e_Z = g/cW = 2 mZ / v`` and
``eta_u = +1, eta_d = -1`` this gives two Feynman rules that change the amplitude:

* Z q qbar vertex ``i e_Z gamma^mu [(g_L^q + eta_q theta v^2/2) P_L + g_R^q P_R]``
  (``g_L = T3 - Q sW^2``, ``g_R = -Q sW^2``);
* contact q qbar Z h vertex ``i e_Z eta_q theta v gamma^mu P_L``.

The SM pieces are ``h Z Z``: ``i e_Z mZ g^{mu nu} = i (2 mZ^2 / v) g^{mu nu}``, ``Z l l``:
``i e_Z gamma^mu (g_L^l P_L + g_R^l P_R)``, Z propagators ``-i g_{mu nu} / (p^2 - mZ^2)``
(the ``p_mu p_nu`` terms vanish on massless currents); the decay propagator has a fixed
width, ``p^2 - mZ^2 + i mZ GammaZ``; the s-channel one (``p^2 = s_hat > (mZ + mH)^2``) has
none.  The two diagrams combine to (only left-handed quarks are affected)

    A_{L sigma}(theta) = A_{L sigma}^SM (1 + theta kappa_q s_hat),
    kappa_q = eta_q v^2 / (2 mZ^2 g_L^q)  [x 1e-6 GeV^-2 per TeV^-2],

the energy-growing contact-like effect (``kappa_u = +10.5``, ``kappa_d = +8.6`` TeV^-2 per
TeV^2 of s_hat: same sign for u and d).  Spin- and colour-averaged, with
``D1 = (pa.p4)(pb.p3)``, ``D2 = (pa.p3)(pb.p4)`` (pa quark, pb antiquark, p3 = l-, p4 = l+),

    |M_SM|^2 = (4/3) e_Z^6 mZ^2 [W_same D1 + W_opp D2] / [(s_hat - mZ^2)^2 ((m_ll^2 - mZ^2)^2 + mZ^2 GammaZ^2)]
    W_same = gLq^2 gLl^2 + gRq^2 gRl^2,   W_opp = gLq^2 gRl^2 + gRq^2 gLl^2,

(the textbook e+e- -> Z H -> f fbar H form, crossed to q qbar) and
``|M|^2 = |M_SM|^2 (1 + theta t + theta^2 q)`` with

    f_L = gLq^2 (gLl^2 D1 + gRl^2 D2) / [W_same D1 + W_opp D2]     (left-handed-quark fraction)
    t = 2 kappa_q s_hat f_L   [TeV^2],     q = kappa_q^2 s_hat^2 f_L   [TeV^4].

Two computations of the same physics:

* :func:`helicity_amplitudes`: explicit massless helicity spinors, quark and lepton
  currents for each helicity, the SM diagram with the shifted Zqq coupling and the contact
  diagram added as separate complex amplitudes (no use of the factorised form above);
* :func:`closed_form_sm`, :func:`closed_form_score`: the dot-product formulas above.

Conventions shared with :mod:`keplersr.datasets.wbf_amplitudes`: momenta ``(N, 4)`` arrays
``(E, px, py, pz)`` in GeV, metric ``(+, -, -, -)``, theta in TeV^-2, t in TeV^2, q in TeV^4.
"""
from __future__ import annotations

import numpy as np

from .event_generation import channel_codes
from .wbf_amplitudes import mdot, quark_current

M_Z = 91.1876
GAMMA_Z = 2.4952
M_H = 125.0
V_EW = 246.22          # (sqrt2 G_F)^-1/2 in GeV
SW2 = 0.2312           # sin^2 theta_W used in the Z couplings
E_Z = 2.0 * M_Z / V_EW  # g / cos theta_W

#: GeV^-2 per TeV^-2 (theta is given in TeV^-2).
PER_TEV2 = 1.0e-6

#: Channel names, index = integer channel code.
CHANNELS = ("uubar", "ddbar")

#: (T3, Q, eta) for the quark of each channel and for the charged lepton.
_QUARKS = {"uubar": (0.5, 2.0 / 3.0, +1.0), "ddbar": (-0.5, -1.0 / 3.0, -1.0)}
_LEPTON = (-0.5, -1.0)


def couplings(t3, q, sw2=SW2):
    """Chiral Z couplings ``(g_L, g_R) = (T3 - Q sW^2, -Q sW^2)`` (in units of g/cW)."""
    return t3 - q * sw2, -q * sw2


G_L_LEP, G_R_LEP = couplings(*_LEPTON)


def quark_couplings(channel):
    """``(g_L, g_R, eta)`` of the quark in channel ``"uubar"`` or ``"ddbar"``."""
    t3, q, eta = _QUARKS[CHANNELS[channel] if isinstance(channel, (int, np.integer)) else channel]
    return (*couplings(t3, q), eta)


def kappa(channel):
    """``kappa_q = eta_q v^2 / (2 mZ^2 g_L^q) * 1e-6`` in GeV^-2 per TeV^-2 (A_L -> A_L (1 + theta kappa s_hat))."""
    gl, _, eta = quark_couplings(channel)
    return PER_TEV2 * eta * V_EW ** 2 / (2.0 * M_Z ** 2 * gl)


def right_spinor(p):
    """Massless right-handed helicity spinor ``u_R(p) = sqrt(2E) (cos(theta/2), e^{i phi} sin(theta/2))``.

    Written without angles: ``(sqrt(E + pz), (px + i py)/pT sqrt(E - pz))``; azimuth 0 along z.
    """
    p = np.asarray(p, dtype=float)
    e, px, py, pz = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    pt = np.hypot(px, py)
    safe = pt > 0.0
    phase = np.where(safe, (px + 1j * py) / np.where(safe, pt, 1.0), 1.0 + 0j)
    up = np.sqrt(np.clip(e + pz, 0.0, None)) + 0j
    dn = phase * np.sqrt(np.clip(e - pz, 0.0, None))
    return np.stack([up, dn], axis=-1)


def right_current(p_out, p_in):
    """Right-handed current ``J^mu = u_R(p_out)^dagger sigma^mu u_R(p_in)``, ``sigma = (1, +sigma_vec)``.

    Contravariant components, shape ``(N, 4)`` complex; ``right_current(p, p) = 2 p``.
    """
    a = np.conj(right_spinor(p_out))
    b = right_spinor(p_in)
    a0, a1, b0, b1 = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    j0 = a0 * b0 + a1 * b1
    j1 = a0 * b1 + a1 * b0
    j2 = -1j * a0 * b1 + 1j * a1 * b0
    j3 = a0 * b0 - a1 * b1
    return np.stack([j0, j1, j2, j3], axis=-1)


def currents(pa, pb, p3, p4):
    """Helicity currents: quark line ``vbar(pb) gamma^mu P_lambda u(pa)`` and lepton line
    ``ubar(p3) gamma^mu P_sigma v(p4)`` for lambda, sigma in (L, R).

    For massless fermions the chiral projections of ``v`` spinors are the 2-spinors of the same
    momentum, so ``vbar(pb) gamma P_L u(pa) = u_L(pb)^dagger sigmabar u_L(pa)`` (up to a phase
    common to all diagrams of that helicity).  Returns ``{"L": J_L, "R": J_R}`` for the quarks
    and the leptons.
    """
    quark = {"L": quark_current(pb, pa), "R": right_current(pb, pa)}
    lepton = {"L": quark_current(p3, p4), "R": right_current(p3, p4)}
    return quark, lepton


def _prop_decay(m2):
    return 1.0 / (m2 - M_Z ** 2 + 1j * M_Z * GAMMA_Z)


def helicity_amplitudes(pa, pb, p3, p4, channel):
    """Explicit diagram-by-diagram helicity amplitudes of ``q(pa) qbar(pb) -> l-(p3) l+(p4) H``.

    Returns a dict with

    * ``A_sm[(lam, sig)]``: SM amplitude (complex, couplings included, overall ``i`` dropped);
    * ``A_1[(lam, sig)]``: ``dA/dtheta`` per TeV^-2 = (Zqq coupling shift diagram) + (contact
      diagram), computed separately from the Feynman rules;
    * ``msq_sm``: spin- (1/4) and colour- (1/3) averaged SM ``|M|^2``;
    * ``t = 2 Re sum A_sm^* A_1 / sum |A_sm|^2`` (TeV^2), ``q = sum |A_1|^2 / sum |A_sm|^2`` (TeV^4);
    * ``msq(theta)``: callable, the averaged ``|A_sm + theta A_1|^2`` at any theta (TeV^-2).
    """
    pa, pb, p3, p4 = (np.asarray(v, dtype=float) for v in (pa, pb, p3, p4))
    code = _channel_codes(channel, pa.shape[0])
    gl = np.where(code == 1, quark_couplings(1)[0], quark_couplings(0)[0])
    gr = np.where(code == 1, quark_couplings(1)[1], quark_couplings(0)[1])
    eta = np.where(code == 1, -1.0, 1.0)
    gq = {"L": gl, "R": gr}
    gll = {"L": G_L_LEP, "R": G_R_LEP}
    shat = mdot(pa + pb, pa + pb)
    mll2 = mdot(p3 + p4, p3 + p4)
    prop_s = 1.0 / (shat - M_Z ** 2)
    prop_d = _prop_decay(mll2)
    jq, jl = currents(pa, pb, p3, p4)
    a_sm, a_1 = {}, {}
    for lam in ("L", "R"):
        for sig in ("L", "R"):
            contr = mdot(jq[lam], jl[sig])                    # J_q . J_l  (bilinear)
            lepton = E_Z * gll[sig] * prop_d
            # SM diagram: Zqq vertex, s-channel propagator, hZZ vertex e_Z mZ g^{mu nu}
            a_sm[lam, sig] = E_Z * gq[lam] * prop_s * (E_Z * M_Z) * lepton * contr
            if lam == "L":
                d_gl = eta * PER_TEV2 * V_EW ** 2 / 2.0       # d g_L / d theta
                shift = E_Z * d_gl * prop_s * (E_Z * M_Z) * lepton * contr
                contact = E_Z * eta * PER_TEV2 * V_EW * lepton * contr
                a_1[lam, sig] = shift + contact
            else:
                a_1[lam, sig] = np.zeros_like(contr)
    avg = 1.0 / 12.0  # 1/4 spins x 1/3 colours (colour sum = 3)
    msq = avg * sum(np.abs(a) ** 2 for a in a_sm.values())
    interf = avg * sum(np.real(np.conj(a_sm[k]) * a_1[k]) for k in a_sm)
    quad = avg * sum(np.abs(a_1[k]) ** 2 for k in a_sm)

    def msq_theta(theta):
        return avg * sum(np.abs(a_sm[k] + theta * a_1[k]) ** 2 for k in a_sm)

    return {"A_sm": a_sm, "A_1": a_1, "msq_sm": msq, "t": 2.0 * interf / msq, "q": quad / msq,
            "msq": msq_theta}


def _dots(pa, pb, p3, p4):
    return mdot(pa, p4) * mdot(pb, p3), mdot(pa, p3) * mdot(pb, p4)


def _weights(code):
    gl = np.where(code == 1, quark_couplings(1)[0], quark_couplings(0)[0])
    gr = np.where(code == 1, quark_couplings(1)[1], quark_couplings(0)[1])
    w_same = gl ** 2 * G_L_LEP ** 2 + gr ** 2 * G_R_LEP ** 2
    w_opp = gl ** 2 * G_R_LEP ** 2 + gr ** 2 * G_L_LEP ** 2
    return gl, gr, w_same, w_opp


def closed_form_sm(pa, pb, p3, p4, channel):
    """Closed-form spin/colour-averaged SM ``|M|^2`` of the 2 -> 3 process (GeV^-2).

    ``(4/3) e_Z^6 mZ^2 [W_same D1 + W_opp D2] / [(s_hat - mZ^2)^2 ((m_ll^2 - mZ^2)^2 + mZ^2 GammaZ^2)]``.
    """
    pa, pb, p3, p4 = (np.asarray(v, dtype=float) for v in (pa, pb, p3, p4))
    code = _channel_codes(channel, pa.shape[0])
    _, _, w_same, w_opp = _weights(code)
    d1, d2 = _dots(pa, pb, p3, p4)
    shat = mdot(pa + pb, pa + pb)
    mll2 = mdot(p3 + p4, p3 + p4)
    bw = (mll2 - M_Z ** 2) ** 2 + (M_Z * GAMMA_Z) ** 2
    return (4.0 / 3.0) * E_Z ** 6 * M_Z ** 2 * (w_same * d1 + w_opp * d2) / ((shat - M_Z ** 2) ** 2 * bw)


def left_fraction(pa, pb, p3, p4, channel):
    """Fraction of the SM ``|M|^2`` from left-handed quarks, ``f_L`` (depends on the lepton angles)."""
    code = _channel_codes(channel, np.asarray(pa).shape[0])
    gl, _, w_same, w_opp = _weights(code)
    d1, d2 = _dots(pa, pb, p3, p4)
    return gl ** 2 * (G_L_LEP ** 2 * d1 + G_R_LEP ** 2 * d2) / (w_same * d1 + w_opp * d2)


def closed_form_score(pa, pb, p3, p4, channel):
    """Closed-form ``(t, q)``: ``t = 2 kappa_q s_hat f_L`` (TeV^2), ``q = kappa_q^2 s_hat^2 f_L`` (TeV^4).

    ``t`` is ``d log |M|^2 / d theta`` at theta = 0 (the joint score *without* the rate term).
    """
    code = _channel_codes(channel, np.asarray(pa).shape[0])
    kap = np.where(code == 1, kappa(1), kappa(0))
    shat = mdot(pa + pb, pa + pb)
    fl = left_fraction(pa, pb, p3, p4, code)
    x = kap * shat
    return 2.0 * x * fl, x ** 2 * fl


def sigma_hat_zh(shat, channel):
    """Textbook LO ``sigma(q qbar -> Z H)`` in GeV^-2 (spin/colour averaged, on-shell Z):

    ``G_F^2 mZ^4 / (288 pi s) (vq^2 + aq^2) lambda^1/2 (lambda + 12 mZ^2/s) / (1 - mZ^2/s)^2``,
    ``aq = 2 T3``, ``vq = 2 T3 - 4 Q sW^2``, ``lambda = (1 - (mH+mZ)^2/s)(1 - (mH-mZ)^2/s)``,
    ``G_F = 1 / (sqrt2 v^2)``.
    """
    t3, q, _ = _QUARKS[CHANNELS[channel] if isinstance(channel, (int, np.integer)) else channel]
    aq, vq = 2 * t3, 2 * t3 - 4 * q * SW2
    gf = 1.0 / (np.sqrt(2.0) * V_EW ** 2)
    shat = np.asarray(shat, dtype=float)
    lam = (1 - (M_H + M_Z) ** 2 / shat) * (1 - (M_H - M_Z) ** 2 / shat)
    return (gf ** 2 * M_Z ** 4 / (288 * np.pi * shat) * (vq ** 2 + aq ** 2) * np.sqrt(lam)
            * (lam + 12 * M_Z ** 2 / shat) / (1 - M_Z ** 2 / shat) ** 2)


def gamma_z_ll():
    """Partial width ``Gamma(Z -> l+ l-)`` (one massless flavour) in GeV: ``e_Z^2 mZ (gL^2 + gR^2) / (24 pi)``."""
    return E_Z ** 2 * M_Z * (G_L_LEP ** 2 + G_R_LEP ** 2) / (24.0 * np.pi)


def _channel_codes(channel, n):
    """A channel name or an array of 0/1 codes -> int array of length ``n`` (0 = CHANNELS[0], 1 = CHANNELS[1])."""
    return channel_codes(channel, n, CHANNELS)
