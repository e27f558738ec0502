"""Toy detector smearing presets for the WBF datasets.

Preset ``"A"``: jet energy ``sigma_E / E = 100% / sqrt(E/GeV) (+) 5%`` (Gaussian, added in
quadrature), ``sigma_eta = sigma_phi = 0.02``; Higgs ``pT`` 2%, angles 0.01.

Preset ``"B"``: jet energy ``E' = E + sigma X`` with ``sigma = 0.5 sqrt(E/GeV)`` GeV and ``X``
a standard Crystal-Ball variate (``beta = 1.5``, ``m = 2.5``, power-law tail towards low
energies), ``sigma_eta = sigma_phi = 0.1``; Higgs ``pT`` 3%, angles 0.01.

Jets stay massless: the smeared ``pT = E' / cosh(eta')``.  Smeared energies are clipped at
1e-3 GeV (such jets fail the pT cut anyway).  The Higgs rapidity and azimuth are smeared
by 0.01, its mass is kept.
"""
from __future__ import annotations

import numpy as np
from scipy.special import erf, ndtr, ndtri

from .wbf_phase_space import M_H, azimuth, massive, massless, pseudorapidity

PRESETS = {
    "A": {"jet_energy": "gauss", "stochastic": 1.0, "constant": 0.05, "sigma_eta": 0.02,
          "sigma_phi": 0.02, "higgs_pt": 0.02, "higgs_angle": 0.01},
    "B": {"jet_energy": "crystal_ball", "cb_scale": 0.5, "cb_beta": 1.5, "cb_m": 2.5,
          "sigma_eta": 0.1, "sigma_phi": 0.1, "higgs_pt": 0.03, "higgs_angle": 0.01},
}


def crystal_ball_sample(n, beta, m, rng):
    """Standard Crystal-Ball variates (Gaussian core, power-law tail for x < -beta).

    Exact inverse-CDF sampling: density ``exp(-x^2/2)`` for ``x > -beta`` and
    ``A (B - x)^-m`` below, ``A = (m/beta)^m exp(-beta^2/2)``, ``B = m/beta - beta``.
    """
    if beta <= 0 or m <= 1:
        raise ValueError(f"Crystal Ball needs beta > 0 and m > 1, got beta={beta}, m={m}")
    a = (m / beta) ** m * np.exp(-0.5 * beta ** 2)
    b = m / beta - beta
    tail = (m / beta) * np.exp(-0.5 * beta ** 2) / (m - 1.0)
    core = np.sqrt(np.pi / 2.0) * (1.0 + erf(beta / np.sqrt(2.0)))
    p_tail = tail / (tail + core)
    u = rng.uniform(size=n)
    in_tail = rng.uniform(size=n) < p_tail
    # tail: CDF(x) = A (B - x)^(1-m) / (m - 1) on (-inf, -beta], normalised by `tail`
    x_tail = b - ((m - 1.0) * u * tail / a) ** (1.0 / (1.0 - m))
    lo = ndtr(-beta)
    x_core = ndtri(lo + u * (1.0 - lo))
    return np.where(in_tail, x_tail, x_core)


def smear_jet(p, preset, rng):
    """Smear massless jets (N, 4) with a preset dict; returns new massless 4-vectors."""
    n = p.shape[0]
    e = p[:, 0]
    if preset["jet_energy"] == "gauss":
        rel = np.hypot(preset["stochastic"] / np.sqrt(e), preset["constant"])
        e_new = e * (1.0 + rel * rng.standard_normal(n))
    else:
        x = crystal_ball_sample(n, preset["cb_beta"], preset["cb_m"], rng)
        e_new = e + preset["cb_scale"] * np.sqrt(e) * x
    e_new = np.clip(e_new, 1e-3, None)
    eta = pseudorapidity(p) + preset["sigma_eta"] * rng.standard_normal(n)
    phi = azimuth(p) + preset["sigma_phi"] * rng.standard_normal(n)
    return massless(e_new / np.cosh(eta), eta, phi)


def smear_higgs(p, preset, rng):
    """Smear the Higgs: relative pT resolution, rapidity and azimuth resolution (mass kept)."""
    n = p.shape[0]
    pt = np.hypot(p[:, 1], p[:, 2])
    mt = np.sqrt(M_H ** 2 + pt ** 2)
    y = np.arcsinh(p[:, 3] / mt)
    pt_new = np.abs(pt * (1.0 + preset["higgs_pt"] * rng.standard_normal(n)))
    y_new = y + preset["higgs_angle"] * rng.standard_normal(n)
    phi_new = azimuth(p) + preset["higgs_angle"] * rng.standard_normal(n)
    return massive(pt_new, y_new, phi_new, M_H)


def get_preset(name):
    """The smearing parameters of preset ``"A"`` or ``"B"`` (ValueError otherwise)."""
    if name not in PRESETS:
        raise ValueError(f"detector must be one of {sorted(PRESETS)}, got {name!r}")
    return dict(PRESETS[name])
