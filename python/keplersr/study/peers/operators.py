"""The study's operator set, mapped to each peer's own operators.

The study's operators use KeplerSR's names (:mod:`keplersr.operators`).
:func:`operator_plan` maps them to each peer: pyoperon's ``allowed_symbols``
names (it lacks ``neg``, ``inv`` and ``cube`` as built-ins: they are dropped,
and listed as missing), gplearn's built-in ``function_set`` names where they
exist, and :func:`gplearn.functions.make_function` for the others (``exp``,
``square``, ``cube``, ``tanh``, ``sinh``, ``cosh``, ``asin``, ``acos``,
``atan``, ``^``), protected the way gplearn protects its own (clipped
arguments, finite outputs). gplearn's ``div``, ``sqrt``, ``log`` and ``inv``
are its protected versions; the sympy form
(:mod:`keplersr.study.peers.formulas`) uses the plain functions (they
agree wherever the argument is in the function's domain), as SRBench does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["OperatorPlan", "gplearn_function_set", "operator_plan", "pyoperon_symbols"]

#: KeplerSR operator name -> pyoperon ``allowed_symbols`` name (None: not built in).
_OPERON_SYMBOLS: Dict[str, Optional[str]] = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow",
    "neg": None, "inv": None, "cube": None,
    "sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log", "sqrt": "sqrt",
    "abs": "abs", "square": "square", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh",
    "asin": "asin", "acos": "acos", "atan": "atan",
}

#: KeplerSR operator name -> gplearn built-in function name.
_GPLEARN_BUILTINS: Dict[str, str] = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "sqrt": "sqrt", "log": "log", "abs": "abs",
    "neg": "neg", "inv": "inv", "sin": "sin", "cos": "cos", "tan": "tan",
}


# gplearn custom functions: module level so joblib workers can unpickle them by reference.
def _gp_exp(x1):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(np.minimum(x1, 100.0))


def _gp_square(x1):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.minimum(x1 * x1, 1e100)


def _gp_cube(x1):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.clip(x1 * x1 * x1, -1e100, 1e100)


def _gp_tanh(x1):
    return np.tanh(x1)


def _gp_sinh(x1):
    return np.sinh(np.clip(x1, -100.0, 100.0))


def _gp_cosh(x1):
    return np.cosh(np.clip(x1, -100.0, 100.0))


def _gp_asin(x1):
    return np.arcsin(np.clip(x1, -1.0, 1.0))


def _gp_acos(x1):
    return np.arccos(np.clip(x1, -1.0, 1.0))


def _gp_atan(x1):
    return np.arctan(x1)


def _gp_pow(x1, x2):
    with np.errstate(all="ignore"):
        out = np.power(np.abs(x1), x2)
        return np.where(np.isfinite(out) & (np.abs(out) < 1e100), out, 0.0)


#: KeplerSR operator name -> (gplearn function name, python function, arity) made with make_function.
_GPLEARN_CUSTOM: Dict[str, Tuple[str, Callable, int]] = {
    "exp": ("exp", _gp_exp, 1),
    "square": ("square", _gp_square, 1),
    "cube": ("cube", _gp_cube, 1),
    "tanh": ("tanh", _gp_tanh, 1),
    "sinh": ("sinh", _gp_sinh, 1),
    "cosh": ("cosh", _gp_cosh, 1),
    "asin": ("asin", _gp_asin, 1),
    "acos": ("acos", _gp_acos, 1),
    "atan": ("atan", _gp_atan, 1),
    "^": ("pow", _gp_pow, 2),
}


@dataclass
class OperatorPlan:
    """What one method is given for the study's operator set.

    ``given``: the method's own names, in order; ``missing``: study operators
    it has no counterpart for (dropped); ``custom``: study operators supplied
    through a user-function API (gplearn's ``make_function``).
    """

    method: str
    given: List[str]
    missing: List[str] = field(default_factory=list)
    custom: List[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line: the operators given, custom ones marked ``*``, then what is missing."""
        names = [f"{g}*" if g in self.custom_names else g for g in self.given]
        text = " ".join(names)
        if self.missing:
            text += " (missing: " + " ".join(self.missing) + ")"
        return text

    @property
    def custom_names(self) -> List[str]:
        return [_GPLEARN_CUSTOM[c][0] for c in self.custom if c in _GPLEARN_CUSTOM]


def operator_plan(method: str, binary: Sequence[str], unary: Sequence[str]) -> OperatorPlan:
    """Map the study's operators (KeplerSR names) to ``method``'s closest set."""
    ops = list(binary) + list(unary)
    if method == "keplersr":
        return OperatorPlan(method, ops)
    if method == "pyoperon":
        given, missing = [], []
        for op in ops:
            sym = _OPERON_SYMBOLS.get(op)
            (given.append(sym) if sym else missing.append(op))
        return OperatorPlan(method, given, missing)
    if method == "gplearn":
        given, missing, custom = [], [], []
        for op in ops:
            if op in _GPLEARN_BUILTINS:
                given.append(_GPLEARN_BUILTINS[op])
            elif op in _GPLEARN_CUSTOM:
                given.append(_GPLEARN_CUSTOM[op][0])
                custom.append(op)
            else:
                missing.append(op)
        return OperatorPlan(method, given, missing, custom)
    raise ValueError(f"unknown method {method!r}")


def pyoperon_symbols(binary: Sequence[str], unary: Sequence[str]) -> str:
    """pyoperon's ``allowed_symbols`` string for the study's operators."""
    plan = operator_plan("pyoperon", binary, unary)
    return ",".join(plan.given + ["constant", "variable"])


def gplearn_function_set(binary: Sequence[str], unary: Sequence[str]) -> tuple:
    """gplearn's ``function_set``: built-in names, and ``make_function`` objects for the rest."""
    from gplearn.functions import make_function

    out = []
    for op in list(binary) + list(unary):
        if op in _GPLEARN_BUILTINS:
            out.append(_GPLEARN_BUILTINS[op])
        elif op in _GPLEARN_CUSTOM:
            name, fn, arity = _GPLEARN_CUSTOM[op]
            out.append(make_function(function=fn, name=name, arity=arity, wrap=False))
    return tuple(out)
