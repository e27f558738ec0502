"""Shared fixtures: one warm Julia worker for the whole session and small fast
search settings; the `julia` and `slow` markers.

Markers (registered in pyproject.toml):

* `julia`: the test starts Julia (a worker or a Julia subprocess). Applied
  here to every test that uses the `julia_worker` fixture; a test that starts
  Julia itself carries the mark, by `pytestmark` only in modules where every
  test does (test_julia_engine.py, test_sklearn_conformance.py,
  test_wbf_regression.py). Pure-Python tests are never marked, wherever they
  live (test_bridge.py's frame codec and `find_julia` tests, say).
* `slow`: the test takes more than about 10 s, or starts Julia worker
  processes or a loopback sshd (test_parallelism.py's searches, the SSH
  tests).

* `slurm`: the test submits jobs to a real Slurm cluster on this machine
  (tests/test_slurm_cluster.py; start one with `tests/slurm/cluster.sh
  start`): skipped without one, failed when `CI` is set.

The README's test command (`make test`) runs everything. `make test
PYTEST_ARGS='-m "not julia"'` runs every pure-Python test in about half a
minute and starts no Julia process (it passes with `KEPLERSR_JULIA=/nonexistent`);
`-m "not slow"` leaves out the long runs and the process and SSH tests.
"""

import signal

import pytest

from keplersr.datasets.feynman import FEYNMAN_CSV


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_raises():
    """Tests of Ctrl-C send SIGINT to this process: make it raise KeyboardInterrupt as in a terminal,
    also when pytest was started in the background (where a shell leaves SIGINT ignored)."""
    old = signal.getsignal(signal.SIGINT)
    if old is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if old is signal.SIG_IGN:
        signal.signal(signal.SIGINT, old)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "julia_worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.julia)
    # JAX starts threads when it is imported, and forking a process with them is unsafe (JAX warns):
    # the tests that import it run last, after the tests whose code forks (the study's timeouts)
    items.sort(key=lambda item: "jax" in getattr(item, "fixturenames", ()) or "jax" in item.name)


@pytest.fixture(scope="session")
def _session_worker():
    """Starts the process-wide Julia worker once and shuts it down at the end.

    A missing Julia is an error, never a skip: the set-up (`make setup`) installs it.
    """
    from keplersr.bridge import get_worker, shutdown_worker

    get_worker()
    yield
    shutdown_worker()


@pytest.fixture
def julia_worker(_session_worker):
    """The process-wide Julia worker, alive: the bridge replaces it if an earlier test killed it."""
    from keplersr.bridge import get_worker

    return get_worker()


@pytest.fixture
def fast(tmp_path):
    """Keyword arguments for small, quick searches that write into a temp dir."""
    return dict(populations=6, population_size=30, ncycles_per_iteration=100,
                progress=False, verbosity=0, output_directory=str(tmp_path / "outputs"),
                worker_timeout=120.0)


@pytest.fixture(scope="session")
def feynman_csv():
    """The AI-Feynman table shipped with the package."""
    return str(FEYNMAN_CSV)
