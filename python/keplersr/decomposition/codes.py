"""Expression trees in the engine's prefix codes, built and rewritten in Python.

Decomposition writes the formulas of its sub-searches back in the original
variables: a variable of a sub-problem is replaced by the expression it stands
for (a dimensionless group, a difference ``x_i - x_j``), parts are added or
multiplied, and a target transform is undone. The result is handed to the
engine as a seed expression in the same prefix codes the engine's records use
(docs/PROTOCOL.md): ``code >= 1`` feature column, ``0`` constant,
``-1000 < code < 0`` unary operator ``-code``, ``code <= -1000`` binary
operator ``-code - 999`` (operators numbered from 1 in the search's order).

Layer: leaf.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ["Node", "OperatorIndex", "from_codes", "to_codes", "substitute", "power", "monomial"]


@dataclass(frozen=True)
class Node:
    """One node: ``kind`` is ``"var"`` (``value`` = 1-based column), ``"const"``
    (``value`` = the number), ``"unary"`` or ``"binary"`` (``op`` = the operator's name)."""

    kind: str
    value: float = 0.0
    op: str = ""
    children: Tuple["Node", ...] = ()


class OperatorIndex:
    """The operators of one search: names <-> engine numbers, and node builders.

    A builder of an operator that the search does not have raises
    ``KeyError``: the caller then skips the composition that needed it.
    """

    def __init__(self, binary: Sequence[str], unary: Sequence[str]):
        self.binary = list(binary)
        self.unary = list(unary)

    def has(self, *names: str) -> bool:
        return all(n in self.binary or n in self.unary for n in names)

    def var(self, column: int) -> Node:
        return Node("var", value=float(column))

    def const(self, value: float) -> Node:
        return Node("const", value=float(value))

    def un(self, name: str, a: Node) -> Node:
        if name not in self.unary:
            raise KeyError(name)
        return Node("unary", op=name, children=(a,))

    def bin(self, name: str, a: Node, b: Node) -> Node:
        if name not in self.binary:
            raise KeyError(name)
        return Node("binary", op=name, children=(a, b))

    def add(self, a: Node, b: Node) -> Node:
        return self.bin("+", a, b)

    def mul(self, a: Node, b: Node) -> Node:
        return self.bin("*", a, b)

    def div(self, a: Node, b: Node) -> Node:
        return self.bin("/", a, b)

    def sub(self, a: Node, b: Node) -> Node:
        return self.bin("-", a, b)

    def square(self, a: Node) -> Node:
        return self.un("square", a) if "square" in self.unary else self.mul(a, a)


def from_codes(codes: Sequence[int], constants: Sequence[float], ops: OperatorIndex) -> Node:
    """The tree of an engine record (``codes``, ``constants``); ``ValueError`` if malformed."""
    pos = [0]
    cpos = [0]

    def walk() -> Node:
        if pos[0] >= len(codes):
            raise ValueError("truncated prefix codes")
        c = int(codes[pos[0]])
        pos[0] += 1
        if c > 0:
            return Node("var", value=float(c))
        if c == 0:
            if cpos[0] >= len(constants):
                raise ValueError("prefix codes use more constants than given")
            v = float(constants[cpos[0]])
            cpos[0] += 1
            return Node("const", value=v)
        if c > -1000:
            return Node("unary", op=ops.unary[-c - 1], children=(walk(),))
        name = ops.binary[-c - 1000]
        a = walk()
        b = walk()
        return Node("binary", op=name, children=(a, b))

    tree = walk()
    if pos[0] != len(codes) or cpos[0] != len(constants):
        raise ValueError("trailing prefix codes or constants")
    return tree


def to_codes(tree: Node, ops: OperatorIndex) -> Tuple[List[int], List[float]]:
    """``(codes, constants)`` of ``tree`` in ``ops``'s numbering."""
    codes: List[int] = []
    consts: List[float] = []

    def walk(n: Node):
        if n.kind == "var":
            codes.append(int(n.value))
        elif n.kind == "const":
            codes.append(0)
            consts.append(float(n.value))
        elif n.kind == "unary":
            codes.append(-(ops.unary.index(n.op) + 1))
            walk(n.children[0])
        else:
            codes.append(-1000 - ops.binary.index(n.op))
            walk(n.children[0])
            walk(n.children[1])

    walk(tree)
    return codes, consts


def substitute(tree: Node, mapping: Dict[int, Node]) -> Node:
    """``tree`` with every variable ``j`` (1-based) replaced by ``mapping[j]`` (``KeyError`` if unmapped)."""
    if tree.kind == "var":
        return mapping[int(tree.value)]
    if tree.kind == "const":
        return tree
    return Node(tree.kind, op=tree.op, children=tuple(substitute(c, mapping) for c in tree.children))


def _power(base: Node, e: Fraction, ops: OperatorIndex) -> Node:
    """``base ** e`` for e > 0, an integer or half-integer up to 4, from the search's operators."""
    if e.denominator == 2:
        root = ops.un("sqrt", base)
        whole = e - Fraction(1, 2)
        return root if whole == 0 else ops.mul(_power(base, whole, ops), root)
    if e.denominator != 1 or not 1 <= e <= 4:
        raise KeyError(f"power {e}")
    return power(base, int(e), ops)


def power(base: Node, n: int, ops: OperatorIndex) -> Node:
    """``base ** n`` for an integer n >= 1, with ``square`` (or ``*``), ``cube`` where the search has it."""
    if n < 1:
        raise ValueError(f"power needs an exponent >= 1, got {n}")
    if n == 1:
        return base
    if n == 3 and "cube" in ops.unary:
        return ops.un("cube", base)
    half = power(base, n // 2, ops)
    even = ops.square(half)
    return even if n % 2 == 0 else ops.mul(even, base)


def monomial(exponents: Sequence[Fraction], variables: Sequence[Node], ops: OperatorIndex) -> Optional[Node]:
    """``prod_j variables[j] ** exponents[j]`` written with ``*``, ``/``, ``square``, ``sqrt``...

    ``None`` for the empty product (all exponents 0). ``KeyError`` when an
    exponent needs an operator the search does not have, or exceeds 4.
    """
    num = [_power(v, Fraction(e), ops) for v, e in zip(variables, exponents) if e > 0]
    den = [_power(v, -Fraction(e), ops) for v, e in zip(variables, exponents) if e < 0]

    def product(parts):
        out = parts[0]
        for p in parts[1:]:
            out = ops.mul(out, p)
        return out

    if not num and not den:
        return None
    if not den:
        return product(num)
    top = product(num) if num else ops.const(1.0)
    return ops.div(top, product(den))
