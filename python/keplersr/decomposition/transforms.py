"""Transforms of the target that can make a law separable: t(y) = g(A) + h(B).

``sqrt((x1 - x2)^2 + (y1 - y2)^2)`` is additively separable after squaring,
``1/(1/a + 1/b)`` after inverting. Each transform knows where it applies, its
derivative (to carry the surrogate's error through it) and how to undo it in
a formula written with the search's operators.

Layer: above :mod:`keplersr.decomposition.codes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Tuple

import numpy as np

from .codes import Node, OperatorIndex

__all__ = ["Transform", "TRANSFORMS", "IDENTITY"]


@dataclass(frozen=True)
class Transform:
    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    applies: Callable[[np.ndarray], bool]
    needs: Tuple[str, ...]            # operators that undo it
    undo: Callable[[Node, OperatorIndex], Node]

    def describe(self, inner: str) -> str:
        return inner if self.name == "identity" else f"{self.name}(y) = {inner}"


IDENTITY = Transform("identity", lambda y: y, lambda y: np.ones_like(y), lambda y: True, (), lambda g, ops: g)

TRANSFORMS: Tuple[Transform, ...] = (
    IDENTITY,
    # y = sqrt(g): y >= 0 everywhere
    Transform("square", lambda y: y * y, lambda y: 2 * y, lambda y: bool(np.all(y > 0)), ("sqrt",),
              lambda g, ops: ops.un("sqrt", g)),
    # y = g^2
    Transform("sqrt", lambda y: np.sqrt(np.abs(y)), lambda y: 0.5 / np.sqrt(np.abs(y)),
              lambda y: bool(np.all(y > 0)), (), lambda g, ops: ops.square(g)),
    # y = 1/g
    Transform("inverse", lambda y: 1.0 / y, lambda y: -1.0 / (y * y),
              lambda y: bool(np.all(y > 0) or np.all(y < 0)), ("/",), lambda g, ops: ops.div(ops.const(1.0), g)),
)
