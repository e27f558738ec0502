"""Batching end to end: `batching` / `batch_size` travel from the estimator to
the engine like every declared option; a batched search reports full-data
losses; a seeded deterministic batched run is the same on 1 and 2 threads."""

import numpy as np
import pytest

from keplersr import SymbolicRegressor
from keplersr.expressions import CompiledExpression


def _data(n=1500, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2.0, size=(n, 2))
    y = 1.7 * np.sin(X[:, 0]) * X[:, 1] + 0.05 * rng.normal(size=n)
    return X, y


def test_batching_options_are_validated_by_name():
    X, y = _data(20)
    with pytest.raises(ValueError, match="batching"):
        SymbolicRegressor(batching="sometimes").fit(X, y)
    with pytest.raises(ValueError, match="batch_size"):
        SymbolicRegressor(batch_size=0).fit(X, y)


def test_batched_front_holds_full_data_losses(julia_worker, fast):
    X, y = _data()
    m = SymbolicRegressor(unary_operators=["sin"], niterations=6, random_state=1, batching="on",
                          batch_size=64, **fast).fit(X, y)
    eq = m.equations_
    assert len(eq) >= 2
    for i in eq.index:
        # the engine's formula (the shown one may have exact constants snapped in, within their errors)
        raw = CompiledExpression(eq.loc[i, "sympy_raw"], m.variable_names_)
        mse = float(np.mean((raw(X) - y) ** 2))
        assert mse == pytest.approx(eq.loc[i, "loss"], rel=1e-6, abs=1e-12)


@pytest.mark.slow
def test_deterministic_batched_run_is_the_same_on_one_and_two_threads(julia_worker, fast):
    X, y = _data(seed=5)
    kw = dict(fast, unary_operators=["sin"], niterations=4, deterministic=True, random_state=11,
              batching="on", batch_size=80)
    fronts = []
    for procs in (1, 2):
        eq = SymbolicRegressor(procs=procs, **kw).fit(X, y).equations_
        fronts.append((list(eq["equation"]), list(eq["loss"])))
    assert fronts[0] == fronts[1]
