"""The physicist's own events in: LHE files with reweighting weights, Delphes trees, the joint
score from weights, kinematic features (keplersr.physics.lhe / delphes / score_from_weights /
features), and the generators' LHE files they are checked on (keplersr.datasets.*_lhe).

The round trip: the built-in generators write their events as LHE files with weights at a few
theta values; the score read back from the weights is the generator's exact score.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from keplersr.datasets.lhe_writer import write_lhe
from keplersr.datasets.wbf import FEATURES, EXTRA_COLUMNS, wbf_cp_score
from keplersr.datasets.wbf_lhe import write_wbf_lhe
from keplersr.datasets.zh_d6 import zh_d6_score
from keplersr.datasets.zh_d6_lhe import write_zh_d6_lhe
from keplersr.physics import (FeatureBuilder, fisher_fraction, joint_likelihood_ratio, joint_score,
                              read_delphes, read_lhe, wbf_features)
from keplersr.physics.lhe import parameter_settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def max_rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


# ------------------------------------------------------------------ round trip: exact scores

@pytest.fixture(scope="module")
def wbf_round_trip(tmp_path_factory):
    df = wbf_cp_score(10_000, seed=5, momenta=True)
    path = tmp_path_factory.mktemp("wbf") / "wbf.lhe"
    write_wbf_lhe(df, path, thetas=(-1.0, 0.0, 1.0))
    return df, read_lhe(path, parameter="fWWtilde")


@pytest.fixture(scope="module")
def zh_round_trip(tmp_path_factory):
    df = zh_d6_score(10_000, seed=6, momenta=True)
    path = tmp_path_factory.mktemp("zh") / "zh.lhe"
    write_zh_d6_lhe(df, path, thetas=(-0.5, 0.0, 0.5, 1.0))
    return df, read_lhe(path)


@pytest.mark.parametrize("method", ["morphing", "central"])
def test_wbf_score_from_lhe_weights_is_the_exact_score(wbf_round_trip, method):
    df, ev = wbf_round_trip
    assert len(ev) == 10_000
    assert ev.thetas == {"rwgt_1": -1.0, "rwgt_2": 0.0, "rwgt_3": 1.0}
    # CP-odd at the SM: the rate does not change at linear order, the generator's t has no rate term
    s = ev.score(theta_ref=0.0, method=method, rate_term=0.0)
    assert max_rel(s.t, df["t"]) < 1e-6
    assert s.thetas_used == (-1.0, 0.0, 1.0)
    # the rate term of the sample is the sample mean of t: small, not zero
    sample = ev.score(theta_ref=0.0, method=method)
    assert np.isclose(sample.rate_term, np.average(df["t"], weights=df["weight"]), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("method", ["morphing", "central"])
def test_zh_score_from_lhe_weights_is_the_exact_score(zh_round_trip, method):
    df, ev = zh_round_trip
    assert ev.parameter == "cHq3"            # found in the header: every weight sets it
    s = ev.score(theta_ref=0.0, method=method)      # rate term from the sample, as the generator
    assert max_rel(s.t, df["t"]) < 1e-6
    assert np.isclose(s.rate_term, df.attrs["dlogsigma_dtheta"], rtol=1e-9)


def test_scores_away_from_the_sm_and_a_generation_point_away_from_it(tmp_path):
    # WBF generated at theta = 1: weights relative to the generated events, the score at theta = 1
    df = wbf_cp_score(2000, theta=1.0, seed=7, momenta=True, n_pilot=20_000)
    write_wbf_lhe(df, tmp_path / "w.lhe", thetas=(0.0, 1.0, 2.0))
    ev = read_lhe(tmp_path / "w.lhe")
    assert np.allclose(ev.reweighting["rwgt_2"], df["weight"], rtol=1e-15)   # the generation point: nominal
    q = df.attrs["mean_q_sm"]
    s = ev.score(theta_ref=1.0, rate_term=2 * q / (1 + q))    # the generator's analytic rate term
    assert max_rel(s.t, df["t"]) < 1e-6
    # ZH generated at theta = 0.5, the score at 0.5 (rate term from the sample, as the generator)
    dz = zh_d6_score(2000, theta=0.5, seed=8, momenta=True, n_pilot=20_000)
    write_zh_d6_lhe(dz, tmp_path / "z.lhe", thetas=(0.0, 0.5, 1.0))
    s = read_lhe(tmp_path / "z.lhe").score(theta_ref=0.5, method="central")
    assert max_rel(s.t, dz["t"]) < 1e-6
    # ... and at the SM from the same file: the SM score of the same events
    s0 = read_lhe(tmp_path / "z.lhe").score(theta_ref=0.0)
    assert np.allclose(s0.dlog_weight, dz["t_sm"] + dz.attrs["dlogsigma_dtheta_sm"], rtol=1e-9, atol=1e-12)


def test_subset_after_cuts_gives_the_fiducial_score(zh_round_trip, tmp_path):
    df, ev = zh_round_trip
    fb = (FeatureBuilder().select("l", pdg=[11, -11], n=2).add("m_ll", "mass", "l1", "l2")
          .add("pT_l2", "pt", "l2"))
    X = fb.build(ev)
    assert np.allclose(X["m_ll"], df["m_ll"]) and np.allclose(X["pT_l2"], df["pT_l2"])
    cut = (X["pT_l2"] > 40).to_numpy()
    sub = ev.subset(cut)
    assert len(sub) == cut.sum() and sub.reweighting.shape == (cut.sum(), 4)
    s_all, s_cut = ev.score(), sub.score()
    assert np.allclose(s_cut.dlog_weight, s_all.dlog_weight[cut])
    # the rate term is that of the selected (fiducial) sample: E[t] = 0 on it
    assert abs(np.average(s_cut.t, weights=s_cut.reference_weights)) < 1e-12
    with pytest.raises(ValueError, match="boolean mask must have shape"):
        ev.subset(cut[:10])
    # a gzipped file (MadGraph writes .lhe.gz) reads the same
    import gzip
    import shutil
    with open(ev.path, "rb") as f, gzip.open(tmp_path / "zh.lhe.gz", "wb") as g:
        shutil.copyfileobj(f, g)
    gz = read_lhe(tmp_path / "zh.lhe.gz", max_events=100)
    assert len(gz) == 100 and np.array_equal(gz.reweighting.to_numpy(), ev.reweighting.to_numpy()[:100])


def test_lhe_file_carries_particles_header_and_weights(zh_round_trip):
    df, ev = zh_round_trip
    assert ev.weight_info["rwgt_1"] == "set param_card cHq3 -0.5"
    assert np.array_equal(ev.weights, df["weight"].to_numpy())
    first = ev.particles[0]
    assert list(first.id) in ([2, -2, 23, 25, 11, -11], [-2, 2, 23, 25, 11, -11],
                              [1, -1, 23, 25, 11, -11], [-1, 1, 23, 25, 11, -11])
    assert list(first.status) == [-1, -1, 2, 1, 1, 1]
    p = np.array([[first.E[i], first.px[i], first.py[i], first.pz[i]] for i in range(6)])
    assert np.allclose(p[0] + p[1], p[3] + p[4] + p[5], atol=1e-9)       # momentum conservation
    assert p[4, 0] == df["p3_E"].iloc[0]                                  # read back exactly


def test_wbf_features_from_lhe_are_the_datasets_observables(wbf_round_trip):
    df, ev = wbf_round_trip
    X = wbf_features().build(ev)
    assert list(X.columns) == list(FEATURES) + list(EXTRA_COLUMNS)
    for c in X.columns:
        assert np.allclose(X[c], df[c], rtol=1e-12, atol=1e-12), c
    assert (X["Delta_eta"] > 0).all()
    assert fisher_fraction(X["x_f"] * X["x_b"] * np.sin(X["Delta_phi"]), df["t"]) > 0.9


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


# ------------------------------------------------------------------ LHE: header and errors

def _write(tmp_path, name, thetas=(-1.0, 0.0, 1.0), w_ref=None, parameter="cWWtil"):
    n = 4
    rng = np.random.default_rng(2)
    p = rng.normal(size=(n, 3, 4))
    p[..., 0] = np.abs(p[..., 0]) + 10
    a = rng.normal(size=n)
    rw = {t: 1 + t * a for t in thetas}
    if w_ref is not None:
        rw[0.0] = w_ref
    path = tmp_path / name
    write_lhe(path, np.tile([2, 1, 25], (n, 1)), np.tile([-1, -1, 1], (n, 1)), np.zeros((n, 3, 2)),
              np.zeros((n, 3, 2)), p, np.zeros((n, 3)), np.ones(n), rw, parameter, scale=np.ones(n))
    return path


def test_parameter_settings_read_madgraph_lines():
    assert parameter_settings("set param_card dim6 2 1.0 # orig: 0.0\n") == {"dim6 2": 1.0}
    assert parameter_settings(" launch --rwgt_name=a\n set cWWtil -2.5d-1") == {"cWWtil": -0.25}
    assert parameter_settings("muR=2.0 muF=1.0") == {}


def test_lhe_without_reweighting_weights(tmp_path):
    path = tmp_path / "plain.lhe"
    path.write_text("<LesHouchesEvents version=\"3.0\">\n<init>\n2212 2212 6500 6500 0 0 -1 -1 3 1\n"
                    "1.0 0.0 1.0 1\n</init>\n<event>\n2 1 1.0 125.0 0.0078 0.118\n"
                    "2 -1 0 0 501 0 0 0 100 100 0 0 9\n25 1 1 1 0 0 0 0 100 100 125 0 9\n</event>\n"
                    "</LesHouchesEvents>\n")
    ev = read_lhe(path)
    assert len(ev) == 1 and ev.reweighting.shape == (1, 0)
    with pytest.raises(ValueError, match=r"has no reweighting weights \(no <rwgt> blocks"):
        ev.score()


def test_lhe_weight_ids_and_parameter_errors(tmp_path):
    path = _write(tmp_path, "a.lhe")
    ev = read_lhe(path)
    assert ev.thetas == {"rwgt_1": -1.0, "rwgt_2": 0.0, "rwgt_3": 1.0}
    with pytest.raises(ValueError, match=r"no weights at theta_ref = 0.5: the weights are at theta = \[-1.0, 0.0, 1.0\]"):
        ev.score(theta_ref=0.5, method="central")
    with pytest.raises(ValueError, match=r"weight ids \['rwgt_9'\] are not in .*its weights are \['rwgt_1', 'rwgt_2', 'rwgt_3'\]"):
        read_lhe(path, thetas={"rwgt_1": -1.0, "rwgt_9": 1.0})
    with pytest.raises(ValueError, match=r"no weight of .* sets the parameter 'dim6 2'.*set param_card cWWtil -1.0"):
        read_lhe(path, parameter="dim6 2")
    assert read_lhe(path, parameter="CWWTIL").thetas == ev.thetas     # MadGraph's names: any case
    by_hand = read_lhe(path, thetas={"rwgt_1": -2.0, "rwgt_3": 2.0, "rwgt_2": 0.0})
    assert np.allclose(by_hand.score(rate_term=0.0).t * 2, ev.score(rate_term=0.0).t)


def test_lhe_non_positive_reference_weights(tmp_path):
    path = _write(tmp_path, "neg.lhe", w_ref=np.array([1.0, -0.5, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"1 of 4 events have a non-positive weight at the reference theta_ref = 0.0 \(event 1: -0.5\)"):
        read_lhe(path).score()


def test_malformed_lhe_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no LHE file"):
        read_lhe(tmp_path / "missing.lhe")
    path = _write(tmp_path, "cut.lhe")
    text = path.read_text()
    (tmp_path / "truncated.lhe").write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not well-formed XML after"):
        read_lhe(tmp_path / "truncated.lhe")
    (tmp_path / "other.xml").write_text("<root><a/></root>")
    with pytest.raises(ValueError, match="not a readable Les Houches event file"):
        read_lhe(tmp_path / "other.xml")


# ------------------------------------------------------------------ features

def test_feature_builder_kinds_and_errors(wbf_round_trip):
    df, ev = wbf_round_trip
    fb = (FeatureBuilder().select("q", pdg=[1, 2, -1, -2], n=2, order_by="pt").select("H", pdg=[25])
          .add("pT_q1", "pt", "q1").add("dR", "delta_r", "q1", "q2").add("y_H", "rapidity", "H")
          .add("E_H", "energy", "H").add("phi_H", "phi", "H").add("pT_qq", "pt", "q1", "q2")
          .add("ratio", lambda o: o["q2"].pt / o["q1"].pt))
    X = fb.build(ev)
    assert (X["ratio"] <= 1).all()                       # ordered by pT
    assert np.allclose(X["pT_qq"], df["pT_H"])           # at parton level pT_H = |pT_1 + pT_2|
    assert np.allclose(np.maximum(df["x_f"], df["x_b"]) * 125.0, X["pT_q1"])
    with pytest.raises(ValueError, match=r"select\('g'\): 10000 of 10000 events have fewer than 1 such objects"):
        FeatureBuilder().select("g", pdg=[21]).add("pt_g", "pt", "g").build(ev)
    with pytest.raises(ValueError, match="unknown feature kind 'theta'"):
        FeatureBuilder().add("x", "theta", "j1")
    with pytest.raises(ValueError, match="'delta_phi' needs 2 object"):
        FeatureBuilder().add("x", "delta_phi", "j1")
    with pytest.raises(ValueError, match=r"uses objects \['j3'\] that are not selected"):
        wbf_features().add("x", "pt", "j3").build(ev)


# ------------------------------------------------------------------ Delphes

def _delphes_file(path, with_mass=True):
    import awkward as ak
    import uproot

    jet = {"PT": [[120.0, 45.0, 31.0], [80.0], [60.0, 50.0]], "Eta": [[0.5, -3.0, 1.0], [2.0], [-1.0, 3.5]],
           "Phi": [[0.1, 2.0, -2.5], [1.0], [3.0, -3.0]], "Mass": [[10.0, 5.0, 4.0], [8.0], [6.0, 7.0]],
           "BTag": [[0, 1, 0], [0], [1, 0]]}
    if not with_mass:
        del jet["Mass"]
    jets = ak.zip({k: ak.Array(v) for k, v in jet.items()})
    electrons = ak.zip({"PT": ak.Array([[30.0], [], [25.0]]), "Eta": ak.Array([[0.2], [], [-0.4]]),
                        "Phi": ak.Array([[0.5], [], [1.5]]), "Charge": ak.Array([[-1], [], [1]])})
    muons = ak.zip({"PT": ak.Array([[], [40.0], []]), "Eta": ak.Array([[], [1.1], []]),
                    "Phi": ak.Array([[], [-0.3], []]), "Charge": ak.Array([[], [-1], []])})
    photons = ak.zip({"PT": ak.Array([[], [], [70.0]]), "Eta": ak.Array([[], [], [0.0]]),
                      "Phi": ak.Array([[], [], [0.7]]), "E": ak.Array([[], [], [70.0]])})
    event = ak.zip({"Weight": ak.Array([[1.5], [0.5], [2.0]])})
    branches = {"Event": event, "Jet": jets, "Electron": electrons, "Muon": muons, "Photon": photons}
    with uproot.recreate(path) as f:      # a TTree with Delphes' names: Jet_size, Jet.PT, ...
        t = f.mktree("Delphes", {k: v.type.content for k, v in branches.items()},
                     counter_name=lambda c: c + "_size", field_name=lambda outer, inner: outer + "." + inner)
        t.extend(branches)
    return jet


def test_delphes_tree_reads_back_the_jets(tmp_path):
    jet = _delphes_file(tmp_path / "delphes.root")
    ev = read_delphes(tmp_path / "delphes.root")
    assert len(ev) == 3
    assert np.array_equal(ev.weights, [1.5, 0.5, 2.0])
    jets = ev.collection("Jet")
    assert [list(x) for x in jets.PT] == jet["PT"] and [list(x) for x in jets.BTag] == jet["BTag"]
    # features of the two leading jets with pT > 40, ordered by eta, and a lepton of either flavour
    fb = (FeatureBuilder().select("j", collection="Jet", n=2, order_by="eta", where=lambda c: c.PT > 40)
          .select("l", collection=("Electron", "Muon"))
          .add("m_jj", "mass", "j1", "j2").add("Delta_phi", "delta_phi", "j1", "j2").add("pT_l", "pt", "l"))
    with pytest.raises(ValueError, match=r"1 of 3 events have fewer than 2 such objects \(event 1 has 1\)"):
        fb.build(ev)
    keep = fb.complete(ev)
    assert keep.tolist() == [True, False, True]
    sub = ev.subset(keep)
    assert np.array_equal(sub.weights, [1.5, 2.0])
    X = fb.build(sub)
    assert np.allclose(X["pT_l"], [30.0, 25.0])

    def p4(pt, eta, phi, m):
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        return np.array([np.sqrt(px ** 2 + py ** 2 + pz ** 2 + m ** 2), px, py, pz])

    s = p4(120.0, 0.5, 0.1, 10.0) + p4(45.0, -3.0, 2.0, 5.0)
    assert np.isclose(X["m_jj"][0], np.sqrt(s[0] ** 2 - s[1] ** 2 - s[2] ** 2 - s[3] ** 2), rtol=1e-6)
    assert np.isclose(X["Delta_phi"][0], 0.1 - 2.0)                 # forward minus backward
    assert np.isclose(X["Delta_phi"][1], -3.0 - 3.0 + 2 * np.pi)    # wrapped into (-pi, pi]


def test_delphes_missing_branches_tree_and_file(tmp_path):
    _delphes_file(tmp_path / "nomass.root", with_mass=False)
    with pytest.raises(ValueError, match=r"lacks the branches \['Jet.Mass'\]; it has .*'Jet.PT'"):
        read_delphes(tmp_path / "nomass.root")
    assert len(read_delphes(tmp_path / "nomass.root", collections=("Electron", "Muon"))) == 3
    with pytest.raises(ValueError, match=r"has no tree 'Events'; its trees are \['Delphes'\]"):
        read_delphes(tmp_path / "nomass.root", tree="Events")
    with pytest.raises(ValueError, match="unknown collections"):
        read_delphes(tmp_path / "nomass.root", collections=("Tower",))
    with pytest.raises(FileNotFoundError, match="no ROOT file"):
        read_delphes(tmp_path / "missing.root")
    import awkward as ak
    import uproot
    with uproot.recreate(tmp_path / "rntuple.root") as f:      # uproot's default: an RNTuple, not a TTree
        f["Delphes"] = {"Jet": ak.zip({"PT": ak.Array([[50.0]])})}
    with pytest.raises(ValueError, match=r"its trees are none \(other objects: \{'Delphes': 'ROOT::RNTuple'\}\)"):
        read_delphes(tmp_path / "rntuple.root")


# ------------------------------------------------------------------ optional packages

def test_core_imports_without_the_events_extra_and_the_readers_say_what_to_install():
    code = ("import sys\n"
            "for m in ('pylhe', 'uproot', 'awkward', 'vector'):\n"
            "    sys.modules[m] = None\n"
            "import keplersr, keplersr.physics, keplersr.datasets.wbf_lhe\n"
            "from keplersr.physics import read_lhe, fisher_fraction\n"
            "try:\n"
            "    read_lhe(sys.argv[1])\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-c", code, __file__], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "optional package 'pylhe'" in r.stdout and "pip install 'keplersr[events]'" in r.stdout


# ------------------------------------------------------------------ the regression on LHE input

@pytest.mark.julia
def test_search_on_lhe_events_finds_the_in_memory_formula(tmp_path, julia_worker):
    from keplersr import SymbolicRegressor

    df = wbf_cp_score(1500, seed=11, momenta=True, n_pilot=20_000)
    write_wbf_lhe(df, tmp_path / "w.lhe")
    ev = read_lhe(tmp_path / "w.lhe")
    X_lhe, t_lhe = wbf_features().build(ev), ev.score(rate_term=0.0).t
    cols = ["x_f", "x_b", "Delta_phi"]

    def fit(X, t):
        m = SymbolicRegressor(binary_operators=["+", "*"], unary_operators=["sin"], maxsize=9, niterations=3,
                              populations=3, population_size=30, ncycles_per_iteration=100, random_state=0,
                              deterministic=True, procs=1, verbosity=0, progress=False, output_directory=None)
        m.fit(X[cols], 10 * np.asarray(t))
        return m

    a, b = fit(df, df["t"]), fit(X_lhe, t_lhe)
    (sa, ca), (sb, cb) = shape_and_constants(a.sympy()), shape_and_constants(b.sympy())
    assert sa == sb and np.allclose(ca, cb, rtol=1e-9), (a.sympy(), b.sympy())     # the inputs agree to ~1e-11


def shape_and_constants(expr):
    """A formula's shape (its floats replaced by one symbol) and its floats in traversal order."""
    import sympy

    floats = [f for f in sympy.preorder_traversal(expr) if isinstance(f, sympy.Float)]
    return str(expr.xreplace({f: sympy.Symbol("c") for f in floats})), [float(f) for f in floats]
