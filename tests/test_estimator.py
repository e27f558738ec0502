"""End-to-end behaviour of SymbolicRegressor with the real Julia engine."""

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import sympy

from keplersr import SymbolicRegressor
from keplersr.study.srbench_judge import judge


def _same_formula(truth, expr, tol=1e-9):
    """truth - expr expands to 0 once coefficients below `tol` are dropped
    (exact recovery, constants included: stricter than the SRBench rule,
    which rounds constants to 3 decimals). Constants that are multiples of pi
    to 1e-12 become sympy's pi, so cos(x + 3.14159...) counts as -cos(x)."""
    expr = expr.xreplace({f: sympy.pi * round(float(f) / np.pi) for f in expr.atoms(sympy.Float)
                          if round(float(f) / np.pi) != 0
                          and abs(float(f) / np.pi - round(float(f) / np.pi)) < 1e-12})
    diff = sympy.expand(truth - expr)
    diff = diff.xreplace({f: 0 for f in diff.atoms(sympy.Float) if abs(f) < tol})
    return sympy.simplify(diff) == 0


def test_recovers_cos_formula_exactly(julia_worker, fast):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * 2
    y = 2.5382 * np.cos(X[:, 3]) + X[:, 0] ** 2 - 0.5
    m = SymbolicRegressor(unary_operators=["cos", "exp"], niterations=60, random_state=0,
                          early_stop_condition=1e-20, **fast)
    m.fit(X, y)
    best = m.get_best()
    assert best["loss"] < 1e-20
    x0, x3 = sympy.Symbol("x0", real=True), sympy.Symbol("x3", real=True)
    assert _same_formula(2.5382 * sympy.cos(x3) + x0 ** 2 - 0.5, m.sympy())
    assert not _same_formula(2.5382 * sympy.cos(x3) + x0 ** 2 - 0.4, m.sympy())
    np.testing.assert_allclose(m.predict(X), y, rtol=1e-9, atol=1e-9)
    # the hall of fame is a Pareto front: complexity up, loss strictly down
    eq = m.equations_
    assert list(eq["complexity"]) == sorted(eq["complexity"])
    assert all(np.diff(eq["loss"]) < 0)
    assert set(["complexity", "loss", "score", "equation", "sympy_format", "lambda_format",
                "constants", "constants_stderr"]) <= set(eq.columns)
    assert m.stop_reason_ == ["early_stop_condition"]
    # constants come with finite standard errors (exact data: tiny)
    assert len(best["constants_stderr"]) == len(best["constants"])
    assert all(np.isfinite(best["constants_stderr"]))


@pytest.mark.parametrize("name", ["I.6.2a", "I.12.1", "I.34.27"])
def test_recovers_feynman_equations(julia_worker, fast, feynman_csv, name):
    from keplersr.datasets.feynman import load_feynman_equations, sample, select

    eq = select(load_feynman_equations(feynman_csv), [name])[0]
    X, y = sample(eq, 300, seed=1)
    m = SymbolicRegressor(binary_operators=["+", "-", "*", "/"],
                          unary_operators=["exp", "sqrt", "square"], niterations=200,
                          timeout_in_seconds=60, early_stop_condition=1e-24, random_state=1, **fast)
    m.fit(X, y)
    assert any(judge(eq.expr, e, timeout=10).recovered for e in m.equations_["sympy_format"]), \
        m.equations_[["complexity", "loss", "equation"]].to_string()


def test_dataframe_names_and_predict_by_index(julia_worker, fast):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"gamma": rng.uniform(1, 2, 100), "E_n": rng.uniform(1, 2, 100)})
    y = df["gamma"] * df["E_n"] * 3.0
    m = SymbolicRegressor(niterations=30, random_state=2, early_stop_condition=1e-20, **fast).fit(df, y)
    assert list(m.feature_names_in_) == ["gamma", "E_n"]
    names = {s.name for s in m.sympy().free_symbols}
    assert names == {"gamma", "E_n"}               # clash-prone names stay plain symbols
    # columns are matched by name at predict time
    np.testing.assert_allclose(m.predict(df[["E_n", "gamma"]]), y, rtol=1e-9)
    first = m.equations_.index[0]
    assert np.allclose(m.predict(df, index=first), m.equations_.loc[first, "lambda_format"](df.to_numpy()))
    assert "gamma" in m.latex() or "\\gamma" in m.latex()


def test_multioutput_runs_one_search_per_column(julia_worker, fast):
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 2, size=(80, 2))
    Y = np.column_stack([X[:, 0] * X[:, 1], X[:, 0] + 2.0 * X[:, 1]])
    m = SymbolicRegressor(niterations=40, random_state=0, early_stop_condition=1e-20, **fast).fit(X, Y)
    assert isinstance(m.equations_, list) and len(m.equations_) == 2
    pred = m.predict(X)
    assert pred.shape == (80, 2)
    np.testing.assert_allclose(pred, Y, rtol=1e-8, atol=1e-8)
    assert len(m.sympy()) == 2


def test_deterministic_runs_are_identical(julia_worker, fast):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] * np.sin(X[:, 1]) + 0.3
    kw = dict(fast, unary_operators=["sin"], niterations=5, deterministic=True, random_state=7)
    a = SymbolicRegressor(**kw).fit(X, y).equations_
    b = SymbolicRegressor(**kw).fit(X, y).equations_
    assert list(a["equation"]) == list(b["equation"])
    assert list(a["loss"]) == list(b["loss"])
    c = SymbolicRegressor(**dict(kw, random_state=8)).fit(X, y).equations_
    assert list(a["equation"]) != list(c["equation"]) or list(a["loss"]) != list(c["loss"])


def test_weights_are_honoured(julia_worker, fast):
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 3, size=(120, 2))
    y = X[:, 0] * X[:, 1]
    y_bad = y.copy()
    y_bad[:60] = rng.normal(size=60) * 50       # corrupted half ...
    w = np.ones(120)
    w[:60] = 0.0                                # ... with zero weight
    m = SymbolicRegressor(niterations=40, random_state=0, early_stop_condition=1e-20, **fast)
    m.fit(X, y_bad, weights=w)
    np.testing.assert_allclose(m.predict(X[60:]), y[60:], rtol=1e-8)


def test_pickle_and_predict_without_julia(julia_worker, fast, tmp_path):
    rng = np.random.default_rng(6)
    X = rng.uniform(0.5, 2, size=(50, 2))
    y = X[:, 0] / X[:, 1] + 1.25
    m = SymbolicRegressor(niterations=30, random_state=0, early_stop_condition=1e-20, **fast).fit(X, y)
    blob = pickle.dumps(m)
    path = tmp_path / "model.pkl"
    path.write_bytes(blob)
    np.save(tmp_path / "X.npy", X)
    # a fresh interpreter with no Julia anywhere (PATH emptied, KEPLERSR_JULIA unset)
    code = ("import pickle, sys, numpy as np; m = pickle.load(open(sys.argv[1], 'rb')); "
            "import keplersr.install as ins; "
            "print(repr(m.predict(np.load(sys.argv[2])).tolist()))")
    env = {k: v for k, v in os.environ.items() if k not in ("KEPLERSR_JULIA",)}
    env["PATH"] = os.path.dirname(sys.executable)
    out = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "X.npy")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    np.testing.assert_allclose(eval(out.stdout), m.predict(X), rtol=0, atol=0)


def test_run_directory_reload_is_exact(julia_worker, fast):
    rng = np.random.default_rng(7)
    X = rng.uniform(0.5, 2, size=(50, 2))
    y = 1.7 * X[:, 0] ** 2 - X[:, 1] / 3.0
    m = SymbolicRegressor(niterations=20, random_state=0, **fast).fit(X, y)
    assert os.path.exists(os.path.join(m.run_dir_, "run.json"))
    assert os.path.exists(os.path.join(m.run_dir_, "hall_of_fame.csv"))
    r = SymbolicRegressor.from_file(m.run_dir_)
    for a, b in zip(m.equations_["constants"], r.equations_["constants"]):
        assert a == b                             # bit for bit
    assert list(m.equations_["equation"]) == list(r.equations_["equation"])
    np.testing.assert_array_equal(m.predict(X), r.predict(X))
    assert not os.listdir(m.run_dir_) or all(not f.startswith(".tmp-") for f in os.listdir(m.run_dir_))


def test_interrupt_returns_partial_results(julia_worker, fast):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 4))
    y = np.exp(X[:, 0]) * np.sin(X[:, 1] * X[:, 2]) + X[:, 3] ** 3   # hard: the search runs long
    m = SymbolicRegressor(unary_operators=["sin", "exp"], niterations=100000, timeout_in_seconds=120,
                          random_state=0, **fast)   # the timeout only bounds a failure
    timer = threading.Timer(4.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.warns(RuntimeWarning, match="interrupted"):
            m.fit(X, y)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 60
    assert m.interrupted_
    assert len(m.equations_) >= 1
    assert np.all(np.isfinite(m.predict(X)))
    from keplersr import rundir
    assert rundir.read_run(m.run_dir_)["status"] == "interrupted"


@pytest.mark.slow
def test_killed_worker_gives_clear_error_and_next_fit_works(julia_worker, fast):
    from keplersr.bridge import WorkerDiedError, get_worker

    rng = np.random.default_rng(9)
    X = rng.normal(size=(100, 2))
    y = X[:, 0] * X[:, 1]
    w = get_worker()
    pid = w.pid
    killer = threading.Timer(2.0, lambda: os.kill(pid, signal.SIGKILL))
    killer.start()
    m = SymbolicRegressor(niterations=100000, random_state=0, **fast)
    with pytest.raises(WorkerDiedError):
        m.fit(X, y)
    killer.cancel()
    m2 = SymbolicRegressor(niterations=20, random_state=0, early_stop_condition=1e-20, **fast).fit(X, y)
    assert get_worker().pid != pid
    np.testing.assert_allclose(m2.predict(X), y, rtol=1e-8, atol=1e-12)


def test_custom_operator_and_loss(julia_worker, fast):
    rng = np.random.default_rng(10)
    X = rng.uniform(1, 3, size=(100, 1))
    y = 2.0 / X[:, 0] ** 2
    m = SymbolicRegressor(binary_operators=["*", "+"], unary_operators=["inv2(x) = 1/x^2"],
                          extra_sympy_mappings={"inv2": lambda x: 1 / x ** 2},
                          elementwise_loss="myloss(p, t) = abs(p - t)^2",
                          niterations=30, random_state=0, early_stop_condition=1e-20, **fast).fit(X, y)
    np.testing.assert_allclose(m.predict(X), y, rtol=1e-8)
    assert "inv2" in " ".join(m.equations_["equation"])


def test_cli_fit_prints_front_and_writes_run_dir(julia_worker, tmp_path, capsys):
    from keplersr.cli import main

    rng = np.random.default_rng(11)
    df = pd.DataFrame({"a": rng.uniform(1, 2, 60), "b": rng.uniform(1, 2, 60)})
    df["y"] = df["a"] * df["b"] + 1.0
    csv = tmp_path / "data.csv"
    df.to_csv(csv, index=False)
    rc = main(["fit", str(csv), "--target", "y", "--niterations", "15", "--seed", "0",
               "--populations", "4", "--no-progress", "--output-directory", str(tmp_path / "out")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "complexity" in out and "selected" in out and "run directory" in out
    assert len(os.listdir(tmp_path / "out")) == 1
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(csv), "--target", "nope"])
    assert exc.value.code == 2 and "target column" in capsys.readouterr().err
