"""Partonic channels of WBF Higgs production for the CP-odd operator O_WWtilde.

``process="WW"`` (the default of :func:`keplersr.datasets.wbf.wbf_cp_score`): charged-current
WW fusion only, the HWW vertex of the operator; channels ``qq`` and ``qqbar``.

``process="WW+ZZ"`` adds neutral-current ZZ fusion with the operator's HZZ vertex, and
``process="EW"`` the whole electroweak structure of the operator: besides HWW and HZZ it
has HZgamma and Hgammagamma vertices, which the SM lacks at tree level, so photon exchange
enters the CP-odd amplitude (and the interference) but not the SM one.

Operator: ``O_WWtilde = Phi^dagger W~_{mu nu} W^{mu nu} Phi`` gives CP-odd vertex factors
in the ratio ``HWW : HZZ : HZgamma : Hgammagamma = 1 : c^2 : c s : s^2`` (``c = cos theta_W``),
while the SM has ``HWW : HZZ = g mW : g mW / c^2``.  Relative to the SM vertex the CP-odd
coupling of ZZ fusion is therefore ``kappa_Z = c^4 kappa_W``.  A neutral-current quark line
of chirality ``chi`` couples to the Z with ``g (T3_chi - Q s^2) / c`` and to the photon with
``g s Q``; exchanging a photon instead of a Z on that line multiplies the CP-odd amplitude by
``s^2 Q / (T3_chi - Q s^2) * (q^2 - mZ^2) / q^2``.  With ``rho_i = 1 + that`` (EW) or 1
(WW+ZZ) the neutral-current score of a helicity configuration is ``c^4 rho_1 rho_2`` times the
WW closed form of the same helicity structure (``qq``: equal effective helicities,
``qqbar``: opposite; a right-handed line or an antiquark line flips it), and ``q`` gets
``(c^4 rho_1 rho_2)^2``.  Helicities are summed within a channel, weighted by their SM
``|M|^2``.  Neutral-current channels are labelled by the two line flavours (``NC:u-dbar``,
...); only u, d and their antiquarks enter, as for WW; t/u-channel interference of identical
quarks is neglected (the usual WBF approximation).
"""
from __future__ import annotations

import numpy as np

from . import wbf_amplitudes as amp

PROCESSES = ("WW", "WW+ZZ", "EW")
M_W = 80.4
M_Z = 91.1876
SW2 = 1.0 - (M_W / M_Z) ** 2
CW2 = 1.0 - SW2

#: flavour of a neutral-current line: (PDF key, charge Q, weak isospin T3 of the left field, antiquark?)
LINES = {"u": (2.0 / 3.0, 0.5, False), "d": (-1.0 / 3.0, -0.5, False),
         "ubar": (2.0 / 3.0, 0.5, True), "dbar": (-1.0 / 3.0, -0.5, True)}


def channel_names(process="WW"):
    """The channel labels of a process (index = integer channel code)."""
    check_process(process)
    names = list(amp.CHANNELS)
    if process != "WW":
        names += [f"NC:{a}-{b}" for a in LINES for b in LINES]
    return names


def check_process(process):
    if process not in PROCESSES:
        raise ValueError(f"process must be one of {PROCESSES}, got {process!r}")
    return process


def luminosities(f1, f2, process="WW"):
    """Parton luminosities per channel, shape (N, n_channels)."""
    from .pdfs import channel_luminosities

    cols = list(channel_luminosities(f1, f2))
    if process != "WW":
        cols += [f1[a] * f2[b] for a in LINES for b in LINES]
    return np.column_stack(cols)


def _photon_factor(flavour, chirality, q2, process):
    """``rho`` of one neutral-current line (array over events)."""
    if process != "EW":
        return np.ones_like(q2)
    charge, t3, _ = LINES[flavour]
    t3c = t3 if chirality == "L" else 0.0
    return 1.0 + SW2 * charge / (t3c - charge * SW2) * (q2 - M_Z ** 2) / q2


def channel_terms(pa, pb, p1, p2, process="WW", with_q=False, with_t=True):
    """Per-channel SM ``|M|^2`` (without luminosity), score ``t`` and, if asked, ``q``.

    Returns ``(msq, t, q)`` with arrays of shape (N, n_channels); ``q`` is None unless
    ``with_q``, ``t`` is None when ``with_t`` is false (the SM weights alone).  Normalisation: the WW channels are ``amp.closed_form_sm`` (couplings
    ``(g/sqrt 2)^4 (g mW)^2`` divided out), the neutral-current ones carry their couplings
    relative to that: ``4 (gZ1 gZ2)^2 / c^4`` with ``gZ = (T3_chi - Q s^2) / c``.
    """
    check_process(process)
    structures = amp.CHANNELS
    if not with_t and not with_q and process == "WW":
        return np.column_stack([amp.closed_form_sm(pa, pb, p1, p2, s, M_W) for s in structures]), None, None
    t_s = {s: amp.closed_form_score(pa, pb, p1, p2, s) for s in structures}
    msq_w = {s: amp.closed_form_sm(pa, pb, p1, p2, s, M_W) for s in structures}
    q_s = ({s: amp.helicity_amplitudes(pa, pb, p1, p2, s, M_W)["q"] for s in structures}
           if with_q else None)
    msq = [msq_w["qq"], msq_w["qqbar"]]
    t = [t_s["qq"], t_s["qqbar"]]
    q = [q_s["qq"], q_s["qqbar"]] if with_q else None
    if process != "WW":
        msq_z = {s: amp.closed_form_sm(pa, pb, p1, p2, s, M_Z) for s in structures}
        q1sq = amp.mdot(pa - p1, pa - p1)
        q2sq = amp.mdot(pb - p2, pb - p2)
        for a, (qa, t3a, anti_a) in LINES.items():
            for b, (qb, t3b, anti_b) in LINES.items():
                m_sum, t_sum, q_sum = 0.0, 0.0, 0.0
                for ca in "LR":
                    for cb in "LR":
                        gza = ((t3a if ca == "L" else 0.0) - qa * SW2) / np.sqrt(CW2)
                        gzb = ((t3b if cb == "L" else 0.0) - qb * SW2) / np.sqrt(CW2)
                        flip = ((ca == "R") != anti_a) != ((cb == "R") != anti_b)
                        s = "qqbar" if flip else "qq"
                        w = 4.0 * (gza * gzb) ** 2 / CW2 ** 2 * msq_z[s]
                        rho = CW2 ** 2 * _photon_factor(a, ca, q1sq, process) * _photon_factor(b, cb, q2sq, process)
                        m_sum = m_sum + w
                        t_sum = t_sum + w * rho * t_s[s]
                        if with_q:
                            q_sum = q_sum + w * rho ** 2 * q_s[s]
                msq.append(m_sum)
                t.append(t_sum / m_sum)
                if with_q:
                    q.append(q_sum / m_sum)
    stack = lambda v: np.column_stack(v)  # noqa: E731
    return stack(msq), stack(t), (stack(q) if with_q else None)
