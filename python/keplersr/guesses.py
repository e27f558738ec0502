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

from typing import List, Sequence

import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from .decomposition.codes import Node, OperatorIndex, to_codes
from .formula_tree import FormulaTreeError, formula_tree

__all__ = ["GuessError", "guesses_per_output", "parse_guess", "guess_tree", "guess_expressions"]

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


def guess_tree(expr: sympy.Expr, variable_names: Sequence[str], ops: OperatorIndex, guess=None) -> Node:
    """The tree of ``expr`` in the search's operators ``ops``, its numbers constants to fit;
    ``GuessError`` names a missing operator."""
    guess = expr if guess is None else guess
    column = {str(n): j + 1 for j, n in enumerate(variable_names)}
    try:
        return formula_tree(expr, ops, number=ops.const, symbol=lambda name: ops.var(column[name]),
                            label=f"guess {str(guess)!r}")
    except FormulaTreeError as err:
        raise GuessError(str(err)) from None


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
