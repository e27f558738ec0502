"""Physics helpers for optimal observables.

- :mod:`~keplersr.physics.information`: Fisher fractions, expected limits, the MSE floor and a
  regression estimate of the observed-level score (event arrays of any source).
- :mod:`~keplersr.physics.score_from_weights`: the joint score and the joint likelihood ratio
  from reweighting weights (central differences, or the polynomial morphing of dimension-6
  operators).
"""
from .information import (expected_limit, fisher_fraction, fisher_information, mse_floor,
                          regress_score, score_information)
from .score_from_weights import JointScore, joint_likelihood_ratio, joint_score

__all__ = ["fisher_fraction", "fisher_information", "score_information", "expected_limit",
           "regress_score", "mse_floor", "joint_score", "joint_likelihood_ratio", "JointScore"]
