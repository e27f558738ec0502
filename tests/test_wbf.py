"""Physics tests of the CP-odd WBF score dataset (keplersr.datasets.wbf)."""
import numpy as np
import pytest

from keplersr.datasets import wbf_amplitudes as amp
from keplersr.datasets import wbf_channels as chn
from keplersr.datasets import wbf_phase_space as ps
from keplersr.datasets.pdfs import GRV94LO, ToyPDFs
from keplersr.datasets.wbf import FEATURES, closed_form_observable, cp_odd_basis, wbf_cp_score
from keplersr.physics import fisher_fraction, mse_floor

N_PARTON = 100_000


def relative_floor(df):
    """Detrended kNN estimate of E[Var(t|x)] / E[t^2] on the six observables."""
    t = df["t"].to_numpy()
    s, xx, de = np.sin(df["Delta_phi"].to_numpy()), (df["x_f"] * df["x_b"]).to_numpy(), df["Delta_eta"].to_numpy()
    full = xx * s * (1 + df["m_Hjj"].to_numpy() ** 2 / df["m_jj"].to_numpy() ** 2)
    B = np.column_stack([full, xx * s, xx * s * de, s])
    base = B @ np.linalg.lstsq(B, t, rcond=None)[0]
    Z = np.column_stack([np.log(df.x_f), np.log(df.x_b), de, s, np.cos(df.Delta_phi),
                         np.log(df.m_jj), np.log(df.m_Hjj)])
    return mse_floor(Z, t, baseline=base) / np.mean(t ** 2)


def ff(g, t):
    return fisher_fraction(g, t)


@pytest.fixture(scope="module")
def parton():
    return wbf_cp_score(N_PARTON, level="parton", seed=11)


@pytest.fixture(scope="module")
def raw_events():
    ev = ps.sample_phase_space(20_000, np.random.default_rng(3), preselect="parton")
    return ev.subset(np.arange(3000))


@pytest.mark.parametrize("channel", amp.CHANNELS)
def test_closed_form_equals_helicity_amplitudes(raw_events, channel):
    ev = raw_events
    h = amp.helicity_amplitudes(ev.pa, ev.pb, ev.p1, ev.p2, channel, ps.M_W)
    t_cf = amp.closed_form_score(ev.pa, ev.pb, ev.p1, ev.p2, channel)
    msq_cf = amp.closed_form_sm(ev.pa, ev.pb, ev.p1, ev.p2, channel, ps.M_W)
    np.testing.assert_allclose(h["t"], t_cf, rtol=1e-8, atol=1e-14 * np.abs(t_cf).max())
    np.testing.assert_allclose(h["msq_sm"], msq_cf, rtol=1e-8)
    assert np.all(h["q"] >= 0) and np.mean(h["q"]) > 0
    # |A_sm + kappa A_cp|^2 / |A_sm|^2 = 1 + theta t + theta^2 q for a finite theta
    theta = 3.0
    full = np.abs(h["A_sm"] + amp.KAPPA_PER_THETA * theta * h["A_cp"]) ** 2 / h["msq_sm"]
    np.testing.assert_allclose(full, 1 + theta * h["t"] + theta ** 2 * h["q"], rtol=1e-9)


def test_mirror_event_flips_score_keeps_quadratic(raw_events):
    ev = raw_events
    flip = np.array([1.0, 1.0, -1.0, 1.0])  # py -> -py: phi -> -phi for every particle
    h = amp.helicity_amplitudes(ev.pa, ev.pb, ev.p1, ev.p2, "qq")
    hm = amp.helicity_amplitudes(ev.pa * flip, ev.pb * flip, ev.p1 * flip, ev.p2 * flip, "qq")
    np.testing.assert_allclose(hm["t"], -h["t"], rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(hm["q"], h["q"], rtol=1e-8)
    o, om = ps.observables(ev.p1, ev.p2, ev.pH), ps.observables(ev.p1 * flip, ev.p2 * flip, ev.pH * flip)
    np.testing.assert_allclose(om["Delta_phi"], -o["Delta_phi"], atol=1e-12)


def test_dataset_shape_and_metadata(parton):
    df = parton
    assert len(df) == N_PARTON
    for c in (*FEATURES, "t", "q", "channel", "weight"):
        assert c in df.columns
    assert set(df["channel"].cat.categories) == {"qq", "qqbar"}
    assert np.all(df["weight"] >= 1.0)
    a = df.attrs
    assert a["conventions"]["eps0123"].startswith("+1")
    assert 0 < a["w_max"] and a["w_max_quantile"] == 0.9999
    # cuts hold
    assert df["Delta_eta"].min() > 3.6 and df["m_jj"].min() > 500
    assert df["x_f"].min() * ps.M_H > 30 and np.abs(df["Delta_phi"]).max() <= np.pi


def test_sm_score_is_cp_odd_statistically(parton):
    t, dphi = parton["t"].to_numpy(), parton["Delta_phi"].to_numpy()
    se = t.std() / np.sqrt(t.size)
    assert abs(t.mean()) < 4 * se
    # Delta_phi -> -Delta_phi symmetry of the distribution, and t odd under it
    pos, neg = dphi > 0, dphi < 0
    assert abs(pos.mean() - 0.5) < 4 * 0.5 / np.sqrt(t.size)
    se2 = np.hypot(t[pos].std() / np.sqrt(pos.sum()), t[neg].std() / np.sqrt(neg.sum()))
    assert abs(t[pos].mean() + t[neg].mean()) < 4 * se2
    assert t[pos].mean() > 10 * se2  # and not trivially zero


def test_fisher_numbers_parton_level(parton):
    df = parton
    t = df["t"].to_numpy()
    assert np.mean(t ** 2) == pytest.approx(2.0e-3, rel=0.08)  # TeV^4
    s = np.sin(df["Delta_phi"].to_numpy())
    xx = (df["x_f"] * df["x_b"]).to_numpy()
    deta = df["Delta_eta"].to_numpy()
    # tolerances: seed-to-seed spread at 1e5 events (t is heavy tailed) is ~0.01 / ~0.003
    assert ff(s, t) == pytest.approx(0.46, abs=0.03)
    assert ff(xx * s, t) == pytest.approx(0.960, abs=0.008)
    # least-squares t ~ xx s (a - b Delta_eta): the published shape
    X = np.stack([xx * s, -xx * s * deta], axis=1)
    (a, b), *_ = np.linalg.lstsq(X, t, rcond=None)
    assert a == pytest.approx(0.116, rel=0.04) and b == pytest.approx(0.0069, rel=0.1)
    assert ff(xx * s * (a - b * deta), t) == pytest.approx(0.966, abs=0.006)
    full = xx * s * (1 + df["m_Hjj"].to_numpy() ** 2 / df["m_jj"].to_numpy() ** 2)
    assert ff(full, t) > 0.998
    # the observables determine the parton-level score: no irreducible MSE
    assert relative_floor(df) < 5e-4


@pytest.mark.parametrize("detector,ref_sin,ref_xx,floor_range", [
    ("A", 0.46, 0.952, (0.003, 0.02)), ("B", 0.45, 0.917, (0.025, 0.06))])
def test_fisher_numbers_detector_level(detector, ref_sin, ref_xx, floor_range):
    df = wbf_cp_score(60_000, level="detector", detector=detector, seed=5)
    t = df["t"].to_numpy()
    s = np.sin(df["Delta_phi"].to_numpy())
    xx = (df["x_f"] * df["x_b"]).to_numpy()
    assert np.mean(t ** 2) == pytest.approx(2.0e-3, rel=0.1)
    assert ff(s, t) == pytest.approx(ref_sin, abs=0.02)
    assert ff(xx * s, t) == pytest.approx(ref_xx, abs=0.01)
    assert df.attrs["level"] == "detector" and df.attrs["smearing"]["sigma_eta"] > 0
    # smearing makes t(z) irreducibly noisy given x: E[Var(t|x)] > 0, larger for preset B
    # (measured with 3e5 events: 0.8% (A), 4.1% (B) of E[t^2])
    lo, hi = floor_range
    assert lo < relative_floor(df) < hi


def test_theta_nonzero_saturating_score():
    theta = 2.0
    df = wbf_cp_score(20_000, theta=theta, seed=1)
    t0, q, t = (df[c].to_numpy() for c in ("t_sm", "q", "t"))
    mq = df.attrs["mean_q_sm"]
    expect = (t0 + 2 * theta * q) / (1 + theta * t0 + theta ** 2 * q) - 2 * theta * mq / (1 + theta ** 2 * mq)
    np.testing.assert_allclose(t, expect, rtol=1e-12)
    # events are drawn from p(x|theta): the score has mean zero there, while the SM score
    # has mean ~ theta E_SM[t^2] > 0 (CP violation shifts the Delta_phi distribution)
    se = t0.std() / np.sqrt(t0.size)
    assert abs(t.mean()) < 4 * t.std() / np.sqrt(t.size)
    assert t0.mean() > 8 * se and t0.mean() == pytest.approx(theta * 2.0e-3, rel=0.35)


def test_pdfs_are_pluggable_and_do_not_change_the_score():
    calls = []

    def valence_only(x, Q):
        calls.append(x.size)
        base = ToyPDFs()(x)
        z = np.zeros_like(x)
        return {"u": base["u"] - base["ubar"], "d": base["d"] - base["dbar"], "ubar": z, "dbar": z}

    df = wbf_cp_score(2000, seed=0, pdfs=valence_only)
    assert calls and set(df["channel"]) == {"qq"}
    # same score function: recompute from observables for qq events
    full = 2e-6 * ps.M_H ** 2 * df.x_f * df.x_b * np.sin(df.Delta_phi) * (1 + df.m_Hjj ** 2 / df.m_jj ** 2)
    assert fisher_fraction(full, df["t"]) > 0.999


@pytest.mark.parametrize("kwargs,match", [
    ({"n_events": 0}, "n_events"), ({"n_events": 2.5}, "n_events"),
    ({"level": "hadron"}, "level"), ({"level": "detector", "detector": "C"}, "detector"),
    ({"theta": float("nan")}, "theta"), ({"pdfs": 3}, "pdfs"), ({"seed": "x"}, "seed"),
    ({"w_max_quantile": 1.5}, "w_max_quantile"),
    ({"pdfs": lambda x, Q: {"u": x}}, "'d'"),
    ({"process": "ZZ"}, "process"), ({"cuts": {"pt": 40}}, "unknown cut"),
    ({"cuts": {"pT_min": 10}}, "pT_min"), ({"cuts": {"m_jj_min": -1}}, "m_jj_min"),
])
def test_bad_arguments(kwargs, match):
    args = {"n_events": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        wbf_cp_score(**args, n_pilot=100, batch_size=20_000)


def test_mass_features_from_momenta(raw_events):
    ev = raw_events
    o = ps.observables(ev.p1, ev.p2, ev.pH)
    # parton level: the final state carries the whole partonic energy, m_Hjj^2 = s_hat = x1 x2 s
    np.testing.assert_allclose(o["m_Hjj"] ** 2, ev.x1 * ev.x2 * ps.SQRT_S ** 2, rtol=1e-9)
    np.testing.assert_allclose(o["m_jj"] ** 2, 2 * amp.mdot(ev.p1, ev.p2), rtol=1e-9)
    pt_sum = np.hypot(ev.p1[:, 1] + ev.p2[:, 1], ev.p1[:, 2] + ev.p2[:, 2])
    np.testing.assert_allclose(o["pT_H"], pt_sum, rtol=1e-9)
    assert np.all(o["m_Hjj"] > o["m_jj"])


def test_closed_form_observable_is_the_helicity_score(raw_events):
    ev = raw_events
    o = ps.observables(ev.p1, ev.p2, ev.pH)
    t = amp.helicity_amplitudes(ev.pa, ev.pb, ev.p1, ev.p2, "qq", ps.M_W)["t"]
    g = closed_form_observable(o)
    # the +z-beam jet is the forward one: same score; otherwise Delta_phi flips sign
    sign = np.where(ps.pseudorapidity(ev.p1) > ps.pseudorapidity(ev.p2), 1.0, -1.0)
    np.testing.assert_allclose(g, sign * t, rtol=1e-8, atol=1e-12 * np.abs(t).max())


def test_cp_odd_basis_is_odd_under_cp(parton):
    df = parton.iloc[:2000]
    mirror = df.copy()
    mirror["Delta_phi"] = -mirror["Delta_phi"]
    np.testing.assert_allclose(cp_odd_basis(mirror), -cp_odd_basis(df), rtol=1e-12, atol=1e-15)


def _right_current(p_out, p_in):
    """Right-handed current u_R(out)^dagger sigma^mu u_R(in), sigma = (1, sigma), built directly."""
    def u_r(p):
        e, px, py, pz = p.T
        pt = np.hypot(px, py)
        phase = np.where(pt > 0, (px + 1j * py) / np.where(pt > 0, pt, 1.0), 1.0)
        return np.stack([np.sqrt(np.clip(e + pz, 0, None)) + 0j, phase * np.sqrt(np.clip(e - pz, 0, None))], -1)
    a, b = np.conj(u_r(p_out)), u_r(p_in)
    return np.stack([a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1], a[:, 0] * b[:, 1] + a[:, 1] * b[:, 0],
                     -1j * a[:, 0] * b[:, 1] + 1j * a[:, 1] * b[:, 0], a[:, 0] * b[:, 0] - a[:, 1] * b[:, 1]], -1)


@pytest.mark.parametrize("process", ["WW+ZZ", "EW"])
def test_neutral_current_channels_against_explicit_amplitudes(raw_events, process):
    ev = raw_events
    msq, t, _ = chn.channel_terms(ev.pa, ev.pb, ev.p1, ev.p2, process)
    names = chn.channel_names(process)
    s2, c2, mz = chn.SW2, chn.CW2, chn.M_Z
    q1, q2 = ev.pa - ev.p1, ev.pb - ev.p2
    q1s, q2s = amp.mdot(q1, q1), amp.mdot(q2, q2)
    dz1, dz2 = q1s - mz ** 2, q2s - mz ** 2
    photons = process == "EW"
    for a, b in [("u", "d"), ("d", "dbar"), ("ubar", "u")]:
        sm2 = num = 0.0
        for ca in "LR":
            for cb in "LR":
                cur = []
                for line, chi, (po, pi) in ((a, ca, (ev.p1, ev.pa)), (b, cb, (ev.p2, ev.pb))):
                    j = amp.quark_current(po, pi) if chi == "L" else _right_current(po, pi)
                    cur.append(np.conj(j) if chn.LINES[line][2] else j)  # antiquark line
                gz = [((chn.LINES[x][1] if chi == "L" else 0.0) - chn.LINES[x][0] * s2) / np.sqrt(c2)
                      for x, chi in ((a, ca), (b, cb))]
                ga = [np.sqrt(s2) * chn.LINES[x][0] * photons for x in (a, b)]
                a_sm = gz[0] * gz[1] / c2 * amp.mdot(cur[0], cur[1]) / (dz1 * dz2)
                cp = (gz[0] * gz[1] * c2 / (dz1 * dz2) + gz[0] * ga[1] * np.sqrt(s2 * c2) / (dz1 * q2s)
                      + ga[0] * gz[1] * np.sqrt(s2 * c2) / (q1s * dz2) + ga[0] * ga[1] * s2 / (q1s * q2s))
                a_cp = cp * amp.levi_civita(cur[0], cur[1], q1.astype(complex), q2.astype(complex))
                sm2 = sm2 + np.abs(a_sm) ** 2
                num = num + 2 * amp.KAPPA_PER_THETA * np.real(np.conj(a_sm) * a_cp)
        k = names.index(f"NC:{a}-{b}")
        np.testing.assert_allclose(t[:, k], num / sm2, rtol=1e-7, atol=1e-12 * np.abs(num / sm2).max())
        np.testing.assert_allclose(msq[:, k], 4 * sm2, rtol=1e-7)


def test_process_content_and_grv_pdfs():
    df = wbf_cp_score(3000, seed=2, process="EW", pdfs=GRV94LO(), n_pilot=20_000)
    assert df.attrs["process_content"] == "EW"
    nc = df["channel"].astype(str).str.startswith("NC:")
    assert 0.1 < nc.mean() < 0.45  # neutral-current (Z/photon) fusion is about a quarter of WBF
    # a looser selection: the cuts follow the overrides
    loose = wbf_cp_score(2000, seed=3, cuts={"Delta_eta_min": 0.0, "m_jj_min": 0.0}, n_pilot=20_000)
    assert loose["Delta_eta"].min() < 3.0 and loose["m_jj"].min() < 500
    assert loose.attrs["cuts"]["Delta_eta_min"] == 0.0
    # GRV94 LO: valence sum rules (int u_v = 2, int d_v = 1) at Q = 100 GeV
    x = np.logspace(-5, 0, 20_001)[:-1]
    f = GRV94LO()(x, np.full(x.size, 100.0))
    assert np.trapezoid(f["u"] - f["ubar"], x) == pytest.approx(2.0, abs=0.06)
    assert np.trapezoid(f["d"] - f["dbar"], x) == pytest.approx(1.0, abs=0.05)
    assert all(np.all(v >= 0) for v in f.values())
