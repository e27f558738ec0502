"""Conversion of engine formulas to sympy, numpy callables, LaTeX and text.

The Julia engine reports every hall-of-fame formula as a *prefix encoding*
(see ``encode_tree`` in ``julia/core/expression.jl``): a list of integer codes, one
per tree node in prefix order, plus a list of float constants consumed in the
same order.

=====================  ====================================================
code                   meaning
=====================  ====================================================
``code >= 1``          feature column ``code`` (1-based)
``code == 0``          the next constant of the constants list
``-1000 < code < 0``   unary operator ``unary_operators[-code - 1]``
``code <= -1000``      binary operator ``binary_operators[-code - 1000]``
=====================  ====================================================

This module turns such an encoding into a sympy expression
(:func:`codes_to_sympy`) or a readable string (:func:`codes_to_string`), and
turns sympy expressions into vectorised numpy callables
(:class:`CompiledExpression`, :func:`sympy_to_callable`), LaTeX
(:func:`to_latex`) and SRBench-style rounded forms (:func:`round_constants`).
"""

from __future__ import annotations

import builtins
import keyword
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np
import sympy

from .operators import sympy_builders

__all__ = [
    "BUILTIN_SYMPY",
    "CONSTANT_DIGITS",
    "CompiledExpression",
    "codes_to_string",
    "codes_to_sympy",
    "round_constants",
    "sympy_to_callable",
    "to_latex",
]

#: Significant digits carried by sympy Floats made from engine constants.
#: 17 digits identify every IEEE double, so ``float(Float(c)) == c`` and the
#: printed form of the expression round-trips as well.
CONSTANT_DIGITS = 17

#: Built-in operators by arity, from the one operator table (keplersr.operators).
_BUILTIN_BINARY: Dict[str, Callable] = sympy_builders(2)
_BUILTIN_UNARY: Dict[str, Callable] = sympy_builders(1)

#: Every built-in engine operator name mapped to a function building the
#: corresponding sympy expression from its argument(s).
BUILTIN_SYMPY: Dict[str, Callable] = {**_BUILTIN_BINARY, **_BUILTIN_UNARY}

_INFIX = frozenset(("+", "-", "*", "/", "^"))


# ---------------------------------------------------------------------------
# Prefix decoding
# ---------------------------------------------------------------------------


def _fold_prefix(codes, constants, n_binary, n_unary, on_var, on_const, on_unary, on_binary):
    """Fold a prefix encoding bottom-up without recursion.

    Scans the codes right to left with a stack (valid Polish notation never
    underflows and leaves exactly one item), so arbitrarily deep trees are
    fine.  ``on_unary(k, arg)`` / ``on_binary(k, left, right)`` receive the
    0-based operator index.  Raises ``ValueError`` on malformed encodings.
    """
    codes = [int(c) for c in codes]
    constants = [float(c) for c in constants]
    if not codes:
        raise ValueError("empty tree encoding: codes must contain at least one node")
    n_const_codes = sum(1 for c in codes if c == 0)
    if n_const_codes != len(constants):
        raise ValueError(
            f"tree encoding has {n_const_codes} constant node(s) (code 0) but "
            f"{len(constants)} constant value(s) were given"
        )
    stack: list = []
    ci = len(constants)
    for pos in range(len(codes) - 1, -1, -1):
        c = codes[pos]
        if c > 0:
            stack.append(on_var(c))
        elif c == 0:
            ci -= 1
            stack.append(on_const(constants[ci]))
        elif c > -1000:
            k = -c - 1
            if k >= n_unary:
                raise ValueError(
                    f"code {c} at position {pos} refers to unary operator #{k + 1}, "
                    f"but only {n_unary} unary operator(s) were given"
                )
            if not stack:
                raise ValueError(f"truncated tree encoding: unary code {c} at position {pos} has no operand")
            stack.append(on_unary(k, stack.pop()))
        else:
            k = -c - 1000
            if k >= n_binary:
                raise ValueError(
                    f"code {c} at position {pos} refers to binary operator #{k + 1}, "
                    f"but only {n_binary} binary operator(s) were given"
                )
            if len(stack) < 2:
                raise ValueError(
                    f"truncated tree encoding: binary code {c} at position {pos} lacks operands"
                )
            left = stack.pop()
            right = stack.pop()
            stack.append(on_binary(k, left, right))
    if len(stack) != 1:
        raise ValueError(f"malformed tree encoding: {len(stack)} disconnected subtrees (trailing codes)")
    return stack[0]


def _resolve_builders(
    binary_operators: Sequence[str],
    unary_operators: Sequence[str],
    extra_sympy_mappings: Optional[Mapping[str, Callable]],
):
    """Look up a sympy builder for every operator name (user mappings win).

    Operators without a mapping get a builder that raises ``ValueError`` when
    called, so a formula that does not use them still converts.
    """
    extra = dict(extra_sympy_mappings or {})

    def lookup(name: str, kind: str) -> Callable:
        builtin, other = (
            (_BUILTIN_BINARY, _BUILTIN_UNARY) if kind == "binary" else (_BUILTIN_UNARY, _BUILTIN_BINARY)
        )
        if name in extra:
            return extra[name]
        if name in builtin:
            return builtin[name]
        hint = ""
        if name in other:
            hint = f" ('{name}' is a built-in {'unary' if kind == 'binary' else 'binary'} operator)"
        args = "x, y" if kind == "binary" else "x"
        message = (
            f"no sympy mapping for {kind} operator '{name}'{hint}; pass "
            f"extra_sympy_mappings={{'{name}': lambda {args}: ...}} giving its sympy form"
        )

        def missing(*_args):
            raise ValueError(message)

        return missing

    bin_fns = [lookup(str(n), "binary") for n in binary_operators]
    una_fns = [lookup(str(n), "unary") for n in unary_operators]
    return bin_fns, una_fns


def codes_to_sympy(
    codes: Sequence[int],
    constants: Sequence[float],
    binary_operators: Sequence[str],
    unary_operators: Sequence[str],
    variable_names: Sequence[str],
    extra_sympy_mappings: Optional[Mapping[str, Callable]] = None,
    constant_values: Optional[Sequence[Optional[sympy.Expr]]] = None,
) -> sympy.Expr:
    """Build a sympy expression from an engine prefix encoding.

    Parameters
    ----------
    codes, constants
        The prefix encoding (see module docstring).
    binary_operators, unary_operators
        Operator names of the search, in the order the engine numbered them.
    variable_names
        Name of each feature column; column ``j`` (1-based code) becomes
        ``sympy.Symbol(variable_names[j - 1], real=True)``.  Symbols are made
        directly, so names such as ``gamma``, ``E``, ``I`` or ``lambda`` stay
        plain symbols.
    extra_sympy_mappings
        ``{operator name: callable}`` giving sympy forms for user operators
        (e.g. ``{"inv2": lambda x: 1 / x**2}``); overrides built-ins.
    constant_values
        Optional exact values, one per constant (None: the float), e.g.
        ``[sympy.pi, None]`` (see :mod:`keplersr.exact_constants`).

    Constants become ``sympy.Float`` with 17 significant digits, so
    ``float()`` of each gives back the engine's double exactly.  The
    expression is built with ordinary sympy arithmetic (sympy's automatic
    canonicalisation only; no ``simplify``).

    Raises
    ------
    ValueError
        For an operator without sympy mapping, a feature index beyond
        ``variable_names``, or a malformed encoding.
    """
    bin_fns, una_fns = _resolve_builders(binary_operators, unary_operators, extra_sympy_mappings)
    names = [str(v) for v in variable_names]
    symbols = [sympy.Symbol(n, real=True) for n in names]

    def on_var(j: int):
        if j > len(symbols):
            raise ValueError(
                f"tree uses feature column {j} (1-based) but only {len(symbols)} "
                f"variable name(s) were given: {names}"
            )
        return symbols[j - 1]

    exact = list(constant_values) if constant_values is not None else [None] * len(constants)
    if len(exact) != len(constants):
        raise ValueError(f"constant_values has {len(exact)} entries for {len(constants)} constants")

    def on_const(i: float):      # the constant's index (the fold passes it as a float)
        i = int(i)
        return sympy.Float(float(constants[i]), CONSTANT_DIGITS) if exact[i] is None else sympy.sympify(exact[i])

    def on_unary(k: int, a):
        return sympy.sympify(una_fns[k](a))

    def on_binary(k: int, a, b):
        return sympy.sympify(bin_fns[k](a, b))

    return _fold_prefix(
        codes, list(range(len(constants))), len(bin_fns), len(una_fns), on_var, on_const, on_unary, on_binary
    )


def codes_to_string(
    codes: Sequence[int],
    constants: Sequence[float],
    binary_operators: Sequence[str],
    unary_operators: Sequence[str],
    variable_names: Sequence[str],
) -> str:
    """Readable infix string of a prefix encoding, in the engine's style.

    Binary ``+ - * / ^`` are printed infix and fully parenthesised, other
    operators as ``name(arg)`` / ``name(left, right)``; constants use the
    shortest repr that round-trips.  Feature columns beyond
    ``variable_names`` print as ``x{j-1}`` (0-based), like the engine.
    Works for any operator name (no sympy mapping needed).
    """
    bnames = [str(n) for n in binary_operators]
    unames = [str(n) for n in unary_operators]
    names = [str(v) for v in variable_names]

    def on_var(j: int) -> str:
        return names[j - 1] if j <= len(names) else f"x{j - 1}"

    def on_binary(k: int, a: str, b: str) -> str:
        op = bnames[k]
        return f"({a} {op} {b})" if op in _INFIX else f"{op}({a}, {b})"

    return _fold_prefix(
        codes,
        constants,
        len(bnames),
        len(unames),
        on_var,
        repr,
        lambda k, a: f"{unames[k]}({a})",
        on_binary,
    )


# ---------------------------------------------------------------------------
# Numerical evaluation
# ---------------------------------------------------------------------------


def _plain_argument(name: str) -> bool:
    """Whether ``name`` can be an argument of lambdify's generated numpy code as it is: a Python
    identifier, no keyword, not private, and no name of numpy or builtins (which the code calls)."""
    return (name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
            and name not in _GENERATED_CODE_NAMES)


_GENERATED_CODE_NAMES = (frozenset(dir(np)) | frozenset(dir(builtins))
                         | {"numpy", "builtins", "range", "math", "scipy", "mpmath"})


class CompiledExpression:
    """A sympy expression evaluated on data matrices, safe to pickle.

    ``CompiledExpression(expr, variable_names)(X)`` evaluates ``expr`` on the
    rows of ``X`` (shape ``(n, p)``, column ``i`` bound to
    ``variable_names[i]``) and returns a float array of shape ``(n,)``.

    * The numpy function is produced by ``sympy.lambdify`` on first call and
      is not pickled (``__getstate__`` drops it), so objects holding a
      ``CompiledExpression`` pickle cleanly and recompile after loading.
    * Domain errors (``log(-1)``, ``sqrt(-1)``, ``1/0``...) give NaN/inf,
      never exceptions or warnings; complex results give NaN.
    * Constant expressions are broadcast to ``n`` rows.

    Symbols of ``expr`` are matched to ``variable_names`` by name, whatever
    their assumptions; a free symbol not in ``variable_names`` raises
    ``ValueError``.
    """

    def __init__(self, expr, variable_names: Sequence[str]):
        self.expr = sympy.sympify(expr) if not isinstance(expr, sympy.Basic) else expr
        self.variable_names: List[str] = [str(v) for v in variable_names]
        if len(set(self.variable_names)) != len(self.variable_names):
            raise ValueError(f"variable_names contains duplicates: {self.variable_names}")
        by_name = {}
        for s in self.expr.free_symbols:
            by_name.setdefault(s.name, []).append(s)
        unknown = sorted(n for n in by_name if n not in self.variable_names)
        if unknown:
            raise ValueError(
                f"expression uses symbol(s) {unknown} that are not in variable_names "
                f"{self.variable_names}"
            )
        self._func: Optional[Callable] = None

    def _args(self):
        """One sympy Symbol per variable name (the expression's own if present)."""
        by_name = {}
        for s in self.expr.free_symbols:
            by_name.setdefault(s.name, []).append(s)
        args = []
        for n in self.variable_names:
            syms = by_name.get(n)
            if syms is None:
                args.append(sympy.Symbol(n, real=True))
            elif len(syms) == 1:
                args.append(syms[0])
            else:
                raise ValueError(
                    f"expression contains several symbols named '{n}' with different "
                    f"assumptions; cannot bind column '{n}' unambiguously"
                )
        return args

    @property
    def func(self) -> Callable:
        """The lambdified numpy function (compiled on first use)."""
        if self._func is None:
            args, expr = self._args(), self.expr
            if not all(_plain_argument(n) for n in self.variable_names):
                # Names that are not Python identifiers (lambda, E_n.1, 'm 1', ...) or that are
                # names the generated code calls (exp, sqrt, pi, e, abs, ...) are renamed: lambdify
                # also puts the expression's symbols into the code's namespace under their own
                # names, where a column named exp would replace numpy's exp. Plain names are kept
                # (renaming rebuilds the expression: 5-15 ms a formula).
                safe = [sympy.Symbol(f"_arg{i}", **a.assumptions0) for i, a in enumerate(args)]
                args, expr = safe, expr.xreplace(dict(zip(args, safe)))
            self._func = sympy.lambdify(args, expr, modules="numpy", dummify=False)
        return self._func

    def __call__(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        p = len(self.variable_names)
        if X.ndim == 1 and p == 1:
            X = X.reshape(-1, 1)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array of shape (n, {p}), got shape {X.shape}")
        if X.shape[1] != p:
            raise ValueError(
                f"X has {X.shape[1]} column(s) but the expression was compiled for "
                f"{p} variable(s) {self.variable_names}"
            )
        n = X.shape[0]
        func = self.func
        with np.errstate(all="ignore"):
            out = func(*(X[:, i] for i in range(p)))
            out = np.asarray(out)
            if np.iscomplexobj(out):
                out = np.where(out.imag == 0, out.real, np.nan)
            out = np.asarray(out, dtype=float)
        if out.shape != (n,):
            out = np.broadcast_to(out, (n,)).copy()
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_func"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._func = None

    def __repr__(self) -> str:
        return f"CompiledExpression({self.expr}, variable_names={self.variable_names})"


def sympy_to_callable(expr, variable_names: Sequence[str]) -> CompiledExpression:
    """Return a picklable callable ``f(X) -> y`` evaluating ``expr`` with numpy.

    ``X`` has shape ``(n, p)``, column ``i`` bound to ``variable_names[i]``;
    the result has shape ``(n,)`` with NaN where the expression is undefined
    or complex.  See :class:`CompiledExpression`.
    """
    return CompiledExpression(expr, variable_names)


# ---------------------------------------------------------------------------
# Display and rounding
# ---------------------------------------------------------------------------


def _float_atoms(expr) -> list:
    return list(sympy.sympify(expr).atoms(sympy.Float))


def to_latex(expr, precision: int = 3) -> str:
    """LaTeX of ``expr`` with floats shown to ``precision`` significant digits.

    Rounding is for display only; ``expr`` itself is not modified.
    """
    if int(precision) < 1:
        raise ValueError(f"precision must be a positive number of significant digits, got {precision}")
    precision = int(precision)
    expr = sympy.sympify(expr)
    repl = {}
    for f in _float_atoms(expr):
        v = float(f)
        if np.isfinite(v):
            repl[f] = sympy.Float(f"{v:.{precision}g}", precision)
    return sympy.latex(expr.xreplace(repl))


def round_constants(expr, decimals: int = 3, zero_below: float = 1e-4) -> sympy.Expr:
    """Round float constants SRBench-style.

    Every ``sympy.Float`` atom ``c`` becomes ``round(c, decimals)``, and
    constants with ``|c| < zero_below`` (or that round to zero) become exact
    ``0`` so the terms they multiply vanish.  Integers and rationals are left
    untouched.
    """
    expr = sympy.sympify(expr)
    repl = {}
    for f in _float_atoms(expr):
        v = float(f)
        if not np.isfinite(v):
            continue
        r = round(v, int(decimals))
        if abs(v) < zero_below or r == 0.0:
            repl[f] = sympy.Integer(0)
        else:
            repl[f] = sympy.Float(r)
    return expr.xreplace(repl)
