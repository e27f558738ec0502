"""Les Houches event files in: particles, event weights and the named reweighting weights.

:func:`read_lhe` reads a file (``.lhe`` or ``.lhe.gz``, with ``pylhe``) into :class:`LHEEvents`:
the particles of every event (an awkward array: ``id, status, mother1, mother2, color1,
color2, px, py, pz, E, m``), the nominal weights ``XWGTUP``, and the reweighting weights of the
``<rwgt>`` blocks with the ``<initrwgt>`` header that says which parameter point each one is.
MadGraph's reweighting module writes the point as ``set param_card <block> <id> <value>`` or
``set param_card <name> <value>`` (``# orig: ...`` comments allowed); ``parameter`` names it
(``"dim6 2"``, ``"cWWtil"``), or is found when every weight sets the same one; ``thetas={id:
value}`` gives the points by hand instead.  Weights that do not set the parameter (scale or PDF
variations) are kept in ``reweighting`` but are not points.

The score and the likelihood ratio come from :mod:`keplersr.physics.score_from_weights`; the
kinematic features from :class:`keplersr.physics.FeatureBuilder`.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .event_selection import rows
from .optional_packages import require
from .score_from_weights import joint_likelihood_ratio, joint_score

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?"
_SET = re.compile(r"^\s*set\s+(?:param_card\s+)?(.+?)\s+(" + _NUMBER + r")\s*(?:#.*)?$", re.IGNORECASE)

PARTICLE_FIELDS = ("id", "status", "mother1", "mother2", "color1", "color2", "px", "py", "pz", "E", "m")


def parameter_settings(text):
    """``{parameter: value}`` of the ``set [param_card] <parameter> <value>`` lines of a weight's text.

    Parameter names keep their spelling with single spaces (``"dim6 2"``; compare them with
    :func:`same_parameter`, MadGraph's names are case-insensitive); Fortran exponents (``1.0d0``)
    are read.
    """
    out = {}
    for line in re.split(r"[\n;]", text or ""):
        m = _SET.match(line)
        if m:
            out[" ".join(m.group(1).split())] = float(m.group(2).lower().replace("d", "e"))
    return out


def same_parameter(a, b):
    """Whether two parameter names are the same for MadGraph (case and spacing aside)."""
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


@dataclass
class LHEEvents:
    """Events of a Les Houches file (see :func:`read_lhe`)."""

    path: str
    particles: object               #: awkward array, events x particles, fields PARTICLE_FIELDS
    weights: np.ndarray             #: nominal event weights XWGTUP
    reweighting: pd.DataFrame       #: the <rwgt> weights, one column per weight id (header order)
    weight_info: dict               #: weight id -> its text in the <initrwgt> header
    thetas: dict = field(default_factory=dict)   #: weight id -> value of ``parameter``
    parameter: str | None = None

    def __len__(self):
        return len(self.weights)

    def subset(self, mask):
        """The events selected by a boolean mask or index array (e.g. after cuts: the rate term of
        the score is then the fiducial one)."""
        idx = rows(mask, len(self))
        return LHEEvents(path=self.path, particles=self.particles[idx], weights=self.weights[idx],
                         reweighting=self.reweighting.iloc[idx].reset_index(drop=True),
                         weight_info=dict(self.weight_info), thetas=dict(self.thetas), parameter=self.parameter)

    def collection(self, name="particles"):
        """The particles (the one collection of an LHE file) for :class:`FeatureBuilder`."""
        if name != "particles":
            raise ValueError(f"an LHE file has one collection, 'particles', not {name!r}")
        return self.particles

    def weight_points(self):
        """``(W, thetas)``: the reweighting weights at the parameter points, sorted by theta."""
        if self.reweighting.shape[1] == 0:
            raise ValueError(f"the LHE file {self.path} has no reweighting weights (no <rwgt> blocks in its "
                             f"events): generate it with the reweighting module (MadGraph: reweight_card.dat "
                             f"with 'launch' and 'set param_card ...' lines) at theta_ref and its neighbours")
        if not self.thetas:
            raise ValueError(f"no reweighting weight of {self.path} names a parameter point: the header says "
                             f"{self.weight_info or '(no <initrwgt> header)'}; pass parameter='<name>' or "
                             f"thetas={{weight id: value}} to read_lhe")
        ids = sorted(self.thetas, key=self.thetas.get)
        return self.reweighting[ids].to_numpy(dtype=float), np.array([self.thetas[i] for i in ids])

    def score(self, theta_ref=0.0, method="morphing", degree=2, delta=None, rate_term="sample",
              tolerance=1e-6):
        """The joint score at ``theta_ref`` from the reweighting weights
        (:func:`~keplersr.physics.score_from_weights.joint_score`)."""
        W, th = self.weight_points()
        return joint_score(W, th, theta_ref=theta_ref, method=method, degree=degree, delta=delta,
                           rate_term=rate_term, tolerance=tolerance)

    def likelihood_ratio(self, theta, theta_ref=0.0, degree=2, tolerance=1e-6):
        """The joint likelihood ratio ``p(x, z | theta) / p(x, z | theta_ref)`` per event."""
        W, th = self.weight_points()
        return joint_likelihood_ratio(W, th, theta=theta, theta_ref=theta_ref, degree=degree,
                                      tolerance=tolerance)


def _points(path, weight_info, ids, parameter, thetas):
    """(parameter, {weight id: theta}) from the header texts, ``parameter`` or an explicit mapping."""
    if thetas is not None:
        if not isinstance(thetas, dict) or not thetas:
            raise ValueError(f"thetas must be a non-empty dict {{weight id: value}}, got {thetas!r}")
        missing = [k for k in thetas if k not in ids]
        if missing:
            raise ValueError(f"weight ids {missing} are not in {path}; its weights are {ids or 'none'}")
        return parameter, {k: float(v) for k, v in thetas.items()}
    settings = {i: parameter_settings(weight_info.get(i, "")) for i in ids}
    if parameter is None:
        names = {}
        for s in settings.values():
            for p in s:
                names.setdefault(" ".join(p.lower().split()), p)
        if len(names) > 1:
            raise ValueError(f"the weights of {path} set several parameters {sorted(names.values())}: "
                             f"pass parameter= one of them")
        if not names:
            return None, {}
        parameter = next(iter(names.values()))
    if not isinstance(parameter, str) or not parameter.strip():
        raise ValueError(f"parameter must be a parameter name, got {parameter!r}")
    points = {}
    for i, s in settings.items():
        hit = [v for p, v in s.items() if same_parameter(p, parameter)]
        if hit:
            points[i] = hit[0]
    if ids and not points:
        raise ValueError(f"no weight of {path} sets the parameter {parameter!r}; the header says "
                         f"{ {i: weight_info.get(i, '') for i in ids} }")
    return parameter, points


def read_lhe(path, parameter=None, thetas=None, max_events=None):
    """Read a Les Houches event file (``.lhe``, ``.lhe.gz``) into :class:`LHEEvents`.

    Parameters
    ----------
    path : str or path-like
    parameter : the parameter whose values the reweighting weights are at, as the header's
        ``set param_card ...`` lines name it (``"dim6 2"``, ``"fWWtilde"``); found when all
        weights set the same one.
    thetas : optional dict ``{weight id: parameter value}`` instead of the header.
    max_events : read at most this many events.
    """
    pylhe = require("pylhe")
    ak = require("awkward")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no LHE file at {path}")
    if max_events is not None and (isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1):
        raise ValueError(f"max_events must be a positive integer or None, got {max_events!r}")
    cols = {f: [] for f in PARTICLE_FIELDS}
    counts, nominal, rw = [], [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            lhe = pylhe.LHEFile.fromfile(path)
            header = lhe.header
            for ev in lhe.events:
                counts.append(len(ev.particles))
                nominal.append(ev.eventinfo.weight)
                rw.append(ev.weights)
                for p in ev.particles:
                    for f in PARTICLE_FIELDS:
                        cols[f].append(getattr(p, "e" if f == "E" else f))
                if max_events is not None and len(counts) >= max_events:
                    break
        except Exception as exc:     # pylhe raises ValueError/AttributeError/ParseError on malformed files
            raise ValueError(f"{path} is not a readable Les Houches event file: {exc}") from exc
    errors = [str(w.message) for w in caught if "Parse Error" in str(w.message)]
    if errors:
        raise ValueError(f"{path} is not well-formed XML after {len(counts)} events: {errors[0]}")
    if not counts:
        raise ValueError(f"{path} has no events")
    weight_info = {}
    if header is not None:
        weight_info = {w.id: w.name for w in header.initrwgt.iter_weights()}
    ids = list(weight_info) or list(rw[0])
    for k, w in enumerate(rw):
        if set(w) != set(ids) and (w or weight_info):
            lacking = sorted(set(ids) - set(w)) or sorted(set(w) - set(ids))
            raise ValueError(f"event {k} of {path} has the weights {sorted(w)}, the file's are {ids} "
                             f"(differ in {lacking})")
    reweighting = pd.DataFrame({i: np.array([w[i] for w in rw], dtype=float) for i in ids}
                               if ids and rw[0] else {}, index=pd.RangeIndex(len(counts)))
    parameter, points = _points(path, weight_info, list(reweighting.columns), parameter, thetas)
    flat = {f: np.asarray(v, dtype=int if f in PARTICLE_FIELDS[:6] else float) for f, v in cols.items()}
    particles = ak.unflatten(ak.zip(flat), np.asarray(counts))
    return LHEEvents(path=path, particles=particles, weights=np.asarray(nominal, dtype=float),
                     reweighting=reweighting, weight_info=weight_info, thetas=points, parameter=parameter)
