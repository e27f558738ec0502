"""The option declaration (keplersr/options/declaration.py) is the one source of
truth: the estimator, the engine message, the CLI, the README reference and
the Julia engine's defaults and operator table all agree with it."""

import inspect
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils._param_validation import Interval, StrOptions

from keplersr import SymbolicRegressor
from keplersr.cli import main as cli_main
from keplersr.operators import BINARY, UNARY
from keplersr.options import (LOSSES, MUTATION_KINDS, OPTIONS, default_engine_options, defaults, engine_options,
                              option, parameter_constraints, validate_params)
from keplersr.options.julia_defaults import check_julia_defaults, julia_defaults_source
from keplersr.options.reference import markdown_table, update_readme

README = Path(__file__).resolve().parents[1] / "README.md"
DIRECT = [o for o in OPTIONS if o.engine == "direct"]


def test_estimator_signature_is_the_declaration():
    sig = inspect.signature(SymbolicRegressor.__init__)
    names = [p for p in sig.parameters if p != "self"]
    assert names == [o.name for o in OPTIONS]
    assert SymbolicRegressor().get_params() == defaults()
    for o in OPTIONS:
        assert o.name in SymbolicRegressor.__doc__


def test_constructor_stores_arguments_like_python_does():
    m = SymbolicRegressor(["+"], maxsize=7)
    assert m.binary_operators == ["+"] and m.maxsize == 7
    with pytest.raises(TypeError):
        SymbolicRegressor(maxsizee=7)


def test_default_message_sends_every_direct_option_with_its_engine_value():
    msg = default_engine_options()
    for o in DIRECT:
        assert msg[o.name] == o.engine_value(o.default), o.name
    assert msg["loss"] == "L2" and msg["mutation_weights"] == {}
    assert "seed" not in msg


def test_every_scalar_option_is_validated_by_name():
    for o in OPTIONS:
        bad = {"int": ["not a number", 1.5], "float": ["not a number", float("nan")], "bool": ["yes"],
               "choice": ["no such choice"]}.get(o.kind, [])
        if o.low is not None:
            bad.append(o.low - 1)
        for value in bad:
            params = defaults()
            params[o.name] = value
            with pytest.raises(ValueError, match=f"'{o.name}' parameter of SymbolicRegressor"):
                validate_params(params)


def test_estimator_validation_is_scikit_learns_from_the_declaration():
    def shown(c):
        return c if isinstance(c, str) else [str(x) if not isinstance(x, (Interval, StrOptions)) else
                                              (type(x).__name__, getattr(x, "left", None), getattr(x, "right", None),
                                               getattr(x, "closed", None), sorted(getattr(x, "options", [])))
                                              for x in c]
    assert ({k: shown(v) for k, v in SymbolicRegressor._parameter_constraints.items()}
            == {k: shown(v) for k, v in parameter_constraints().items()})
    assert set(SymbolicRegressor._parameter_constraints) == set(defaults())
    SymbolicRegressor()._validate_params()
    with pytest.raises(ValueError, match="'maxsize' parameter"):
        SymbolicRegressor(maxsize=0)._validate_params()
    assert validate_params(dict(defaults(), maxsize=np.int64(12)))["maxsize"] == 12
    assert type(validate_params(dict(defaults(), maxsize=np.int64(12)))["maxsize"]) is int


def test_engine_defaults_are_generated_from_the_declaration():
    """julia/core/declared_defaults.jl is what the declaration generates (building the image checks it too)."""
    check_julia_defaults()
    for o in DIRECT:
        assert f"    {o.name} = " in julia_defaults_source(), o.name


def test_readme_reference_is_current():
    text = README.read_text(encoding="utf-8")
    assert update_readme(text) == text, "run: python -m keplersr.options README.md"
    for o in OPTIONS:
        assert f"`{o.name}`" in markdown_table()


def test_cli_has_a_flag_per_scalar_option_and_keeps_declared_defaults(monkeypatch):
    seen = {}

    def fake_fit(self, X, y, weights=None):
        seen.update(self.get_params())
        raise SystemExit(0)

    monkeypatch.setattr(SymbolicRegressor, "fit", fake_fit)
    import pandas as pd
    csv = Path(pytest.importorskip("tempfile").mkdtemp()) / "d.csv"
    pd.DataFrame({"a": [1.0, 2.0], "y": [2.0, 4.0]}).to_csv(csv, index=False)
    with pytest.raises(SystemExit):
        cli_main(["fit", str(csv), "--target", "y", "--maxsize", "9", "--no-annealing", "--seed", "3",
                  "--timeout", "5", "--unary-operators", "sin"])
    assert seen["maxsize"] == 9 and seen["annealing"] is False and seen["random_state"] == 3
    assert seen["timeout_in_seconds"] == 5.0 and seen["unary_operators"] == ["sin"]
    for o in OPTIONS:       # everything not given keeps the declared default
        if o.name not in ("maxsize", "annealing", "random_state", "timeout_in_seconds",
                          "unary_operators", "verbosity"):
            assert seen[o.name] == o.default, o.name
    from keplersr.cli import _add_search_args
    import argparse
    p = argparse.ArgumentParser()
    _add_search_args(p)
    flags = {a.dest for a in p._actions}
    assert {o.name for o in OPTIONS if o.cli} <= flags


@pytest.mark.julia
def test_engine_defaults_and_tables_match_the_declaration(julia_worker):
    desc = julia_worker.describe()
    jdef = desc["option_defaults"]
    for o in DIRECT:
        assert o.name in jdef, f"the engine has no option {o.name}"
        py = o.engine_value(o.default)
        assert jdef[o.name] == py, f"{o.name}: engine default {jdef[o.name]!r}, declaration {py!r}"
    # and nothing the engine takes as a plain key is missing from the declaration
    # from other options, or custom translations of declared ones
    translated = {"loss", "complexity_of_binops", "complexity_of_unaops", "seed", "procs", "hosts"}
    assert set(jdef) - translated == {o.name for o in DIRECT}
    assert set(desc["binary_operators"]) == set(BINARY)
    assert set(desc["unary_operators"]) == set(UNARY)
    assert list(desc["mutation_kinds"]) == list(MUTATION_KINDS)
    assert set(desc["losses"]) == set(LOSSES)
