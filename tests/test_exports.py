"""Exports of the front (jax(), pytorch()) and refresh() of equations_ from the run directory.

Most tests use a run directory written by hand (no Julia): rundir.write_run
of a state with prefix codes, then SymbolicRegressor.from_file. One test fits
for real (marked julia through its fixture).
"""

import numpy as np
import pytest
import sympy

from keplersr import SymbolicRegressor, rundir

# binary: + -1000, - -1001, * -1002, / -1003; unary: cos -1, exp -2, softsign -3, sqrt -4
BINARY = ["+", "-", "*", "/"]
UNARY = ["cos", "exp", "softsign", "sqrt"]
SOFTSIGN = {"softsign": lambda x: sympy.Function("softsign")(x)}


def _record(complexity, loss, codes, constants):
    return {"complexity": complexity, "loss": loss, "score": 0.0, "equation": f"formula {complexity}",
            "codes": codes, "constants": constants, "constants_stderr": [0.01] * len(constants)}


RECORDS = [
    _record(1, 3.0, [0], [1.7]),
    # 2.5382*cos(x0) + x1*x1 - 0.5
    _record(10, 0.1, [-1001, -1000, -1002, 0, -1, 1, -1002, 2, 2, 0], [2.5382, 0.5]),
    # x0 / sqrt(exp(x1*0.3)) + 1.25
    _record(11, 0.05, [-1000, -1003, 1, -4, -2, -1002, 2, 0, 0], [0.3, 1.25]),
    # softsign(x1*0.7) + 2.5382*cos(x0 + 0.3)
    _record(12, 0.01, [-1000, -3, -1002, 2, 0, -1002, 0, -1, -1000, 1, 0], [0.7, 2.5382, 0.3]),
]


def _write(path, outputs, user_ops=False, multi=False):
    state = {"status": "finished",
             "params": {"extra_sympy_mappings_keys": ["softsign"] if user_ops else [], "model_selection": "best"},
             "variable_names": ["x0", "x1"], "X_units": None, "y_units": None, "feature_names_in": None,
             "binary_operators": BINARY, "unary_operators": UNARY, "multioutput": multi, "outputs": outputs}
    rundir.write_run(str(path), state)
    return str(path)


@pytest.fixture
def X():
    return np.random.default_rng(0).uniform(-2, 2, size=(50, 2))


@pytest.fixture
def model(tmp_path):
    """Records 0-2 only (no user operator): predict can evaluate every row."""
    return SymbolicRegressor.from_file(_write(tmp_path / "run", [RECORDS[:3]]))


@pytest.fixture
def user_model(tmp_path):
    return SymbolicRegressor.from_file(_write(tmp_path / "run", [RECORDS], user_ops=True),
                                       extra_sympy_mappings=SOFTSIGN)


@pytest.fixture
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _softsign_np(x):
    return x / (1 + np.abs(x))


# -------------------------------------------------------------------- jax
def test_jax_equals_predict_for_every_row(jax, model, X):
    for i in model.equations_.index:
        out = model.jax(index=i)
        f, params = out["callable"], out["parameters"]
        np.testing.assert_allclose(np.asarray(f(X, params)), model.predict(X, index=i), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(jax.jit(f)(X, params)), model.predict(X, index=i),
                                   rtol=1e-10, atol=1e-12)
        assert f(X, params).shape == (len(X),)      # the constant formula too
    # index=None: the selected formula, as predict
    np.testing.assert_allclose(np.asarray(model.jax()["callable"](X, model.jax()["parameters"])),
                               model.predict(X), rtol=1e-10)


def test_jax_parameters_are_the_shown_formulas_floats(jax, model):
    out = model.jax(index=1)
    assert sorted(np.asarray(out["parameters"]).tolist()) == [-0.5, 2.5382]
    assert out["parameters"].dtype == np.float64


def test_jax_gradient_matches_finite_differences(jax, model, X):
    import jax.numpy as jnp
    out = model.jax(index=2)
    f, params = out["callable"], out["parameters"]

    def loss(p):
        return jnp.sum(f(X, p) ** 2)

    grad = np.asarray(jax.jit(jax.grad(loss))(params))
    p0 = np.asarray(params)
    for i in range(len(p0)):
        h = 1e-6 * max(1.0, abs(p0[i]))
        up, down = p0.copy(), p0.copy()
        up[i] += h
        down[i] -= h
        fd = (float(loss(jnp.asarray(up))) - float(loss(jnp.asarray(down)))) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-6)


def test_jax_user_operator_mapping(jax, user_model, X):
    import jax.numpy as jnp
    truth = _softsign_np(0.7 * X[:, 1]) + 2.5382 * np.cos(X[:, 0] + 0.3)
    for key in ("softsign", sympy.Function("softsign")):
        out = user_model.jax(index=3, extra_jax_mappings={key: lambda x: x / (1 + jnp.abs(x))})
        np.testing.assert_allclose(np.asarray(jax.jit(out["callable"])(X, out["parameters"])), truth, rtol=1e-10)
    out = user_model.jax(index=3, extra_jax_mappings={"softsign": "jax.nn.soft_sign"})   # a dotted name
    np.testing.assert_allclose(np.asarray(out["callable"](X, out["parameters"])), truth, rtol=1e-10)


def test_jax_unmapped_function_is_a_clear_error(jax, user_model):
    with pytest.raises(ValueError, match=r"no jax mapping for the function 'softsign'.*extra_jax_mappings"):
        user_model.jax(index=3)
    with pytest.raises(ValueError, match="cannot resolve 'jnp.no_such_function'"):
        user_model.jax(index=3, extra_jax_mappings={"softsign": "jnp.no_such_function"})


def test_exact_constants_stay_fixed(jax):
    from keplersr.exports import extract_parameters, sympy_to_jax
    x = sympy.Symbol("x", real=True)
    expr = sympy.pi * sympy.cos(x) + sympy.Rational(5, 2) * x ** 2 + sympy.Float(0.25, 17) * sympy.sqrt(x)
    body, symbols, values = extract_parameters(expr)
    assert values == [0.25] and len(symbols) == 1
    out = sympy_to_jax(expr, ["x"])
    Xs = np.linspace(0.1, 3, 7).reshape(-1, 1)
    want = np.pi * np.cos(Xs[:, 0]) + 2.5 * Xs[:, 0] ** 2 + 0.25 * np.sqrt(Xs[:, 0])
    np.testing.assert_allclose(np.asarray(out["callable"](Xs, out["parameters"])), want, rtol=1e-12)


def test_jax_multi_output_gives_one_export_per_output(jax, tmp_path, X):
    m = SymbolicRegressor.from_file(_write(tmp_path / "run", [RECORDS[:3], RECORDS[:2]], multi=True))
    outs = m.jax(index=[2, 1])
    assert isinstance(outs, list) and len(outs) == 2
    pred = m.predict(X, index=[2, 1])
    for k, out in enumerate(outs):
        np.testing.assert_allclose(np.asarray(out["callable"](X, out["parameters"])), pred[:, k], rtol=1e-10)
    with pytest.raises(ValueError, match="one row per output"):
        m.jax(index=[1])


# ------------------------------------------------------------------ torch
def test_pytorch_equals_predict_and_trains(model, X):
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    Xt = torch.tensor(X, dtype=torch.float64)
    for i in model.equations_.index:
        module = model.pytorch(index=i)
        assert isinstance(module, torch.nn.Module)
        np.testing.assert_allclose(module(Xt).detach().numpy(), model.predict(X, index=i), rtol=1e-10,
                                   atol=1e-12)
    module = model.pytorch(index=2)
    params = list(module.parameters())
    assert len(params) == 1 and params[0].requires_grad and params[0].numel() == 2
    loss = (module(Xt) ** 2).sum()
    loss.backward()
    p0 = module.constants.detach().numpy().copy()
    for i in range(len(p0)):
        h = 1e-6 * max(1.0, abs(p0[i]))
        vals = []
        for s in (1, -1):
            with torch.no_grad():
                module.constants[i] = p0[i] + s * h
                vals.append(float((module(Xt) ** 2).sum()))
        assert float(params[0].grad[i]) == pytest.approx((vals[0] - vals[1]) / (2 * h), rel=1e-6)


def test_pytorch_user_operator_mapping(user_model, X):
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    module = user_model.pytorch(index=3, extra_torch_mappings={"softsign": torch.nn.functional.softsign})
    truth = _softsign_np(0.7 * X[:, 1]) + 2.5382 * np.cos(X[:, 0] + 0.3)
    np.testing.assert_allclose(module(torch.tensor(X)).detach().numpy(), truth, rtol=1e-10)
    with pytest.raises(ValueError, match=r"no torch mapping for the function 'softsign'.*extra_torch_mappings"):
        user_model.pytorch(index=3)


def test_missing_backend_says_how_to_install(model, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_backends(name, *args, **kwargs):
        if name.split(".")[0] in ("jax", "torch"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_backends)
    with pytest.raises(ImportError, match="pip install jax jaxlib"):
        model.jax()
    with pytest.raises(ImportError, match="pip install torch"):
        model.pytorch()


# ---------------------------------------------------------------- refresh
COLUMNS = ["complexity", "loss", "equation", "constants", "constants_stderr", "codes"]


def _same_columns(a, b):
    """Equal, NaN included (a standard error can be NaN)."""
    assert list(a.index) == list(b.index)
    for c in COLUMNS:
        np.testing.assert_equal(a[c].tolist(), b[c].tolist())


def _same_tables(a, b):
    _same_columns(a, b)
    assert [str(e) for e in a["sympy_format"]] == [str(e) for e in b["sympy_format"]]


def test_refresh_reads_what_the_search_wrote_since(tmp_path, X):
    path = _write(tmp_path / "run", [RECORDS[:2]])
    m = SymbolicRegressor.from_file(path)
    assert len(m.equations_) == 2
    _write(tmp_path / "run", [RECORDS[:3]])          # the search went on
    assert m.refresh() is m
    assert len(m.equations_) == 3
    _same_tables(m.equations_, SymbolicRegressor.from_file(path).equations_)


def test_refresh_restores_a_modified_or_removed_front(model, tmp_path):
    before = model.equations_.copy()
    model.equations_ = before.iloc[:1]
    model.refresh()
    _same_tables(model.equations_, before)
    del model.equations_
    model.refresh()
    _same_tables(model.equations_, before)
    # into a new object from a run directory
    other = SymbolicRegressor().refresh(run_directory=model.run_dir_)
    _same_tables(other.equations_, before)


def test_refresh_errors(tmp_path):
    with pytest.raises(ValueError, match="no run directory"):
        SymbolicRegressor().refresh()
    path = _write(tmp_path / "run", [RECORDS], user_ops=True)
    with pytest.raises(ValueError, match=r"user operators \['softsign'\].*before refresh"):
        SymbolicRegressor().refresh(run_directory=path)
    m = SymbolicRegressor(extra_sympy_mappings=SOFTSIGN).refresh(run_directory=path)
    assert len(m.equations_) == 4


# ---------------------------------------------------------- with the engine
def test_fitted_model_exports_to_jax_and_refreshes(julia_worker, fast):
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(100, 2))
    y = 2.5 * np.cos(X[:, 0]) + X[:, 1] ** 2
    m = SymbolicRegressor(unary_operators=["cos"], niterations=15, random_state=0, early_stop_condition=1e-20,
                          **fast)
    m.fit(X, y)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for i in m.equations_.index:
        out = m.jax(index=i)
        np.testing.assert_allclose(np.asarray(jax.jit(out["callable"])(X, out["parameters"])),
                                   m.predict(X, index=i), rtol=1e-10, atol=1e-10)
    before = m.equations_.copy()
    del m.equations_
    m.refresh()
    _same_columns(m.equations_, before)
    for i in before.index:      # the reload simplifies without the data: the same values
        np.testing.assert_allclose(m.equations_.loc[i, "lambda_format"](X), before.loc[i, "lambda_format"](X),
                                   rtol=1e-10, atol=1e-10)
    _same_tables(m.equations_, SymbolicRegressor.from_file(m.run_dir_).equations_)
