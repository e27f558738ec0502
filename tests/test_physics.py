"""Tests of keplersr.physics: Fisher fractions, expected limits, MSE floor."""
import numpy as np
import pytest

from keplersr.physics import (expected_limit, fisher_fraction, fisher_information, mse_floor,
                              regress_score, score_information)


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    x = rng.uniform(-np.pi, np.pi, 200_000)
    a = rng.exponential(1.0, x.size)
    t = a * np.sin(x)  # a CP-odd "score" with E[t] = 0
    return x, a, t


def test_fisher_fraction_known_values(toy):
    x, a, t = toy
    assert fisher_fraction(t, t) == pytest.approx(1.0)
    assert fisher_fraction(-3.7 * t, t) == pytest.approx(1.0)  # scale invariant
    # g = sin x: E[g t]^2/(E[g^2]E[t^2]) = (E[a]/2)^2 / (1/2 * E[a^2]/2) = 1/E[a^2] = 1/2
    assert fisher_fraction(np.sin(x), t) == pytest.approx(0.5, abs=0.01)
    assert fisher_fraction(np.cos(x), t) == pytest.approx(0.0, abs=0.002)


def test_fisher_fraction_is_centred(toy):
    x, a, t = toy
    s = np.sin(x)
    # adding a constant does not change the information an observable carries
    assert fisher_fraction(s + 0.5, t) == pytest.approx(fisher_fraction(s, t), rel=1e-12)
    assert fisher_fraction(-2.0 * s + 7.0, t) == pytest.approx(0.5, abs=0.01)
    assert fisher_fraction(s, t + 3.0) == pytest.approx(fisher_fraction(s, t), rel=1e-12)
    # it is the information of g over that of the score
    assert fisher_fraction(s, t) == pytest.approx(fisher_information(s, t) / score_information(t), rel=1e-12)
    assert fisher_information(s + 0.5, t) == pytest.approx(fisher_information(s, t), rel=1e-12)
    # a constant observable carries no information
    assert fisher_fraction(np.full(t.size, 2.0), t) == 0.0
    assert fisher_information(np.full(t.size, 2.0), t) == 0.0
    assert expected_limit(np.full(t.size, 2.0), t, n_events=100) == float("inf")


def test_fisher_fraction_against_another_information(toy):
    x, a, t = toy
    s = np.sin(x)
    ref = 0.8 * score_information(t)
    assert fisher_fraction(s, t, information=ref) == pytest.approx(fisher_fraction(s, t) / 0.8, rel=1e-12)
    with pytest.raises(ValueError, match="information"):
        fisher_fraction(s, t, information=0.0)


def test_regress_score_estimates_the_conditional_mean():
    # t = f(x) + noise that x does not see: E[t|x] = f(x); the regression on a basis that
    # spans f recovers it, and its information is Var(f) (the attainable maximum)
    rng = np.random.default_rng(4)
    n = 40_000
    x = rng.uniform(-np.pi, np.pi, (2, n))
    xe = rng.uniform(-np.pi, np.pi, (2, n))

    def f(z):
        return np.sin(z[0]) * (1.0 + 0.5 * z[1] ** 2)

    def basis(z):
        return np.column_stack([np.sin(k * z[0]) * z[1] ** j for k in (1, 2) for j in range(4)])

    t = f(x) + rng.normal(0.0, 1.0, n)
    te = f(xe) + rng.normal(0.0, 1.0, n)
    t_hat = regress_score(basis(x), t, basis(xe))
    np.testing.assert_allclose(t_hat, f(xe), atol=0.05 * np.std(f(xe)))
    frac = fisher_information(t_hat, te) / score_information(te)
    assert frac == pytest.approx(np.var(f(xe)) / np.var(te), abs=0.02)
    with pytest.raises(ValueError, match="columns"):
        regress_score(basis(x), t, basis(xe)[:, :3])

    rng = np.random.default_rng(1)
    g, t = rng.normal(size=50), rng.normal(size=50)
    w = rng.integers(1, 4, 50)
    dup = fisher_fraction(np.repeat(g, w), np.repeat(t, w))
    assert fisher_fraction(g, t, weights=w) == pytest.approx(dup, rel=1e-12)


def test_expected_limit_scaling_and_cl(toy):
    x, a, t = toy
    lim = expected_limit(t, t, n_events=1000)
    assert lim == pytest.approx(1 / np.sqrt(1000 * np.mean(t ** 2)), rel=1e-3)
    assert expected_limit(t, t, n_events=4000) == pytest.approx(lim / 2)
    assert expected_limit(t, t, n_events=1000, cl=0.95) == pytest.approx(1.959964 * lim, rel=1e-5)
    assert expected_limit(t, t, luminosity_fb=100, cross_section_fb=10) == pytest.approx(lim)
    # a worse observable gives a weaker limit by 1/sqrt(Fisher fraction)
    g = np.sin(x)
    ratio = expected_limit(g, t, n_events=1000) / lim
    assert ratio == pytest.approx(1 / np.sqrt(fisher_fraction(g, t)), rel=0.01)
    assert fisher_information(t, t) == pytest.approx(np.var(t), rel=1e-9)


@pytest.mark.parametrize("kwargs,match", [
    ({}, "n_events"), ({"n_events": -1}, "positive"), ({"n_events": 10, "cl": 1.5}, "cl"),
    ({"luminosity_fb": 10}, "cross_section_fb"), ({"n_events": 5, "luminosity_fb": 1}, "either"),
])
def test_expected_limit_errors(toy, kwargs, match):
    x, a, t = toy
    with pytest.raises(ValueError, match=match):
        expected_limit(t, t, **kwargs)


def test_mse_floor_recovers_known_noise():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40_000, 3))
    signal = np.sin(2 * X[:, 0]) * X[:, 1] + X[:, 2] ** 2
    for sigma in (0.1, 0.3):
        t = signal + sigma * rng.normal(size=X.shape[0])
        # accuracy without detrending: bias + noise ~0.2% of Var(signal) (~2.5 here)
        assert mse_floor(X, t) == pytest.approx(sigma ** 2, abs=0.006)
        # detrending with an imperfect model of E[t|x] keeps the floor and sharpens it
        approx = 0.8 * signal + 0.1  # e.g. a formula with slightly wrong constants
        assert mse_floor(X, t, baseline=approx) == pytest.approx(sigma ** 2, rel=0.05)
    # noiseless: floor ~ 0 compared with Var(t)
    assert mse_floor(X, signal) < 0.002 * np.var(signal)


def test_mse_floor_hidden_variable():
    # t depends on a variable that is not observed: floor = its variance contribution
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (40_000, 2))
    hidden = rng.uniform(-1, 1, 40_000)
    t = x[:, 0] + 0.5 * hidden  # Var(t|x) = 0.25 * 1/3
    assert mse_floor(x, t) == pytest.approx(0.25 / 3, rel=0.1)


def test_input_validation():
    with pytest.raises(ValueError, match="same length"):
        fisher_fraction([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="zero variance"):
        fisher_fraction([1, 2, 3], [0, 0, 0])
    with pytest.raises(ValueError, match="weights"):
        fisher_fraction([1, 2], [1, 2], weights=[1, -1])
    with pytest.raises(ValueError, match="k must"):
        mse_floor(np.ones((10, 2)), np.ones(10), k=1)
    with pytest.raises(ValueError, match="baseline"):
        mse_floor(np.ones((10, 2)), np.ones(10), baseline=np.ones(3))
    with pytest.raises(ValueError, match="rows"):
        mse_floor(np.ones((10, 2)), np.ones(9))
