"""Shared fixtures: one warm Julia worker for the whole session, the shared
data directory, and small fast search settings."""

import pytest

from shared_data import CSV, require


@pytest.fixture(scope="session")
def julia_worker():
    """The process-wide Julia worker (started once; restarted by the bridge if a test kills it).

    A missing Julia is an error, never a skip: the set-up (`make setup`) installs it.
    """
    from keplersr.bridge import get_worker, shutdown_worker

    w = get_worker()
    yield w
    shutdown_worker()


@pytest.fixture
def fast(tmp_path):
    """Keyword arguments for small, quick searches that write into a temp dir."""
    return dict(populations=6, population_size=30, ncycles_per_iteration=100,
                progress=False, verbosity=0, output_directory=str(tmp_path / "outputs"),
                worker_timeout=120.0)


@pytest.fixture(scope="session")
def feynman_csv():
    return str(require(CSV))
