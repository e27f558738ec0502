"""Tests for the SRBench judge and the AI-Feynman study machinery (fake estimators, no Julia).

The peers' operators, formulas and drivers: tests/test_peers.py; the report: tests/test_study_report.py.
"""

import threading
import time

import numpy as np
import pandas as pd
import pytest
import sympy

from keplersr.study import feynman_study, peers
from keplersr.study.feynman_study import AIFEYNMAN_TIMES_S, run_study
from keplersr.study.srbench_judge import JudgeTimeout, judge, r2_score, round_constants, run_with_timeout

from keplersr.datasets.feynman import FEYNMAN_CSV as CSV
from keplersr.datasets.feynman import FEYNMAN_UNITS as UNITS


x, y = sympy.symbols("x y", real=True)

# ---------------------------------------------------------------- judge


def test_judge_recovers_after_rounding():
    res = judge(2 * x, 2.00001 * x)
    assert res.recovered, res.reason
    assert res.model_rounded == 2.0 * x
    # assumptions do not matter, names do
    assert judge(2 * x, 2.00001 * sympy.Symbol("x")).recovered


def test_judge_recovers_constant_offset_and_scale():
    gauss = sympy.exp(-x**2 / 2) / sympy.sqrt(2 * sympy.pi)
    assert judge(gauss, 0.39894 * sympy.exp(-0.5 * x * x)).recovered
    assert judge(x * sympy.sin(y), "x*sin(y) + 3.0").recovered  # truth - model = -3


def test_judge_rejects_wrong_formula():
    res = judge(2 * x, x**2)
    assert not res.recovered and "numeric pre-check" in res.reason
    res = judge(x * sympy.sin(y), x * sympy.cos(y), numeric_precheck=False)
    assert not res.recovered and "neither" in res.reason
    # rounding to 3 decimals does not rescue a wrong exponent constant
    assert not judge(sympy.exp(x), sympy.exp(1.01 * x)).recovered


@pytest.mark.parametrize("truth, model", [
    ("sqrt(x*y)", "sqrt(x)*sqrt(y)"),
    ("x*log(y/x)", "-x*log(x/y)"),
    ("x*(1 + y)", "Abs(x) + y*x"),
    ("x/sqrt(1 - y**2/x**2)", "x**2/sqrt(x**2 - y**2)"),
])
def test_positive_domain_verdict_accepts_what_real_symbols_reject(truth, model):
    assert not judge(truth, model).recovered
    assert judge(truth, model, positive=True).recovered
    assert not judge(truth, "sqrt(x) + sqrt(y)", positive=True).recovered


def test_round_constants_and_constant_model():
    assert round_constants(2.00049 * x + 0.00003) == 2.0 * x
    res = judge(2 * x, 0.00002 * x + 5.0)
    assert not res.recovered and "constant" in res.reason


def test_judge_timeout_main_thread():
    truth = x * sympy.sin(y) + sympy.cos(x) ** 2
    model = x * sympy.sin(y) + 1 - sympy.sin(x) ** 2
    assert judge(truth, model, timeout=10).recovered  # the identity needs simplify
    res = judge(truth, model, timeout=1e-5, numeric_precheck=False)
    assert res.timed_out and not res.recovered and "timed out" in res.reason


def test_judge_timeout_off_main_thread_uses_child_process():
    truth = x * sympy.sin(y) + sympy.cos(x) ** 2
    model = x * sympy.sin(y) + 1 - sympy.sin(x) ** 2
    out = {}

    def work():
        out["slow"] = judge(truth, model, timeout=1e-3, numeric_precheck=False)
        out["ok"] = judge(truth, model, timeout=20)

    t = threading.Thread(target=work)
    t.start()
    t.join(60)
    assert out["slow"].timed_out and not out["slow"].recovered
    assert out["ok"].recovered and not out["ok"].timed_out


def _slow(seconds):
    time.sleep(seconds)
    return "finished"


def test_run_with_timeout_both_paths():
    assert run_with_timeout(_slow, (0.0,), 5) == "finished"
    t0 = time.perf_counter()
    with pytest.raises(JudgeTimeout):
        run_with_timeout(_slow, (5.0,), 0.2)
    assert time.perf_counter() - t0 < 2
    errors = []

    def in_thread():
        try:
            run_with_timeout(_slow, (5.0,), 0.2)
        except JudgeTimeout:
            errors.append("timeout")

    t = threading.Thread(target=in_thread)
    t0 = time.perf_counter()
    t.start()
    t.join(10)
    assert errors == ["timeout"] and time.perf_counter() - t0 < 4


def test_r2_score():
    yt = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2_score(yt, yt) == 1.0
    assert r2_score(yt, np.full(4, yt.mean())) == 0.0
    assert r2_score(yt, [1, 2, 3, np.nan]) == float("-inf")
    with pytest.raises(ValueError, match="4 values"):
        r2_score(yt, [1.0, 2.0])


# ---------------------------------------------------------------- study with fake estimators


class FakeEstimator:
    """Mimics SymbolicRegressor's fitted attributes. ``mode``: 'truth', 'wrong' or 'fail'."""

    calls = []

    def __init__(self, equation, mode="truth"):
        self.eq = equation
        self.mode = mode

    def fit(self, X, y, X_units=None, y_units=None):
        FakeEstimator.calls.append((self.eq.name, X_units, y_units))
        if self.mode == "fail":
            raise RuntimeError("engine crashed")
        syms = {n: sympy.Symbol(n, real=True) for n in X.columns}
        first = syms[X.columns[0]]
        truth = self.eq.expr.xreplace({s: syms[s.name] for s in self.eq.expr.free_symbols})
        rows = [
            (1, float(np.var(y)), sympy.Float(float(np.mean(y)))),
            (3, 1.0, 2.5 * first),
        ]
        if self.mode == "truth":
            rows.append((12, 1e-12, 1.00001 * truth))
        self.equations_ = pd.DataFrame(
            {
                "complexity": [r[0] for r in rows],
                "loss": [r[1] for r in rows],
                "score": [0.0] * len(rows),
                "equation": [str(r[2]) for r in rows],
                "sympy_format": [r[2] for r in rows],
                "lambda_format": [None] * len(rows),
            }
        )
        recs = [{"complexity": c, "loss": l, "equation": str(e), "sympy_format": e} for c, l, e in rows]
        self.history_ = [
            {"elapsed": 0.5, "records": recs[:2]},
            {"elapsed": 2.25, "records": recs},
        ]
        return self


def factory_for(mode_by_name=None, default="truth"):
    def factory(equation, budget_seconds, seed):
        return FakeEstimator(equation, (mode_by_name or {}).get(equation.name, default))

    return factory


def test_study_runs_writes_outputs_and_resumes(tmp_path):
    csv = CSV
    FakeEstimator.calls = []
    names = ["I.12.1", "I.10.7", "II.11.3"]
    frame = run_study(
        csv, tmp_path, names=names, budget_seconds=5, n_rows=200, n_test=200,
        estimator_factory=factory_for({"II.11.3": "wrong"}),
    )
    assert list(frame["name"]) == names
    by = frame.set_index("name")
    assert by.loc["I.12.1", "recovered"] and by.loc["I.10.7", "recovered"]
    assert not by.loc["II.11.3", "recovered"]
    assert by.loc["I.12.1", "time_to_recovery_s"] == 2.25
    assert by.loc["I.12.1", "time_source"] == "history"
    assert by.loc["I.12.1", "r2_heldout"] > 0.999 and by.loc["I.12.1", "r2_above_0999"]
    assert by.loc["II.11.3", "r2_heldout"] < 0.9 and not by.loc["II.11.3", "r2_above_0999"]
    assert np.isnan(by.loc["II.11.3", "time_to_recovery_s"])
    assert by.loc["I.10.7", "aifeynman_time_s"] == AIFEYNMAN_TIMES_S["I.10.7"] == 14
    assert np.isnan(by.loc["I.12.1", "aifeynman_time_s"])
    assert len(FakeEstimator.calls) == 3

    for f in ("results.csv", "results.md", "recovery_rate_vs_budget.png"):
        assert (tmp_path / f).stat().st_size > 0, f
    assert (tmp_path / "recovery_rate_vs_budget.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "results.md").read_text()
    assert "**2 / 3 (67%)**" in md and "| I.10.7 |" in md and "| 14 |" in md

    # resume: the three done equations are skipped, only the new one is fitted
    FakeEstimator.calls = []
    frame2 = run_study(
        csv, tmp_path, names=names + ["I.34.27"], budget_seconds=5, n_rows=200, n_test=200,
        estimator_factory=factory_for(),
    )
    assert [c[0] for c in FakeEstimator.calls] == ["I.34.27"]
    assert len(frame2) == 4 and not frame2.set_index("name").loc["II.11.3", "recovered"]
    assert "**3 / 4 (75%)**" in (tmp_path / "results.md").read_text()
    assert frame2["recovered_positive"].tolist() == frame2["recovered"].tolist()

    # a results file from before the positive-domain verdict gets it on resume, without refitting
    old = pd.read_csv(tmp_path / "results.csv").drop(columns=["recovered_positive"])
    old.loc[old["name"] == "II.11.3", "selected_formula"] = "q*Ef*Abs(m)/(m**2*(omega_0**2 - omega**2))"
    old.to_csv(tmp_path / "results.csv", index=False)
    FakeEstimator.calls = []
    frame2 = run_study(
        csv, tmp_path, names=names + ["I.34.27"], budget_seconds=5, n_rows=200, n_test=200,
        estimator_factory=factory_for(),
    )
    by = frame2.set_index("name")
    assert FakeEstimator.calls == [] and bool(by.loc["II.11.3", "recovered_positive"])
    assert not by.loc["II.11.3", "recovered"] and by.loc["I.12.1", "recovered_positive"]

    with pytest.raises(ValueError, match="budget_s"):
        run_study(csv, tmp_path, names=names, budget_seconds=10, n_rows=200, estimator_factory=factory_for())
    # resume=False starts afresh
    frame3 = run_study(
        csv, tmp_path, names=["I.12.1"], budget_seconds=10, n_rows=200, n_test=200,
        estimator_factory=factory_for(), resume=False,
    )
    assert list(frame3["name"]) == ["I.12.1"]


def test_study_records_failures_and_retries_them(tmp_path):
    csv = CSV
    frame = run_study(
        csv, tmp_path, names=["I.12.1", "I.14.3"], budget_seconds=5, n_rows=100, n_test=100,
        estimator_factory=factory_for({"I.14.3": "fail"}),
    )
    status = frame.set_index("name")["status"]
    assert status["I.12.1"] == "ok" and "engine crashed" in status["I.14.3"]
    FakeEstimator.calls = []
    frame = run_study(
        csv, tmp_path, names=["I.12.1", "I.14.3"], budget_seconds=5, n_rows=100, n_test=100,
        estimator_factory=factory_for(),
    )
    assert [c[0] for c in FakeEstimator.calls] == ["I.14.3"]
    assert list(frame["status"]) == ["ok", "ok"] and frame["recovered"].all()


def test_study_passes_units(tmp_path):
    csv, units = CSV, UNITS
    FakeEstimator.calls = []
    frame = run_study(
        csv, tmp_path, names=["I.12.1"], budget_seconds=5, n_rows=100, n_test=100,
        units_path=units, estimator_factory=factory_for(),
    )
    assert bool(frame["units_passed"].iloc[0])
    name, x_units, y_units = FakeEstimator.calls[0]
    assert x_units == ["1", "m*s^-2*kg"] and y_units == "m*s^-2*kg"  # mu, Nn -> F


def test_cli_main(tmp_path, monkeypatch, capsys):
    csv = CSV
    monkeypatch.setattr(feynman_study, "default_estimator_factory", factory_for())
    # no --csv: the table shipped with the package
    code = feynman_study.main(
        ["--out", str(tmp_path), "--budget", "3", "--noise", "0.01",
         "--names", "I.6.2a,I.12.1", "--rows", "100", "--methods", "keplersr"]
    )
    assert code == 0
    assert "recovered 2 of 2" in capsys.readouterr().out
    frame = pd.read_csv(tmp_path / "results.csv")
    assert list(frame["name"]) == ["I.6.2a", "I.12.1"] and (frame["noise"] == 0.01).all()
    assert feynman_study.main(["--csv", str(csv), "--out", str(tmp_path / "x"), "--names", "I.99"]) == 2


# ---------------------------------------------------------------- the comparison: every method on identical data


def _recording(factory, log, method):
    """Wrap ``factory`` so the estimator it builds records what its ``fit`` receives."""

    def wrapped(**kwargs):
        est = factory(**kwargs)
        base = type(est)

        class Recorder(base):
            def fit(self, X, y, *args, **kw):
                log.append({"method": method, "X": np.array(X, dtype=float), "y": np.array(y, dtype=float),
                            "kwargs": kwargs})
                return super().fit(X, y, *args, **kw)

        Recorder.__name__ = base.__name__
        est.__class__ = Recorder
        return est

    wrapped.__signature__ = __import__("inspect").signature(factory)
    return wrapped


def test_identical_data_reach_every_method_and_resume_per_method(tmp_path):
    pytest.importorskip("pyoperon")
    pytest.importorskip("gplearn")
    log = []

    def fake_keplersr(equation, budget_seconds, seed, threads, binary_operators, unary_operators):
        est = FakeEstimator(equation)
        fit = est.fit

        def recording_fit(X, y, **kw):
            log.append({"method": "keplersr", "X": np.array(X, dtype=float), "y": np.array(y, dtype=float),
                        "kwargs": dict(budget_seconds=budget_seconds, seed=seed, threads=threads,
                                       binary_operators=binary_operators, unary_operators=unary_operators)})
            return fit(X, y, **kw)

        est.fit = recording_fit
        return est

    factories = {"keplersr": fake_keplersr,
                 "pyoperon": _recording(peers.pyoperon_factory, log, "pyoperon"),
                 "gplearn": _recording(peers.gplearn_factory, log, "gplearn")}
    ops = dict(binary_operators=["+", "-", "*", "/"], unary_operators=["sin", "exp", "square"])
    common = dict(names=["I.12.1"], budget_seconds=1.0, n_rows=150, n_test=100, seed=4, threads=2, **ops)
    frame = run_study(CSV, tmp_path, methods=["keplersr", "gplearn"], estimator_factory=factories, **common)
    assert list(frame["method"]) == ["keplersr", "gplearn"] and (frame["status"] == "ok").all()
    frame = run_study(CSV, tmp_path, methods="keplersr,pyoperon,gplearn", estimator_factory=factories, **common)
    # resume: only the missing (equation, method) pair was fitted
    ms = [r["method"] for r in log]  # gplearn's driver calls fit once per generation
    assert [m for i, m in enumerate(ms) if i == 0 or ms[i - 1] != m] == ["keplersr", "gplearn", "pyoperon"]
    first = {}
    for r in log:
        first.setdefault(r["method"], r)
    ref = first["keplersr"]
    for m in ("pyoperon", "gplearn"):
        rtol = 1e-6 if m == "pyoperon" else 0  # pyoperon computes in float32
        np.testing.assert_allclose(first[m]["X"], ref["X"], rtol=rtol)
        np.testing.assert_allclose(first[m]["y"], ref["y"], rtol=rtol)
        for k in ("budget_seconds", "seed", "threads", "binary_operators", "unary_operators"):
            assert first[m]["kwargs"][k] == ref["kwargs"][k], (m, k)
    assert ref["X"].shape == (150, 2) and ref["kwargs"]["threads"] == 2 and ref["kwargs"]["seed"] == 4

    by = frame.set_index("method")
    assert list(frame["method"]) == ["keplersr", "gplearn", "pyoperon"] and (frame["status"] == "ok").all()
    assert by.loc["keplersr", "recovered"] and by.loc["keplersr", "time_source"] == "history"
    assert by.loc["pyoperon", "operators"] == "add sub mul div sin exp square"
    assert by.loc["gplearn", "operators"] == "add sub mul div sin exp* square*"
    g = by.loc["gplearn"]
    assert g["candidates_source"] == "population_size x generations" and g["n_candidates"] % 1000 == 0
    assert g["fit_time_s"] >= 0.6 or g["recovered"]  # generation by generation until (nearly) the whole budget
    assert by.loc["pyoperon", "candidates_per_s"] > 0 and np.isfinite(by.loc["pyoperon", "r2_heldout"])
    md = (tmp_path / "results.md").read_text()
    assert md.count("| Method | Recovered (selected) |") == 1
    assert all(f"| {m} | **" in md for m in ("keplersr", "pyoperon", "gplearn"))
    # nothing left to do: no fit at all
    n = len(log)
    run_study(CSV, tmp_path, methods="keplersr,pyoperon,gplearn", estimator_factory=factories, **common)
    assert len(log) == n
    with pytest.raises(ValueError, match="threads"):
        run_study(CSV, tmp_path, methods="keplersr", estimator_factory=factories, **{**common, "threads": 1})
    with pytest.raises(ValueError, match="operators"):
        run_study(CSV, tmp_path, methods="pyoperon", estimator_factory=factories,
                  **{**common, "unary_operators": ["cos"]})


def test_missing_peer_names_the_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(peers._PEER_MODULES, "pyoperon", "keplersr_no_such_module")
    with pytest.raises(peers.MissingPeerError, match=r"pip install 'keplersr\[compare\]'"):
        run_study(CSV, tmp_path, names=["I.12.1"], methods="keplersr,pyoperon")
    code = feynman_study.main(["--out", str(tmp_path), "--names", "I.12.1", "--methods", "pyoperon"])
    assert code == 2 and "keplersr[compare]" in capsys.readouterr().err
    assert feynman_study.main(["--out", str(tmp_path), "--methods", "keplersr,eureqa"]) == 2
    assert "unknown method" in capsys.readouterr().err
    # a factory given for the peer stands in for the package
    frame = run_study(CSV, tmp_path, names=["I.12.1"], methods=["keplersr"], n_rows=50, n_test=50,
                      estimator_factory={"keplersr": factory_for()})
    assert list(frame["method"]) == ["keplersr"]


def test_old_results_file_is_not_mixed_in(tmp_path):
    pd.DataFrame({"name": ["I.12.1"], "status": ["ok"], "recovered": [True]}).to_csv(tmp_path / "results.csv",
                                                                                      index=False)
    with pytest.raises(ValueError, match="no 'method' column"):
        run_study(CSV, tmp_path, names=["I.12.1"], estimator_factory=factory_for())
    frame = run_study(CSV, tmp_path, names=["I.12.1"], n_rows=50, n_test=50, estimator_factory=factory_for(),
                      resume=False)
    assert list(frame["method"]) == ["keplersr"]


def test_sample_of_equations_is_seeded_and_printed(tmp_path, monkeypatch, capsys):
    from keplersr.datasets.feynman import load_feynman_equations

    eqs = load_feynman_equations()
    a = feynman_study.sample_equations(eqs, 30, seed=7)
    assert len(a) == 30 and [e.name for e in a] == [e.name for e in feynman_study.sample_equations(eqs, 30, 7)]
    assert [e.name for e in a] != [e.name for e in feynman_study.sample_equations(eqs, 30, 8)]
    pos = [eqs.index(e) for e in a]
    assert pos == sorted(pos)  # table order kept
    assert len(feynman_study.sample_equations(eqs, 500)) == len(eqs)
    monkeypatch.setattr(feynman_study, "default_estimator_factory", factory_for())
    code = feynman_study.main(["--out", str(tmp_path), "--methods", "keplersr", "--sample", "3",
                               "--sample-seed", "5", "--rows", "60", "--budget", "2", "--threads", "1",
                               "--unary-operators", "sin,exp", "--binary-operators", "+ *"])
    out = capsys.readouterr().out
    expected = [e.name for e in feynman_study.sample_equations(eqs, 3, 5)]
    assert code == 0 and f"sampled 3 of {len(eqs)} equations (sample seed 5): " + ",".join(expected) in out
    frame = pd.read_csv(tmp_path / "results.csv")
    assert list(frame["name"]) == expected and (frame["threads"] == 1).all()
    assert (frame["operators"] == "+ * sin exp").all()


@pytest.mark.slow
def test_keplersr_through_the_study(tmp_path, julia_worker):
    frame = run_study(CSV, tmp_path, names=["I.12.1"], budget_seconds=3, n_rows=500, n_test=200,
                      methods=["keplersr"], threads=julia_worker.threads)
    row = frame.iloc[0]
    assert row["status"] == "ok", row["status"]
    assert row["recovered"] and row["on_front"] and row["r2_above_0999"]
    assert row["candidates_source"] == "engine evals" and row["candidates_per_s"] > 0
    assert row["time_source"] in ("history", "fit_wall_time")


def test_keplersr_options_reach_the_estimator_and_are_checked(tmp_path, monkeypatch, capsys):
    from keplersr.study import feynman_study

    seen = []

    def factory(equation, budget_seconds, seed, options=None):
        seen.append(options)
        return FakeEstimator(equation)

    run_study(CSV, tmp_path, names=["I.12.1"], budget_seconds=5, n_rows=100, n_test=100,
              estimator_factory=factory, keplersr_options={"decompose_units": False})
    assert seen == [{"decompose_units": False}]
    with pytest.raises(ValueError, match="unknown KeplerSR option"):
        run_study(CSV, tmp_path / "x", names=["I.12.1"], budget_seconds=5, n_rows=100, n_test=100,
                  estimator_factory=factory, keplersr_options={"decompose_unit": False})
    assert feynman_study._parse_options(["decompose_units=False", "model_selection=accuracy"]) == {
        "decompose_units": False, "model_selection": "accuracy"}
    assert feynman_study.main(["--out", str(tmp_path / "y"), "--keplersr-option", "nonsense"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    # the default factory applies them
    est = feynman_study.default_estimator_factory(None, 5.0, 0, options={"decomposition_depth": 1})
    assert est.decomposition_depth == 1 and est.timeout_in_seconds == 5.0
