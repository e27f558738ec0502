"""Physics tests of the ZH O_Hq^(3) score dataset (keplersr.datasets.zh_d6)."""
import numpy as np
import pytest

from keplersr.datasets import zh_d6 as zh
from keplersr.datasets import zh_d6_amplitudes as amp
from keplersr.datasets import zh_d6_score
from keplersr.datasets.pdfs import ToyPDFs
from keplersr.physics import fisher_fraction

N_EVENTS = 40_000


@pytest.fixture(scope="module")
def sample():
    return zh_d6_score(N_EVENTS, seed=7, n_pilot=40_000)


@pytest.fixture(scope="module")
def raw_events():
    ev = zh.sample_phase_space(6000, np.random.default_rng(2))
    return ev.subset(np.arange(3000))


def _orientations(ev):
    return [(ev.p1, ev.p2), (ev.p2, ev.p1)]


@pytest.mark.parametrize("channel", amp.CHANNELS)
def test_helicity_amplitudes_equal_closed_forms(raw_events, channel):
    ev = raw_events
    for pa, pb in _orientations(ev):
        h = amp.helicity_amplitudes(pa, pb, ev.p3, ev.p4, channel)
        msq = amp.closed_form_sm(pa, pb, ev.p3, ev.p4, channel)
        t, q = amp.closed_form_score(pa, pb, ev.p3, ev.p4, channel)
        np.testing.assert_allclose(h["msq_sm"], msq, rtol=1e-10)
        np.testing.assert_allclose(h["t"], t, rtol=1e-10)
        np.testing.assert_allclose(h["q"], q, rtol=1e-10)
        # theta-derivative of the explicit two-diagram amplitude by a finite difference
        eps = 1e-4
        fd = (h["msq"](eps) - h["msq"](-eps)) / (2 * eps * h["msq_sm"])
        np.testing.assert_allclose(fd, t, rtol=1e-7)
        # the amplitude is linear in theta: |M|^2 = |M_SM|^2 (1 + theta t + theta^2 q) exactly
        theta = 0.3
        np.testing.assert_allclose(h["msq"](theta) / h["msq_sm"], 1 + theta * t + theta ** 2 * q, rtol=1e-10)
        assert np.all(t > 0) and np.all(q > 0)


def test_currents_and_helicity_structure(raw_events):
    ev = raw_events
    for p in (ev.p1, ev.p2, ev.p3, ev.p4):
        np.testing.assert_allclose(amp.right_current(p, p), 2 * p, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(amp.quark_current(p, p), 2 * p, rtol=1e-12, atol=1e-9)
    jq, jl = amp.currents(ev.p1, ev.p2, ev.p3, ev.p4)
    mdot = amp.mdot
    d1 = mdot(ev.p1, ev.p4) * mdot(ev.p2, ev.p3)
    d2 = mdot(ev.p1, ev.p3) * mdot(ev.p2, ev.p4)
    # same helicities ~ (pa.p_l+)(pb.p_l-), opposite ~ (pa.p_l-)(pb.p_l+)
    for lam, sig, d in (("L", "L", d1), ("R", "R", d1), ("L", "R", d2), ("R", "L", d2)):
        np.testing.assert_allclose(np.abs(mdot(jq[lam], jl[sig])) ** 2, 16 * d, rtol=1e-10)
        # conserved currents
        np.testing.assert_allclose(mdot(jq[lam], ev.p1 + ev.p2), 0, atol=1e-8 * np.abs(jq[lam]).max() * 1e3)


def test_couplings_and_kappa():
    gl_u, gr_u, eta_u = amp.quark_couplings("uubar")
    gl_d, gr_d, eta_d = amp.quark_couplings("ddbar")
    assert gl_u == pytest.approx(0.5 - 2 / 3 * amp.SW2) and gr_d == pytest.approx(amp.SW2 / 3)
    assert (eta_u, eta_d) == (1.0, -1.0)
    # kappa = eta v^2 / (2 mZ^2 g_L): same sign for u and d (constructive for C > 0)
    assert amp.kappa("uubar") * 1e6 == pytest.approx(10.54, abs=0.01)
    assert amp.kappa("ddbar") * 1e6 == pytest.approx(8.62, abs=0.01)


def _gauss_grid(n=8):
    x, w = np.polynomial.legendre.leggauss(n)
    phi = -np.pi + 2 * np.pi * (np.arange(n) + 0.5) / n
    g = np.meshgrid(x, phi, x, phi, indexing="ij")
    wt = np.meshgrid(w, np.ones(n), w, np.ones(n), indexing="ij")
    return [a.ravel() for a in g], np.prod([a.ravel() for a in wt], axis=0) / (2 * 2 * n * n)


@pytest.mark.parametrize("channel", amp.CHANNELS)
@pytest.mark.parametrize("sqrt_shat", [240.0, 500.0, 2000.0])
def test_integrated_cross_section_matches_textbook(channel, sqrt_shat):
    """sigma(q qbar -> Z H) x Gamma(Z -> ll)/Gamma_Z from the 2 -> 3 |M|^2 (exact angular
    quadrature, on-shell Z in the narrow-width limit) against the textbook closed form, and
    d log sigma_hat / d theta = 2 kappa s_hat g_L^2 / (g_L^2 + g_R^2)."""
    (cs, ps, cl, pl), wts = _gauss_grid()
    n = cs.size
    shat = np.full(n, sqrt_shat ** 2)
    p3, p4, ph, lam = zh.build_momenta(shat, np.full(n, amp.M_Z), np.full(n, 0.3), cs, ps, cl, pl)
    e = 0.5 * sqrt_shat * np.cosh(0.3)
    pz = 0.5 * sqrt_shat * np.sinh(0.3)
    zero = np.zeros(n)
    pa = np.stack([zero + e + pz, zero, zero, zero + e + pz], axis=-1)   # quark along +z
    pb = np.stack([zero + e - pz, zero, zero, -(zero + e - pz)], axis=-1)
    np.testing.assert_allclose(pa + pb, p3 + p4 + ph, atol=1e-8)
    msq = amp.closed_form_sm(pa, pb, p3, p4, channel)
    t, _ = amp.closed_form_score(pa, pb, p3, p4, channel)
    bw = (amp.M_Z * amp.GAMMA_Z) ** 2        # |propagator|^-2 at m_ll = mZ
    ang = np.sum(wts * msq * bw)
    # sigma = 1/(2 s) <|M|^2> lambda^1/2/(8 pi) * 1/(8 pi) * int dm^2/(2 pi) |prop|^2, the latter = 1/(2 mZ GammaZ)
    sigma = ang / (2 * shat[0]) * np.sqrt(lam[0]) / (8 * np.pi) / (8 * np.pi) / (2 * amp.M_Z * amp.GAMMA_Z)
    expect = amp.sigma_hat_zh(shat[0], channel) * amp.gamma_z_ll() / amp.GAMMA_Z
    assert sigma / expect == pytest.approx(1.0, abs=1e-10)
    gl, gr, _ = amp.quark_couplings(channel)
    dlog = np.sum(wts * msq * t) / np.sum(wts * msq)
    assert dlog == pytest.approx(2 * amp.kappa(channel) * shat[0] * gl ** 2 / (gl ** 2 + gr ** 2), rel=1e-10)


def test_decay_angles_recover_generated_angles():
    rng = np.random.default_rng(0)
    n = 500
    shat = rng.uniform(230.0, 1500.0, n) ** 2
    mll = rng.uniform(85.0, 97.0, n)
    y = rng.uniform(-2, 2, n)
    cs, cl = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    ps, pl = rng.uniform(-np.pi, np.pi, n), rng.uniform(-np.pi, np.pi, n)
    p3, p4, ph, _ = zh.build_momenta(shat, mll, y, cs, ps, cl, pl)
    obs = zh.observables(p3, p4, ph)
    np.testing.assert_allclose(obs["m_ZH"], np.sqrt(shat), rtol=1e-9)
    np.testing.assert_allclose(obs["m_ll"], mll, rtol=1e-9)
    np.testing.assert_allclose(obs["y_ZH"], y, atol=1e-9)
    np.testing.assert_allclose(obs["cos_theta_star"], cs, atol=1e-9)
    np.testing.assert_allclose(obs["cos_theta_l"], cl, atol=1e-8)
    np.testing.assert_allclose(np.cos(obs["phi_l"] - pl), 1.0, atol=1e-8)
    assert np.all(obs["pT_l1"] >= obs["pT_l2"])
    assert np.all((obs["Delta_phi_ll"] >= 0) & (obs["Delta_phi_ll"] <= np.pi))


def test_parity_mirror_keeps_the_score(raw_events):
    """CP-even operator: reflecting y -> -y for every particle leaves |M|^2 and t unchanged."""
    ev = raw_events
    f = np.array([1.0, 1.0, -1.0, 1.0])
    for chan in amp.CHANNELS:
        t, q = amp.closed_form_score(ev.p1, ev.p2, ev.p3, ev.p4, chan)
        tm, qm = amp.closed_form_score(ev.p1 * f, ev.p2 * f, ev.p3 * f, ev.p4 * f, chan)
        np.testing.assert_allclose(tm, t, rtol=1e-12)
        np.testing.assert_allclose(qm, q, rtol=1e-12)


def test_dataset_shape_metadata_and_cuts(sample):
    df = sample
    assert len(df) == N_EVENTS
    for c in (*zh.FEATURES, "t", "t_joint", "q", "channel", "quark_beam", "weight"):
        assert c in df.columns
    assert "t_sm" not in df.columns
    assert set(df["channel"].cat.categories) == {"uubar", "ddbar"}
    assert set(np.unique(df["quark_beam"])) == {-1, 1}
    assert np.all(df["weight"] >= 1.0)
    a = df.attrs
    assert a["conventions"]["metric"] == "(+,-,-,-)" and "O_Hq^(3)" in a["conventions"]["operator"]
    assert a["conventions"]["kappa_u"] == pytest.approx(10.54, abs=0.01)
    assert a["sigma_fid_fb"] > 0 and a["w_max_quantile"] == 0.9999
    # cuts hold
    assert df["pT_l2"].min() > 25.0 and np.abs(df[["eta_l1", "eta_l2"]].to_numpy()).max() < 2.5
    assert df["m_ll"].between(81.0, 101.0).all()
    assert df["m_ZH"].min() > 81.0 + 125.0


def test_score_has_rate_term_and_zero_mean(sample):
    df = sample
    t, tj, w = df["t"].to_numpy(), df["t_joint"].to_numpy(), df["weight"].to_numpy()
    assert abs(np.average(t, weights=w)) < 1e-9
    np.testing.assert_allclose(tj - t, df.attrs["dlogsigma_dtheta"], rtol=1e-12)
    # d log sigma / d theta ~ 3 TeV^2 with the toy PDFs (cross section +30% at theta = 0.1)
    assert 2.0 < df.attrs["dlogsigma_dtheta"] < 4.0
    assert df.attrs["dlogsigma_dtheta_err"] < 0.1


def test_rate_term_matches_cross_section_derivative():
    """d log sigma_fid / d theta from the sample mean agrees with a finite difference of the
    fiducial cross section (same seed: the pilot batches contain the same phase-space points)."""
    kw = dict(seed=21, n_pilot=30_000, batch_size=100_000)
    h = 0.01
    sig = {th: zh_d6_score(2000, theta=th, **kw).attrs["sigma_fid_fb"] for th in (-h, h)}
    df0 = zh_d6_score(30_000, theta=0.0, **kw)
    fd = (sig[h] - sig[-h]) / (2 * h * df0.attrs["sigma_fid_fb"])
    assert fd == pytest.approx(df0.attrs["dlogsigma_dtheta"], abs=5 * df0.attrs["dlogsigma_dtheta_err"])


def test_score_is_energy_growing(sample):
    """t ~ 2 <kappa f_L> m_ZH^2 - d log sigma/d theta: m_ZH^2 keeps > 99.5% of the information,
    its coefficient is the channel-averaged 2 kappa f_L (u: 17.6, d: 16.7 TeV^2 per TeV^2)."""
    df = sample
    t, w = df["t"].to_numpy(), df["weight"].to_numpy()
    m2 = (df["m_ZH"].to_numpy() / 1000.0) ** 2
    assert fisher_fraction(m2, t, weights=w) > 0.995
    slope = np.polyfit(m2, t, 1)[0]
    assert 16.5 < slope < 17.8
    # pT_Z alone keeps clearly less (the production angle is missing)
    assert fisher_fraction(df["pT_Z"].to_numpy() ** 2, t, weights=w) < 0.95


def test_theta_nonzero_sample():
    theta = 0.05
    df = zh_d6_score(20_000, theta=theta, seed=3, n_pilot=20_000)
    t0, q, t, tj = (df[c].to_numpy() for c in ("t_sm", "q", "t", "t_joint"))
    r = 1 + theta * (t0 + df.attrs["dlogsigma_dtheta_sm"]) + theta ** 2 * q
    np.testing.assert_allclose(tj, (t0 + df.attrs["dlogsigma_dtheta_sm"] + 2 * theta * q) / r, rtol=1e-10)
    assert abs(np.average(t, weights=df["weight"])) < 1e-9
    # events drawn from p(x|theta): the SM score has mean ~ theta E_SM[t^2] > 0 there
    se = t0.std() / np.sqrt(t0.size)
    assert t0.mean() > 8 * se
    assert df.attrs["theta"] == theta and df.attrs["dlogsigma_dtheta_sm"] > 2.0


def test_pdfs_are_pluggable():
    calls = []

    def no_dbar(x, Q):
        calls.append(np.asarray(Q).size)
        f = ToyPDFs()(x)
        return {"u": f["u"], "d": f["d"], "ubar": f["ubar"], "dbar": np.zeros_like(x)}

    df = zh_d6_score(1000, seed=0, pdfs=no_dbar, n_pilot=2000, batch_size=20_000)
    assert calls and set(df["channel"]) == {"uubar"}


@pytest.mark.parametrize("kwargs,match", [
    ({"n_events": 0}, "n_events"), ({"n_events": 2.5}, "n_events"),
    ({"theta": float("nan")}, "theta"), ({"pdfs": 3}, "pdfs"), ({"seed": "x"}, "seed"),
    ({"w_max_quantile": 1.5}, "w_max_quantile"), ({"batch_size": 0}, "batch_size"),
    ({"pdfs": lambda x, Q: {"u": x}}, "'d'"),
])
def test_bad_arguments(kwargs, match):
    args = {"n_events": 10, "n_pilot": 100, "batch_size": 20_000, **kwargs}
    with pytest.raises(ValueError, match=match):
        zh_d6_score(**args)
