"""Selecting events of a file's event container (``LHEEvents.subset``, ``DelphesEvents.subset``)."""
from __future__ import annotations

import numpy as np


def rows(mask, n):
    """Row indices of ``n`` events from a boolean mask of length ``n`` or an index array."""
    m = np.asarray(mask)
    if m.dtype == bool:
        if m.shape != (n,):
            raise ValueError(f"a boolean mask must have shape ({n},), got {m.shape}")
        return np.flatnonzero(m)
    if m.ndim != 1 or not np.issubdtype(m.dtype, np.integer) or (m.size and (m.min() < -n or m.max() >= n)):
        raise ValueError(f"select events with a boolean mask of length {n} or an array of indices below {n}")
    return m
