"""`keplersr fit` at parity with the estimator: units, measurement errors, JSON options, loss, guesses
and the export formats. Most tests capture what reaches `SymbolicRegressor.fit` (no Julia); one runs a
real search."""

import json

import numpy as np
import pandas as pd
import pytest

from keplersr import CheckpointError, SymbolicRegressor, WorkerProcessError
from keplersr.cli import main
from keplersr.options import OPTIONS


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"m": rng.uniform(1, 2, 40), "a": rng.uniform(1, 2, 40)})
    df["F"] = df["m"] * df["a"]
    df["err"] = 0.01
    df["w"] = 1.0
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def captured(monkeypatch):
    """`fit` records its parameters and arguments, then stops the command."""
    seen = {}

    def fake_fit(self, X, y, **kwargs):
        seen.update(params=self.get_params(), columns=list(X.columns), kwargs=kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(SymbolicRegressor, "fit", fake_fit)
    return seen


def run(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def test_units_errors_weights_guesses_reach_fit(csv, captured):
    run(["fit", csv, "--target", "F", "--x-units", "a=m/s^2", "m=kg", "--y-units", "N",
         "--y-err", "err", "--weights", "w", "--guesses", "m*a", "1.0*m + a"])
    kw = captured["kwargs"]
    assert captured["columns"] == ["m", "a"]          # --y-err and --weights columns are not features
    assert kw["X_units"] == ["kg", "m/s^2"] and kw["y_units"] == "N"
    np.testing.assert_array_equal(kw["y_err"], np.full(40, 0.01))
    np.testing.assert_array_equal(kw["weights"], np.ones(40))
    assert kw["guesses"] == ["m*a", "1.0*m + a"]


def test_nothing_given_passes_no_fit_arguments(csv, captured):
    run(["fit", csv, "--target", "F", "--features", "m", "a"])
    assert captured["kwargs"] == {}


def test_json_options_and_loss_reach_the_estimator(csv, captured):
    run(["fit", csv, "--target", "F", "--constraints", '{"^": [-1, 1], "sin": 5}',
         "--nested-constraints", '{"sin": {"sin": 0}}', "--complexity-of-operators", '{"exp": 3}',
         "--mutation-weights", '{"add_node": 2.0}', "--loss", "L1"])
    p = captured["params"]
    assert p["constraints"] == {"^": [-1, 1], "sin": 5}
    assert p["nested_constraints"] == {"sin": {"sin": 0}}
    assert p["complexity_of_operators"] == {"exp": 3}
    assert p["mutation_weights"] == {"add_node": 2.0}
    assert p["elementwise_loss"] == "L1"


def test_every_dict_option_the_declaration_marks_json_has_a_flag(csv, captured):
    json_options = [o for o in OPTIONS if o.cli == "json"]
    assert {o.name for o in json_options} >= {"constraints", "nested_constraints", "complexity_of_operators",
                                               "mutation_weights"}
    argv = ["fit", csv, "--target", "F"]
    for o in json_options:
        argv += ["--" + o.name.replace("_", "-"), "{}"]
    run(argv)
    for o in json_options:
        assert captured["params"][o.name] == {}, o.name


@pytest.mark.parametrize("argv, flag", [
    (["--constraints", '{"^": [-1, 1'], "--constraints"),
    (["--mutation-weights", "[1, 2]"], "--mutation-weights"),
    (["--x-units", "m=kg"], "--x-units"),
    (["--x-units", "m=kg", "a=furlong"], "--x-units"),
    (["--x-units", "m=kg", "a=m", "q=s"], "--x-units"),
    (["--x-units", "mkg"], "--x-units"),
    (["--x-units", "m=kg", "a=m", "--y-units", "parsec^"], "--y-units"),
    (["--y-units", "N"], "--y-units"),
    (["--constraints", '{"nope": 3}'], "--constraints"),
    (["--mutation-weights", '{"add_node": -1}'], "--mutation-weights"),
    (["--loss", "L3"], "--elementwise-loss/--loss"),
    (["--maxsize", "0"], "--maxsize"),
    (["--y-err", "nope"], "--y-err"),
    (["--guesses", "m*b"], "--guesses"),
])
def test_bad_values_exit_2_naming_the_flag(csv, capsys, argv, flag):
    code = run(["fit", csv, "--target", "F", "--features", "m", "a", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]        # the usage above it lists every flag
    assert last.startswith("keplersr fit: error: argument " + flag), err


@pytest.mark.parametrize("error", [
    WorkerProcessError("cannot start worker processes with srun: no such file", "WorkerStartError"),
    CheckpointError("checkpoint: format version 99; this engine reads 1", "CheckpointError"),
])
def test_engine_errors_a_user_can_act_on_exit_1_with_the_message(csv, capsys, monkeypatch, error):
    def failing_fit(self, X, y, **kwargs):
        raise error

    monkeypatch.setattr(SymbolicRegressor, "fit", failing_fit)
    assert run(["fit", csv, "--target", "F", "--parallelism", "multiprocessing",
                "--cluster-manager", "slurm"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "usage:" not in err
    assert err.strip() == f"keplersr fit: error: {error}"


def test_missing_x_units_are_named(csv, capsys):
    assert run(["fit", csv, "--target", "F", "--features", "m", "a", "--x-units", "m=kg"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--x-units" in err and "'a'" in err and "missing" in err


def test_unknown_unit_names_the_feature(csv, capsys):
    assert run(["fit", csv, "--target", "F", "--features", "m", "a", "--x-units", "m=kg", "a=furlong"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--x-units" in err and "'a'" in err and "furlong" in err


def test_help_groups_flags_as_the_declaration(capsys):
    assert run(["fit", "--help"]) == 0
    out = capsys.readouterr().out
    from keplersr.options import GROUPS
    positions = [out.index(f"\n{g}:\n") for g in GROUPS]
    assert positions == sorted(positions)
    units = out[out.index("\nunits:\n"):out.index("\ndecomposition:\n")]
    assert "--x-units" in units and "--y-units" in units and "--dimensional-constraint-penalty" in units
    for flag in ("--constraints", "--nested-constraints", "--complexity-of-operators", "--mutation-weights",
                 "--loss", "--guesses", "--y-err", "--weights", "--export", "--output"):
        assert flag in out


def test_real_fit_with_units_exports_json(julia_worker, tmp_path, capsys):
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"m": rng.uniform(1, 3, 50), "a": rng.uniform(1, 3, 50)})
    df["F"] = 2.0 * df["m"] * df["a"]
    df["err"] = 0.05
    path = tmp_path / "f.csv"
    df.to_csv(path, index=False)
    out_file = tmp_path / "front.json"
    rc = main(["fit", str(path), "--target", "F", "--x-units", "m=kg", "a=m/s^2", "--y-units", "N",
               "--y-err", "err", "--niterations", "3", "--populations", "2", "--population-size", "20",
               "--ncycles-per-iteration", "50", "--seed", "0", "--no-progress", "--output-directory", str(tmp_path / "runs"),
               "--binary-operators", "+", "*", "--export", "json", "--output", str(out_file)])
    assert rc == 0
    recs = json.loads(out_file.read_text())
    assert recs and {"complexity", "loss", "score", "equation", "sympy", "constants", "constants_stderr",
                     "chi2_dof", "selected"} <= set(recs[0])
    assert sum(r["selected"] for r in recs) == 1
    best = min(recs, key=lambda r: r["loss"])
    assert best["loss"] < 1e-6 and "m" in best["sympy"] and "a" in best["sympy"]
    rc = main(["fit", str(path), "--target", "F", "--features", "m", "a", "--x-units", "m=kg", "a=m/s^2",
               "--y-units", "N", "--niterations", "2", "--populations", "2", "--population-size", "20",
               "--ncycles-per-iteration", "50", "--seed", "0", "--no-progress", "--output-directory", str(tmp_path / "runs"),
               "--binary-operators", "+", "*", "--export", "csv"])
    assert rc == 0
    front = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(front.columns[:4]) == ["complexity", "loss", "score", "equation"]
