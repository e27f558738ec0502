"""A formula in sympy -> the engine's tree (``decomposition.codes.Node``) in a given operator set.

The one converter of what a user writes as a formula: guesses (its numbers
become constants the search fits) and :func:`keplersr.fit_formula` (its
parameters are the constants; the numbers written stay fixed). The caller
says what a number and a symbol become. Powers use ``square``/``cube``/``*``
and ``sqrt`` where the operator set has them, else ``^``; negative powers
``1/...`` (or ``inv``); ``exp`` for ``E**x``; an operator written by its name
(``square(x0)``, a user operator ``myop(a, b)``) is that operator. An
operator the set lacks raises :class:`MissingOperator`, naming it.

Layer: leaf above ``decomposition.codes``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, List, Optional

import sympy
from sympy.core.function import AppliedUndef

from .decomposition.codes import Node, OperatorIndex, power

__all__ = ["formula_tree", "FormulaTreeError", "MissingOperator", "FUNCTIONS"]

#: sympy functions -> the unary operator of the same meaning.
FUNCTIONS = {
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.exp: "exp", sympy.log: "log",
    sympy.Abs: "abs", sympy.tanh: "tanh", sympy.sinh: "sinh", sympy.cosh: "cosh",
    sympy.asin: "asin", sympy.acos: "acos", sympy.atan: "atan",
}


class FormulaTreeError(ValueError):
    """A formula that the operator set cannot write; the message starts with the caller's label."""


class MissingOperator(FormulaTreeError):
    """The formula needs operator ``name`` (``kind`` "binary" or "unary") for ``what``."""

    def __init__(self, label: str, what: str, name: str, kind: str):
        self.label, self.what, self.name, self.kind = label, what, name, kind
        super().__init__(f"{label} needs {what}, but {name!r} is not among the search's {kind}_operators; "
                         f"add it (e.g. {kind}_operators=[..., {name!r}]) or write it without {name!r}")


def formula_tree(expr: sympy.Expr, ops: OperatorIndex, *, number: Callable[[float], Node],
                 symbol: Callable[[str], Node], label: str) -> Node:
    """The tree of ``expr`` with the operators of ``ops``.

    ``number(v)``: the node of a number of the formula (a coefficient, an
    exponent that needs ``^``, the 1 of a reciprocal); ``symbol(name)``: the
    node of a free symbol. ``label`` starts every error message (e.g. "guess
    'x0*x1'").
    """

    def binop(name, a, b, what):
        if name not in ops.binary:
            raise MissingOperator(label, what, name, "binary")
        return ops.bin(name, a, b)

    def unop(name, a, what):
        if name not in ops.unary:
            raise MissingOperator(label, what, name, "unary")
        return ops.un(name, a)

    def mul(a, b):
        return binop("*", a, b, "a product")

    def product(parts: List[Node]) -> Node:
        out = parts[0]
        for p in parts[1:]:
            out = mul(out, p)
        return out

    def value_of(e) -> Optional[float]:
        if e.is_number:
            try:
                v = complex(e)
            except (TypeError, ValueError):
                return None
            if v.imag == 0:
                return v.real
        return None

    def positive_power(base: Node, e: Fraction, sym) -> Node:
        """``base ** e`` for e > 0 with square/cube/* and sqrt, or ``^``."""
        if e.denominator == 1:
            try:
                return power(base, int(e), ops)
            except KeyError as err:
                name = str(err.args[0])
                raise MissingOperator(label, f"the power {sym}", name, "binary" if name in "+-*/^" else "unary") from None
        if e.denominator == 2 and "sqrt" in ops.unary:
            root = ops.un("sqrt", base)
            whole = e - Fraction(1, 2)
            return root if whole == 0 else mul(positive_power(base, whole, sym), root)
        return binop("^", base, number(float(e)), f"the power {sym}")

    def walk(e) -> Node:
        v = value_of(e)
        if v is not None:
            return number(v)
        if isinstance(e, sympy.Symbol):
            return symbol(e.name)
        if isinstance(e, sympy.Add):
            terms = list(e.as_ordered_terms())
            pos = [t for t in terms if not t.could_extract_minus_sign()]
            neg = [t for t in terms if t.could_extract_minus_sign()]
            if neg and "-" not in ops.binary:
                pos, neg = terms, []
            if not pos:         # -a - b: -(a) first
                first = neg.pop(0)
                out = walk(first)
            else:
                out = walk(pos[0])
                for t in pos[1:]:
                    out = binop("+", out, walk(t), "a sum")
            for t in neg:
                out = ops.bin("-", out, walk(-t))
            return out
        if isinstance(e, sympy.Mul):
            coeff, factors = e.as_coeff_mul()
            num, den = [], []
            for f in factors:
                if isinstance(f, sympy.Pow) and f.exp.is_number and f.exp.is_negative and "/" in ops.binary:
                    den.append(walk(f.base ** (-f.exp)))
                else:
                    num.append(walk(f))
            if coeff != 1 or isinstance(coeff, sympy.Float):     # a written 1.0 is a constant to fit
                if coeff == -1 and "neg" in ops.unary and num:
                    num[0] = ops.un("neg", num[0])
                else:
                    num.insert(0, number(float(coeff)))
            if not num:
                num = [number(1.0)]
            top = product(num)
            return top if not den else binop("/", top, product(den), "a division")
        if isinstance(e, sympy.Pow):
            base, ex = e.base, e.exp
            exv = value_of(ex)
            if exv is not None:
                fr = Fraction(exv).limit_denominator(1000)
                exact = abs(float(fr) - exv) < 1e-12
                if exact and fr > 0:
                    return positive_power(walk(base), fr, e)
                if exact and fr < 0:
                    inner = positive_power(walk(base), -fr, e) if fr != -1 else walk(base)
                    if "/" in ops.binary:
                        return ops.bin("/", number(1.0), inner)
                    if "inv" in ops.unary:
                        return ops.un("inv", inner)
                    if "^" in ops.binary:
                        return ops.bin("^", walk(base), number(float(exv)))
                    raise MissingOperator(label, f"the reciprocal in {e}", "/", "binary")
                return binop("^", walk(base), number(exv), f"the power {e}")
            if base == sympy.E:
                return unop("exp", walk(ex), f"exp in {e}")
            return binop("^", walk(base), walk(ex), f"the power {e}")
        if isinstance(e, AppliedUndef):      # an operator written by its name: square(x0), inv2(x1), myop(a, b)
            name = type(e).__name__
            args = [walk(a) for a in e.args]
            if len(args) == 1 and name in ops.unary:
                return ops.un(name, args[0])
            if len(args) == 2 and name in ops.binary:
                return ops.bin(name, args[0], args[1])
            kind = "unary" if len(args) == 1 else "binary"
            raise MissingOperator(label, f"the function {name} of {len(args)} argument(s)", name, kind)
        if isinstance(e, sympy.Function) and type(e) in FUNCTIONS:
            name = FUNCTIONS[type(e)]
            if len(e.args) != 1:
                raise FormulaTreeError(f"{label}: {e} has {len(e.args)} arguments; use {name}(x)")
            return unop(name, walk(e.args[0]), f"{name} (in {e})")
        raise FormulaTreeError(f"{label}: {e} ({type(e).__name__}) has no operator in this search; "
                               "formulas use + - * / ^, the unary operators and numbers")

    return walk(sympy.sympify(expr))
