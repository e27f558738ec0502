"""The user's guesses: formulas to start the search from (PySR's ``guesses``).

A guess is a string (``"1.0*x0*x1 + 0.5"``, ``^`` allowed for powers) or a
sympy expression in the variable names of the fit (DataFrame columns,
``variable_names``, else ``x0, x1, ...``). :func:`guess_expressions` checks
every guess before Julia runs and writes it in the engine's prefix codes
(:mod:`keplersr.decomposition.codes`) with the search's operators only:
``x**2`` becomes ``square(x)`` (or ``x*x``), ``x**-1`` becomes ``1/x`` (or
``inv(x)``), ``x**0.5`` becomes ``sqrt(x)``, other powers need ``^``. Every
number of a guess is a constant the engine fits, starting from that value.

The engine treats the guesses as seed expressions (their constants fitted,
offered to the hall of fame even above ``maxsize``, the populations start
with them) and, while the search runs, puts copies of the fitted guesses back
into every population (``fraction_replaced_guesses``).

Layer: above :mod:`keplersr.decomposition.codes` and :mod:`keplersr.operators`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import List, Optional, Sequence

import sympy
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from .decomposition.codes import Node, OperatorIndex, power, to_codes

__all__ = ["GuessError", "guesses_per_output", "parse_guess", "guess_tree", "guess_expressions"]

#: sympy functions -> the unary operator of the same meaning.
_FUNCTIONS = {
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.exp: "exp", sympy.log: "log",
    sympy.Abs: "abs", sympy.tanh: "tanh", sympy.sinh: "sinh", sympy.cosh: "cosh",
    sympy.asin: "asin", sympy.acos: "acos", sympy.atan: "atan",
}


class GuessError(ValueError):
    """A guess that cannot start the search: it names the guess and the problem."""


def _is_guess(g) -> bool:
    return isinstance(g, (str, sympy.Basic))


def guesses_per_output(guesses, n_outputs: int) -> List[list]:
    """The guesses of each output: one list for all outputs, or (2-D ``y``) one list per output."""
    if guesses is None:
        return [[] for _ in range(n_outputs)]
    if _is_guess(guesses):
        guesses = [guesses]
    if not isinstance(guesses, (list, tuple)):
        raise GuessError(f"guesses must be a list of formulas (strings or sympy expressions), got "
                         f"{type(guesses).__name__}")
    nested = [isinstance(g, (list, tuple)) for g in guesses]
    if guesses and all(nested):
        if len(guesses) != n_outputs:
            raise GuessError(f"guesses has {len(guesses)} lists but y has {n_outputs} output(s): give one list "
                             "per output, or one flat list of formulas for all outputs")
        return [list(g) for g in guesses]
    if any(nested):
        raise GuessError("guesses mixes lists and formulas: give one flat list of formulas, or (2-D y) one list "
                         "per output")
    return [list(guesses) for _ in range(n_outputs)]


def parse_guess(guess, variable_names: Sequence[str]) -> sympy.Expr:
    """The sympy expression of one guess; ``GuessError`` if it does not parse or names an unknown variable."""
    names = [str(v) for v in variable_names]
    if isinstance(guess, str):
        local = {n: sympy.Symbol(n, real=True) for n in names}
        try:
            expr = parse_expr(guess, local_dict=local, transformations=standard_transformations + (convert_xor,),
                              evaluate=True)
        except Exception as err:   # noqa: BLE001 - any parse failure is the user's formula
            raise GuessError(f"guess {guess!r} does not parse: {err}") from None
    elif isinstance(guess, sympy.Basic):
        expr = guess
    else:
        raise GuessError(f"guess {guess!r} is a {type(guess).__name__}; a guess is a string or a sympy expression")
    if not isinstance(expr, sympy.Expr):
        raise GuessError(f"guess {guess!r} is not a formula (it is a {type(expr).__name__})")
    unknown = sorted({s.name for s in expr.free_symbols} - set(names))
    if unknown:
        raise GuessError(f"guess {str(guess)!r} uses unknown variable(s) {', '.join(unknown)}; the variables are "
                         f"{', '.join(names)}")
    return expr


def _missing(guess, what: str, name: str, kind: str) -> GuessError:
    return GuessError(f"guess {str(guess)!r} needs {what}, but {name!r} is not among the search's {kind}_operators; "
                      f"add it (e.g. {kind}_operators=[..., {name!r}]) or write the guess without it")


def guess_tree(expr: sympy.Expr, variable_names: Sequence[str], ops: OperatorIndex, guess=None) -> Node:
    """The tree of ``expr`` in the search's operators ``ops``; ``GuessError`` names a missing operator."""
    guess = expr if guess is None else guess
    column = {str(n): j + 1 for j, n in enumerate(variable_names)}

    def binop(name, a, b, what):
        if name not in ops.binary:
            raise _missing(guess, what, name, "binary")
        return ops.bin(name, a, b)

    def unop(name, a, what):
        if name not in ops.unary:
            raise _missing(guess, what, name, "unary")
        return ops.un(name, a)

    def mul(a, b):
        return binop("*", a, b, "a product")

    def product(parts: List[Node]) -> Node:
        out = parts[0]
        for p in parts[1:]:
            out = mul(out, p)
        return out

    def number(e) -> Optional[float]:
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
                raise _missing(guess, f"the power {sym}", name, "binary" if name in "+-*/^" else "unary") from None
        if e.denominator == 2 and "sqrt" in ops.unary:
            root = ops.un("sqrt", base)
            whole = e - Fraction(1, 2)
            return root if whole == 0 else mul(positive_power(base, whole, sym), root)
        return binop("^", base, ops.const(float(e)), f"the power {sym}")

    def walk(e) -> Node:
        v = number(e)
        if v is not None:
            return ops.const(v)
        if isinstance(e, sympy.Symbol):
            return ops.var(column[e.name])
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
                    num.insert(0, ops.const(float(coeff)))
            if not num:
                num = [ops.const(1.0)]
            top = product(num)
            return top if not den else binop("/", top, product(den), "a division")
        if isinstance(e, sympy.Pow):
            base, ex = e.base, e.exp
            exv = number(ex)
            if exv is not None:
                fr = Fraction(exv).limit_denominator(1000)
                exact = abs(float(fr) - exv) < 1e-12
                if exact and fr > 0:
                    return positive_power(walk(base), fr, e)
                if exact and fr < 0:
                    inner = positive_power(walk(base), -fr, e) if fr != -1 else walk(base)
                    if "/" in ops.binary:
                        return ops.bin("/", ops.const(1.0), inner)
                    if "inv" in ops.unary:
                        return ops.un("inv", inner)
                    if "^" in ops.binary:
                        return ops.bin("^", walk(base), ops.const(float(exv)))
                    raise _missing(guess, f"the reciprocal in {e}", "/", "binary")
                return binop("^", walk(base), ops.const(exv), f"the power {e}")
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
            raise _missing(guess, f"the function {name} of {len(args)} argument(s)", name, kind)
        if isinstance(e, sympy.Function) and type(e) in _FUNCTIONS:
            name = _FUNCTIONS[type(e)]
            if len(e.args) != 1:
                raise GuessError(f"guess {str(guess)!r}: {e} has {len(e.args)} arguments; use {name}(x)")
            return unop(name, walk(e.args[0]), f"{name} (in {e})")
        raise GuessError(f"guess {str(guess)!r}: {e} ({type(e).__name__}) has no operator in this search; "
                         "guesses use + - * / ^, the unary operators and numbers")

    return walk(sympy.sympify(expr))


def guess_expressions(guesses: Sequence, variable_names: Sequence[str], binary_operators: Sequence[str],
                      unary_operators: Sequence[str]) -> List[dict]:
    """``[{"codes", "constants", "guess"}]`` of one output's guesses, in the engine's numbering."""
    ops = OperatorIndex(binary_operators, unary_operators)
    out = []
    for g in guesses:
        expr = parse_guess(g, variable_names)
        codes, consts = to_codes(guess_tree(expr, variable_names, ops, guess=g), ops)
        out.append({"codes": codes, "constants": consts, "guess": str(g)})
    return out
