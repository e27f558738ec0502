"""Physical units as dimension vectors: the unit grammar, its parser and the
printing of dimensions (the analysis of formulas is in
:mod:`keplersr.units.analysis`).

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

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Sequence, Tuple

__all__ = [
    "BASE_UNITS",
    "DERIVED_UNITS",
    "Dimension",
    "DIMENSIONLESS",
    "as_dimension",
    "format_dimension",
    "parse_units",
]

#: Names of the base dimensions, in vector order (as the columns of units.csv).
BASE_UNITS: Tuple[str, ...] = ("m", "s", "kg", "T", "V")

Dimension = Tuple[Fraction, ...]

DIMENSIONLESS: Dimension = tuple(Fraction(0) for _ in BASE_UNITS)


def _vec(m=0, s=0, kg=0, T=0, V=0) -> Dimension:
    return (Fraction(m), Fraction(s), Fraction(kg), Fraction(T), Fraction(V))


def mul_dims(a: Dimension, b: Dimension) -> Dimension:
    return tuple(x + y for x, y in zip(a, b))


def pow_dim(a: Dimension, p: Fraction) -> Dimension:
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
    d["J"] = mul_dims(d["N"], _BASE["m"])
    d["W"] = mul_dims(d["J"], _vec(s=-1))
    d["Pa"] = mul_dims(d["N"], _vec(m=-2))
    d["Hz"] = _vec(s=-1)
    d["C"] = mul_dims(d["J"], _vec(V=-1))
    d["A"] = mul_dims(d["C"], _vec(s=-1))
    d["ohm"] = mul_dims(_BASE["V"], pow_dim(d["A"], Fraction(-1)))
    d["Ohm"] = d["ohm"]
    d["Ω"] = d["ohm"]
    d["F"] = mul_dims(d["C"], _vec(V=-1))
    d["Wb"] = _vec(V=1, s=1)
    d["H"] = mul_dims(d["Wb"], pow_dim(d["A"], Fraction(-1)))
    d["S"] = mul_dims(d["A"], _vec(V=-1))
    d["tesla"] = mul_dims(d["Wb"], _vec(m=-2))
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
                dim = mul_dims(dim, self.power())
            elif tok.kind == "div":
                self.take()
                dim = mul_dims(dim, pow_dim(self.power(), Fraction(-1)))
            elif tok.kind in ("name", "num", "lpar") and tok.space_before:
                dim = mul_dims(dim, self.power())  # implicit product by whitespace
            else:
                raise self.error(tok, "expected '*', '/', whitespace or the end")

    def power(self) -> Dimension:
        base = self.atom()
        tok = self.peek()
        if tok is not None and tok.kind == "pow":
            self.take()
            return pow_dim(base, self.exponent())
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
                    return pow_dim(dim, Fraction(int(nxt.text)))
                if nxt.kind == "sign":
                    after = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
                    if after is not None and after.kind == "num" and not after.space_before and "." not in after.text:
                        self.take()
                        self.take()
                        p = Fraction(int(after.text))
                        return pow_dim(dim, -p if nxt.text == "-" else p)
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
    for name, p in zip(BASE_UNITS, as_dimension(dim)):
        if p == 0:
            continue
        if p == 1:
            parts.append(name)
        elif p.denominator == 1:
            parts.append(f"{name}^{p.numerator}")
        else:
            parts.append(f"{name}^({p.numerator}/{p.denominator})")
    return "*".join(parts) if parts else "1"


def as_dimension(values) -> Dimension:
    vals = list(values)
    if len(vals) != len(BASE_UNITS):
        raise ValueError(f"a dimension vector has {len(BASE_UNITS)} entries ({', '.join(BASE_UNITS)}), got {len(vals)}")
    out = []
    for v in vals:
        if isinstance(v, float):
            v = Fraction(v).limit_denominator(1000)
        out.append(Fraction(v))
    return tuple(out)
