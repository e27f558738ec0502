"""The progress display (keplersr.progress): the terminal line outside Jupyter, one HTML display
updated in place inside a kernel, chosen in one place (make_progress)."""

import io
import sys
import types

import pytest

from keplersr import progress
from keplersr.progress import NotebookProgress, ProgressPrinter, in_notebook, make_progress


def _msg(it, nit=4, eq="x0 * 2.0", status=None):
    p = {"iteration": it, "niterations": nit, "evals": 1000 * it, "evals_per_second": 5e4, "elapsed": 0.5 * it,
         "best_loss": 1.0 / (it + 1), "records": [{"complexity": 3, "loss": 0.1, "score": 0.2, "equation": eq}]}
    if status:
        p["status"] = status
    return p


class _Shell:
    def __init__(self, config=None):
        self.config = config or {}


class ZMQInteractiveShell(_Shell):
    pass


class TerminalInteractiveShell(_Shell):
    pass


class _Handle:
    def __init__(self, log):
        self.log = log

    def update(self, obj):
        self.log.append(("update", obj.data))


@pytest.fixture
def fake_ipython(monkeypatch):
    """An IPython module in sys.modules whose shell and display the test controls."""
    state = {"shell": None, "log": []}
    display_mod = types.ModuleType("IPython.display")

    class HTML:
        def __init__(self, data):
            self.data = data

    def display(obj, display_id=None):
        assert display_id is True
        state["log"].append(("display", obj.data))
        return _Handle(state["log"])

    display_mod.HTML, display_mod.display = HTML, display
    ipy = types.ModuleType("IPython")
    ipy.get_ipython = lambda: state["shell"]
    ipy.display = display_mod
    monkeypatch.setitem(sys.modules, "IPython", ipy)
    monkeypatch.setitem(sys.modules, "IPython.display", display_mod)
    return state


def test_terminal_outside_a_kernel(fake_ipython):
    assert not in_notebook()                                   # IPython imported, no shell
    fake_ipython["shell"] = TerminalInteractiveShell()
    assert not in_notebook()                                   # terminal IPython: the text line
    assert isinstance(make_progress(), ProgressPrinter)


def test_kernel_detected_by_shell_class_or_config(fake_ipython):
    fake_ipython["shell"] = ZMQInteractiveShell()
    assert in_notebook()
    fake_ipython["shell"] = TerminalInteractiveShell(config={"IPKernelApp": {}})
    assert in_notebook()
    assert isinstance(make_progress(verbosity=1, label="x"), NotebookProgress)
    # an explicit stream, or progress off, keeps the text printer
    assert isinstance(make_progress(stream=io.StringIO()), ProgressPrinter)
    assert isinstance(make_progress(enabled=False), ProgressPrinter)


def test_without_ipython_imported_no_kernel(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not in_notebook()
    assert "IPython" not in sys.modules                        # never imported just to check


def test_notebook_progress_is_one_display_updated_in_place(fake_ipython, monkeypatch):
    fake_ipython["shell"] = ZMQInteractiveShell()
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    pr = make_progress(verbosity=2, label="[output 0] ")
    for it in range(1, 5):
        clock[0] += 1.0
        pr(_msg(it, eq="x0 < 2" if it == 4 else "x0"))
    pr(_msg(4, eq="x0 < 2", status="lost a worker"))   # within min_interval: held back ...
    pr.close()                               # ... and shown by close
    log = fake_ipython["log"]
    assert [k for k, _ in log] == ["display", "update", "update", "update", "update"]
    last = log[-1][1]
    for text in ("4 / 4", "4000", "2.0 s", "best loss", "0.2", "[output 0]", "x0 &lt; 2", "lost a worker",
                 "complexity"):
        assert text in last, text
    pr.close()
    assert len(log) == 5                     # nothing pending: no extra update


def test_notebook_progress_throttles_updates(fake_ipython, monkeypatch):
    fake_ipython["shell"] = ZMQInteractiveShell()
    monkeypatch.setattr(progress.time, "monotonic", lambda: 5.0)   # time stands still
    pr = make_progress()
    for it in range(1, 50):
        pr(_msg(it, nit=50))
    pr.close()
    assert [k for k, _ in fake_ipython["log"]] == ["display", "update"]
    assert "49 / 50" in fake_ipython["log"][-1][1]


def test_disabled_notebook_progress_shows_nothing(fake_ipython):
    pr = NotebookProgress(enabled=False)
    pr(_msg(1))
    pr.close()
    assert fake_ipython["log"] == []


def test_terminal_line_unchanged():
    out = io.StringIO()
    pr = make_progress(stream=out)
    pr(_msg(2))
    pr.close()
    text = out.getvalue()
    assert text.startswith("\r[############------------] iter 2/4") and "best loss 0.3333" in text
    assert text.endswith("\n")
