"""Matrix elements for CP-odd weak-boson fusion (WW -> H, t-channel, leading order).

Two independent computations of the same physics:

* :func:`helicity_amplitudes` builds massless left-handed helicity spinors and the
  quark currents explicitly (complex numpy), contracts them with the HWW vertex
  ``g^{ab} + kappa eps^{ab mu nu} q1_mu q2_nu`` and returns the SM amplitude, the
  CP-odd amplitude, the linear score ``t`` and the quadratic term ``q``.
* :func:`closed_form_score` / :func:`closed_form_sm` are the analytic results
  (functions of dot products, transverse momenta and azimuths only).

Conventions (used everywhere in :mod:`keplersr.datasets`):

* Momenta are arrays of shape ``(N, 4)`` with components ``(E, px, py, pz)`` in GeV,
  metric ``(+, -, -, -)``.
* Levi-Civita sign: ``eps^{0123} = +1`` (hence ``eps_{0123} = -1``).
* The model parameter is ``theta = f_WWtilde / Lambda^2`` in TeV^-2 and the vertex
  coupling is ``kappa = -2 theta / Lambda^2``, i.e. ``kappa = -2e-6 * theta`` GeV^-2.
  The score ``t`` is therefore in TeV^2 and ``q`` in TeV^4.
* Line "a" (incoming ``pa`` along +z, outgoing jet ``p1``) emits ``q1 = pa - p1``;
  line "b" (``pb`` along -z, jet ``p2``) emits ``q2 = pb - p2``.
* Channel ``"qq"``: both lines are quarks (or both antiquarks, same score);
  channel ``"qqbar"``: one quark and one antiquark line (antiquark current ``J -> J*``).

With these conventions the squared amplitude is
``|M|^2 = |M_SM|^2 (1 + theta t + theta^2 q)`` with (momenta in GeV)

* qq:    ``t = +2e-6 pT1 pT2 sin(phi1 - phi2) (1 + s_hat / m_jj^2)``
* qqbar: ``t = +1e-6 pT1 pT2 sin(phi1 - phi2) s_hat [1/(pa.p2) + 1/(pb.p1)]``

The overall plus sign follows from ``eps^{0123} = +1`` and ``kappa = -2 theta`` (the
helicity computation fixes it).  Since jet 1 is almost always the forward jet after the
cuts, ``t ~ +x_f x_b sin(phi_f - phi_b) (...)``.
"""
from __future__ import annotations

import numpy as np

from .event_generation import channel_codes

#: d kappa / d theta in GeV^-2 per TeV^-2 (kappa = -2 f / Lambda^2).
KAPPA_PER_THETA = -2.0e-6

#: Channel names, index = integer channel code.
CHANNELS = ("qq", "qqbar")


def mdot(a, b):
    """Minkowski product ``a.b`` (metric +,-,-,-) over the last axis (bilinear, no conjugation)."""
    return a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1] - a[..., 2] * b[..., 2] - a[..., 3] * b[..., 3]


def levi_civita(a, b, c, d):
    """``eps_{mu nu rho sigma} a^mu b^nu c^rho d^sigma`` with ``eps^{0123} = +1``.

    Inputs are contravariant 4-vectors of shape ``(N, 4)`` (real or complex).  Since
    ``eps_{0123} = -eps^{0123} = -1`` the contraction is minus the determinant of the
    matrix whose rows are the contravariant components.
    """
    m = np.stack([a, b, c, d], axis=-2)
    return -np.linalg.det(m)


def left_spinor(p):
    """Massless left-handed helicity spinor ``u_L(p) = sqrt(2E) (-e^{-i phi} sin(theta/2), cos(theta/2))``.

    Written without angles: ``(-(px - i py)/pT sqrt(E - pz), sqrt(E + pz))``; for a
    momentum along the z axis the azimuth is taken as 0.  Returns shape ``(N, 2)`` complex.
    """
    p = np.asarray(p, dtype=float)
    e, px, py, pz = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    pt = np.hypot(px, py)
    safe = pt > 0.0
    phase = np.where(safe, (px - 1j * py) / np.where(safe, pt, 1.0), 1.0 + 0j)
    up = -phase * np.sqrt(np.clip(e - pz, 0.0, None))
    dn = np.sqrt(np.clip(e + pz, 0.0, None)) + 0j
    return np.stack([up, dn], axis=-1)


def quark_current(p_out, p_in):
    """Left-handed current ``J^mu = u_L(p_out)^dagger sigmabar^mu u_L(p_in)``, ``sigmabar = (1, -sigma)``.

    Returns contravariant components, shape ``(N, 4)`` complex.
    """
    a = np.conj(left_spinor(p_out))
    b = left_spinor(p_in)
    a0, a1, b0, b1 = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    j0 = a0 * b0 + a1 * b1
    j1 = -(a0 * b1 + a1 * b0)
    j2 = 1j * a0 * b1 - 1j * a1 * b0
    j3 = -(a0 * b0 - a1 * b1)
    return np.stack([j0, j1, j2, j3], axis=-1)


def propagator_denominator(pa, pb, p1, p2, mw):
    """``D = (q1^2 - mW^2)(q2^2 - mW^2)`` with ``q1 = pa - p1``, ``q2 = pb - p2``."""
    q1 = pa - p1
    q2 = pb - p2
    return (mdot(q1, q1) - mw ** 2) * (mdot(q2, q2) - mw ** 2)


def helicity_amplitudes(pa, pb, p1, p2, channel, mw=80.4):
    """Explicit helicity-amplitude computation of the WBF matrix element.

    Parameters
    ----------
    pa, pb, p1, p2 : ndarray, shape (N, 4)
        Incoming partons (along +z and -z) and outgoing jets, GeV.
    channel : str or ndarray of int
        ``"qq"``, ``"qqbar"`` or an integer array (0 = qq, 1 = qqbar) per event.
    mw : float
        W mass in GeV.

    Returns
    -------
    dict with complex ``A_sm = J1.J2 / D`` and ``A_cp = eps(J1, J2, q1, q2) / D``
    (the amplitude is ``A_sm + kappa A_cp``), real ``msq_sm = |A_sm|^2``, the linear
    score ``t = 2 dkappa/dtheta Re(A_sm^* A_cp) / |A_sm|^2`` (TeV^2) and the quadratic
    term ``q = (dkappa/dtheta)^2 |A_cp|^2 / |A_sm|^2`` (TeV^4).
    """
    pa, pb, p1, p2 = (np.asarray(v, dtype=float) for v in (pa, pb, p1, p2))
    n = pa.shape[0]
    code = _channel_codes(channel, n)
    j1 = quark_current(p1, pa)
    j2 = quark_current(p2, pb)
    # antiquark on line b: J -> J*  (the qbar-q ordering gives the complex conjugate
    # amplitude and therefore identical |M|^2, t and q)
    j2 = np.where((code == 1)[:, None], np.conj(j2), j2)
    q1 = (pa - p1).astype(complex)
    q2 = (pb - p2).astype(complex)
    d = propagator_denominator(pa, pb, p1, p2, mw)
    a_sm = mdot(j1, j2) / d
    a_cp = levi_civita(j1, j2, q1, q2) / d
    msq = np.abs(a_sm) ** 2
    t = 2.0 * KAPPA_PER_THETA * np.real(np.conj(a_sm) * a_cp) / msq
    q = KAPPA_PER_THETA ** 2 * np.abs(a_cp) ** 2 / msq
    return {"A_sm": a_sm, "A_cp": a_cp, "msq_sm": msq, "t": t, "q": q}


def closed_form_sm(pa, pb, p1, p2, channel, mw=80.4):
    """Closed-form SM ``|M|^2`` in the normalisation of :func:`helicity_amplitudes`.

    qq: ``16 (pa.pb)(p1.p2) / D^2``; qqbar: ``16 (pa.p2)(pb.p1) / D^2``.
    """
    n = np.asarray(pa).shape[0]
    code = _channel_codes(channel, n)
    d = propagator_denominator(pa, pb, p1, p2, mw)
    qq = mdot(pa, pb) * mdot(p1, p2)
    qqb = mdot(pa, p2) * mdot(pb, p1)
    return 16.0 * np.where(code == 1, qqb, qq) / d ** 2


def closed_form_score(pa, pb, p1, p2, channel):
    """Closed-form linear score ``t`` (TeV^2 per unit ``f/Lambda^2`` in TeV^-2).

    qq:    ``+2e-6 pT1 pT2 sin(phi1 - phi2) (1 + s_hat/m_jj^2)``
    qqbar: ``+1e-6 pT1 pT2 sin(phi1 - phi2) s_hat [1/(pa.p2) + 1/(pb.p1)]``

    (``pT1 pT2 sin(phi1 - phi2) = py1 px2 - px1 py2``; 2e-6 = -dkappa/dtheta.)
    """
    n = np.asarray(pa).shape[0]
    code = _channel_codes(channel, n)
    pt1 = np.hypot(p1[:, 1], p1[:, 2])
    pt2 = np.hypot(p2[:, 1], p2[:, 2])
    dphi = np.arctan2(p1[:, 2], p1[:, 1]) - np.arctan2(p2[:, 2], p2[:, 1])
    cross = pt1 * pt2 * np.sin(dphi)
    shat = 2.0 * mdot(pa, pb)
    mjj2 = 2.0 * mdot(p1, p2)
    t_qq = 2.0e-6 * cross * (1.0 + shat / mjj2)
    t_qqb = 1.0e-6 * cross * shat * (1.0 / mdot(pa, p2) + 1.0 / mdot(pb, p1))
    return np.where(code == 1, t_qqb, t_qq)


def _channel_codes(channel, n):
    """A channel name or an array of 0/1 codes -> int array of length ``n`` (0 = CHANNELS[0], 1 = CHANNELS[1])."""
    return channel_codes(channel, n, CHANNELS)
