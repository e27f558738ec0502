"""Delphes ROOT trees in: reconstructed jets, leptons and photons (``uproot``).

:func:`read_delphes` reads the ``Delphes`` tree of a Delphes output file: per collection the
branches ``<Collection>.PT``, ``.Eta``, ``.Phi`` and ``Jet.Mass``, ``Electron.Charge``,
``Muon.Charge`` (``Photon.E`` when present), plus the event weights ``Event.Weight`` when the
tree has them.  Every collection becomes an awkward array (events x objects) of records with
the file's fields and the four-momentum ``px, py, pz, E`` (GeV; leptons with their masses,
photons massless), ready for :class:`keplersr.physics.FeatureBuilder`
(``select("j", collection="Jet", n=2, where=lambda c: c.PT > 30)``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .event_selection import rows
from .optional_packages import require

#: Branches (after ``<Collection>.``) every collection needs, and the ones read when present.
REQUIRED = {"Jet": ("PT", "Eta", "Phi", "Mass"), "Electron": ("PT", "Eta", "Phi", "Charge"),
            "Muon": ("PT", "Eta", "Phi", "Charge"), "Photon": ("PT", "Eta", "Phi")}
OPTIONAL = {"Jet": ("BTag", "TauTag", "Charge", "Flavor"), "Electron": (), "Muon": (), "Photon": ("E",)}
#: Masses (GeV) of objects without a mass branch.
MASSES = {"Electron": 0.000511, "Muon": 0.105658, "Photon": 0.0}


@dataclass
class DelphesEvents:
    """Events of a Delphes tree (see :func:`read_delphes`)."""

    path: str
    collections: dict      #: name -> awkward array (events x objects) with px, py, pz, E
    weights: np.ndarray    #: Event.Weight, or ones

    def __len__(self):
        return len(self.weights)

    def subset(self, mask):
        """The events selected by a boolean mask or index array."""
        idx = rows(mask, len(self))
        return DelphesEvents(path=self.path, collections={k: v[idx] for k, v in self.collections.items()},
                             weights=self.weights[idx])

    def collection(self, name):
        """One collection (``"Jet"``, ``"Electron"``, ``"Muon"``, ``"Photon"``) for :class:`FeatureBuilder`."""
        if name not in self.collections:
            raise ValueError(f"no collection {name!r} was read from {self.path}; read: {sorted(self.collections)}")
        return self.collections[name]


def _branch_names(tree):
    """{short name (Jet.PT): name to read} of every branch of the tree, nested ones included."""
    return {k.rsplit("/", 1)[-1]: k for k in tree.keys(recursive=True)}


def read_delphes(path, tree="Delphes", collections=("Jet", "Electron", "Muon", "Photon"),
                 weight_branch="Event.Weight"):
    """Read reconstructed objects of a Delphes ROOT file into :class:`DelphesEvents`.

    Parameters
    ----------
    path : str or path-like
    tree : the tree's name.
    collections : which of ``Jet``, ``Electron``, ``Muon``, ``Photon`` to read.
    weight_branch : the event-weight branch, used when present (else every weight is 1).

    A missing file, tree or branch is an error that names what is missing and what is there.
    """
    uproot = require("uproot")
    ak = require("awkward")
    path = os.fspath(path)
    if isinstance(collections, str):
        collections = (collections,)
    unknown = [c for c in collections if c not in REQUIRED]
    if unknown:
        raise ValueError(f"unknown collections {unknown}; read_delphes reads {sorted(REQUIRED)}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no ROOT file at {path}")
    try:
        f = uproot.open(path)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable ROOT file: {exc}") from exc
    with f:
        classes = {k.split(";")[0]: c for k, c in f.classnames().items()}
        trees = sorted(k for k, c in classes.items() if c == "TTree")
        if tree not in trees:
            others = {k: c for k, c in classes.items() if c != "TTree"}
            raise ValueError(f"{path} has no tree {tree!r}; its trees are {trees or 'none'}"
                             + (f" (other objects: {others})" if others else ""))
        t = f[tree]
        names = _branch_names(t)
        need = [f"{c}.{b}" for c in collections for b in REQUIRED[c]]
        missing = [b for b in need if b not in names]
        if missing:
            raise ValueError(f"the tree {tree!r} of {path} lacks the branches {missing}; it has "
                             f"{sorted(names)}")
        out = {}
        for c in collections:
            fields = [b for b in REQUIRED[c] + OPTIONAL[c] if f"{c}.{b}" in names]
            arrs = {b: t[names[f"{c}.{b}"]].array(library="ak") for b in fields}
            pt, eta, phi = (ak.values_astype(arrs[b], np.float64) for b in ("PT", "Eta", "Phi"))
            px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
            if "Mass" in arrs:
                m = ak.values_astype(arrs["Mass"], np.float64)
                energy = np.sqrt(px ** 2 + py ** 2 + pz ** 2 + m ** 2)
            elif "E" in arrs:
                energy = ak.values_astype(arrs["E"], np.float64)
            else:
                energy = np.sqrt(px ** 2 + py ** 2 + pz ** 2 + MASSES[c] ** 2)
            out[c] = ak.zip({**arrs, "px": px, "py": py, "pz": pz, "E": energy})
        n = t.num_entries
        if weight_branch is not None and weight_branch in names:
            w = ak.to_numpy(ak.flatten(t[names[weight_branch]].array(library="ak"), axis=None)).astype(float)
            if w.size != n:
                raise ValueError(f"{weight_branch} of {path} has {w.size} values for {n} events")
        else:
            w = np.ones(n)
    return DelphesEvents(path=path, collections=out, weights=w)
