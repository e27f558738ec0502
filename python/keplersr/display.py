"""How a fitted model shows itself: the front as an HTML table in Jupyter,
as text in a terminal, and as a LaTeX table for a paper.

Each table has one row per formula of the front (complexity, loss, score,
the formula as ``sympy_format`` holds it, i.e. simplified by
:mod:`keplersr.simplification`; in HTML also the engine's constants, each
rounded to its standard error: ``0.500(3)``); the selected formula (the one
``predict`` and ``sympy`` use) is marked.

Layer: leaf (works on ``equations_`` tables; imports expressions only).
"""

from __future__ import annotations

import html
import math
from typing import Optional, Sequence

from .expressions import to_latex

__all__ = ["front_text", "front_html", "latex_table", "value_with_error"]


def value_with_error(value: float, error: float, precision: int = 4) -> str:
    """``value`` rounded to the precision its standard ``error`` allows, error digits in parentheses.

    The error keeps two significant digits when its leading digit is 1 or 2
    (one digit would misstate it by up to 50%), else one; the value is
    rounded to the same decimal place: ``0.5002 ± 0.0031`` -> ``0.500(3)``,
    ``2.5 ± 0.012`` -> ``2.500(12)``, ``12345 ± 340`` -> ``12300(300)``.
    Beyond 1e-3 <= |value| < 1e5 the form is scientific: ``1.23(4)e-05``.
    Without a usable error (infinite, NaN, zero) the value is shown to
    ``precision`` significant digits; with a relative error below 1e-12 (an
    exact fit: the digits would be rounding noise) to 12 digits, no error.
    """
    value, error = float(value), float(error)
    if not math.isfinite(value) or not math.isfinite(error) or error <= 0:
        return f"{value:.{precision}g}"
    if error < 1e-12 * abs(value):
        return f"{value:.12g}"
    lead = math.floor(math.log10(error))           # decimal place of the error's first digit
    digits = 2 if error / 10.0 ** lead < 3 else 1
    last = lead - digits + 1                       # decimal place of the last digit shown
    err_units = round(error / 10.0 ** last)
    if err_units >= 10 ** digits:                  # rounding carried into a new digit (0.0096 -> 0.010)
        lead += 1
        digits = 2
        last = lead - 1
        err_units = round(error / 10.0 ** last)
    scale = math.floor(math.log10(max(abs(value), err_units * 10.0 ** last)))
    exp = 0 if -3 <= scale < 5 else scale
    mant = round(value / 10.0 ** last) * 10.0 ** (last - exp)
    decimals = max(0, exp - last)
    text = f"{mant:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    if last > exp:                                 # the error reaches left of the unit digit
        err_units *= 10 ** (last - exp)
    return f"{text}({err_units})" + (f"e{exp:+03d}" if exp else "")


def _constants_text(row, precision: int = 4) -> str:
    consts = list(row["constants"])
    errs = list(row.get("constants_stderr", [])) or [math.nan] * len(consts)
    return ", ".join(value_with_error(c, e, precision) for c, e in zip(consts, errs))


def front_text(tables: Sequence, selected: Sequence, labels: Sequence[str]) -> str:
    """Plain-text fronts; ``selected[k]`` is the selected row label of ``tables[k]``."""
    out = []
    for table, sel, label in zip(tables, selected, labels):
        if label:
            out.append(label)
        out.append(f"  {'':1}{'complexity':>10}  {'loss':>11}  {'score':>8}  equation")
        for idx, row in table.iterrows():
            mark = ">" if idx == sel else " "
            out.append(f"  {mark}{row['complexity']:>10}  {row['loss']:>11.4g}  {row['score']:>8.3g}  "
                       f"{row['sympy_format']}")
        if len(table) == 0:
            out.append("  (no formula found)")
    out.append("  (> = selected formula: predict, sympy and latex use it)")
    return "\n".join(out)


_CSS = ("<style>.ksr-front td,.ksr-front th{padding:2px 8px;text-align:right}"
        ".ksr-front td.f{text-align:left}.ksr-front tr.sel{background:#fff3c4;font-weight:bold}</style>")


def front_html(tables: Sequence, selected: Sequence, labels: Sequence[str], caption: str = "",
               units: Optional[str] = None) -> str:
    """HTML fronts for Jupyter (formulas as LaTeX, rendered by the notebook's MathJax)."""
    parts = [_CSS]
    if caption:
        parts.append(f"<p>{html.escape(caption)}</p>")
    for table, sel, label in zip(tables, selected, labels):
        parts.append("<table class='ksr-front'>")
        if label:
            parts.append(f"<caption>{html.escape(label)}</caption>")
        parts.append("<tr><th>complexity</th><th>loss</th><th>score</th><th>formula</th>"
                     "<th>constants of the engine's form (standard error in the last digits)</th></tr>")
        for idx, row in table.iterrows():
            cls = " class='sel'" if idx == sel else ""
            formula = html.escape(to_latex(row["sympy_format"], precision=4))
            parts.append(
                f"<tr{cls}><td>{int(row['complexity'])}</td><td>{row['loss']:.4g}</td>"
                f"<td>{row['score']:.3g}</td><td class='f'>${formula}$</td>"
                f"<td class='f'>{html.escape(_constants_text(row))}</td></tr>")
        parts.append("</table>")
    note = "highlighted: the selected formula (used by predict, sympy and latex)"
    if units:
        note += f"; {units}"
    parts.append(f"<p><small>{html.escape(note)}</small></p>")
    return "".join(parts)


def latex_table(table, indices=None, precision: int = 3, selected=None) -> str:
    """A LaTeX ``tabular`` (booktabs rules) of the rows ``indices`` of one front."""
    rows = table if indices is None else table.loc[list(indices)]
    lines = [r"\begin{tabular}{@{}ccc@{}}", r"\toprule",
             r"Equation & Complexity & Loss \\", r"\midrule"]
    for idx, row in rows.iterrows():
        eq = to_latex(row["sympy_format"], precision=precision)
        mark = r" $\leftarrow$" if selected is not None and idx == selected else ""
        loss = f"{row['loss']:.{precision}g}"
        if "e" in loss:
            mant, exp = loss.split("e")
            loss = f"{mant} \\times 10^{{{int(exp)}}}"
        lines.append(f"${eq}$ & {int(row['complexity'])} & ${loss}${mark} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)
