"""Choosing one equation from the Pareto front."""

from __future__ import annotations

import numpy as np
import pandas as pd


def select_index(equations: pd.DataFrame, model_selection: str = "best") -> int:
    """Row label of the selected equation.

    ``"accuracy"``: the lowest loss. ``"score"``: the highest score
    (-d log(loss)/d complexity). ``"best"``: the highest score among the
    equations whose loss is at most 1.5 times the lowest loss (PySR's rule:
    a big drop in loss for little extra complexity, without giving up much
    accuracy).
    """
    if equations is None or len(equations) == 0:
        raise ValueError("no equations to select from")
    loss = equations["loss"].to_numpy(dtype=float)
    if model_selection == "accuracy":
        return equations.index[int(np.argmin(loss))]
    if model_selection == "score":
        return equations.index[int(np.argmax(equations["score"].to_numpy(dtype=float)))]
    if model_selection == "best":
        ok = loss <= 1.5 * np.min(loss)
        sub = equations[ok]
        return sub.index[int(np.argmax(sub["score"].to_numpy(dtype=float)))]
    raise ValueError(f"model_selection must be 'best', 'accuracy' or 'score', got {model_selection!r}")
