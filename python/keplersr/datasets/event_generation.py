"""What the event generators (``wbf_cp_score``, ``zh_d6_score``) share: the checks of
their common arguments, the channel codes of the amplitude modules, and unweighting
(a pilot run sets the maximum weight, then accept-reject batch by batch)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .pdfs import ToyPDFs


def check_positive_int(v, name):
    """``v`` as an int; ``ValueError`` naming ``name`` unless it is a positive integer."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def generator_setup(theta, w_max_quantile, pdfs, seed):
    """The checked ``theta`` (float), the PDFs (``ToyPDFs`` for None) and the RNG of a generator."""
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not np.isfinite(theta):
        raise ValueError(f"theta must be a finite real number (TeV^-2), got {theta!r}")
    if isinstance(w_max_quantile, bool) or not isinstance(w_max_quantile, numbers.Real) \
            or not 0.0 < w_max_quantile <= 1.0:
        raise ValueError(f"w_max_quantile must be in (0, 1], got {w_max_quantile!r}")
    if pdfs is None:
        pdfs = ToyPDFs()
    elif not callable(pdfs):
        raise ValueError(f"pdfs must be None or a callable pdfs(x, Q) -> mapping, got {type(pdfs).__name__}")
    if seed is None or isinstance(seed, (numbers.Integral, np.random.SeedSequence)) and not isinstance(seed, bool):
        rng = np.random.default_rng(seed)
    elif isinstance(seed, np.random.Generator):
        rng = seed
    else:
        raise ValueError(f"seed must be None, an int or a numpy Generator, got {seed!r}")
    return float(theta), pdfs, rng


def channel_codes(channel, n, channels):
    """A channel name of ``channels`` (two of them) or an array of codes 0/1 -> int array of length ``n``."""
    if isinstance(channel, str):
        if channel not in channels:
            raise ValueError(f"channel must be one of {channels}, got {channel!r}")
        return np.full(n, channels.index(channel), dtype=np.int8)
    code = np.asarray(channel)
    if code.shape != (n,):
        raise ValueError(f"channel array must have shape ({n},), got {code.shape}")
    if not np.all((code == 0) | (code == 1)):
        raise ValueError(f"channel codes must be 0 ({channels[0]}) or 1 ({channels[1]})")
    return code


def unweighted_events(weighted_batch, make_chunk, n_events, n_pilot, w_max_quantile, rng):
    """Unweighted events by accept-reject.

    ``weighted_batch()`` returns a batch ``(events, channel_weights, ...)`` with
    ``channel_weights`` of shape (n, channels). Batches of at least ``n_pilot`` events set
    the maximum ``w_max`` (the ``w_max_quantile`` quantile of their total weights) and are
    used first. An event is kept with probability ``w / w_max``; ``make_chunk(batch, acc,
    w_acc, w_max)`` turns the kept events of a batch (mask ``acc``, weights ``w_acc``) into
    a DataFrame. Returns the first ``n_events`` rows, ``w_max`` and the number of kept
    events heavier than ``w_max``.
    """
    pilot, n_sel = [], 0
    while n_sel < n_pilot:
        batch = weighted_batch()
        pilot.append(batch)
        n_sel += len(batch[0])
    w_max = float(np.quantile(np.concatenate([b[1].sum(axis=1) for b in pilot]), w_max_quantile))
    chunks, n_have, n_overweight = [], 0, 0
    queue = list(pilot)
    while n_have < n_events:
        batch = queue.pop(0) if queue else weighted_batch()
        w = batch[1].sum(axis=1)
        acc = rng.uniform(size=w.shape[0]) * w_max < w
        n_overweight += int(np.count_nonzero(w[acc] > w_max))
        chunk = make_chunk(batch, acc, w[acc], w_max)
        chunks.append(chunk)
        n_have += len(chunk)
    df = pd.concat(chunks, ignore_index=True).iloc[:n_events].reset_index(drop=True)
    return df, w_max, n_overweight
