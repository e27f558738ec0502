"""Tests for the SRBench judge and the AI-Feynman study machinery (fake estimators, no Julia)."""

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy

from keplersr.benchmarks import feynman_study
from keplersr.benchmarks.feynman_study import AIFEYNMAN_TIMES_S, run_study
from keplersr.benchmarks.srbench_judge import JudgeTimeout, judge, r2_score, round_constants, run_with_timeout

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


# ---------------------------------------------------------------- the comparison: peers, operators, report

from keplersr.benchmarks import peers  # noqa: E402
from keplersr.benchmarks.study_report import plot_recovery, summary_table, write_markdown  # noqa: E402


class _Node:
    """A stand-in for a gplearn function node (only name and arity matter to the converter)."""

    def __init__(self, name, arity):
        self.name, self.arity = name, arity


def test_gplearn_to_sympy_prefix_programs():
    a, b = sympy.symbols("a b", real=True)
    add, mul, div, sqrt, log = (_Node("add", 2), _Node("mul", 2), _Node("div", 2), _Node("sqrt", 1),
                                _Node("log", 1))
    conv = peers.gplearn_to_sympy
    assert conv([add, mul, 0, 1, 0.5], [a, b]) == a * b + 0.5
    assert conv([div, sqrt, 0, log, 1], [a, b]) == sympy.sqrt(a) / sympy.log(b)
    custom = [_Node(n, 1) for n in ("exp", "square", "tanh", "asin", "acos")]
    assert conv([custom[0], custom[1], 0], [a]) == sympy.exp(a**2)
    assert conv([_Node("sub", 2), custom[2], 0, _Node("mul", 2), custom[3], 1, custom[4], 0], [a, b]) == (
        sympy.tanh(a) - sympy.asin(b) * sympy.acos(a))
    assert conv([_Node("neg", 1), _Node("inv", 1), 1], [a, b]) == -1 / b
    with pytest.raises(ValueError, match="trailing"):
        conv([0, 1], [a, b])
    with pytest.raises(ValueError, match="truncated"):
        conv([add, 0], [a])
    with pytest.raises(ValueError, match="no sympy form"):
        conv([_Node("frobnicate", 1), 0], [a])


def test_gplearn_function_set_and_constant_folding():
    pytest.importorskip("gplearn")
    fs = peers.gplearn_function_set(["+", "-", "*", "/"], peers.operator_plan("keplersr", [], [
        "sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]).given)
    names = [f if isinstance(f, str) else f.name for f in fs]
    assert names == ["add", "sub", "mul", "div", "sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]
    funcs = {f.name: f for f in fs if not isinstance(f, str)}
    assert set(funcs) == {"exp", "square", "tanh", "asin", "acos"}
    big = np.array([-1e300, -5.0, 0.0, 2.0, 1e300])
    for f in funcs.values():  # protected: finite everywhere, as gplearn's own functions are
        assert np.all(np.isfinite(f(big))), f.name
    # a constant subtree is folded with gplearn's protected function: asin(1.5) is asin(1), not complex
    a = sympy.Symbol("a", real=True)
    expr = peers.gplearn_to_sympy([funcs["asin"], 1.5], [a])
    assert expr == sympy.Float(np.pi / 2)
    from gplearn.functions import _function_map

    expr = peers.gplearn_to_sympy([_function_map["add"], 0, _function_map["log"], -2.0], [a])
    assert sympy.simplify(expr - (a + float(np.log(2.0)))) == 0


def test_gplearn_program_converts_to_what_gplearn_predicts():
    pytest.importorskip("gplearn")
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (300, 2))
    y = X[:, 0] * X[:, 1] + np.exp(X[:, 0] / 3)
    est = peers.gplearn_factory(budget_seconds=1, seed=3, threads=1, binary_operators=["+", "-", "*", "/"],
                                unary_operators=["exp", "sqrt", "log", "square", "tanh"])
    est.set_params(generations=3, population_size=300)
    est.fit(X, y)
    syms = sympy.symbols("a b", real=True)
    expr = peers.gplearn_to_sympy(est._program, syms)
    f = sympy.lambdify(syms, expr, "numpy")
    np.testing.assert_allclose(np.broadcast_to(f(X[:, 0], X[:, 1]), (300,)), est.predict(X), rtol=1e-6, atol=1e-9)


def test_parse_operon_model_strings():
    theta, lam = sympy.symbols("theta lambd", real=True)
    parse = peers.parse_operon_model
    assert parse("((-0.5) + (2.0 * (0.25 * x0)))", [theta, lam]) == sympy.Float(-0.5) + sympy.Float(0.5) * theta
    e = parse("(1.5 * ((sin(x0) ^ 2) / sqrt(1 + x1 ^ 2)))", [theta, lam])
    assert sympy.simplify(e - 1.5 * sympy.sin(theta) ** 2 / sympy.sqrt(1 + lam**2)) == 0
    assert parse("max(x0, log(abs(x1)))", [theta, lam]) == sympy.Max(theta, sympy.log(sympy.Abs(lam)))
    assert parse("(asin(x0) - acos(x1)) * tanh(exp(x0))", [theta, lam]) == (
        (sympy.asin(theta) - sympy.acos(lam)) * sympy.tanh(sympy.exp(theta)))
    # names that are sympy functions or constants in the data are placeholders here: no clash possible
    I, gamma = sympy.Symbol("I", real=True), sympy.Symbol("gamma", real=True)
    assert parse("x0 * x1", [I, gamma]) == I * gamma


def test_pyoperon_model_string_converts_to_what_pyoperon_predicts():
    pytest.importorskip("pyoperon")
    from keplersr.datasets.feynman import load_feynman_equations, sample, select

    eq = select(load_feynman_equations(), ["I.12.1"])[0]
    X, y = sample(eq, 300, seed=1)
    est = peers.pyoperon_factory(budget_seconds=1, seed=1, threads=1, binary_operators=["+", "-", "*", "/"],
                                 unary_operators=["sin", "exp"])
    out = peers.run_method("pyoperon", est, X, y, 1, eq.symbols)
    assert out.selected is not None and out.front and all(f[1] is not None for f in out.front)
    assert out.selected.free_symbols <= set(eq.symbols.values())
    from keplersr.benchmarks.study_judging import predict_formula

    pred = predict_formula(out.selected, X)
    np.testing.assert_allclose(pred, out.predict(X), rtol=1e-4, atol=1e-4 * float(np.abs(y).max()))
    assert out.n_candidates >= est.population_size and out.candidates_source


def test_operator_plans():
    unary = feynman_study.DEFAULT_UNARY_OPERATORS
    assert unary == ["sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]
    binary = feynman_study.DEFAULT_BINARY_OPERATORS
    op = peers.operator_plan("pyoperon", binary, unary)
    assert op.given == ["add", "sub", "mul", "div"] + unary and not op.missing
    assert peers.pyoperon_symbols(binary, ["sin"]) == "add,sub,mul,div,sin,constant,variable"
    gp = peers.operator_plan("gplearn", binary, unary)
    assert gp.custom == ["exp", "square", "tanh", "asin", "acos"] and not gp.missing
    assert gp.describe().startswith("add sub mul div sin cos exp* log sqrt square*")
    op2 = peers.operator_plan("pyoperon", binary + ["^"], ["neg", "inv", "cube", "atan"])
    assert op2.missing == ["neg", "inv", "cube"] and op2.given[-2:] == ["pow", "atan"]
    assert "(missing: neg inv cube)" in op2.describe()
    assert peers.operator_plan("keplersr", binary, unary).describe() == " ".join(binary + unary)
    with pytest.raises(ValueError, match="unknown operator"):
        run_study(CSV, "/nonexistent", names=["I.12.1"], unary_operators=["sinc"], estimator_factory=factory_for())


def _fake_results():
    rows = []
    spec = {  # method -> per equation (recovered, on_front, time, r2, rate)
        "keplersr": [(True, True, 1.0, 1.0, 1e5), (True, True, 3.0, 1.0, 2e5), (False, True, None, 0.9995, 1e5),
                     (False, False, None, 0.5, 3e5)],
        "pyoperon": [(True, True, 10.0, 1.0, 5e4), (False, False, None, 0.99, 5e4), (False, True, None, 0.9999, 4e4),
                     (False, False, None, 0.2, 5e4)],
        "gplearn": [(False, False, None, 0.3, 1e3), (False, False, None, 0.2, 1e3), (False, False, None, 0.1, 1e3),
                    ("error", False, None, None, None)],
    }
    for m, eqs in spec.items():
        for i, (rec, front, t, r2, rate) in enumerate(eqs):
            row = {c: np.nan for c in feynman_study.RESULT_COLUMNS}
            row.update(name=f"E{i}", number=i, n_variables=2, true_formula=f"x*y+{i}", method=m,
                       status="ok" if rec != "error" else "RuntimeError: boom", recovered=rec is True,
                       on_front=front, selected_formula="x*y", front_formula="", time_to_recovery_s=t,
                       time_source=("fit_wall_time" if m == "pyoperon" else "history") if t else "",
                       fit_time_s=12.0, r2_heldout=r2, r2_above_0999=bool(r2 is not None and r2 > 0.999),
                       candidates_per_s=rate, judge_reason="", units_passed=False, operators=f"ops of {m}",
                       budget_s=10.0, noise=0.0, seed=0, n_rows=100, threads=2)
            rows.append(row)
    return pd.DataFrame(rows, columns=feynman_study.RESULT_COLUMNS)


def test_summary_table_markdown_and_plot_from_fake_results(tmp_path):
    frame = _fake_results()
    s = summary_table(frame).set_index("method")
    assert list(s.index) == ["keplersr", "pyoperon", "gplearn"]
    assert s.loc["keplersr", ["recovered", "on_front", "r2_above_0999", "failed"]].tolist() == [2, 3, 3, 0]
    assert s.loc["keplersr", "median_time_to_recovery_s"] == 2.0 and s.loc["keplersr", "candidates_per_s"] == 1.5e5
    assert s.loc["pyoperon", ["recovered", "on_front", "r2_above_0999"]].tolist() == [1, 2, 2]
    assert s.loc["gplearn", "failed"] == 1 and np.isnan(s.loc["gplearn", "median_time_to_recovery_s"])
    # the method order can be imposed
    assert list(summary_table(frame, ["gplearn", "keplersr"])["method"]) == ["gplearn", "keplersr", "pyoperon"]

    write_markdown(frame, tmp_path / "results.md")
    md = (tmp_path / "results.md").read_text()
    assert md.count("| Method | Recovered (selected) |") == 1          # ONE summary table
    assert "| keplersr | **2 / 4 (50%)** | 3 / 4 (75%) | 3 / 4 (75%) | 2.00 | 150,000 | 0 |" in md
    assert "| gplearn | **0 / 4 (0%)** |" in md and "error: RuntimeError: boom" in md
    assert "pyoperon: the fit's wall time" in md and "- gplearn: `ops of gplearn`" in md
    assert md.index("| Method |") < md.index("| Equation |")
    assert md.count("| E0 |") == 1 and md.count("| | | | pyoperon |") == 4

    plot_recovery(frame, tmp_path / "p.png", 10.0)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
