"""`python -m benchmarks search` runs (tiny mode) and prints its tables; its figures
are not asserted, only that they are there and make sense."""

import numpy as np
import pytest

from benchmarks.search_bench import parse_result, summary, write_dataset
from benchmarks.__main__ import main as bench_main


def test_dataset_file_layout(tmp_path):
    X = np.arange(6.0).reshape(3, 2)
    y = np.array([7.0, 8.0, 9.0])
    path = tmp_path / "d.bin"
    write_dataset(str(path), X, y)
    raw = path.read_bytes()
    head = np.frombuffer(raw[:16], dtype=np.int64)
    body = np.frombuffer(raw[16:], dtype=np.float64)
    assert list(head) == [3, 2]
    assert list(body[:6]) == list(X.ravel(order="F")) and list(body[6:]) == list(y)


def test_result_lines_and_summary():
    r1 = parse_result("RESULT rows=100 threads=1 batching=on batched=false cands_per_s=1000.0 eval_share=0.5")
    r2 = dict(r1, threads=2, cands_per_s=1900.0, eval_share=0.45)
    assert r1["rows"] == 100 and r1["cands_per_s"] == 1000.0 and r1["batching"] == "on"
    table = summary([r1, r2])
    assert "on(-)" in table and "1.90x" in table and "50%" in table


@pytest.mark.julia
@pytest.mark.slow
def test_bench_search_tiny_mode(capsys):
    assert bench_main(["search", "--tiny"]) == 0
    out = capsys.readouterr().out
    assert "cand/s" in out and "in eval" in out and "summary" in out
    lines = [ln.split() for ln in out.splitlines() if ln.strip() and ln.split()[0] in ("200", "3000")]
    modes = {(ln[0], ln[2]) for ln in lines if len(ln) > 3 and ln[1] == "1"}
    assert {("200", "off"), ("200", "on(-)"), ("3000", "off"), ("3000", "on")} <= modes
