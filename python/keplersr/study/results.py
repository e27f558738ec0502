"""The comparison study's results table (``results.csv``): columns, rows, file, resume check.

One row per (equation, method), with the columns :data:`RESULT_COLUMNS`.
:func:`base_row` is a row before the fit (the equation, the configuration,
the AI Feynman paper's solve time); :func:`read_results` reads the file back
with the right types (and refuses a table of the KeplerSR-only study, which
has no ``method`` column); :func:`write_results` rewrites it atomically;
:func:`check_config` refuses to resume a study made with another
budget/noise/seed/n_rows/threads or other operators.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Dict, List, Mapping

import numpy as np
import pandas as pd

from keplersr.datasets.feynman import FeynmanEquation

__all__ = ["AIFEYNMAN_TIMES_S", "RESULT_COLUMNS", "base_row", "check_config", "read_results", "write_results"]

#: Solve times (seconds) published in the AI Feynman paper, keyed by CSV row name
#: (the paper's I.6.20 is row I.6.2 and its I.34.10 is row I.34.1).
AIFEYNMAN_TIMES_S: Dict[str, float] = {
    "I.6.2": 2992.0,
    "I.9.18": 5975.0,
    "I.10.7": 14.0,
    "I.11.19": 184.0,
    "I.34.1": 13.0,
    "I.34.27": 8.0,
    "I.40.1": 20.0,
}

RESULT_COLUMNS: List[str] = [
    "name",
    "number",
    "n_variables",
    "true_formula",
    "method",
    "status",
    "recovered",
    "recovered_positive",
    "on_front",
    "selected_formula",
    "selected_complexity",
    "front_formula",
    "time_to_recovery_s",
    "time_source",
    "fit_time_s",
    "r2_heldout",
    "r2_above_0999",
    "n_candidates",
    "candidates_per_s",
    "candidates_source",
    "judge_reason",
    "units_passed",
    "operators",
    "aifeynman_time_s",
    "budget_s",
    "noise",
    "seed",
    "n_rows",
    "threads",
]

_CONFIG_COLUMNS = ("budget_s", "noise", "seed", "n_rows", "threads")
_BOOL_COLUMNS = ("recovered", "on_front", "r2_above_0999", "units_passed")
_TEXT_COLUMNS = ("method", "status", "selected_formula", "front_formula", "time_source", "candidates_source",
                 "judge_reason", "operators")


def base_row(eq: FeynmanEquation, method: str, config: dict, operators: str) -> dict:
    """The row of ``(eq, method)`` before its fit is judged (status ``ok``, nothing recovered)."""
    row = {c: np.nan for c in RESULT_COLUMNS}
    row.update(
        name=eq.name, number=eq.number, n_variables=eq.n_variables, true_formula=eq.formula, method=method,
        status="ok", recovered=False, recovered_positive=False, on_front=False, selected_formula="", front_formula="", time_source="",
        r2_above_0999=False, candidates_source="", judge_reason="", units_passed=False, operators=operators,
        aifeynman_time_s=AIFEYNMAN_TIMES_S.get(eq.name, np.nan), **config,
    )
    return row


def read_results(path: Path) -> pd.DataFrame:
    """``results.csv`` as a table of :data:`RESULT_COLUMNS` (empty if there is no file)."""
    if not path.exists():
        return pd.DataFrame(columns=RESULT_COLUMNS)
    frame = pd.read_csv(path, keep_default_na=True)
    if len(frame.columns) and "method" not in frame.columns:
        raise ValueError(
            f"{path} was written by the KeplerSR-only study (no 'method' column); "
            "use another out_dir or resume=False (--no-resume)"
        )
    for col in RESULT_COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan
    for col in _BOOL_COLUMNS:
        frame[col] = frame[col].map(lambda v: str(v).strip().lower() == "true")
    # a verdict added later: None where a row predates it (run_study fills it in)
    frame["recovered_positive"] = frame["recovered_positive"].map(
        lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip().lower() == "true")
    for col in _TEXT_COLUMNS:
        frame[col] = frame[col].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return frame[RESULT_COLUMNS]


def write_results(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (a temporary file, then a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def check_config(results: pd.DataFrame, config: dict, plans: Mapping[str, str], path: Path) -> None:
    """Raise ``ValueError`` if ``results`` were made with another configuration or other operators."""
    for col in _CONFIG_COLUMNS:
        if not len(results):
            break
        old = results[col].astype(float)
        old = old[old.notna()]
        if len(old) and not np.allclose(old, config[col]):
            raise ValueError(
                f"{path} holds results made with {col}={old.iloc[0]:g}, not {config[col]:g}; "
                "use another out_dir or resume=False"
            )
    for method, ops in plans.items():
        old = set(results.loc[results["method"] == method, "operators"]) - {""}
        if old and old != {ops}:
            raise ValueError(
                f"{path} holds {method} results made with the operators {sorted(old)}, not {ops!r}; "
                "use another out_dir or resume=False"
            )
