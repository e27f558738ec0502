"""Decomposition as one ``fit`` runs it: the estimator's options -> settings,
sub-searches on the shared Julia worker, the seeds and the time left.

Layer: above :mod:`keplersr.decomposition.driver`, :mod:`keplersr.progress`
(the worker is passed in by the estimator).
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence

import numpy as np

from ..progress import make_progress
from ..model_selection import select_index
from .codes import Node, OperatorIndex, from_codes
from .driver import Decomposition, Problem, Settings, decompose

__all__ = ["settings_from_params", "run_decomposition", "UNITS_KEYS"]

#: Keys of the engine's options message that carry units (sub-problems are dimensionless or unit-free).
UNITS_KEYS = ("X_units", "y_units", "dimensional_constraint_penalty", "dimensionless_constants_only")


def settings_from_params(params) -> Optional[Settings]:
    """The decomposition settings of validated parameters, or None when every ingredient is off."""
    s = Settings(units=params["decompose_units"], separability=params["decompose_separability"],
                 transforms=params["decompose_transforms"], symmetry=params["decompose_symmetry"],
                 polyfit=params["decompose_polyfit"], max_depth=params["decomposition_depth"])
    return s if (s.units or s.separability or s.symmetry or s.polyfit) and s.max_depth > 0 else None


def _ordered_trees(records: List[dict], ops: OperatorIndex, model_selection: str) -> List[Node]:
    """The front of a sub-search as trees: the selected formula first, then by loss."""
    if not records:
        return []
    import pandas as pd

    table = pd.DataFrame({"loss": [r["loss"] for r in records], "score": [r.get("score", 0.0) for r in records]})
    first = select_index(table, model_selection)
    order = [first] + [int(i) for i in np.argsort(table["loss"].to_numpy()) if int(i) != first]
    return [from_codes(records[i]["codes"], records[i]["constants"], ops) for i in order]


def run_decomposition(worker, X: np.ndarray, y: np.ndarray, names: Sequence[str], opts: dict, params: dict,
                      settings: Settings, binary: Sequence[str], unary: Sequence[str],
                      budget: Optional[float], seed: int, progress: bool, label: str = "") -> Decomposition:
    """Decompose ``y ~ f(X)`` with sub-searches on ``worker`` (options ``opts``), within ``budget`` seconds."""
    ops = OperatorIndex(binary, unary)
    rng = np.random.default_rng(seed)
    counter = [0]

    def solve(problem: Problem, seconds: Optional[float], share: float, what: str) -> List[Node]:
        counter[0] += 1
        sub = {k: v for k, v in opts.items() if k not in UNITS_KEYS}
        sub["seed"] = (int(opts.get("seed", 0)) + 7919 * counter[0]) % (2**63)
        if seconds is not None:
            sub["timeout_in_seconds"] = float(seconds)
        else:     # untimed: the decomposition's share of the iterations, split among its sub-searches
            sub["niterations"] = max(1, math.ceil(opts["niterations"] * params["decomposition_time_fraction"] * share))
        printer = make_progress(enabled=progress, verbosity=params["verbosity"],
                                label=f"{label}[decomposition {what}] ")
        try:
            res = worker.fit(problem.X, problem.y, None, sub, list(problem.names), on_progress=printer,
                             worker_timeout=params["worker_timeout"])
        finally:
            printer.close()
        if res.interrupted:
            raise KeyboardInterrupt
        return _ordered_trees(res.records, ops, params["model_selection"])

    x_dims = y_dim = None
    if "X_units" in opts and "y_units" in opts:
        x_dims, y_dim = opts["X_units"], opts["y_units"]
    return decompose(X, y, names, ops, settings, solve, budget, rng, x_dims=x_dims, y_dim=y_dim)
