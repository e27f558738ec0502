"""Decomposition of hard laws inside ``fit``, after AI Feynman (Udrescu & Tegmark
2020; AI Feynman 2.0, arXiv 2006.10782): dimensional reduction, a smooth
surrogate of the data, separability and symmetry tests on it, transforms of
y, recursion; each sub-problem is solved by the same engine and the composed
formulas seed the final search (:mod:`.driver`).
"""

from .codes import Node, OperatorIndex, from_codes, to_codes
from .driver import Decomposition, Problem, Settings, Step, decompose

__all__ = ["Decomposition", "Node", "OperatorIndex", "Problem", "Settings", "Step", "decompose", "from_codes",
           "to_codes"]
