"""The engine's Julia unit tests (tests/julia/test_*.jl), one pytest item per file.

One Julia process runs them all (``tests/julia/runtests.jl``, started once per
session by the ``julia_run`` fixture), so the engine is loaded and compiled
once, not once per file. It runs only the files whose items are selected (all
of them when none is) and, with ``--report DIR``, writes each file's output to
``DIR/<file>.log`` and a line per finished file to ``DIR/report.tsv``. Each
item asserts its file's line says it passed and shows the file's output when
not; a file with no line (the process crashed, hung or never reached it)
fails its item. A last item checks the run itself: it got to its end and its
exit status agrees with the files' results.

A new ``tests/julia/test_*.jl`` is picked up by both sides (a glob here,
``readdir`` there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from keplersr.julia_env import find_julia

pytestmark = [pytest.mark.julia, pytest.mark.slow]

JULIA_TESTS = Path(__file__).resolve().parent / "julia"
RUNTESTS = JULIA_TESTS / "runtests.jl"
FILES = sorted(p.name for p in JULIA_TESTS.glob("test_*.jl"))
TIMEOUT = 1200.0        # seconds for the whole Julia run
SHOWN_LINES = 150       # of a file's output, in a failure message


@dataclass
class FileResult:
    status: str
    passed: int
    failed: int
    errored: int
    broken: int
    seconds: float


@dataclass
class JuliaRun:
    """One run of runtests.jl: what it was asked, how it ended, and its report."""
    files: list
    report_dir: Path
    returncode: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    results: dict = field(default_factory=dict)
    done: bool = False

    def output(self) -> str:
        """runtests.jl's own stdout and stderr (engine loading, the summary, crashes)."""
        return _read(self.report_dir / "runtests.out")

    def log(self, name: str) -> str:
        return _read(self.report_dir / f"{name}.log")

    def ending(self) -> str:
        if self.timed_out:
            return f"was killed after {TIMEOUT:.0f} s"
        return f"exited with status {self.returncode} after {self.seconds:.0f} s"


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return "(none)"


def _tail(text: str, lines: int = SHOWN_LINES) -> str:
    rows = text.splitlines()
    cut = f"[... {len(rows) - lines} lines before ...]\n" if len(rows) > lines else ""
    return cut + "\n".join(rows[-lines:])


def _parse_report(run: JuliaRun):
    path = run.report_dir / "report.tsv"
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        if line == "done":
            run.done = True
            continue
        name, status, passed, failed, errored, broken, seconds = line.split("\t")
        run.results[name] = FileResult(status, int(passed), int(failed), int(errored),
                                       int(broken), float(seconds))


def _selected_files(session) -> list:
    """The Julia files whose items this session runs; all of them when none is selected."""
    names = {item.callspec.params["name"] for item in session.items
             if getattr(item, "module", None) is not None and item.module.__name__ == __name__
             and hasattr(item, "callspec")}
    return sorted(names) or list(FILES)


@pytest.fixture(scope="module")
def julia_run(request, tmp_path_factory) -> JuliaRun:
    """runtests.jl run once, in one Julia process, for the selected files."""
    julia = find_julia()            # a missing Julia is an error, never a skip
    assert RUNTESTS.is_file(), f"engine tests not found at {RUNTESTS}"
    run = JuliaRun(files=_selected_files(request.session), report_dir=tmp_path_factory.mktemp("julia"))
    cmd = [julia, "--startup-file=no", "-t", "2", str(RUNTESTS), *run.files,
           "--report", str(run.report_dir)]
    t0 = time.monotonic()
    with open(run.report_dir / "runtests.out", "wb") as out:
        # own session: a timeout kills the worker processes that tests start too
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            run.returncode = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            run.timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            run.returncode = proc.wait()
    run.seconds = time.monotonic() - t0
    _parse_report(run)
    return run


@pytest.mark.parametrize("name", FILES)
def test_julia_file(julia_run, name):
    res = julia_run.results.get(name)
    if res is None:
        pytest.fail(f"{name} did not finish: the Julia run {julia_run.ending()}\n"
                    f"--- output of {name} ---\n{_tail(julia_run.log(name))}\n"
                    f"--- runtests.jl ---\n{_tail(julia_run.output(), 40)}", pytrace=False)
    if res.status != "pass":
        pytest.fail(f"{name}: {res.failed} failed, {res.errored} errored, {res.passed} passed "
                    f"({res.seconds:.1f} s)\n{_tail(julia_run.log(name))}", pytrace=False)
    assert res.passed > 0, f"{name} ran no test"


def test_julia_run_reached_its_end_and_its_exit_status_agrees(julia_run):
    if not (julia_run.done and set(julia_run.results) == set(julia_run.files)):
        pytest.fail(f"runtests.jl {julia_run.ending()} before its end ({len(julia_run.results)} of "
                    f"{len(julia_run.files)} files reported)\n{_tail(julia_run.output(), 60)}",
                    pytrace=False)
    all_passed = all(r.status == "pass" for r in julia_run.results.values())
    if (julia_run.returncode == 0) != all_passed:
        pytest.fail(f"runtests.jl {julia_run.ending()} while its files "
                    f"{'all passed' if all_passed else 'did not all pass'}\n"
                    f"{_tail(julia_run.output(), 60)}", pytrace=False)
