"""The example notebooks (examples/*.ipynb) run in a real Jupyter kernel, and the estimator behaves
in a kernel: the live progress is one display updated in place, and interrupting the kernel
during a fit returns the front found so far.

Every notebook found by the glob is executed with nbclient (a new notebook is picked up without
editing this file); a cell error fails the test. The kernel imports this checkout's package:
PYTHONPATH points at its python/ directory (the kernel manager passes os.environ on).
"""

import asyncio
import glob
import os
import threading
import time

import nbclient      # the test extra: a missing one is an error, not a skip
import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
NOTEBOOKS = sorted(glob.glob(os.path.join(EXAMPLES, "*.ipynb")))


@pytest.fixture
def kernel_env(monkeypatch, tmp_path):
    """The kernel's environment: this checkout's package first on its path, plots off-screen."""
    python_dir = os.path.join(ROOT, "python")
    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", python_dir + (os.pathsep + old if old else ""))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


class RecordingClient(nbclient.NotebookClient):
    """A NotebookClient that also records the type of every IOPub message, per cell."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.msg_types = {}

    def process_message(self, msg, cell, cell_index):
        self.msg_types.setdefault(cell_index, []).append(msg["header"]["msg_type"])
        return super().process_message(msg, cell, cell_index)


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


@pytest.mark.julia
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_example_notebook_runs(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(kernel_env)}})
    t0 = time.monotonic()
    client.execute()        # raises CellExecutionError on the first failing cell
    seconds = time.monotonic() - t0
    print(f"{os.path.basename(path)}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors


def test_there_are_example_notebooks():
    names = {os.path.basename(p) for p in NOTEBOOKS}
    assert len(names) >= 5, names


def test_notebooks_match_their_builder():
    """examples/make_notebooks.py writes the notebooks: an edit in one place only is caught here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", os.path.join(EXAMPLES, "make_notebooks.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--check"]) == 0
    assert sorted(mod.NOTEBOOKS) == sorted(os.path.basename(p) for p in NOTEBOOKS)
    for path in NOTEBOOKS:          # committed with outputs cleared
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in nb.cells if c.cell_type == "code"), path


FIT_CELL = """
import numpy as np
from keplersr import SymbolicRegressor
rng = np.random.default_rng(0)
X = rng.uniform(1, 3, size=(200, 2))
y = X[:, 0] ** 2 * X[:, 1]
model = SymbolicRegressor(niterations=6, populations=4, population_size=30, ncycles_per_iteration=100,
                          random_state=0, verbosity=0, progress=True, output_directory=None)
model.fit(X, y)
"""


@pytest.mark.julia
@pytest.mark.slow
def test_progress_is_one_display_updated_in_place(kernel_env):
    nb = _notebook("from keplersr.progress import in_notebook\nassert in_notebook()", FIT_CELL)
    client = RecordingClient(nb, timeout=300, kernel_name="python3",
                             resources={"metadata": {"path": str(kernel_env)}})
    client.execute()
    outs = nb.cells[1].outputs
    displays = [o for o in outs if o.output_type == "display_data"]
    assert len(displays) == 1, outs
    html = displays[0].data["text/html"]
    assert "keplersr-progress" in html and "best formula" in html
    assert "6 / 6" in html                      # the display shows the last iteration: updated in place
    types = client.msg_types[1]
    assert types.count("display_data") == 1
    assert types.count("update_display_data") >= 1
    assert not any(o.output_type == "stream" and o.name == "stderr" and "iter " in o.text for o in outs)


LONG_FIT_CELL = """
import warnings
import numpy as np
from keplersr import SymbolicRegressor
rng = np.random.default_rng(8)
X = rng.normal(size=(300, 4))
y = np.exp(X[:, 0]) * np.sin(X[:, 1] * X[:, 2]) + X[:, 3] ** 3   # hard: the search runs long
model = SymbolicRegressor(unary_operators=["sin", "exp"], niterations=100000, timeout_in_seconds=120,
                          populations=6, population_size=30, ncycles_per_iteration=100,
                          random_state=0, verbosity=0, output_directory=None)
print("fitting", flush=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model.fit(X, y)
"""

AFTER_CELL = """
assert model.interrupted_
assert len(model.equations_) >= 1
assert np.all(np.isfinite(model.predict(X)))
assert any(issubclass(w.category, RuntimeWarning) and "interrupted" in str(w.message) for w in caught)
print("front so far:", len(model.equations_), "equations")
"""


@pytest.mark.julia
@pytest.mark.slow
def test_interrupting_the_kernel_returns_the_front_so_far(kernel_env):
    # the worker starts in the first cell, so the interrupt lands in the search, not in Julia's start-up
    warm = """
from keplersr.bridge import get_worker
get_worker()
"""
    nb = _notebook(warm, LONG_FIT_CELL, AFTER_CELL)
    client = RecordingClient(nb, timeout=300, kernel_name="python3",
                             resources={"metadata": {"path": str(kernel_env)}})
    timers = []

    def on_cell_start(cell, cell_index):
        if cell_index == 1:
            t = threading.Timer(8.0, lambda: asyncio.run(client.km.interrupt_kernel()))
            t.start()
            timers.append(t)

    client.on_cell_execute = on_cell_start
    t0 = time.monotonic()
    try:
        client.execute()
    finally:
        for t in timers:
            t.cancel()
    assert time.monotonic() - t0 < 100           # far less than the 120 s timeout: the interrupt stopped it
    assert timers, "the long cell never started"
    out = "".join(o.get("text", "") for o in nb.cells[2].outputs if o.output_type == "stream")
    assert "front so far:" in out
