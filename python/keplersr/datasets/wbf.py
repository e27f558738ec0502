"""WBF Higgs production with the CP-odd operator O_WWtilde: the optimal-observable dataset.

:func:`wbf_cp_score` generates unweighted events ``pp -> H j j`` (WW fusion, t-channel,
leading order; ZZ fusion and the full electroweak structure of the operator with ``process=``,
see :mod:`keplersr.datasets.wbf_channels`) at parton or detector level and returns the regression inputs together
with the per-event (joint) score ``t(z) = d/dtheta log p(z | theta)`` with respect to
``theta = f_WWtilde / Lambda^2`` [TeV^-2].  Physics and conventions: see
:mod:`keplersr.datasets.wbf_amplitudes`, :mod:`keplersr.datasets.wbf_phase_space`,
:mod:`keplersr.datasets.wbf_detector`, :mod:`keplersr.datasets.pdfs` and
``docs/physics-score.md``.
"""
from __future__ import annotations

import numbers
import time

import numpy as np
import pandas as pd

from . import wbf_amplitudes as amp
from . import wbf_detector as det
from . import wbf_phase_space as ps
from . import wbf_channels as chn
from .event_generation import check_positive_int, generator_setup, unweighted_events
from .pdfs import evaluate_pdfs

FEATURES = ("x_f", "x_b", "Delta_eta", "Delta_phi", "m_jj", "m_Hjj", "pT_H")

#: With ``momenta=True``: the parton four-momenta, columns ``<particle>_<E|px|py|pz>`` (GeV) of the
#: beam partons ``pa`` (+z), ``pb`` (-z), the jets ``p1`` (the +z line), ``p2`` and the Higgs ``pH``.
MOMENTA = ("pa", "pb", "p1", "p2", "pH")
MOMENTUM_COMPONENTS = ("E", "px", "py", "pz")

#: Extra columns (not regression inputs by default): signed jet pseudorapidities, so that
#: other jet orderings (by pT) and signed rapidity differences can be built from the table.
EXTRA_COLUMNS = ("eta_f", "eta_b")

UNITS = {
    "x_f": "1 (pT_f / mH)", "x_b": "1 (pT_b / mH)", "Delta_eta": "1", "Delta_phi": "rad",
    "m_jj": "GeV", "m_Hjj": "GeV", "pT_H": "GeV", "eta_f": "1", "eta_b": "1",
    "t": "TeV^2 (score per unit f/Lambda^2 in TeV^-2)",
    "t_sm": "TeV^2", "q": "TeV^4", "weight": "1", "theta": "TeV^-2",
}


def wbf_cp_score(n_events, level="parton", detector="A", theta=0.0, seed=None, pdfs=None,
                 return_metadata=False, w_max_quantile=0.9999, batch_size=200_000,
                 n_pilot=100_000, process="WW", cuts=None, momenta=False):
    """Generate the CP-odd WBF score dataset.

    Parameters
    ----------
    n_events : int
        Number of unweighted events *after* the selection cuts (at the requested level).
    level : {"parton", "detector"}
        Observables from the partons, or from jets/Higgs smeared with ``detector``.
    detector : {"A", "B"}
        Smearing preset (only used at detector level), see :mod:`wbf_detector`.
    theta : float
        ``f_WWtilde / Lambda^2`` in TeV^-2 of the generated sample.  Events are drawn from
        ``p(x | theta)`` and ``t`` is the score at ``theta`` (the "saturating" score
        ``(t0 + 2 theta q)/(1 + theta t0 + theta^2 q) - 2 theta <q>/(1 + theta^2 <q>)``).
    seed : None, int or numpy.random.Generator
    pdfs : None or callable ``pdfs(x, Q) -> {"u", "d", "ubar", "dbar": ndarray}``
        Parton number densities; ``None`` uses :class:`~keplersr.datasets.pdfs.ToyPDFs`.
        ``Q`` is the virtuality ``sqrt(-q_i^2)`` of the W emitted by that beam (GeV).
    return_metadata : bool
        If True return ``(df, metadata)``; the metadata is always in ``df.attrs``.
    w_max_quantile : float in (0, 1]
        Unweighting maximum = this quantile of the weights of a pilot run.  Events above
        it are kept with ``weight = w / w_max > 1`` (so weighted averages stay unbiased).
    batch_size, n_pilot : int
        Raw phase-space points per batch; selected events in the pilot run.
    process : {"WW", "WW+ZZ", "EW"}
        Partonic content (:mod:`keplersr.datasets.wbf_channels`): WW fusion with the HWW
        vertex of the operator (default); plus ZZ fusion with its HZZ vertex; or the whole
        electroweak structure of the operator (also photon exchange in the CP-odd amplitude).
    cuts : None or dict
        Overrides of the selection :data:`~keplersr.datasets.wbf_phase_space.CUTS` (e.g.
        ``{"Delta_eta_min": 0, "m_jj_min": 0}``); the pre-selection before detector smearing
        follows them.

    Returns
    -------
    pandas.DataFrame with columns ``x_f, x_b, Delta_eta, Delta_phi, m_jj, m_Hjj, pT_H``
    (inputs), ``eta_f, eta_b`` (signed jet pseudorapidities),
    ``t`` (target: per-event joint score t(z), TeV^2), ``q`` (quadratic term, TeV^4),
    ``channel`` ("qq"/"qqbar", and ``NC:...`` for neutral-current channels), ``weight`` (1
    except overweight events) and, if ``theta != 0``, ``t_sm`` (the score at theta = 0 of the
    same events).
    """
    n_events = check_positive_int(n_events, "n_events")
    batch_size = check_positive_int(batch_size, "batch_size")
    n_pilot = check_positive_int(n_pilot, "n_pilot")
    if not isinstance(momenta, bool):
        raise ValueError(f"momenta must be True or False, got {momenta!r}")
    chn.check_process(process)
    cuts = ps.make_cuts(cuts)
    if level not in ("parton", "detector"):
        raise ValueError(f"level must be 'parton' or 'detector', got {level!r}")
    preset = det.get_preset(detector) if level == "detector" else None
    if level == "parton" and detector not in det.PRESETS:
        raise ValueError(f"detector must be one of {sorted(det.PRESETS)}, got {detector!r}")
    theta, pdfs, rng = generator_setup(theta, w_max_quantile, pdfs, seed)

    t_start = time.perf_counter()
    n_raw = 0

    def weighted_batch():
        nonlocal n_raw
        ev = ps.sample_phase_space(batch_size, rng, preselect=level, cuts=cuts)
        n_raw += batch_size
        obs = ps.observables(ev.p1, ev.p2, ev.pH)
        keep = ps.pass_cuts(obs, cuts) if level == "parton" else ps.pass_loose_precuts(obs, cuts)
        ev = ev.subset(keep)
        return (ev, *_channel_weights(ev, pdfs, theta, process))

    def make_chunk(batch, acc, w, w_max):
        ev, w_c, extras = batch
        ev, w_c = ev.subset(acc), w_c[acc]
        extras = {k: v[acc] for k, v in extras.items()}
        u = rng.uniform(size=w.shape[0]) * w
        chan = np.minimum((np.cumsum(w_c, axis=1)[:, :-1] <= u[:, None]).sum(axis=1),
                          w_c.shape[1] - 1).astype(np.int8)
        return _event_table(ev, chan, extras, w / w_max, level, preset, rng, process, cuts, momenta)

    df, w_max, n_overweight = unweighted_events(weighted_batch, make_chunk, n_events, n_pilot,
                                                w_max_quantile, rng)

    mean_q_sm = None
    if theta != 0.0:
        t0, q = df["t_sm"].to_numpy(), df["q"].to_numpy()
        r = 1.0 + theta * t0 + theta ** 2 * q
        wsm = df["weight"].to_numpy() / r
        mean_q_sm = float(np.sum(wsm * q) / np.sum(wsm))
        df["t"] = (t0 + 2 * theta * q) / r - 2 * theta * mean_q_sm / (1 + theta ** 2 * mean_q_sm)
    else:
        df = df.drop(columns="t_sm")
    df["channel"] = pd.Categorical.from_codes(df["channel"].to_numpy(),
                                              categories=chn.channel_names(process))

    elapsed = time.perf_counter() - t_start
    meta = _metadata(level, detector, preset, theta, pdfs, seed, w_max, w_max_quantile, n_raw,
                     n_overweight, mean_q_sm, df, elapsed, process, cuts)
    df.attrs.update(meta)
    return (df, meta) if return_metadata else df


def closed_form_observable(df):
    """The leading-order quark-quark score written in the table's observables (TeV^2).

    ``t_qq = 2e-6 mH^2 x_f x_b sin(Delta_phi) (1 + m_Hjj^2 / m_jj^2)``: the closed form of
    :func:`~keplersr.datasets.wbf_amplitudes.closed_form_score` with ``s_hat = m_Hjj^2``
    (exact at parton level) and the +z-beam jet taken as the forward one.  At parton level it
    equals ``t`` for every quark-quark event whose +z-beam jet is the forward jet, and keeps
    ~0.9999 of the information of the full sample (the qqbar form differs little); at
    detector level it is a function of smeared observables and keeps less.
    """
    col = lambda k: np.asarray(df[k], dtype=float)  # noqa: E731  (DataFrame or dict of arrays)
    r2 = (col("m_Hjj") / col("m_jj")) ** 2
    return 2.0e-6 * ps.M_H ** 2 * col("x_f") * col("x_b") * np.sin(col("Delta_phi")) * (1.0 + r2)


def cp_odd_basis(df, degree=3, harmonics=2):
    """A CP-odd series of functions of the observables, for :func:`keplersr.physics.regress_score`.

    Under CP (a mirror reflection of the event) ``Delta_phi -> -Delta_phi`` while the other
    observables are unchanged, and the SM score is odd; so is its conditional mean
    ``E[t | x]``.  Columns: ``sin(k Delta_phi) P(u)`` and ``x_f x_b sin(k Delta_phi) P(u)``
    for ``k = 1..harmonics`` and every monomial ``P`` of degree ``<= degree`` in
    ``u = (m_Hjj/m_jj, Delta_eta, log x_f, log x_b, log(pT_H/mH))``, plus
    :func:`closed_form_observable`.  Returns an array (n_events, n_columns).
    """
    from itertools import combinations_with_replacement

    u = [df["m_Hjj"].to_numpy() / df["m_jj"].to_numpy() - 1.3, (df["Delta_eta"].to_numpy() - 5.0) / 1.5,
         np.log(df["x_f"].to_numpy()), np.log(df["x_b"].to_numpy()),
         np.log(np.maximum(df["pT_H"].to_numpy(), 1e-3) / ps.M_H)]
    monomials = [np.ones(len(df))]
    for d in range(1, degree + 1):
        for combo in combinations_with_replacement(range(len(u)), d):
            monomials.append(np.prod([u[i] for i in combo], axis=0))
    xx = df["x_f"].to_numpy() * df["x_b"].to_numpy()
    dphi = df["Delta_phi"].to_numpy()
    cols = [closed_form_observable(df)]
    for k in range(1, harmonics + 1):
        sk = np.sin(k * dphi)
        cols += [sk * m for m in monomials] + [xx * sk * m for m in monomials]
    return np.column_stack(cols)


def _channel_weights(ev, pdfs, theta, process="WW"):
    """Per-channel event weights ``w_c`` (shape (N, n_channels)) and the per-channel t, q when needed.

    ``w_c = Jac / (x1 x2) * L_c * |M_SM|^2_c * (1 + theta t_c + theta^2 q_c)``.
    """
    q1 = ev.pa - ev.p1
    q2 = ev.pb - ev.p2
    scale1 = np.sqrt(np.clip(-amp.mdot(q1, q1), 0.0, None))
    scale2 = np.sqrt(np.clip(-amp.mdot(q2, q2), 0.0, None))
    f1 = evaluate_pdfs(pdfs, ev.x1, scale1)
    f2 = evaluate_pdfs(pdfs, ev.x2, scale2)
    lum = chn.luminosities(f1, f2, process)
    msq, t_c, q_c = chn.channel_terms(ev.pa, ev.pb, ev.p1, ev.p2, process, with_q=theta != 0.0,
                                      with_t=theta != 0.0)
    w = (ev.jacobian / (ev.x1 * ev.x2))[:, None] * lum * msq
    extras = {}
    if theta != 0.0:
        w *= 1.0 + theta * t_c + theta ** 2 * q_c
        extras = {"t": t_c, "q": q_c}
    return w, extras


def _event_table(ev, chan, extras, weight, level, preset, rng, process="WW", cuts=None, momenta=False):
    """Observables, scores and weights of accepted events (detector smearing + cuts if asked)."""
    rows = np.arange(chan.size)
    if "t" in extras:
        t, q = extras["t"][rows, chan], extras["q"][rows, chan]
    elif process == "WW":  # channel code = helicity structure: one helicity computation per event
        t = amp.closed_form_score(ev.pa, ev.pb, ev.p1, ev.p2, chan)
        q = amp.helicity_amplitudes(ev.pa, ev.pb, ev.p1, ev.p2, chan, ps.M_W)["q"]
    else:
        _, t_c, q_c = chn.channel_terms(ev.pa, ev.pb, ev.p1, ev.p2, process, with_q=True)
        t, q = t_c[rows, chan], q_c[rows, chan]
    if level == "detector":
        j1 = det.smear_jet(ev.p1, preset, rng)
        j2 = det.smear_jet(ev.p2, preset, rng)
        h = det.smear_higgs(ev.pH, preset, rng)
    else:
        j1, j2, h = ev.p1, ev.p2, ev.pH
    obs = ps.observables(j1, j2, h)
    keep = ps.pass_cuts(obs, cuts)
    cols = {f: obs[f][keep] for f in FEATURES + EXTRA_COLUMNS}
    cols["t"] = t[keep]
    cols["t_sm"] = t[keep]
    cols["q"] = q[keep]
    cols["channel"] = chan[keep]
    cols["weight"] = np.maximum(1.0, weight[keep])
    if momenta:
        for name in MOMENTA:
            p = getattr(ev, name)[keep]
            cols.update({f"{name}_{c}": p[:, i] for i, c in enumerate(MOMENTUM_COMPONENTS)})
    return pd.DataFrame(cols)


def _metadata(level, detector, preset, theta, pdfs, seed, w_max, quantile, n_raw, n_over,
              mean_q_sm, df, elapsed, process="WW", cuts=None):
    frac = df["channel"].value_counts(normalize=True)
    return {
        "dataset": "wbf_cp_score",
        "process": {"WW": "p p -> H j j, WW fusion (t-channel, LO), CP-odd operator O_WWtilde (HWW vertex)",
                    "WW+ZZ": "p p -> H j j, WW and ZZ fusion (t-channel, LO), O_WWtilde (HWW, HZZ vertices)",
                    "EW": "p p -> H j j, WW and neutral-current fusion (t-channel, LO), O_WWtilde with its "
                          "HWW, HZZ, HZgamma, Hgammagamma vertices"}[process],
        "process_content": process,
        "sqrt_s_GeV": ps.SQRT_S, "m_H_GeV": ps.M_H, "m_W_GeV": ps.M_W,
        "level": level,
        "detector": detector if level == "detector" else None,
        "smearing": preset,
        "theta": theta,
        "features": list(FEATURES),
        "target": "t",
        "units": dict(UNITS),
        "conventions": {
            "metric": "(+,-,-,-)",
            "eps0123": "+1 (eps_0123 = -1)",
            "vertex": "i g mW [g^ab + kappa eps^{ab mu nu} q1_mu q2_nu], q1 = pa - p1, q2 = pb - p2",
            "kappa": "kappa = -2 f_WWtilde/Lambda^2 = -2e-6 theta GeV^-2 (theta in TeV^-2)",
            "score": "|M|^2 = |M_SM|^2 (1 + theta t + theta^2 q); t(z) = d log p(z|theta)/d theta",
            "t_qq": "+2e-6 pT1 pT2 sin(phi1 - phi2) (1 + s_hat/m_jj^2)  [GeV]",
            "t_qqbar": "+1e-6 pT1 pT2 sin(phi1 - phi2) s_hat [1/(pa.p2) + 1/(pb.p1)]  [GeV]",
            "jets": "jet 1 from the +z beam line; observables use eta ordering: f = forward, b = backward",
            "Delta_phi": "phi_f - phi_b wrapped to (-pi, pi]",
            "saturating_score": "t(z|theta) = (t + 2 theta q)/(1 + theta t + theta^2 q)"
                                " - 2 theta <q>/(1 + theta^2 <q>)",
        },
        "cuts": dict(ps.CUTS if cuts is None else cuts),
        "generation": {
            "y_jet": [-ps.Y_JET_MAX, ps.Y_JET_MAX], "y_H": [-ps.Y_H_MAX, ps.Y_H_MAX],
            "pT_jet_GeV": [ps.PT_GEN_MIN, ps.PT_GEN_MAX],
            "pT_sampling": "u ~ U[1/(pTmax^2+mW^2), 1/(pTmin^2+mW^2)], pT = sqrt(1/u - mW^2)",
            "precuts": "parton: the cuts; detector: Delta_eta > %g, m_jj > %g, opposite hemispheres"
                       % ps.loose_precut_values(cuts) +
                       " (or min|eta|<0.5) before smearing",
        },
        "pdfs": repr(pdfs),
        "seed": seed if seed is None or isinstance(seed, numbers.Integral) else repr(seed),
        "w_max": w_max,
        "w_max_quantile": quantile,
        "n_raw_points": n_raw,
        "n_overweight": n_over,
        "mean_q_sm": mean_q_sm,
        "channel_fractions": {k: float(v) for k, v in frac.items()},
        "generation_seconds": elapsed,
    }
