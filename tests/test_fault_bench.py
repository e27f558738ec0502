"""The pure parts of ``python -m benchmarks faults`` (the kills themselves run in the benchmark)."""

import os
import subprocess
import sys
import time

from benchmarks.fault_bench import children, summarise_coordinator, summarise_workers


def test_children_finds_a_child_process_and_not_a_finished_one():
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while p.pid not in children(os.getpid()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert p.pid in children(os.getpid())
    finally:
        p.kill()
        p.wait()
    assert p.pid not in children(os.getpid())


def test_summaries_count_outcomes():
    rows = [dict(outcome="returned", stop_reason="niterations", front=5, status="worker process 3 lost"),
            dict(outcome="hang", stop_reason="", front=0, status=""),
            dict(outcome="returned", stop_reason="niterations", front=4, status="")]
    s = summarise_workers(rows)
    assert "3 runs -> 2 returned, 1 hangs, 2 fronts, 1 progress lines" in s
    rows = [dict(resumed=True, lost_s=0.5), dict(resumed="error:X", lost_s=1.5), dict(resumed=False, lost_s=None)]
    s = summarise_coordinator(rows, 1.0)
    assert "3 runs -> 1 resumed" in s and "max 1.50 s" in s and "median 1.00 s" in s
