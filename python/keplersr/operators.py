"""The built-in operator table: one row per operator the engine knows.

Each row gives the name users write in ``binary_operators`` /
``unary_operators``, its arity, the sympy form the front is shown in, and
what it means (domain rules included). Everything else derives from this
table: option validation (:mod:`keplersr.options`), sympy conversion
(:mod:`keplersr.expressions`) and the README's option reference. The engine's
own table (``julia/core/operators.jl``) is checked against it by a test
(``tests/test_options_declaration.py``, through the worker's ``describe``).

Layer: leaf (imports only sympy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import sympy

__all__ = ["Operator", "OPERATORS", "BINARY", "UNARY", "sympy_builders"]


@dataclass(frozen=True)
class Operator:
    """One built-in operator."""

    name: str
    arity: int
    sympy: Callable
    meaning: str


OPERATORS: Tuple[Operator, ...] = (
    Operator("+", 2, lambda a, b: a + b, "addition"),
    Operator("-", 2, lambda a, b: a - b, "subtraction"),
    Operator("*", 2, lambda a, b: a * b, "multiplication"),
    Operator("/", 2, lambda a, b: a / b, "division"),
    Operator("^", 2, lambda a, b: sympy.Pow(a, b),
             "safe power: NaN for a negative base with a non-integer exponent, or 0 to a negative power"),
    Operator("neg", 1, lambda a: -a, "-x"),
    Operator("sin", 1, sympy.sin, "sine"),
    Operator("cos", 1, sympy.cos, "cosine"),
    Operator("tan", 1, sympy.tan, "tangent"),
    Operator("exp", 1, sympy.exp, "exponential"),
    Operator("log", 1, sympy.log, "natural logarithm (NaN for x <= 0)"),
    Operator("sqrt", 1, sympy.sqrt, "square root (NaN for x < 0)"),
    Operator("abs", 1, sympy.Abs, "absolute value"),
    Operator("square", 1, lambda a: a**2, "x^2"),
    Operator("cube", 1, lambda a: a**3, "x^3"),
    Operator("inv", 1, lambda a: 1 / a, "1/x"),
    Operator("tanh", 1, sympy.tanh, "hyperbolic tangent"),
    Operator("sinh", 1, sympy.sinh, "hyperbolic sine"),
    Operator("cosh", 1, sympy.cosh, "hyperbolic cosine"),
    Operator("asin", 1, sympy.asin, "arcsine (NaN outside [-1, 1])"),
    Operator("acos", 1, sympy.acos, "arccosine (NaN outside [-1, 1])"),
    Operator("atan", 1, sympy.atan, "arctangent"),
)

#: Names of the built-in binary / unary operators, in table order.
BINARY: Tuple[str, ...] = tuple(op.name for op in OPERATORS if op.arity == 2)
UNARY: Tuple[str, ...] = tuple(op.name for op in OPERATORS if op.arity == 1)


def sympy_builders(arity: int) -> Dict[str, Callable]:
    """Operator name -> function building its sympy expression, for one arity."""
    return {op.name: op.sympy for op in OPERATORS if op.arity == arity}
