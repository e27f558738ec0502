"""Les Houches event files written from the generators' events, with reweighting weights.

:func:`write_lhe` writes the file a MadGraph run with its reweighting module writes: an
``<initrwgt>`` header that says which parameter point each weight is
(``<weight id='rwgt_1'>set param_card fWWtilde -1.0</weight>``), an ``<init>`` block, and per
event the particles, the nominal weight ``XWGTUP`` and a ``<rwgt>`` block with one
``<wgt id='rwgt_k'>`` per point.  Numbers are written with 17 significant digits, so every
float64 (momenta, weights) reads back exactly.  The file is plain text; writing needs no
optional package (reading does: :func:`keplersr.physics.read_lhe`).  What the generators'
writers (:mod:`~keplersr.datasets.wbf_lhe`, :mod:`~keplersr.datasets.zh_d6_lhe`) share is
here too: the four-momenta of a ``momenta=True`` table and the reweighting factor of a weight
quadratic in theta.
"""
from __future__ import annotations

import numbers
import os

import numpy as np

#: PDG ids used by the generators' files.
PDG = {"d": 1, "u": 2, "dbar": -1, "ubar": -2, "e-": 11, "e+": -11, "Z": 23, "H": 25, "proton": 2212}


def _fmt(x):
    return "%.17e" % x


def check_thetas(thetas):
    """The reweighting points as a tuple of distinct finite floats (ValueError otherwise)."""
    if isinstance(thetas, (str, bytes)) or not hasattr(thetas, "__iter__"):
        raise ValueError(f"thetas must be a sequence of parameter values, got {thetas!r}")
    out = []
    for v in thetas:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise ValueError(f"thetas must be finite real numbers, got {v!r}")
        out.append(float(v))
    if not out:
        raise ValueError("thetas is empty: give at least one parameter point to reweight to")
    if len(set(out)) != len(out):
        raise ValueError(f"thetas has repeated values: {out}")
    return tuple(out)


def momentum_columns(df, particles, generator, components=("E", "px", "py", "pz")):
    """The four-momenta (n_events, n_particles, 4) of a generator's table made with ``momenta=True``."""
    cols = [f"{p}_{c}" for p in particles for c in components]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"the table has no four-momenta (missing {missing[:4]}...): generate the events "
                         f"with {generator}(..., momenta=True)")
    return df[cols].to_numpy(dtype=float).reshape(len(df), len(particles), len(components))


def reweighting_factor(t, q, theta, theta_gen):
    """``|M(theta)|^2 / |M(theta_gen)|^2`` of events with SM score ``t`` and quadratic term ``q``."""
    return (1.0 + theta * t + theta ** 2 * q) / (1.0 + theta_gen * t + theta_gen ** 2 * q)


def write_lhe(path, ids, status, mothers, colors, momenta, masses, weights, reweighting,
              parameter, scale, process_id=1, beam_energy=6500.0, cross_section_pb=None,
              comment=None):
    """Write events with reweighting weights as a Les Houches event file (LHEF version 3).

    Parameters
    ----------
    path : str or path-like
    ids, status : int arrays (n_events, n_particles): PDG ids and status codes (-1 incoming,
        1 outgoing, 2 intermediate resonance).
    mothers, colors : int arrays (n_events, n_particles, 2): mother indices (1-based, 0 none)
        and colour / anticolour tags.
    momenta : float array (n_events, n_particles, 4): ``(E, px, py, pz)`` in GeV.
    masses : float array (n_events, n_particles) in GeV.
    weights : float array (n_events,): the nominal event weights ``XWGTUP``.
    reweighting : dict ``{theta: array (n_events,)}``: the event weights at each parameter
        point, written in ``<rwgt>`` blocks with ids ``rwgt_1, rwgt_2, ...`` in this order.
    parameter : str, the parameter's name in the header (``set param_card <parameter> <theta>``).
    scale : float array (n_events,): ``SCALUP`` in GeV.
    cross_section_pb : ``XSECUP``; by default the mean nominal weight (the generators' toy
        normalisation).
    comment : optional text for a comment at the top of the file.
    """
    ids, status = np.asarray(ids, dtype=int), np.asarray(status, dtype=int)
    mothers, colors = np.asarray(mothers, dtype=int), np.asarray(colors, dtype=int)
    momenta, masses = np.asarray(momenta, dtype=float), np.asarray(masses, dtype=float)
    weights, scale = np.asarray(weights, dtype=float), np.asarray(scale, dtype=float)
    n, k = ids.shape
    for name, arr, shape in (("status", status, (n, k)), ("mothers", mothers, (n, k, 2)),
                             ("colors", colors, (n, k, 2)), ("momenta", momenta, (n, k, 4)),
                             ("masses", masses, (n, k)), ("weights", weights, (n,)),
                             ("scale", scale, (n,))):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not isinstance(parameter, str) or not parameter.strip() or "<" in parameter:
        raise ValueError(f"parameter must be a non-empty name, got {parameter!r}")
    points = check_thetas(list(reweighting))
    rw = np.column_stack([np.asarray(reweighting[t], dtype=float) for t in reweighting])
    if rw.shape != (n, len(points)):
        raise ValueError(f"each reweighting array must have shape ({n},)")
    xsec = float(np.mean(weights)) if cross_section_pb is None else float(cross_section_pb)
    rw_ids = [f"rwgt_{i + 1}" for i in range(len(points))]

    lines = ['<LesHouchesEvents version="3.0">']
    if comment:
        lines.append("<!--\n" + comment.replace("--", "- -") + "\n-->")
    lines += ["<header>", "<initrwgt>", f"<weightgroup name='{parameter} reweighting'>"]
    lines += [f"<weight id='{i}'>set param_card {parameter} {t!r}</weight>" for i, t in zip(rw_ids, points)]
    lines += ["</weightgroup>", "</initrwgt>", "</header>", "<init>",
              f"2212 2212 {_fmt(beam_energy)} {_fmt(beam_energy)} 0 0 -1 -1 4 1",
              f"{_fmt(xsec)} {_fmt(0.0)} {_fmt(xsec)} {process_id}", "</init>"]
    with open(os.fspath(path), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        for e in range(n):
            out = ["<event>", f"{k} {process_id} {_fmt(weights[e])} {_fmt(scale[e])} "
                              f"{_fmt(0.0078125)} {_fmt(0.118)}"]
            for p in range(k):
                E, px, py, pz = momenta[e, p]
                out.append(f"{ids[e, p]} {status[e, p]} {mothers[e, p, 0]} {mothers[e, p, 1]} "
                           f"{colors[e, p, 0]} {colors[e, p, 1]} {_fmt(px)} {_fmt(py)} {_fmt(pz)} "
                           f"{_fmt(E)} {_fmt(masses[e, p])} 0.0 9.0")
            out.append("<rwgt>")
            out += [f"<wgt id='{i}'>{_fmt(w)}</wgt>" for i, w in zip(rw_ids, rw[e])]
            out += ["</rwgt>", "</event>"]
            f.write("\n".join(out) + "\n")
        f.write("</LesHouchesEvents>\n")
    return os.fspath(path)
