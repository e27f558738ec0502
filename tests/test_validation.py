"""Bad input is rejected with a ValueError naming the problem, before Julia is touched."""

import numpy as np
import pandas as pd
import pytest

import keplersr.bridge
from keplersr import SymbolicRegressor


@pytest.fixture(autouse=True)
def no_julia(monkeypatch):
    """Any attempt to reach Julia fails the test: validation must come first."""
    def boom(*a, **k):
        raise AssertionError("Julia was touched before validation finished")
    monkeypatch.setattr(keplersr.bridge, "get_worker", boom)


X = np.random.default_rng(0).normal(size=(20, 3))
y = X[:, 0]


def fit(X=X, y=y, **params):
    return SymbolicRegressor(progress=False, **params).fit(X, y)


@pytest.mark.parametrize("Xbad, match", [
    (np.where(np.arange(60).reshape(20, 3) == 7, np.nan, X), "NaN or Inf"),
    (np.where(np.arange(60).reshape(20, 3) == 7, np.inf, X), "NaN or Inf"),
    (X[:, 0], "Reshape your data"),                 # scikit-learn's own messages from here
    (np.empty((0, 3)), r"0 sample\(s\)"),
    (np.empty((20, 0)), r"0 feature\(s\)"),
    (np.array([["a", "b"]] * 20), "could not convert string to float"),
])
def test_bad_X(Xbad, match):
    with pytest.raises(ValueError, match=match):
        fit(X=Xbad, y=np.zeros(len(Xbad)) if len(Xbad) else np.zeros(0))


def test_bad_y():
    with pytest.raises(ValueError, match="y contains NaN"):
        fit(y=np.where(np.arange(20) == 3, np.nan, y))
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[20, 19\]"):
        fit(y=y[:19])
    with pytest.raises(ValueError, match="could not convert string to float"):
        fit(y=np.array(["a"] * 20))


def test_non_numeric_dataframe_column():
    df = pd.DataFrame({"a": np.arange(20.0), "label": ["x"] * 20})
    with pytest.raises(ValueError, match="non-numeric columns: \\['label'\\]"):
        fit(X=df)


def test_bad_weights():
    with pytest.raises(ValueError, match="non-negative"):
        SymbolicRegressor(progress=False).fit(X, y, weights=-np.ones(20))
    with pytest.raises(ValueError, match="shape"):
        SymbolicRegressor(progress=False).fit(X, y, weights=np.ones(5))
    with pytest.raises(ValueError, match="all zero"):
        SymbolicRegressor(progress=False).fit(X, y, weights=np.zeros(20))


@pytest.mark.parametrize("params, match", [
    (dict(binary_operators=["+", "plus"]), "unknown binary operator 'plus'"),
    (dict(unary_operators=["sinn"]), "unknown unary operator 'sinn'"),
    (dict(unary_operators=["inv2(x) = 1/x^2"]), "needs a sympy mapping"),
    (dict(unary_operators=["f(x, y) = x*y"], extra_sympy_mappings={"f": lambda x, y: x * y}), "must take 1 argument"),
    (dict(binary_operators=[], unary_operators=[]), "at least one operator"),
    (dict(binary_operators="+-"), "list of strings"),
    (dict(maxsize=0), r"'maxsize' parameter of SymbolicRegressor must be an int in the range \[1, inf\)"),
    (dict(niterations=1.5), "'niterations' parameter of SymbolicRegressor must be an int"),
    (dict(populations=-1), "'populations' parameter of SymbolicRegressor must be an int in the range"),
    (dict(parsimony=float("nan")), "'parsimony' parameter of SymbolicRegressor must be a float"),
    (dict(tournament_selection_n=50, population_size=20), "tournament_selection_n"),
    (dict(elementwise_loss="L3"), "unknown elementwise_loss 'L3'"),
    (dict(model_selection="fastest"), "model_selection"),
    (dict(constraints={"sin": 3}), "constraints names operator 'sin'"),
    (dict(constraints={"*": 3}), "must be a pair"),
    (dict(nested_constraints={"/": 1}), "must be a dict"),
    (dict(complexity_of_operators={"tan": 2}), "complexity_of_operators names operator 'tan'"),
    (dict(mutation_weights={"teleport": 1.0}), "unknown mutation kind 'teleport'"),
    (dict(deterministic=True), "needs random_state"),
    (dict(random_state=-3), "random_state"),
    (dict(procs=0), "procs"),
    (dict(timeout_in_seconds=-1), "timeout_in_seconds"),
])
def test_bad_options(params, match):
    with pytest.raises(ValueError, match=match):
        fit(**params)


def test_bad_variable_names():
    with pytest.raises(ValueError, match="2 names for 3 features"):
        SymbolicRegressor(progress=False).fit(X, y, variable_names=["a", "b"])
    with pytest.raises(ValueError, match="unique"):
        SymbolicRegressor(progress=False).fit(X, y, variable_names=["a", "a", "b"])
    with pytest.raises(ValueError, match="not usable"):
        SymbolicRegressor(progress=False).fit(X, y, variable_names=["a b", "c", "d"])


def test_bad_units():
    with pytest.raises(ValueError, match="X_units"):
        SymbolicRegressor(progress=False).fit(X, y, X_units=["m", "s"])
    with pytest.raises(ValueError, match=r"X_units\[1\]"):
        SymbolicRegressor(progress=False).fit(X, y, X_units=["m", "furlong", "s"])


def test_constructor_only_stores_params():
    m = SymbolicRegressor(maxsize=-5, binary_operators=["nonsense"])
    assert m.get_params()["maxsize"] == -5        # validated in fit, not here
    assert not hasattr(m, "equations_")


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        SymbolicRegressor().predict(X)


def test_dataframe_with_non_string_columns_is_positional(monkeypatch):
    from keplersr.data_validation import validate_fit_data
    m = SymbolicRegressor()
    Xa, ya, multi, w, names = validate_fit_data(m, pd.DataFrame(X, columns=[0, 1, 2]), y)
    assert names == ["0", "1", "2"] and not hasattr(m, "feature_names_in_")
    Xa, ya, multi, w, names = validate_fit_data(m, pd.DataFrame(X, columns=["a", "b", "c"]), y)
    assert list(m.feature_names_in_) == ["a", "b", "c"] and m.n_features_in_ == 3


def test_non_finite_X_is_located():
    Xbad = X.copy()
    Xbad[4, 2] = np.inf
    with pytest.raises(ValueError, match="first at row 4, column 2"):
        fit(X=Xbad)


def test_run_state_with_numpy_parameters_is_json(tmp_path):
    from keplersr import rundir
    state = {"status": "finished", "params": {"niterations": np.int64(40), "parsimony": np.float64(0.01)},
             "outputs": [[{"complexity": 1, "loss": float("nan"), "score": 0.0, "equation": "1.0",
                           "constants": [1.0], "constants_stderr": [float("inf")]}]]}
    rundir.write_run(str(tmp_path), state)
    back = rundir.read_run(str(tmp_path))
    assert back["params"] == {"niterations": 40, "parsimony": 0.01}
    rec = back["outputs"][0][0]
    assert rec["loss"] != rec["loss"] and rec["constants_stderr"] == [float("inf")]


def test_deterministic_says_it_ignores_the_timeout():
    with pytest.warns(UserWarning, match="ignores timeout_in_seconds"):
        with pytest.raises(AssertionError, match="Julia was touched"):   # validation passed, then Julia
            fit(deterministic=True, random_state=0, timeout_in_seconds=5)


@pytest.mark.parametrize("entry, reason", [
    ("-oProxyCommand=touch /tmp/x", "begins with '-'"),
    ("host name", "whitespace"),
    ("a;b", "contains ';'"),
    ("", "non-empty"),
    ("user@-x", "begins with '-'"),
    ("-me@host", "user '-me' begins with '-'"),
    ("a@b@c", "more than one '@'"),
    ("tab\there", "whitespace"),
    ("bell\x07", "control character"),
    (":2", "host is empty"),
    ("h:0", "integer >= 1"),
    ("h:x", "integer >= 1"),
])
def test_malformed_hosts_are_refused_naming_the_entry(entry, reason):
    # an entry beginning with '-' would reach ssh as an option: refused before any process starts
    with pytest.raises(ValueError) as err:
        fit(parallelism="multiprocessing", hosts=["node1", entry])
    assert repr(entry) in str(err.value) and reason in str(err.value)


def test_good_hosts_are_accepted():
    from keplersr.options.engine_message import _hosts
    good = ["node1", "node2:4", "me@node-3.cluster.org:2", "10.0.0.5", "gpu_7", " padded "]
    assert _hosts(good) == ["node1", "node2:4", "me@node-3.cluster.org:2", "10.0.0.5", "gpu_7", "padded"]


@pytest.mark.parametrize("line, reason", [
    ("-oProxyCommand=touch /tmp/x", "begins with '-'"),
    ("2*-x", "begins with '-'"),
    ("x*node3", "count before '*'"),
    ("2*", "no host"),
    ("me@a;b:22", "contains ';'"),
    ("node3:70000", "from 1 to 65535"),
    ("node3 10.0.0.1 extra", "bind address"),
    ("node3 -x", "bind address '-x' begins with '-'"),
])
def test_a_machine_file_is_checked_line_by_line(tmp_path, line, reason):
    machines = tmp_path / "machines"
    machines.write_text(f"# the cluster\n2*node1\nme@node2:2222  # ssh port\n\n{line}\n")
    with pytest.raises(ValueError) as err:
        fit(parallelism="multiprocessing", hosts=str(machines))
    message = str(err.value)
    assert str(machines) in message and "line 5" in message and repr(line) in message and reason in message


def test_a_good_machine_file_is_accepted(tmp_path):
    from keplersr.options.engine_message import _hosts
    machines = tmp_path / "machines"
    machines.write_text("# the cluster\n2*node1\nme@node2:2222  # ssh port\n 3 * node-3 10.0.0.7\n")
    assert _hosts(str(machines)) == [str(machines)]
    (tmp_path / "empty").write_text("# nothing\n\n")
    with pytest.raises(ValueError, match="names no host"):
        _hosts(str(tmp_path / "empty"))
