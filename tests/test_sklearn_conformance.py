"""scikit-learn's own estimator checks (`check_estimator`), each one a test.

They fit many tiny problems, so the searches here are tiny and seeded
(deterministic) to keep the run short. Every check applies and passes: none
is marked as an expected failure.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from keplersr import SymbolicRegressor

pytestmark = [pytest.mark.julia, pytest.mark.slow]

TINY = SymbolicRegressor(niterations=2, populations=2, population_size=10, tournament_selection_n=5,
                         ncycles_per_iteration=20, progress=False, verbosity=0, output_directory=None,
                         enumerate_max_complexity=0, random_state=0, deterministic=True)


@parametrize_with_checks([TINY])
def test_scikit_learn_check(estimator, check, _session_worker):
    check(estimator)
