"""Physical units as dimension vectors, for dimensional analysis.

Base dimensions
---------------
KeplerSR uses the five base units of the AI-Feynman ``units.csv`` table, in
this order (:data:`BASE_UNITS`)::

    m (metre), s (second), kg (kilogram), T (kelvin), V (volt)

Note that ``T`` is the *temperature* base (as in ``units.csv``), not tesla;
``K`` is accepted as an alias of ``T``. A dimension vector is a tuple of five
``fractions.Fraction`` exponents, e.g. a force is ``(1, -2, 1, 0, 0)``.

Derived units accepted by the parser (coherent SI, dimensions only)::

    N  = kg m s^-2          J  = N m            W  = J/s          Pa = N/m^2
    Hz = 1/s                C  = J/V            A  = C/s          ohm = Ω = V/A
    F  = C/V                Wb = V s            H  = Wb/A         S  = A/V
    tesla = Wb/m^2          K  = T (kelvin)

Only dimensions are tracked: there are no prefixes or scale factors (``km``,
``eV`` and ``g`` are rejected), and the only number allowed as a factor is ``1``
(as in ``1/s``).

Grammar
-------
::

    units    := product
    product  := power ( [ '*' | '·' | whitespace | '/' ] power )*
    power    := atom [ ('^' | '**') exponent ]        # or compact: NAME INT, e.g. m2, s-1
    atom     := UNIT | '1' | '(' product ')'
    exponent := ['+'|'-'] NUMBER | '(' ['+'|'-'] NUMBER [ '/' NUMBER ] ')'

* ``*``, ``·`` and plain whitespace multiply; ``/`` divides by the **single**
  power that follows it (``J/kg K`` is ``J K / kg``; write ``J/(kg K)``
  for the other reading).
* Exponents are integers or decimals (``m^-1``, ``m^0.5``); a fractional
  exponent must be parenthesised: ``m^(1/2)`` or ``m**(-3/2)``.
* A unit name immediately followed by an integer is a compact power:
  ``m2`` = ``m^2``, ``s-1`` = ``s^-1`` (so ``"kg m2 s-2"`` is an energy).
* Unicode superscripts are powers: ``m²`` = ``m^2``, ``s⁻¹`` = ``s^-1``.
* The empty string, ``"1"`` and ``"dimensionless"`` are dimensionless.

Malformed input raises ``ValueError`` naming the offending token and its position.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np

__all__ = [
    "BASE_UNITS",
    "DERIVED_UNITS",
    "Dimension",
    "DIMENSIONLESS",
    "EquationDimensions",
    "buckingham_pi",
    "dimension_of_expression",
    "dimensionless_groups",
    "dimensions_for",
    "format_dimension",
    "load_feynman_units",
    "parse_units",
]

#: Names of the base dimensions, in vector order (as the columns of units.csv).
BASE_UNITS: Tuple[str, ...] = ("m", "s", "kg", "T", "V")

Dimension = Tuple[Fraction, ...]

DIMENSIONLESS: Dimension = tuple(Fraction(0) for _ in BASE_UNITS)


def _vec(m=0, s=0, kg=0, T=0, V=0) -> Dimension:
    return (Fraction(m), Fraction(s), Fraction(kg), Fraction(T), Fraction(V))


def _mul(a: Dimension, b: Dimension) -> Dimension:
    return tuple(x + y for x, y in zip(a, b))


def _pow(a: Dimension, p: Fraction) -> Dimension:
    return tuple(x * p for x in a)


_BASE: Dict[str, Dimension] = {
    "m": _vec(m=1),
    "s": _vec(s=1),
    "kg": _vec(kg=1),
    "T": _vec(T=1),
    "V": _vec(V=1),
}


def _derived() -> Dict[str, Dimension]:
    d: Dict[str, Dimension] = {}
    d["N"] = _vec(kg=1, m=1, s=-2)
    d["J"] = _mul(d["N"], _BASE["m"])
    d["W"] = _mul(d["J"], _vec(s=-1))
    d["Pa"] = _mul(d["N"], _vec(m=-2))
    d["Hz"] = _vec(s=-1)
    d["C"] = _mul(d["J"], _vec(V=-1))
    d["A"] = _mul(d["C"], _vec(s=-1))
    d["ohm"] = _mul(_BASE["V"], _pow(d["A"], Fraction(-1)))
    d["Ohm"] = d["ohm"]
    d["Ω"] = d["ohm"]
    d["F"] = _mul(d["C"], _vec(V=-1))
    d["Wb"] = _vec(V=1, s=1)
    d["H"] = _mul(d["Wb"], _pow(d["A"], Fraction(-1)))
    d["S"] = _mul(d["A"], _vec(V=-1))
    d["tesla"] = _mul(d["Wb"], _vec(m=-2))
    d["K"] = _BASE["T"]
    return d


#: Derived unit name -> dimension vector in the five-base system.
DERIVED_UNITS: Dict[str, Dimension] = _derived()

_UNITS: Dict[str, Dimension] = {**_BASE, **DERIVED_UNITS}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<pow>\*\*|\^)
  | (?P<mul>[*·⋅])
  | (?P<div>/)
  | (?P<lpar>\()
  | (?P<rpar>\))
  | (?P<sign>[+-])
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<name>[^\W\d]+)
    """,
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int
    space_before: bool


def _tokenize(text: str) -> List[_Tok]:
    toks: List[_Tok] = []
    pos = 0
    space = False
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"unexpected character {text[pos]!r} at position {pos} in units {text!r}")
        kind = m.lastgroup
        if kind == "ws":
            space = True
        else:
            toks.append(_Tok(kind, m.group(), pos, space))
            space = False
        pos = m.end()
    return toks


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def error(self, tok, what: str):
        if tok is None:
            return ValueError(f"{what} at end of units {self.text!r}")
        return ValueError(f"{what}: token {tok.text!r} at position {tok.pos} in units {self.text!r}")

    def parse(self) -> Dimension:
        if not self.toks:
            return DIMENSIONLESS
        dim = self.product()
        tok = self.peek()
        if tok is not None:
            raise self.error(tok, "unexpected token" if tok.kind != "rpar" else "unbalanced ')'")
        return dim

    def product(self) -> Dimension:
        dim = self.power()
        while True:
            tok = self.peek()
            if tok is None or tok.kind == "rpar":
                return dim
            if tok.kind == "mul":
                self.take()
                dim = _mul(dim, self.power())
            elif tok.kind == "div":
                self.take()
                dim = _mul(dim, _pow(self.power(), Fraction(-1)))
            elif tok.kind in ("name", "num", "lpar") and tok.space_before:
                dim = _mul(dim, self.power())  # implicit product by whitespace
            else:
                raise self.error(tok, "expected '*', '/', whitespace or the end")

    def power(self) -> Dimension:
        base = self.atom()
        tok = self.peek()
        if tok is not None and tok.kind == "pow":
            self.take()
            return _pow(base, self.exponent())
        return base

    def atom(self) -> Dimension:
        tok = self.take()
        if tok is None:
            raise self.error(None, "expected a unit")
        if tok.kind == "lpar":
            dim = self.product()
            close = self.take()
            if close is None or close.kind != "rpar":
                raise self.error(close, "missing ')'")
            return dim
        if tok.kind == "num":
            if Fraction(tok.text) != 1:
                raise self.error(tok, "numeric factors other than 1 are not allowed (units carry dimensions only)")
            return DIMENSIONLESS
        if tok.kind == "name":
            dim = _lookup(tok, self.text)
            # Compact power: a name directly followed by an integer, e.g. m2 or s-1.
            nxt = self.peek()
            if nxt is not None and not nxt.space_before:
                if nxt.kind == "num" and "." not in nxt.text:
                    self.take()
                    return _pow(dim, Fraction(int(nxt.text)))
                if nxt.kind == "sign":
                    after = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
                    if after is not None and after.kind == "num" and not after.space_before and "." not in after.text:
                        self.take()
                        self.take()
                        p = Fraction(int(after.text))
                        return _pow(dim, -p if nxt.text == "-" else p)
            return dim
        raise self.error(tok, "expected a unit, '1' or '('")

    def exponent(self) -> Fraction:
        tok = self.peek()
        if tok is not None and tok.kind == "lpar":
            self.take()
            value = self.signed_number()
            nxt = self.peek()
            if nxt is not None and nxt.kind == "div":
                self.take()
                den = self.signed_number()
                if den == 0:
                    raise self.error(nxt, "zero denominator in exponent")
                value = value / den
            close = self.take()
            if close is None or close.kind != "rpar":
                raise self.error(close, "missing ')' after exponent")
            return value
        return self.signed_number()

    def signed_number(self) -> Fraction:
        sign = 1
        tok = self.take()
        if tok is not None and tok.kind == "sign":
            sign = -1 if tok.text == "-" else 1
            tok = self.take()
        if tok is None or tok.kind != "num":
            raise self.error(tok, "expected a number as exponent")
        return sign * Fraction(tok.text)


def _lookup(tok: _Tok, text: str) -> Dimension:
    name = tok.text
    if name.lower() == "dimensionless":
        return DIMENSIONLESS
    if name in _UNITS:
        return _UNITS[name]
    raise ValueError(
        f"unknown unit {name!r} at position {tok.pos} in units {text!r}; known units are "
        f"{', '.join(_UNITS)} (no prefixes)"
    )


def parse_units(text: str) -> Dimension:
    """Parse a unit string (see the module docstring for the grammar) to a dimension vector.

    >>> parse_units("kg*m/s^2") == parse_units("N")
    True
    """
    if not isinstance(text, str):
        raise ValueError(f"units must be a string, got {type(text).__name__}: {text!r}")
    return _Parser(_SUPERSCRIPT_RUN.sub(_ascii_power, text)).parse()


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")


def _ascii_power(match) -> str:
    return "^" + match.group().translate(_SUPERSCRIPTS)


def format_dimension(dim: Sequence) -> str:
    """Format a dimension vector as a unit string that :func:`parse_units` reads back.

    ``(1, -2, 1, 0, 0)`` -> ``"m*s^-2*kg"``; the dimensionless vector -> ``"1"``.
    """
    parts = []
    for name, p in zip(BASE_UNITS, _as_dimension(dim)):
        if p == 0:
            continue
        if p == 1:
            parts.append(name)
        elif p.denominator == 1:
            parts.append(f"{name}^{p.numerator}")
        else:
            parts.append(f"{name}^({p.numerator}/{p.denominator})")
    return "*".join(parts) if parts else "1"


def _as_dimension(values) -> Dimension:
    vals = list(values)
    if len(vals) != len(BASE_UNITS):
        raise ValueError(f"a dimension vector has {len(BASE_UNITS)} entries ({', '.join(BASE_UNITS)}), got {len(vals)}")
    out = []
    for v in vals:
        if isinstance(v, float):
            v = Fraction(v).limit_denominator(1000)
        out.append(Fraction(v))
    return tuple(out)


def load_feynman_units(path=None) -> Dict[str, Dimension]:
    """Read an AI-Feynman ``units.csv`` (``Variable,Units,m,s,kg,T,V``) -> ``{name: dimension}``.

    ``path=None`` reads the copy shipped with the package
    (``keplersr.datasets.feynman.FEYNMAN_UNITS``).

    The ``Units`` column is a description ("Area", "Force") and is not parsed;
    the exponents come from the five base columns. Handles the UTF-8 BOM and the
    trailing empty column of the real file.
    """
    import pandas as pd

    if path is None:
        from .datasets.feynman import FEYNMAN_UNITS
        path = FEYNMAN_UNITS
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("Variable", *BASE_UNITS) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    units: Dict[str, Dimension] = {}
    for row_index, row in frame.iterrows():
        name = str(row["Variable"]).strip()
        if not name:
            continue
        try:
            dim = tuple(Fraction(str(row[b]).strip()) for b in BASE_UNITS)
        except ValueError as exc:
            raise ValueError(f"{path} row {row_index + 2} ({name}): bad exponent: {exc}") from exc
        if name in units and units[name] != dim:
            raise ValueError(f"{path}: variable {name!r} is listed twice with different units")
        units[name] = dim
    return units


@dataclass
class EquationDimensions:
    """Dimensions of an equation's inputs (in variable order) and output."""

    variables: Dict[str, Dimension]
    output: Dimension

    @property
    def matrix(self) -> np.ndarray:
        """Dimension matrix, rows = base units, columns = input variables (object dtype of Fractions)."""
        cols = list(self.variables.values())
        return np.array(cols, dtype=object).T if cols else np.zeros((len(BASE_UNITS), 0), dtype=object)

    def unit_strings(self) -> Tuple[List[str], str]:
        """``(X_units, y_units)`` as unit strings in :func:`parse_units` syntax."""
        return [format_dimension(d) for d in self.variables.values()], format_dimension(self.output)


def dimensions_for(eq, units: Mapping[str, Sequence]) -> EquationDimensions:
    """Dimensions of a :class:`~keplersr.datasets.feynman.FeynmanEquation`'s variables and output.

    ``units`` maps names to dimension vectors (e.g. from :func:`load_feynman_units`)
    or to unit strings. Raises ``ValueError`` listing every name without units.
    """
    names = list(eq.variable_names) + [eq.output]
    missing = [n for n in names if n not in units]
    if missing:
        raise ValueError(f"{eq.name}: no units for {sorted(set(missing))}")

    def conv(v):
        return parse_units(v) if isinstance(v, str) else _as_dimension(v)

    variables = {n: conv(units[n]) for n in eq.variable_names}
    return EquationDimensions(variables=variables, output=conv(units[eq.output]))


def dimension_of_expression(expr, dims: Mapping[str, Sequence]) -> Dimension:
    """Dimension of a sympy expression whose symbols are named as in ``dims``.

    Raises ``ValueError`` when the expression is dimensionally inconsistent: a
    sum of terms with different dimensions, a transcendental function (exp, sin,
    log, ...) of a dimensioned argument, or a dimensioned base raised to a
    non-numeric power. Numbers are dimensionless.
    """
    import sympy

    def walk(e) -> Dimension:
        if e.is_Symbol:
            if e.name not in dims:
                raise ValueError(f"no dimension known for symbol {e.name!r}")
            return _as_dimension(dims[e.name])
        if e.is_Number or e.is_NumberSymbol or e in (sympy.pi, sympy.E, sympy.I):
            return DIMENSIONLESS
        if e.is_Add:
            terms = [walk(a) for a in e.args]
            # Pure numbers in a sum only need to be dimensionless themselves.
            first = terms[0]
            for a, d in zip(e.args[1:], terms[1:]):
                if d != first:
                    raise ValueError(
                        f"inconsistent sum {e}: term {a} has dimension {format_dimension(d)}, "
                        f"expected {format_dimension(first)}"
                    )
            return first
        if e.is_Mul:
            out = DIMENSIONLESS
            for a in e.args:
                out = _mul(out, walk(a))
            return out
        if e.is_Pow:
            base, ex = e.args
            bd = walk(base)
            if bd == DIMENSIONLESS:
                if walk(ex) != DIMENSIONLESS:
                    raise ValueError(f"dimensioned exponent in {e}")
                return DIMENSIONLESS
            if not ex.is_Rational:
                raise ValueError(f"dimensioned base {base} raised to non-rational power {ex} in {e}")
            return _pow(bd, Fraction(int(ex.p), int(ex.q)))
        if isinstance(e, sympy.Abs):
            return walk(e.args[0])
        if isinstance(e, sympy.Function):
            for a in e.args:
                d = walk(a)
                if d != DIMENSIONLESS:
                    raise ValueError(f"argument {a} of {e.func.__name__} has dimension {format_dimension(d)}")
            return DIMENSIONLESS
        raise ValueError(f"cannot determine the dimension of {e} ({type(e).__name__})")

    return walk(sympy.sympify(expr))


def buckingham_pi(dim_matrix) -> List[Tuple[int, ...]]:
    """Integer basis of the null space of a dimension matrix (Buckingham pi theorem).

    ``dim_matrix`` has one row per base dimension and one column per variable
    (entries: ints, Fractions or floats that are small rationals). Each returned
    vector ``e`` of integer exponents satisfies ``dim_matrix @ e == 0``, i.e.
    ``prod_j x_j ** e_j`` is dimensionless. Vectors are scaled to coprime
    integers with the first non-zero entry positive. There are
    ``n_variables - rank`` of them (an empty list if no dimensionless group exists).
    """
    import sympy

    arr = np.asarray(dim_matrix, dtype=object)
    if arr.ndim != 2:
        raise ValueError(f"dim_matrix must be 2-D (base dimensions x variables), got shape {arr.shape}")
    rows = [list(r) for r in arr]

    def rat(v):
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError(f"non-finite entry {v} in dim_matrix")
            v = Fraction(v).limit_denominator(10**6)
        f = Fraction(v)
        return sympy.Rational(f.numerator, f.denominator)

    M = sympy.Matrix([[rat(v) for v in r] for r in rows])
    basis = []
    for vec in M.nullspace():
        dens = [sympy.fraction(x)[1] for x in vec]
        lcm = sympy.ilcm(*dens) if len(dens) > 1 else dens[0]
        ints = [int(x * lcm) for x in vec]
        g = 0
        for v in ints:
            g = math.gcd(g, abs(v))
        ints = [v // g for v in ints] if g else ints
        first = next((v for v in ints if v != 0), 1)
        if first < 0:
            ints = [-v for v in ints]
        basis.append(tuple(ints))
    return basis


def dimensionless_groups(dims: Mapping[str, Sequence]) -> List[Dict[str, int]]:
    """Dimensionless products of the given quantities: ``[{name: exponent}, ...]``.

    ``dims`` maps names to dimension vectors (or unit strings). A thin wrapper
    around :func:`buckingham_pi` that names the exponents and drops zeros.
    """
    names = list(dims)
    cols = [parse_units(dims[n]) if isinstance(dims[n], str) else _as_dimension(dims[n]) for n in names]
    if not cols:
        return []
    matrix = [[c[i] for c in cols] for i in range(len(BASE_UNITS))]
    return [{n: e for n, e in zip(names, vec) if e != 0} for vec in buckingham_pi(matrix)]
