"""Physics helpers for optimal observables, and the physicist's own events in.

- :mod:`~keplersr.physics.information`: Fisher fractions, expected limits, the MSE floor and a
  regression estimate of the observed-level score (event arrays of any source).
- :mod:`~keplersr.physics.score_from_weights`: the joint score and the joint likelihood ratio
  from reweighting weights (central differences, or the polynomial morphing of dimension-6
  operators).
- :mod:`~keplersr.physics.lhe`: Les Houches event files with reweighting weights (``pylhe``).
- :mod:`~keplersr.physics.delphes`: reconstructed jets, leptons and photons of Delphes ROOT
  trees (``uproot``).
- :mod:`~keplersr.physics.features`: kinematic features of the events (``vector``).

The readers need the ``events`` extra (``pip install 'keplersr[events]'``), imported only when
a file is read.
"""
from .delphes import DelphesEvents, read_delphes
from .features import FeatureBuilder, wbf_features
from .information import (expected_limit, fisher_fraction, fisher_information, mse_floor,
                          regress_score, score_information)
from .lhe import LHEEvents, read_lhe
from .score_from_weights import JointScore, joint_likelihood_ratio, joint_score

__all__ = ["fisher_fraction", "fisher_information", "score_information", "expected_limit",
           "regress_score", "mse_floor", "joint_score", "joint_likelihood_ratio", "JointScore",
           "read_lhe", "LHEEvents", "read_delphes", "DelphesEvents", "FeatureBuilder", "wbf_features"]
