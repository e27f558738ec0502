"""`python -m benchmarks scaling` and `python -m benchmarks soak`: their pure parts (tables, front
comparison, RSS reading, memory growth) without Julia, and one quick scaling run
(serial against two local worker processes) with Julia."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from benchmarks.scaling_bench import (LAYOUTS, describe, format_table, front_difference,
                                               fronts_identical, layout_params, measure, worker_threads)
from benchmarks.soak_bench import (format_rss_table, growth, julia_processes, read_rss_kb,
                                            total_mb, verdict)
from benchmarks.__main__ import main as bench_main
from keplersr.cli import main as cli_main


def _front(*rows):
    return pd.DataFrame(rows, columns=["complexity", "loss", "equation"])


def _result(layout, wall, elapsed, evals, diff="", steady=0.0):
    return dict(layout=layout, wall=wall, elapsed=elapsed, evals=evals, rate=evals / elapsed, front_diff=diff,
                first=1.0, steady=steady)


def test_layouts_cover_the_asked_ones():
    assert set(LAYOUTS) == {"serial", "mt-1", "mt-2", "mp-1", "mp-2", "mp-4", "ssh-2"}
    assert layout_params("mp-4") == dict(parallelism="multiprocessing", procs=4)
    assert layout_params("ssh-2")["hosts"] == ["127.0.0.1:2"]
    with pytest.raises(KeyError, match="known: serial"):
        layout_params("mp-3")
    # one thread per process, except the multithreaded worker
    assert [worker_threads(n) for n in LAYOUTS] == [1, 1, 2, 1, 1, 1, 1]
    assert describe("mp-4") == "coordinator + 4 local process(es), 1 thread each"


def test_front_difference():
    a = _front((1, 0.5, "x"), (3, 0.125, "x * y"))
    assert front_difference(a, a.copy()) == ""
    b = _front((1, 0.5, "x"), (3, 0.1250000001, "x * y"))
    assert front_difference(b, a).startswith("row 1:")
    assert front_difference(a.iloc[:1], a) == "1 formulas instead of 2"


def test_measure_uses_the_last_progress_record():
    class Fitted:
        history_ = [dict(iteration=0, elapsed=1.0, evals=10), dict(iteration=1, elapsed=2.0, evals=200),
                    dict(iteration=3, elapsed=4.0, evals=1000)]

    m = measure(Fitted(), 5.5)
    assert m == dict(wall=5.5, elapsed=4.0, evals=1000, rate=250.0, first=2.0, steady=400.0)
    Fitted.history_ = Fitted.history_[:2]
    assert measure(Fitted(), 3.0)["steady"] == 0.0


def test_table_ratios_and_fronts_line():
    results = [_result("serial", 10.0, 8.0, 8000, steady=1100.0), _result("mp-2", 6.0, 4.0, 8000, steady=3300.0),
               _result("ssh-2", 7.0, 5.0, 8000, diff="row 0: ..."), dict(layout="mp-4", error="WorkerDiedError: x")]
    table = format_table(results)
    lines = table.splitlines()
    assert "cand/s" in lines[0] and "x serial" in lines[0]
    serial, mp2, ssh2, mp4 = lines[1:]
    assert "1.00x" in serial and "1000" in serial and serial.endswith("same")
    assert "1.67x" in mp2 and "2.00x" in mp2 and "3.00x" in mp2
    assert "DIFFERS: row 0" in ssh2 and ssh2.split()[10] == "-" and "2.00" in ssh2.split()[5]     # no steady rate: no ratio
    assert "failed: WorkerDiedError" in mp4
    assert fronts_identical(results) == "no"
    assert fronts_identical(results[:2]) == "yes"
    assert fronts_identical(results[3:]) == "-"


def test_rss_of_this_process():
    kb = read_rss_kb(os.getpid())
    assert kb is not None and 1024 < kb < 64 * 1024 * 1024
    assert read_rss_kb(2 ** 22 + 12345) is None      # beyond pid_max: no such process


def test_julia_processes_finds_children_and_grandchildren_named_julia(tmp_path):
    fake = tmp_path / "julia"          # a process whose name (comm) is "julia"
    shutil.copy("/bin/sleep", fake)
    before = set(julia_processes())    # e.g. the test session's own Julia worker
    child = subprocess.Popen([str(fake), "30"], start_new_session=True)
    shell = subprocess.Popen(["sh", "-c", f"{fake} 30 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = {k: v for k, v in julia_processes().items() if k not in before}
            if len(found) >= 2:
                break
            time.sleep(0.05)
        assert found[child.pid] == "worker"
        assert shell.pid not in found
        assert list(v for k, v in found.items() if k != child.pid) == ["proc"]
        assert julia_processes(root=child.pid) == {}
    finally:
        for p in (child, shell):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_growth_and_verdict():
    mb = 1024
    samples = [(0.0, {1: 100 * mb}), (10.0, {1: 400 * mb}), (20.0, {1: 410 * mb, 2: 90 * mb}),
               (60.0, {1: 420 * mb, 2: 100 * mb})]
    start, end, pct = growth(samples, warmup=10.0, window=1)
    assert [s[0] for s in start] == [10.0] and [s[0] for s in end] == [60.0]
    assert total_mb(end[0][1]) == 520.0
    assert pct == pytest.approx(30.0)
    # windows of 3 shrink so they do not overlap: 3 samples after the warm-up -> 1 each
    assert growth(samples, warmup=10.0)[2] == pytest.approx(30.0)
    # from t = 0, windows of 2: means (100 + 400) / 2 -> (500 + 520) / 2
    assert growth(samples, warmup=0.0, window=2)[2] == pytest.approx(100.0 * (510 - 250) / 250)
    assert verdict(pct) == "GROWING" and verdict(4.9) == "flat (< 5%)" and verdict(-3.0) == "flat (< 5%)"
    assert growth(samples, warmup=60.0)[2] is None and verdict(None).startswith("unknown")
    # samples after the time limit (the final refit's spike) are left out of the end window
    start, end, pct = growth(samples, warmup=10.0, window=1, until=20.0)
    assert [s[0] for s in end] == [20.0] and pct == pytest.approx(25.0)
    table = format_rss_table(samples, {1: "worker", 2: "proc"}, max_rows=1, keep=[samples[1]])
    lines = table.splitlines()
    assert "worker 1" in lines[0] and "proc 2" in lines[0] and "total MB" in lines[0]
    assert [ln.split()[0] for ln in lines[1:]] == ["0.0", "10.0", "60.0"]
    assert lines[1].split()[-1] == "-"


def test_developer_benches_run_with_one_command_each():
    with pytest.raises(SystemExit):
        bench_main(["nosuch"])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-m", "benchmarks", "scaling", "--help"],
                         capture_output=True, text=True, env=dict(os.environ), cwd=root)
    assert out.returncode == 0 and "--layouts" in out.stdout


def test_installed_cli_names_where_developer_benches_are():
    with pytest.raises(SystemExit, match="python -m benchmarks scaling"):
        cli_main(["bench", "scaling"])


@pytest.mark.julia
@pytest.mark.slow
def test_bench_scaling_quick_serial_and_two_processes(capsys):
    code = bench_main(["scaling", "--quick", "--layouts", "serial", "mp-2"])
    out = capsys.readouterr().out
    assert code == 0, out
    table = out.split("\nsummary\n", 1)[1]
    rows = {ln.split()[0]: ln for ln in table.splitlines() if ln.split() and ln.split()[0] in ("serial", "mp-2")}
    assert set(rows) == {"serial", "mp-2"}
    assert "failed" not in table
    assert "fronts identical: yes" in out
