"""The peers' formulas as sympy: gplearn programs and Operon model strings.

:func:`gplearn_to_sympy` converts a gplearn program (prefix list of function
nodes, feature indices and constants). gplearn's ``div``, ``sqrt``, ``log``
and ``inv`` are its protected versions; the sympy form uses the plain
functions (they agree wherever the argument is in the function's domain), as
SRBench does. :func:`parse_operon_model` parses the infix string pyoperon's
``get_model_string`` writes.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Sequence

import numpy as np
import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

__all__ = ["gplearn_to_sympy", "parse_operon_model"]

#: gplearn function name -> sympy builder (protected functions as their plain counterparts).
_GPLEARN_SYMPY: Dict[str, Callable] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "sqrt": sympy.sqrt,
    "log": sympy.log,
    "abs": sympy.Abs,
    "neg": lambda a: -a,
    "inv": lambda a: 1 / a,
    "max": sympy.Max,
    "min": sympy.Min,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "sig": lambda a: 1 / (1 + sympy.exp(-a)),
    "exp": sympy.exp,
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "pow": lambda a, b: sympy.Pow(a, b),
}


def gplearn_to_sympy(program, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
    """A gplearn program (a ``_Program`` or its prefix list) as a sympy expression.

    The prefix list holds function nodes (objects with ``name`` and
    ``arity``), feature indices (ints, looked up in ``symbols``) and constants
    (floats). Protected functions become their plain counterparts (``div`` ->
    ``a/b``, ``sqrt`` -> ``sqrt(a)``, ``log`` -> ``log(a)``), except on
    constant subtrees, which are folded with the node's own function (so
    ``asin(1.3)`` is gplearn's ``asin(clip(1.3))``, not a complex number). A
    function name not in the table raises ``ValueError``.
    """
    nodes = list(getattr(program, "program", program))
    if not nodes:
        raise ValueError("empty gplearn program")
    pos = 0

    def build():
        nonlocal pos
        if pos >= len(nodes):
            raise ValueError("truncated gplearn program")
        node = nodes[pos]
        pos += 1
        if isinstance(node, (int, np.integer)) and not isinstance(node, bool):
            return symbols[int(node)]
        if isinstance(node, (float, np.floating)):
            return sympy.Float(float(node))
        name, arity = getattr(node, "name", None), getattr(node, "arity", None)
        if name not in _GPLEARN_SYMPY:
            raise ValueError(f"gplearn function {name!r} has no sympy form")
        args = [build() for _ in range(int(arity))]
        fn = getattr(node, "function", None)
        if callable(fn) and all(a.is_Number for a in args):
            # a constant subtree: fold it with gplearn's own (protected) function, as gplearn computes it
            with np.errstate(all="ignore"):
                value = float(np.asarray(fn(*[np.array([float(a)]) for a in args]), dtype=float).ravel()[0])
            if math.isfinite(value):
                return sympy.Float(value)
        return _GPLEARN_SYMPY[name](*args)

    expr = build()
    if pos != len(nodes):
        raise ValueError(f"gplearn program has {len(nodes) - pos} trailing node(s)")
    return expr


_OPERON_FUNCTIONS: Dict[str, object] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp, "log": sympy.log,
    "sqrt": sympy.sqrt, "cbrt": sympy.cbrt, "abs": sympy.Abs, "tanh": sympy.tanh, "sinh": sympy.sinh,
    "cosh": sympy.cosh, "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "max": sympy.Max, "min": sympy.Min, "floor": sympy.floor, "ceil": sympy.ceiling,
    "log1p": lambda a: sympy.log(1 + a), "square": lambda a: a**2,
}


def parse_operon_model(text: str, symbols: Sequence[sympy.Symbol], placeholder: str = "x") -> sympy.Expr:
    """An Operon infix model string, written with names ``x0, x1, ...``, as sympy.

    ``symbols[i]`` replaces ``{placeholder}{i}``. Operon writes ``^`` for powers
    (``square`` as ``^ 2``), ``abs``, ``max``/``min`` and plain function calls.
    """
    local: Dict[str, object] = dict(_OPERON_FUNCTIONS)
    local.update({f"{placeholder}{i}": s for i, s in enumerate(symbols)})
    return parse_expr(text, local_dict=local, transformations=standard_transformations + (convert_xor,),
                      evaluate=True)
