"""Tests for the comparison study's report: summary table, results.md and the recovery plot (fake results)."""

import numpy as np
import pandas as pd

from keplersr.study import feynman_study
from keplersr.study.report import plot_recovery, summary_table, write_markdown


def _fake_results():
    rows = []
    spec = {  # method -> per equation (recovered, on_front, time, r2, rate)
        "keplersr": [(True, True, 1.0, 1.0, 1e5), (True, True, 3.0, 1.0, 2e5), (False, True, None, 0.9995, 1e5),
                     (False, False, None, 0.5, 3e5)],
        "pyoperon": [(True, True, 10.0, 1.0, 5e4), (False, False, None, 0.99, 5e4), (False, True, None, 0.9999, 4e4),
                     (False, False, None, 0.2, 5e4)],
        "gplearn": [(False, False, None, 0.3, 1e3), (False, False, None, 0.2, 1e3), (False, False, None, 0.1, 1e3),
                    ("error", False, None, None, None)],
    }
    for m, eqs in spec.items():
        for i, (rec, front, t, r2, rate) in enumerate(eqs):
            row = {c: np.nan for c in feynman_study.RESULT_COLUMNS}
            row.update(name=f"E{i}", number=i, n_variables=2, true_formula=f"x*y+{i}", method=m,
                       status="ok" if rec != "error" else "RuntimeError: boom", recovered=rec is True,
                       recovered_positive=rec is True or (m == "keplersr" and i == 3),
                       on_front=front, selected_formula="x*y", front_formula="", time_to_recovery_s=t,
                       time_source=("fit_wall_time" if m == "pyoperon" else "history") if t else "",
                       fit_time_s=12.0, r2_heldout=r2, r2_above_0999=bool(r2 is not None and r2 > 0.999),
                       candidates_per_s=rate, judge_reason="", units_passed=False, operators=f"ops of {m}",
                       budget_s=10.0, noise=0.0, seed=0, n_rows=100, threads=2)
            rows.append(row)
    return pd.DataFrame(rows, columns=feynman_study.RESULT_COLUMNS)


def test_summary_table_markdown_and_plot_from_fake_results(tmp_path):
    frame = _fake_results()
    s = summary_table(frame).set_index("method")
    assert list(s.index) == ["keplersr", "pyoperon", "gplearn"]
    assert s.loc["keplersr", ["recovered", "recovered_positive", "on_front", "r2_above_0999", "failed"]].tolist() \
        == [2, 3, 3, 3, 0]
    assert s.loc["keplersr", "median_time_to_recovery_s"] == 2.0 and s.loc["keplersr", "candidates_per_s"] == 1.5e5
    assert s.loc["pyoperon", ["recovered", "on_front", "r2_above_0999"]].tolist() == [1, 2, 2]
    assert s.loc["gplearn", "failed"] == 1 and np.isnan(s.loc["gplearn", "median_time_to_recovery_s"])
    # the method order can be imposed
    assert list(summary_table(frame, ["gplearn", "keplersr"])["method"]) == ["gplearn", "keplersr", "pyoperon"]

    write_markdown(frame, tmp_path / "results.md")
    md = (tmp_path / "results.md").read_text()
    assert md.count("| Method | Recovered (selected) |") == 1          # ONE summary table
    assert "| keplersr | **2 / 4 (50%)** | 3 / 4 (75%) | 3 / 4 (75%) | 3 / 4 (75%) | 2.00 | 150,000 | 0 |" in md
    assert "| gplearn | **0 / 4 (0%)** |" in md and "error: RuntimeError: boom" in md
    assert "pyoperon: the fit's wall time" in md and "- gplearn: `ops of gplearn`" in md
    assert md.index("| Method |") < md.index("| Equation |")
    assert md.count("| E0 |") == 1 and md.count("| | | | pyoperon |") == 4

    plot_recovery(frame, tmp_path / "p.png", 10.0)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
