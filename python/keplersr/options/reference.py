"""The option reference, written from the declaration: the Markdown table in
README.md (between the ``options-reference`` markers) and the Parameters
section of the estimator's docstring.

``python -m keplersr.options README.md`` rewrites the README's table;
``--check`` only reports whether it is current.

Layer: above the declaration.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .declaration import GROUPS, OPTIONS, Option

__all__ = ["markdown_table", "docstring_parameters", "update_readme", "BEGIN", "END", "main"]

BEGIN = "<!-- options-reference:begin (generated from keplersr/options/declaration.py) -->"
END = "<!-- options-reference:end -->"


def _default_text(o: Option) -> str:
    d = o.default
    if isinstance(d, tuple):
        return "`(" + ",".join(f'"{x}"' for x in d) + ")`" if d else "`()`"
    if isinstance(d, str):
        return f'`"{d}"`'
    return f"`{d!r}`"


def _accepts(o: Option) -> str:
    if o.kind == "int" or o.kind == "float":
        word = "integer" if o.kind == "int" else "number"
        parts = []
        if o.low is not None:
            parts.append(f"{'>' if o.strict_low else '≥'} {o.low:g}")
        if o.high is not None:
            parts.append(f"≤ {o.high:g}")
        text = word + (" " + ", ".join(parts) if parts else "")
    elif o.kind == "bool":
        text = "bool"
    elif o.kind == "str":
        text = "string"
    elif o.kind == "choice":
        text = " / ".join(f'`"{c}"`' for c in o.choices)
    else:
        text = "see meaning"
    if o.allow_none and o.kind != "custom":
        text += " or `None`"
    return text


def markdown_table() -> str:
    """The option reference: one table, rows grouped in declaration order."""
    lines = ["| group | parameter | default | accepts | meaning |", "|---|---|---|---|---|"]
    for g in GROUPS:
        for o in OPTIONS:
            if o.group == g:
                lines.append(f"| {g} | `{o.name}` | {_default_text(o)} | {_accepts(o)} | {o.doc} |")
    return "\n".join(lines)


def docstring_parameters() -> str:
    """A numpydoc ``Parameters`` section for the estimator."""
    out = ["Parameters", "----------"]
    for o in OPTIONS:
        out.append(f"{o.name} : {_accepts(o).replace('`', '')}, default={o.default!r}")
        out.append(f"    {o.doc.replace('`', '')}")
    return "\n".join(out)


def update_readme(text: str) -> str:
    """``text`` (a README) with the table between the markers replaced by the current one."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"the README has no option-reference markers ({BEGIN!r} ... {END!r})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + markdown_table() + "\n" + END + tail


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m keplersr.options",
                                 description="write the option reference into README.md")
    ap.add_argument("readme", help="path of README.md")
    ap.add_argument("--check", action="store_true", help="only report whether the table is current")
    args = ap.parse_args(argv)
    path = Path(args.readme)
    old = path.read_text(encoding="utf-8")
    new = update_readme(old)
    if args.check:
        if new != old:
            print(f"{path}: the option reference is stale; run python -m keplersr.options {path}")
            return 1
        print(f"{path}: the option reference is current")
        return 0
    if new != old:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: option reference rewritten")
    return 0

