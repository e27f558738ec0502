"""End-to-end weighted symbolic regression on the WBF CP-odd score (runs the Julia engine).

A small parton-level sample (3000 events) where every other event is corrupted: its target
is the score with the wrong sign, so the corrupted half cancels the CP-odd signal of the
clean half.  With zero weight on the corrupted events (and the generator's event weights on
the rest) the search must find the score's shape c * x_f x_b sin(Delta_phi), which keeps
about 0.96 of the Fisher information; without the weights, the same data has no
Delta_phi-odd signal left and nothing the search finds keeps more than a few per cent.
Two searches of about 15-25 s each on one thread.
"""

import numpy as np
import pytest
import sympy as sp

from keplersr import SymbolicRegressor

pytestmark = [pytest.mark.julia, pytest.mark.slow]
from keplersr.datasets.wbf import wbf_cp_score
from keplersr.physics import fisher_fraction

FEATURES = ["x_f", "x_b", "Delta_eta", "Delta_phi"]
SCALE = 10.0  # y = 10 t: t (TeV^2) is ~1e-2, y is of order 0.1-1


@pytest.fixture(scope="module")
def samples():
    """(fit sample, y, weights with the corrupted half zeroed, independent evaluation sample)."""
    fit = wbf_cp_score(3000, level="parton", seed=11, n_pilot=20_000)
    ev = wbf_cp_score(20_000, level="parton", seed=12, n_pilot=20_000)
    y = SCALE * fit["t"].to_numpy()
    w = fit["weight"].to_numpy().copy()
    y[::2] *= -1.0          # corrupted half: the score with the wrong sign
    w[::2] = 0.0
    return fit, y, w, ev


def _search(fit, y, weights):
    model = SymbolicRegressor(binary_operators=["+", "-", "*", "/"],
                              unary_operators=["sin", "square", "cube"],
                              nested_constraints={"sin": {"sin": 0}}, maxsize=15,
                              niterations=4, populations=4, ncycles_per_iteration=100,
                              random_state=0, procs=1, progress=False, verbosity=0,
                              output_directory=None)
    return model.fit(fit[FEATURES], y, weights=weights)


def _selected_fisher(model, ev):
    pred = np.broadcast_to(np.asarray(model.predict(ev[FEATURES]), dtype=float), (len(ev),))
    if not np.any(pred != 0):
        return 0.0
    return fisher_fraction(pred, ev["t"].to_numpy(), weights=ev["weight"].to_numpy())


def test_zero_weights_remove_corrupted_events_and_the_score_is_found(samples):
    fit, y, w, ev = samples
    model = _search(fit, y, w)
    expr = model.sympy()
    names = {str(s) for s in expr.free_symbols}
    assert {"x_f", "x_b", "Delta_phi"} <= names, expr
    assert any("Delta_phi" in {str(s) for s in a.free_symbols} for a in expr.atoms(sp.sin)), expr
    frac = _selected_fisher(model, ev)
    assert frac > 0.9, (expr, frac)
    # the reported loss is the weighted MSE: the zero-weighted half does not enter it
    best = model.get_best()
    pred = np.broadcast_to(np.asarray(model.predict(fit[FEATURES]), dtype=float), y.shape)
    assert best["loss"] == pytest.approx(np.average((pred - y) ** 2, weights=w), rel=1e-6)
    assert best["loss"] < 0.5 * np.mean((pred - y) ** 2)


def test_without_weights_the_corrupted_data_has_no_signal(samples):
    fit, y, _, ev = samples
    model = _search(fit, y, None)
    assert _selected_fisher(model, ev) < 0.2
