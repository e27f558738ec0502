"""ZH events as a Les Houches event file with reweighting weights (a stand-in for MadGraph's).

:func:`write_zh_d6_lhe` writes the events of :func:`keplersr.datasets.zh_d6.zh_d6_score`
(generated with ``momenta=True``) as ``q qbar -> Z H, Z -> e- e+`` (the Z as an intermediate
resonance, status 2) with their weights at chosen values of ``theta = C_Hq^(3) / Lambda^2``
[TeV^-2]: the nominal weight times ``(1 + theta t + theta^2 q) / (1 + theta_gen t + theta_gen^2 q)``
(``t``: the event's ``d log |M|^2 / d theta`` at the SM, ``q`` its quadratic term).
"""
from __future__ import annotations

import numpy as np

from .lhe_writer import PDG, check_thetas, momentum_columns, reweighting_factor, write_lhe
from .zh_d6 import M_H, MOMENTA
from .wbf_phase_space import invariant_mass

#: PDG id of the quark of each channel.
_QUARK = {"uubar": PDG["u"], "ddbar": PDG["d"]}


def write_zh_d6_lhe(df, path, thetas=(-1.0, 0.0, 1.0), parameter="cHq3"):
    """Write ZH events as an LHE file with reweighting weights at ``thetas`` [TeV^-2].

    ``df`` is a table of :func:`~keplersr.datasets.zh_d6.zh_d6_score` made with
    ``momenta=True`` (any ``theta``).  Particles: the quark and antiquark (on the beams given by
    ``quark_beam``), the Z (status 2, ``p3 + p4``), the Higgs, e- and e+.  Returns ``path``.
    """
    thetas = check_thetas(thetas)
    p = momentum_columns(df, MOMENTA, generator="zh_d6_score")
    n = len(df)
    theta_gen = float(df.attrs.get("theta", 0.0))
    if theta_gen == 0.0:
        t0 = df["t_joint"].to_numpy(dtype=float)
    else:   # t_sm = t0 - its SM mean
        t0 = df["t_sm"].to_numpy(dtype=float) + df.attrs["dlogsigma_dtheta_sm"]
    q = df["q"].to_numpy(dtype=float)
    w = df["weight"].to_numpy(dtype=float)
    quark = np.array([_QUARK[c] for c in df["channel"].astype(str)])
    plus = df["quark_beam"].to_numpy() > 0
    beam1 = np.where(plus, quark, -quark)
    z = p[:, 2] + p[:, 3]
    momenta = np.stack([p[:, 0], p[:, 1], z, p[:, 4], p[:, 2], p[:, 3]], axis=1)
    ids = np.column_stack([beam1, -beam1, np.full(n, PDG["Z"]), np.full(n, PDG["H"]),
                           np.full(n, PDG["e-"]), np.full(n, PDG["e+"])])
    status = np.tile([-1, -1, 2, 1, 1, 1], (n, 1))
    mothers = np.tile([[0, 0], [0, 0], [1, 2], [1, 2], [3, 3], [3, 3]], (n, 1, 1))
    colors = np.zeros((n, 6, 2), dtype=int)
    colors[:, 0, 0] = np.where(plus, 501, 0)
    colors[:, 0, 1] = np.where(plus, 0, 501)
    colors[:, 1, 0] = np.where(plus, 0, 501)
    colors[:, 1, 1] = np.where(plus, 501, 0)
    masses = np.zeros((n, 6))
    masses[:, 2] = invariant_mass(z)
    masses[:, 3] = M_H
    reweighting = {th: w * reweighting_factor(t0, q, th, theta_gen) for th in thetas}
    comment = (f"KeplerSR zh_d6_score events (generated at theta = {theta_gen!r} TeV^-2, seed "
               f"{df.attrs.get('seed')!r}); {parameter} = C_Hq^(3)/Lambda^2 in TeV^-2")
    return write_lhe(path, ids, status, mothers, colors, momenta, masses, w, reweighting, parameter,
                     scale=invariant_mass(z, p[:, 4]), comment=comment)
