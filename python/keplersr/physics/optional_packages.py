"""The optional packages of the event readers (the ``events`` extra), imported only when used.

``import keplersr`` and the rest of :mod:`keplersr.physics` work without them; a reader that
needs one raises an ``ImportError`` that says what to install.
"""
from __future__ import annotations

import importlib

#: import name -> what it is for.
EVENTS_PACKAGES = {"pylhe": "Les Houches event files", "uproot": "ROOT files (Delphes trees)",
                   "awkward": "jagged event arrays", "vector": "four-vectors"}


def require(name):
    """The module ``name`` of the ``events`` extra, or an ImportError naming the install command."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"reading events needs the optional package {name!r} ({EVENTS_PACKAGES.get(name, name)}), "
                          f"which is not installed: pip install 'keplersr[events]'") from exc
