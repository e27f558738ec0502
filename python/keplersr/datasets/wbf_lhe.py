"""WBF events as a Les Houches event file with reweighting weights (a stand-in for MadGraph's).

:func:`write_wbf_lhe` writes the events of :func:`keplersr.datasets.wbf.wbf_cp_score` (generated
with ``momenta=True``) with their weights at chosen values of ``theta = f_WWtilde / Lambda^2``
[TeV^-2], as MadGraph's reweighting module would: the event weight at ``theta`` is the nominal
weight times ``|M(theta)|^2 / |M(theta_gen)|^2 = (1 + theta t + theta^2 q) / (1 + theta_gen t +
theta_gen^2 q)`` (``t``, ``q``: the event's SM score and quadratic term).  The weights are
quadratic in theta, so the score read back from them (:func:`keplersr.physics.joint_score`) is
the generator's exact score.
"""
from __future__ import annotations

import numpy as np

from . import wbf_phase_space as ps
from .lhe_writer import PDG, check_thetas, momentum_columns, reweighting_factor, write_lhe
from .wbf import MOMENTA

#: PDG ids of (pa, pb) per WW channel; the outgoing quarks follow the W emissions.
_WW_FLAVOURS = {"qq": ((2, 1), (1, 2)), "qqbar": ((2, -2), (1, -1))}


def _flavours(channel):
    """((id pa, id pb), (id p1, id p2)) of a channel name."""
    if channel in _WW_FLAVOURS:
        return _WW_FLAVOURS[channel]
    a, b = channel[len("NC:"):].split("-")      # neutral current: the lines keep their flavour
    return (PDG[a], PDG[b]), (PDG[a], PDG[b])


def write_wbf_lhe(df, path, thetas=(-1.0, 0.0, 1.0), parameter="fWWtilde"):
    """Write WBF events as an LHE file with reweighting weights at ``thetas`` [TeV^-2].

    ``df`` is a table of :func:`~keplersr.datasets.wbf.wbf_cp_score` made with ``momenta=True``
    (any ``theta``; the nominal weights are its ``weight`` column, the partons those of the
    generated events, also for a detector-level table).  The header names each weight's point as
    ``set param_card <parameter> <theta>``.  Returns ``path``.
    """
    thetas = check_thetas(thetas)
    p = momentum_columns(df, MOMENTA, generator="wbf_cp_score")
    n = len(df)
    theta_gen = float(df.attrs.get("theta", 0.0))
    t0 = df["t_sm" if theta_gen != 0.0 else "t"].to_numpy(dtype=float)
    q = df["q"].to_numpy(dtype=float)
    w = df["weight"].to_numpy(dtype=float)
    flav = [_flavours(c) for c in df["channel"].astype(str)]
    ids = np.array([[a, b, c, d, PDG["H"]] for (a, b), (c, d) in flav])
    status = np.tile([-1, -1, 1, 1, 1], (n, 1))
    mothers = np.tile([[0, 0], [0, 0], [1, 2], [1, 2], [1, 2]], (n, 1, 1))
    colors = np.zeros((n, 5, 2), dtype=int)
    for k, (beam, out, tag) in enumerate(((0, 2, 501), (1, 3, 502))):
        anti = ids[:, beam] < 0
        colors[:, beam, 0] = colors[:, out, 0] = np.where(anti, 0, tag)
        colors[:, beam, 1] = colors[:, out, 1] = np.where(anti, tag, 0)
    masses = np.zeros((n, 5))
    masses[:, 4] = ps.M_H
    reweighting = {th: w * reweighting_factor(t0, q, th, theta_gen) for th in thetas}
    comment = (f"KeplerSR wbf_cp_score events (process {df.attrs.get('process_content', 'WW')}, generated at "
               f"theta = {theta_gen!r} TeV^-2, seed {df.attrs.get('seed')!r}); {parameter} = f_WWtilde/Lambda^2 "
               f"in TeV^-2")
    return write_lhe(path, ids, status, mothers, colors, p, masses, w, reweighting, parameter,
                     scale=np.full(n, ps.M_H), comment=comment)
