"""The physicist's own events in: the joint score from reweighting weights
(keplersr.physics.score_from_weights), and the generators' events as Les Houches files with
reweighting weights (keplersr.datasets.*_lhe)."""
import numpy as np
import pytest

from keplersr.datasets.wbf import wbf_cp_score
from keplersr.datasets.wbf_lhe import write_wbf_lhe
from keplersr.datasets.zh_d6 import zh_d6_score
from keplersr.physics import joint_likelihood_ratio, joint_score


def test_momenta_do_not_change_the_events():
    a = wbf_cp_score(300, seed=3, n_pilot=5_000)
    b = wbf_cp_score(300, seed=3, n_pilot=5_000, momenta=True)
    assert b[list(a.columns)].equals(a)
    assert {"pa_E", "p1_px", "pH_pz"} <= set(b.columns)
    c = zh_d6_score(300, seed=3, n_pilot=5_000)
    d = zh_d6_score(300, seed=3, n_pilot=5_000, momenta=True)
    assert d[list(c.columns)].equals(c)
    with pytest.raises(ValueError, match="momenta must be True or False"):
        wbf_cp_score(10, momenta="yes")


def test_writer_needs_the_momenta(tmp_path):
    df = wbf_cp_score(100, seed=3, n_pilot=5_000)
    with pytest.raises(ValueError, match=r"momenta=True"):
        write_wbf_lhe(df, tmp_path / "x.lhe")
    df = wbf_cp_score(100, seed=3, n_pilot=5_000, momenta=True)
    with pytest.raises(ValueError, match="repeated"):
        write_wbf_lhe(df, tmp_path / "x.lhe", thetas=(1.0, 1.0))


# ------------------------------------------------------------------ the score from weights

@pytest.fixture
def quadratic_weights():
    rng = np.random.default_rng(0)
    n = 500
    w0, a, b = rng.uniform(0.5, 2, n), rng.uniform(-0.5, 0.5, n), rng.uniform(0, 1, n)
    thetas = np.array([-0.5, 0.0, 0.5, 1.0])
    W = w0[:, None] * (1 + thetas * a[:, None] + thetas ** 2 * b[:, None])
    return W, thetas, w0, a, b


def test_morphing_and_central_differences_of_quadratic_weights(quadratic_weights):
    W, thetas, w0, a, b = quadratic_weights
    for method in ("morphing", "central"):
        s = joint_score(W, thetas, theta_ref=0.0, method=method)
        rate = np.sum(w0 * a) / np.sum(w0)
        assert np.allclose(s.t, a - rate, rtol=1e-12, atol=1e-12)
        assert np.allclose(s.reference_weights, w0)
    # at theta_ref = 0.5: d log w = (a + 2 theta b) / (1 + theta a + theta^2 b)
    s = joint_score(W, thetas, theta_ref=0.5, rate_term=0.0)
    assert np.allclose(s.t, (a + b) / (1 + 0.5 * a + 0.25 * b), rtol=1e-10)
    # the same from a dict
    s2 = joint_score(dict(zip(thetas.tolist(), W.T)), theta_ref=0.5, rate_term=0.0)
    assert np.allclose(s2.t, s.t)


def test_linear_morphing_and_non_polynomial_weights():
    rng = np.random.default_rng(1)
    a = rng.normal(size=50)
    thetas = np.array([-1.0, 0.0, 1.0])
    W = 1 + thetas * a[:, None]
    s = joint_score(W, thetas, degree=1, rate_term=0.0)
    assert np.allclose(s.t, a)
    th5 = np.linspace(-1, 1, 5)
    E = np.exp(th5 * a[:, None])          # not a polynomial: the morphing fit says so
    with pytest.raises(ValueError, match="not a polynomial of degree 2"):
        joint_score(E, th5)
    c = joint_score(E, th5, method="central", delta=0.5, rate_term=0.0)
    assert np.allclose(c.t, np.sinh(0.5 * a) / 0.5)   # a (1 + delta^2 a^2 / 6 + ...): O(delta^2) off
    assert not np.allclose(c.t, a, rtol=1e-3)


def test_joint_likelihood_ratio(quadratic_weights):
    W, thetas, w0, a, b = quadratic_weights
    for theta in (1.0, 0.3):               # a point of the file, and one morphed
        exact = (1 + theta * a + theta ** 2 * b)
        exact = exact / (np.sum(w0 * exact) / np.sum(w0))
        assert np.allclose(joint_likelihood_ratio(W, thetas, theta=theta), exact, rtol=1e-10)


def test_score_errors(quadratic_weights):
    W, thetas, *_ = quadratic_weights
    with pytest.raises(ValueError, match=r"no weights at theta_ref = 0.25: the weights are at theta = \[-0.5, 0.0, 0.5, 1.0\]"):
        joint_score(W, thetas, theta_ref=0.25, method="central")
    with pytest.raises(ValueError, match="no weights at theta_ref \\+ delta"):
        joint_score(W, thetas, theta_ref=0.0, method="central", delta=0.25)
    with pytest.raises(ValueError, match="needs weights at 3 or more thetas"):
        joint_score(W[:, :2], thetas[:2])
    with pytest.raises(ValueError, match="one column per theta"):
        joint_score(W, thetas[:3])
    with pytest.raises(ValueError, match="method must be"):
        joint_score(W, thetas, method="forward")
    with pytest.raises(ValueError, match="rate_term must be"):
        joint_score(W, thetas, rate_term="analytic")
    bad = W.copy()
    bad[7, 1] = 0.0
    with pytest.raises(ValueError, match=r"1 of 500 events have a non-positive weight at the reference "
                                         r"theta_ref = 0.0 \(event 7: 0\)"):
        joint_score(bad, thetas, method="central")
