"""Kinematic features of events: a small feature builder on four-vectors (``vector``).

A :class:`FeatureBuilder` first *selects* objects in every event, then *adds* feature columns::

    fb = (FeatureBuilder()
          .select("j", pdg=JETS, n=2, order_by="eta")     # j1 = forward, j2 = backward parton
          .select("H", pdg=[25])
          .add("Delta_phi", "delta_phi", "j1", "j2")        # phi_j1 - phi_j2 in (-pi, pi]
          .add("m_jj", "mass", "j1", "j2")
          .add("x_f", lambda o: o["j1"].pt / 125.0))       # any function of the objects
    X = fb.build(events)                                     # a DataFrame, one row per event

``select(name, ...)`` takes the objects of a collection (an LHE file's ``"particles"``, a
Delphes file's ``"Jet"``, ``"Electron"``, ``"Muon"``, ``"Photon"``, or several of them) that
pass ``pdg`` (PDG ids, LHE), ``status`` (default 1: final state, LHE) and ``where`` (a function of
the awkward collection returning a mask, e.g. ``lambda c: c.PT > 30``), orders them by ``pt``
(descending), ``eta`` (descending: forward first) or keeps the file's order (``None``), and
names the first ``n`` of them ``name1 ... name<n>`` (or ``name`` when ``n == 1``).  An event with
fewer than ``n`` such objects is an error that says how many events lack them.

Feature kinds (objects by name): ``pt``, ``eta``, ``phi``, ``rapidity``, ``energy`` of one object;
``mass`` and ``pt`` of the sum of several; ``delta_eta`` (``eta_a - eta_b``), ``delta_phi``
(``phi_a - phi_b`` wrapped to (-pi, pi], the signed convention of the WBF dataset: with the jets
ordered by eta it is ``phi_forward - phi_backward``), ``delta_r``.  A callable gets the dict of
objects (``vector`` arrays: ``.pt``, ``.eta``, ``.phi``, ``.mass``, ``+``, ...) and returns a
column.  :func:`wbf_features` is the builder of the WBF dataset's observables.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .optional_packages import require

#: PDG ids: quarks (d, u, s, c, b and antiquarks) and the gluon, i.e. parton-level jets.
QUARKS = tuple(s * q for q in (1, 2, 3, 4, 5) for s in (1, -1))
JETS = QUARKS + (21,)
CHARGED_LEPTONS = (11, -11, 13, -13, 15, -15)
PHOTON = (22,)
HIGGS = (25,)

KINDS = ("pt", "eta", "phi", "rapidity", "energy", "mass", "delta_eta", "delta_phi", "delta_r")
_ARITY = {"pt": None, "mass": None, "eta": 1, "phi": 1, "rapidity": 1, "energy": 1,
          "delta_eta": 2, "delta_phi": 2, "delta_r": 2}


def wrap_angle(dphi):
    """Angles wrapped to (-pi, pi]."""
    w = np.mod(np.asarray(dphi, dtype=float) + np.pi, 2.0 * np.pi) - np.pi
    return np.where(w == -np.pi, np.pi, w)


def _fourvectors(coll):
    """px, py, pz, E of an awkward collection (LHE fields, or Delphes PT/Eta/Phi + Mass or E)."""
    fields = set(coll.fields)
    if {"px", "py", "pz", "E"} <= fields:
        return coll.px, coll.py, coll.pz, coll.E
    raise ValueError(f"the collection has no four-momenta (px, py, pz, E); its fields are {sorted(fields)}")


class FeatureBuilder:
    """Selected objects of every event -> a table of kinematic features (see the module doc)."""

    def __init__(self):
        self._selections = []
        self._features = []

    def select(self, name, collection="particles", pdg=None, status=1, where=None, n=1, order_by="pt"):
        """Name the first ``n`` objects of ``collection`` that pass the filters (returns self)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"object name must be an identifier, got {name!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if order_by not in ("pt", "eta", None):
            raise ValueError(f"order_by must be 'pt', 'eta' or None, got {order_by!r}")
        if where is not None and not callable(where):
            raise ValueError("where must be a function of the collection returning a mask")
        names = [name] if n == 1 else [f"{name}{k}" for k in range(1, n + 1)]
        taken = {x for s in self._selections for x in s["names"]}
        if taken & set(names):
            raise ValueError(f"objects {sorted(taken & set(names))} are selected twice")
        colls = (collection,) if isinstance(collection, str) else tuple(collection)
        self._selections.append(dict(name=name, names=names, collections=colls,
                                     pdg=None if pdg is None else tuple(int(p) for p in pdg),
                                     status=status, where=where, n=n, order_by=order_by))
        return self

    def add(self, column, kind, *objects):
        """Add the feature ``column``: a kind of :data:`KINDS` of the named objects, or a callable
        ``f(objects) -> array`` (returns self)."""
        if not isinstance(column, str) or not column:
            raise ValueError(f"column must be a non-empty string, got {column!r}")
        if any(f[0] == column for f in self._features):
            raise ValueError(f"column {column!r} is added twice")
        if callable(kind):
            if objects:
                raise ValueError("a callable feature gets all objects; give no object names")
        else:
            if kind not in KINDS:
                raise ValueError(f"unknown feature kind {kind!r}; the kinds are {KINDS} or a callable")
            arity = _ARITY[kind]
            if (arity is None and not objects) or (arity is not None and len(objects) != arity):
                want = "one or more objects" if arity is None else f"{arity} object(s)"
                raise ValueError(f"{kind!r} needs {want}, got {list(objects)}")
        self._features.append((column, kind, tuple(objects)))
        return self

    @property
    def columns(self):
        return [f[0] for f in self._features]

    def complete(self, events):
        """Boolean mask of the events that have every selected object (``events.subset(mask)``
        keeps them)."""
        ak = require("awkward")
        keep = np.ones(len(events), dtype=bool)
        for s in self._selections:
            keep &= ak.to_numpy(ak.num(self._selected(s, events), axis=1)) >= s["n"]
        return keep

    def _selected(self, s, events):
        """The objects of one selection that pass its filters (awkward, events x objects)."""
        ak = require("awkward")
        parts = [events.collection(c) for c in s["collections"]]
        coll = parts[0] if len(parts) == 1 else ak.concatenate(
            [p[["px", "py", "pz", "E"] + [f for f in ("id", "status") if f in p.fields]] for p in parts], axis=1)
        mask = ak.ones_like(coll[coll.fields[0]], dtype=bool)
        if s["pdg"] is not None:
            if "id" not in coll.fields:
                raise ValueError(f"select({s['name']!r}): pdg= needs PDG ids, the collection has none "
                                 f"(its fields are {coll.fields}); use where=")
            mask = mask & _isin(ak, coll.id, s["pdg"])
        if s["status"] is not None and "status" in coll.fields:
            mask = mask & (coll.status == s["status"])
        if s["where"] is not None:
            mask = mask & s["where"](coll)
        return coll[mask]

    def objects(self, events):
        """``{object name: vector array}`` of the selections on ``events``."""
        ak = require("awkward")
        vector = require("vector")
        out = {}
        for s in self._selections:
            px, py, pz, E = _fourvectors(self._selected(s, events))
            v = vector.zip({"px": px, "py": py, "pz": pz, "E": E})
            if s["order_by"] == "pt":
                v = v[ak.argsort(v.pt, axis=1, ascending=False, stable=True)]
            elif s["order_by"] == "eta":
                v = v[ak.argsort(v.eta, axis=1, ascending=False, stable=True)]
            num = ak.to_numpy(ak.num(v, axis=1))
            short = np.flatnonzero(num < s["n"])
            if short.size:
                raise ValueError(f"select({s['name']!r}): {short.size} of {len(num)} events have fewer than "
                                 f"{s['n']} such objects (event {short[0]} has {num[short[0]]}); "
                                 f"events.subset(builder.complete(events)) keeps the events that have them")
            for k, nm in enumerate(s["names"]):
                o = v[:, k]
                out[nm] = vector.array({"px": ak.to_numpy(o.px), "py": ak.to_numpy(o.py),
                                        "pz": ak.to_numpy(o.pz), "E": ak.to_numpy(o.E)})
        return out

    def build(self, events):
        """The features of ``events`` (:class:`~keplersr.physics.lhe.LHEEvents`,
        :class:`~keplersr.physics.delphes.DelphesEvents`): a DataFrame, one row per event."""
        if not self._features:
            raise ValueError("no features: add some with FeatureBuilder.add")
        objs = self.objects(events)
        table = {}
        for column, kind, names in self._features:
            unknown = [nm for nm in names if nm not in objs]
            if unknown:
                raise ValueError(f"feature {column!r} uses objects {unknown} that are not selected; "
                                 f"the objects are {sorted(objs)}")
            if callable(kind):
                value = kind(objs)
            else:
                value = _kind(kind, [objs[nm] for nm in names])
            value = np.asarray(value, dtype=float)
            if value.shape != (len(events),):
                raise ValueError(f"feature {column!r} has shape {value.shape}, expected ({len(events)},)")
            table[column] = value
        return pd.DataFrame(table)


def _isin(ak, ids, pdg):
    flat = ak.flatten(ids)
    return ak.unflatten(np.isin(ak.to_numpy(flat), pdg), ak.num(ids, axis=1))


def _kind(kind, vs):
    if kind in ("pt", "mass"):
        total = vs[0]
        for v in vs[1:]:
            total = total + v
        if kind == "pt":
            return total.pt
        m2 = total.E ** 2 - total.px ** 2 - total.py ** 2 - total.pz ** 2
        return np.sqrt(np.clip(m2, 0.0, None))
    a = vs[0]
    if kind == "eta":
        return a.eta
    if kind == "phi":
        return a.phi
    if kind == "rapidity":
        return a.rapidity
    if kind == "energy":
        return a.E
    b = vs[1]
    if kind == "delta_eta":
        return a.eta - b.eta
    dphi = wrap_angle(a.phi - b.phi)
    if kind == "delta_phi":
        return dphi
    return np.hypot(a.eta - b.eta, dphi)     # delta_r


def wbf_features(m_h=125.0):
    """The builder of the WBF dataset's observables from parton-level events (LHE).

    Jets: the two final-state partons, ordered by eta (``j1`` forward, ``j2`` backward); ``H``
    the Higgs.  Columns as :func:`keplersr.datasets.wbf.wbf_cp_score`: ``x_f, x_b`` (pT / m_h),
    ``Delta_eta``, ``Delta_phi`` (signed, phi_f - phi_b), ``m_jj``, ``m_Hjj``, ``pT_H``, ``eta_f``,
    ``eta_b``.  Extend it with more ``add`` calls.
    """
    return (FeatureBuilder()
            .select("j", pdg=JETS, n=2, order_by="eta")
            .select("H", pdg=HIGGS)
            .add("x_f", lambda o: o["j1"].pt / m_h)
            .add("x_b", lambda o: o["j2"].pt / m_h)
            .add("Delta_eta", "delta_eta", "j1", "j2")
            .add("Delta_phi", "delta_phi", "j1", "j2")
            .add("m_jj", "mass", "j1", "j2")
            .add("m_Hjj", "mass", "j1", "j2", "H")
            .add("pT_H", "pt", "H")
            .add("eta_f", "eta", "j1")
            .add("eta_b", "eta", "j2"))
