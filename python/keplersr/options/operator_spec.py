"""Operator lists of one search: built-in names and user operators given as
Julia source, validated and numbered in the engine's order.

Layer: above the operator table (:mod:`keplersr.operators`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..operators import BINARY as BUILTIN_BINARY
from ..operators import UNARY as BUILTIN_UNARY

__all__ = ["OperatorSpec", "parse_operator_entry", "build_operator_spec"]

_DEF_RE = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_!]*)\s*\(([^)]*)\)\s*(=|$)")


@dataclass
class OperatorSpec:
    """Operators of one search: names in engine order plus Julia sources of user operators."""

    binary: list = field(default_factory=list)
    unary: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    user_names: list = field(default_factory=list)


def parse_operator_entry(entry, arity_hint):
    """Return (name, arity, julia_source or None) for one entry of an operator list."""
    if not isinstance(entry, str) or not entry.strip():
        raise ValueError(f"operator entries must be non-empty strings, got {entry!r}")
    if "(" in entry and "=" in entry:
        m = _DEF_RE.match(entry)
        if m is None:
            raise ValueError(
                f"cannot read the operator definition {entry!r}: write it as Julia, e.g. 'inv2(x) = 1/x^2'")
        name = m.group(1)
        args = [a for a in (s.strip() for s in m.group(2).split(",")) if a]
        if len(args) != arity_hint:
            kind = "binary" if arity_hint == 2 else "unary"
            raise ValueError(
                f"{kind} operator {name!r} must take {arity_hint} argument(s), its definition takes {len(args)}")
        return name, len(args), entry.strip()
    return entry.strip(), arity_hint, None


def build_operator_spec(binary_operators, unary_operators, extra_sympy_mappings):
    """Validate operator lists; user operators must come with a sympy mapping."""
    spec = OperatorSpec()
    mappings = dict(extra_sympy_mappings or {})
    for lst, arity, builtins, out, pname in (
        (binary_operators, 2, BUILTIN_BINARY, spec.binary, "binary_operators"),
        (unary_operators, 1, BUILTIN_UNARY, spec.unary, "unary_operators"),
    ):
        if lst is None:
            continue
        if isinstance(lst, str):
            raise ValueError(f"{pname} must be a list of strings, got the string {lst!r}")
        for entry in lst:
            name, _, src = parse_operator_entry(entry, arity)
            if name in out:
                raise ValueError(f"{pname} lists {name!r} twice")
            if src is not None:
                if name not in mappings:
                    raise ValueError(
                        f"user operator {name!r} needs a sympy mapping: pass "
                        f"extra_sympy_mappings={{{name!r}: lambda ...}}")
                spec.sources.append(src)
                spec.user_names.append(name)
            elif name not in builtins and name not in mappings:
                raise ValueError(
                    f"unknown {'binary' if arity == 2 else 'unary'} operator {name!r} in {pname}; "
                    f"built-ins are {', '.join(builtins)}, or define one as Julia source like "
                    f"'{'myop(x, y) = x*y' if arity == 2 else 'inv2(x) = 1/x^2'}'")
            elif src is None and name not in builtins:
                raise ValueError(
                    f"operator {name!r} is not built in: give its Julia definition in {pname}, "
                    f"e.g. '{name}(x) = ...'")
            out.append(name)
    if not spec.binary and not spec.unary:
        raise ValueError("at least one operator is needed in binary_operators or unary_operators")
    return spec
