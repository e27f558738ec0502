"""Physics helpers for optimal observables.

- :mod:`~keplersr.physics.information`: Fisher fractions, expected limits, the MSE floor and a
  regression estimate of the observed-level score (event arrays of any source).
"""
from .information import (expected_limit, fisher_fraction, fisher_information, mse_floor,
                          regress_score, score_information)

__all__ = ["fisher_fraction", "fisher_information", "score_information", "expected_limit",
           "regress_score", "mse_floor"]
