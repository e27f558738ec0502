"""Tests of the Python <-> Julia worker bridge (keplersr.bridge, keplersr.install).

Most tests talk to a fake worker, ``JuliaWorker(worker_script=
tests/julia/fake_worker.jl)``: the real worker's request loop serving fits
with a fake search (its behaviour set per fit by the options key
"fake_search", see that file), so these tests exercise the protocol, the
worker's concurrency and the failure handling without depending on the
engine.
"""

import math
import os
import signal
import stat
import struct
import threading
import time

import numpy as np
import pytest

from keplersr import bridge
from keplersr.bridge import (FitResult, JuliaArgumentError, JuliaError, JuliaWorker,
                             WorkerDiedError, WorkerHungError, get_worker, shutdown_worker)
from keplersr.install import (JuliaNotFoundError, find_julia, install_julia, julia_project_dir,
                              julia_works)

THREADS = 2
FAKE_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "julia", "fake_worker.jl")


@pytest.fixture(scope="session", autouse=True)
def _shared_worker_lifecycle():
    yield
    shutdown_worker()


class FakeWorkers:
    """This module's fake worker, started again when a test killed it."""

    def __init__(self):
        self.current = None

    def get(self) -> JuliaWorker:
        if self.current is None or not self.current.alive():
            self.current = JuliaWorker(threads=THREADS, worker_script=FAKE_WORKER)
        return self.current

    def close(self):
        if self.current is not None and self.current.alive():
            self.current.close()


@pytest.fixture(scope="module")
def fake_workers():
    workers = FakeWorkers()
    yield workers
    workers.close()


@pytest.fixture
def worker(fake_workers):
    """The fake worker (restarted transparently if a test killed it)."""
    return fake_workers.get()


def fake_fit(w, spec, X=None, y=None, weights=None, names=None, options=None, **kw):
    if X is None:
        X = np.arange(12, dtype=float).reshape(4, 3)
    if y is None:
        y = np.array([0.5, 1.5, 2.5, 3.5])
    if names is None:
        names = [f"x{i}" for i in range(X.shape[1])]
    opts = dict(options or {})
    opts["fake_search"] = spec
    return w.fit(X, y, weights, opts, names, **kw)


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


@pytest.mark.julia
def test_ping_reports_versions(worker):
    info = worker.ping()
    assert info["julia_version"].count(".") == 2
    assert info["nthreads"] == THREADS
    assert info["pid"] == worker.pid
    assert info["protocol_version"] == bridge.PROTOCOL_VERSION
    assert isinstance(info["engine_version"], str) and info["engine_version"]


@pytest.mark.julia
def test_describe_reports_what_the_engine_accepts(worker):
    d = worker.describe()
    defaults = d["option_defaults"]
    assert defaults["maxsize"] == 20 and defaults["loss"] == "L2"
    assert defaults["early_stop_condition"] is None            # unset float -> null
    assert "verbosity" not in defaults and "fake_search" not in defaults
    assert {"+", "-", "*", "/"} <= set(d["binary_operators"]) and "sin" in d["unary_operators"]
    assert d["mutation_kinds"][0] == "mutate_constant" and "optimize" in d["mutation_kinds"]
    assert d["losses"] == ["L2", "L1", "Huber"]
    assert d["protocol_version"] == bridge.PROTOCOL_VERSION


@pytest.mark.julia
def test_fake_search_key_is_unknown_to_the_real_worker():
    real = get_worker(threads=THREADS)
    with pytest.raises(JuliaArgumentError, match="fake_search"):
        fake_fit(real, {"nprogress": 1})


@pytest.mark.julia
def test_constants_round_trip_bit_exact(worker):
    rng = np.random.default_rng(0)
    tricky = [0.1 + 0.2, 1 / 3, math.pi, -0.0, 5e-324, 2.2250738585072014e-308,
              1.7976931348623157e308, -1e-300, 123456789.12345679, 1e16, 1e-7, 2.0 ** 60]
    y = np.array(tricky + list(rng.standard_normal(20) * 10.0 ** rng.integers(-20, 20, 20)))
    X = rng.standard_normal((len(y), 2))
    # binary y -> Julia constants -> JSON; and JSON option floats -> Julia -> JSON
    json_side = tricky + [float("nan"), float("inf"), float("-inf")]
    res = fake_fit(worker, {"nprogress": 1, "nconst": len(y), "constants": json_side}, X=X, y=y)
    from_binary = res.records[0]["constants"]
    assert [bits(c) for c in from_binary] == [bits(v) for v in y]
    from_json = res.records[-1]["constants"]
    assert [bits(c) for c in from_json[:len(tricky)]] == [bits(v) for v in tricky]
    assert math.isnan(from_json[-3]) and from_json[-2] == math.inf and from_json[-1] == -math.inf
    assert all(type(c) is float for c in from_binary + from_json)
    assert res.records[0]["codes"] == [1, -1]


@pytest.mark.julia
def test_data_layout_reaches_julia_column_major(worker):
    X = np.arange(15, dtype=float).reshape(5, 3) * 1.25   # C-ordered input
    w = np.linspace(0.5, 2.5, 5)
    res = fake_fit(worker, {"nprogress": 1, "echo_data": True}, X=X, y=np.ones(5), weights=w,
                   names=["mass", "radius", "t"])
    echo = res.records[-1]
    assert echo["codes"] == [5, 3]                       # Julia sees rows x features
    assert echo["equation"] == "mass,radius,t"
    assert echo["constants"] == list(X.flatten(order="F")) + list(w)


@pytest.mark.julia
def test_progress_frames_arrive_in_order(worker):
    seen = []
    res = fake_fit(worker, {"nprogress": 6, "interval": 0.01}, on_progress=seen.append)
    assert [p["iteration"] for p in seen] == [1, 2, 3, 4, 5, 6]
    assert [len(p["records"]) for p in seen] == [1, 2, 3, 4, 5, 6]
    assert all(p["niterations"] == 6 for p in seen)
    assert seen[-1]["records"][0]["constants"] == [0.5, 1.5, 2.5]
    assert isinstance(res, FitResult)
    assert res.stop_reason == "niterations" and not res.interrupted
    assert res.iterations == 6 and res.evals == 600 and len(res.records) == 6


@pytest.mark.julia
def test_julia_exception_becomes_julia_error_and_worker_survives(worker):
    pid = worker.pid
    with pytest.raises(JuliaError, match="boom 42"):
        fake_fit(worker, {"nprogress": 3, "throw": "boom 42"})
    assert worker.ping()["pid"] == pid
    res = fake_fit(worker, {"nprogress": 2})
    assert res.iterations == 2 and worker.pid == pid


@pytest.mark.julia
def test_unknown_option_is_argument_error_naming_it(worker):
    with pytest.raises(JuliaArgumentError, match="not_a_real_option") as info:
        fake_fit(worker, {"nprogress": 1}, options={"not_a_real_option": 3})
    assert isinstance(info.value, ValueError)
    assert info.value.julia_type == "ArgumentError"


def test_engine_errors_a_user_can_act_on_have_their_own_types():
    import keplersr
    from keplersr.errors import JULIA_ERROR_TYPES, julia_error
    assert keplersr.CheckpointError is bridge.CheckpointError
    assert keplersr.WorkerProcessError is bridge.WorkerProcessError
    expected = {"ArgumentError": JuliaArgumentError, "CheckpointError": keplersr.CheckpointError,
                "WorkerStartError": keplersr.WorkerProcessError, "AllWorkersLost": keplersr.WorkerProcessError,
                "ErrorException": JuliaError, "": JuliaError}
    assert JULIA_ERROR_TYPES == {k: v for k, v in expected.items() if v is not JuliaError}
    for julia_type, cls in expected.items():
        err = julia_error({"type": "error", "error_type": julia_type, "message": "it failed", "backtrace": "bt"})
        assert type(err) is cls and isinstance(err, JuliaError)      # `except JuliaError` still catches it
        assert err.julia_type == julia_type and err.julia_message == "it failed" and err.julia_backtrace == "bt"
        assert "it failed" in str(err)


@pytest.mark.julia
def test_an_unreadable_checkpoint_is_a_checkpoint_error(worker, tmp_path):
    missing = str(tmp_path / "checkpoint.json")
    with pytest.raises(bridge.CheckpointError, match="no checkpoint at .*checkpoint.json") as info:
        fake_fit(worker, {"nprogress": 1}, resume_from=missing)
    assert info.value.julia_type == "CheckpointError"
    (tmp_path / "checkpoint.json").write_text("not json")
    with pytest.raises(bridge.CheckpointError, match="not valid JSON"):
        fake_fit(worker, {"nprogress": 1}, resume_from=missing)
    assert fake_fit(worker, {"nprogress": 1}).iterations == 1     # the worker stays usable


@pytest.mark.julia
def test_bad_data_is_argument_error(worker):
    y = np.array([1.0, np.nan, 2.0, 3.0])
    with pytest.raises(JuliaArgumentError, match="y contains NaN"):
        fake_fit(worker, {"nprogress": 1}, y=y)


@pytest.mark.julia
def test_numpy_option_values_are_sent_and_bad_ones_rejected_in_python(worker):
    opts = {"maxsize": np.int64(12), "parsimony": np.float32(0.5), "annealing": np.bool_(False),
            "una_constraints": np.array([3])}
    res = fake_fit(worker, {"nprogress": 1}, options=dict(opts, unary_operators=["cos"]))
    assert res.iterations == 1
    with pytest.raises(TypeError, match="complex"):
        fake_fit(worker, {"nprogress": 1}, options={"parsimony": 1j})
    assert fake_fit(worker, {"nprogress": 1}).iterations == 1


def test_python_frame_codec():
    import io
    frame = bridge.encode_frame({"type": "x", "v": [1.5, float("nan")]}, b"\x01\x02")
    msg, payload = bridge.read_frame(io.BytesIO(frame))
    assert msg["type"] == "x" and msg["v"][0] == 1.5 and math.isnan(msg["v"][1])
    assert payload == b"\x01\x02"
    with pytest.raises(bridge.WorkerProtocolError, match="magic"):
        bridge.read_frame(io.BytesIO(b"junk" + frame[4:]))
    with pytest.raises(EOFError):
        bridge.read_frame(io.BytesIO(frame[:-1]))


@pytest.mark.julia
def test_julia_stdout_printing_does_not_corrupt_frames(worker):
    noisy = '(p, t) -> (println("noise on stdout"); (p - t)^2)'
    res = fake_fit(worker, {"nprogress": 2}, options={"elementwise_loss_source": noisy})
    assert res.iterations == 2
    assert "noise on stdout" in worker.stderr_tail()


@pytest.mark.julia
def test_worker_is_reused_across_fits(worker):
    first = fake_fit(worker, {"nprogress": 1})
    second = fake_fit(worker, {"nprogress": 1})
    assert worker.alive() and first.iterations == second.iterations == 1
    shared = get_worker(threads=THREADS)
    again = get_worker()
    assert again is shared and again.ping()["pid"] == shared.pid


@pytest.mark.julia
def test_interrupt_mid_fit_returns_partial_records(worker):
    def on_progress(p):
        if p["iteration"] == 3:
            worker.interrupt()

    t0 = time.monotonic()
    res = fake_fit(worker, {"nprogress": 400, "interval": 0.02}, on_progress=on_progress)
    assert time.monotonic() - t0 < 5.0
    assert res.interrupted and res.stop_reason == "interrupted"
    assert 3 <= len(res.records) < 400 and res.iterations == len(res.records)


def sigint_after_first_progress(delays):
    """on_progress callback that schedules real SIGINTs to this process."""
    timers = []

    def on_progress(p):
        if p["iteration"] == 1:
            for d in delays:
                t = threading.Timer(d, os.kill, (os.getpid(), signal.SIGINT))
                timers.append(t)
                t.start()

    return on_progress, timers


@pytest.mark.julia
def test_keyboard_interrupt_returns_partial_result(worker):
    pid = worker.pid
    on_progress, timers = sigint_after_first_progress([0.3])
    try:
        res = fake_fit(worker, {"nprogress": 400, "interval": 0.02}, on_progress=on_progress)
    finally:
        for t in timers:
            t.cancel()
    assert res.interrupted and res.stop_reason == "interrupted"
    assert 1 <= len(res.records) < 400
    assert worker.alive() and worker.ping()["pid"] == pid


@pytest.mark.julia
def test_second_keyboard_interrupt_kills_worker_and_reraises(worker, fake_workers):
    old_pid = worker.pid
    on_progress, timers = sigint_after_first_progress([0.3, 0.8])
    try:
        with pytest.raises(KeyboardInterrupt):
            fake_fit(worker, {"nprogress": 400, "interval": 0.02, "ignore_stop": True},
                     on_progress=on_progress)
    finally:
        for t in timers:
            t.cancel()
    assert not worker.alive()
    fresh = fake_workers.get()
    assert fresh.pid != old_pid and fake_fit(fresh, {"nprogress": 1}).iterations == 1


@pytest.mark.julia
def test_killed_worker_raises_died_and_next_fit_restarts(worker, fake_workers):
    old_pid = worker.pid

    def on_progress(p):
        if p["iteration"] == 2:
            os.kill(worker.pid, signal.SIGKILL)

    with pytest.raises(WorkerDiedError, match="exited"):
        fake_fit(worker, {"nprogress": 400, "interval": 0.02}, on_progress=on_progress)
    assert not worker.alive()
    fresh = fake_workers.get()
    assert fresh.pid != old_pid
    assert fake_fit(fresh, {"nprogress": 2}).iterations == 2


@pytest.mark.julia
def test_hung_worker_is_detected_promptly_and_replaced(worker, fake_workers):
    old_pid = worker.pid
    t0 = time.monotonic()
    with pytest.raises(WorkerHungError):
        fake_fit(worker, {"nprogress": 3, "hang": 60.0}, worker_timeout=1.5)
    assert time.monotonic() - t0 < 6.0
    assert not worker.alive()
    fresh = fake_workers.get()
    assert fresh.pid != old_pid and fake_fit(fresh, {"nprogress": 1}).iterations == 1


@pytest.mark.julia
def test_busy_startup_is_not_mistaken_for_a_hang(worker):
    # 3 s of busy, non-yielding work before the first progress (like JIT
    # compilation) must not be mistaken for a hang with a 1.5 s timeout.
    res = fake_fit(worker, {"nprogress": 2, "block": 3.0}, worker_timeout=1.5)
    assert res.iterations == 2


@pytest.mark.julia
def test_idle_stuck_startup_is_a_hang(worker):
    # no frame, no CPU use, no yield before the first progress: hung
    fake_fit(worker, {"nprogress": 1})   # warm: the fit code is compiled
    t0 = time.monotonic()
    with pytest.raises(WorkerHungError):
        fake_fit(worker, {"nprogress": 2, "block_idle": 60.0}, worker_timeout=1.5)
    assert time.monotonic() - t0 < 6.0
    assert not worker.alive()


@pytest.mark.julia
def test_asking_other_thread_count_restarts_worker():
    shared = get_worker(threads=THREADS)
    one = get_worker(threads=1)
    try:
        assert one.pid != shared.pid and one.ping()["nthreads"] == 1
        assert not shared.alive()
    finally:
        shutdown_worker()


# ------------------------------------------------------------ install.py

def test_find_julia_env_var(monkeypatch, tmp_path):
    missing = tmp_path / "nope"
    monkeypatch.setenv("KEPLERSR_JULIA", str(missing))
    with pytest.raises(JuliaNotFoundError, match="KEPLERSR_JULIA"):
        find_julia()
    plain = tmp_path / "julia-not-exec"
    plain.write_text("")
    monkeypatch.setenv("KEPLERSR_JULIA", str(plain))
    with pytest.raises(JuliaNotFoundError, match="not an executable"):
        find_julia()
    plain.chmod(plain.stat().st_mode | stat.S_IXUSR)
    assert find_julia() == str(plain)


def test_find_julia_missing_everywhere(monkeypatch, tmp_path):
    monkeypatch.delenv("KEPLERSR_JULIA", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JuliaNotFoundError, match="install"):
        find_julia()


@pytest.mark.julia
def test_install_julia_is_a_no_op_when_julia_works(monkeypatch):
    import subprocess
    monkeypatch.delenv("KEPLERSR_JULIA", raising=False)
    real_run = subprocess.run
    ran = []

    def guarded(cmd, *a, **k):
        if cmd[0] in ("apt-get", "dpkg-deb"):
            raise AssertionError(f"install_julia must not run {cmd} when Julia works")
        ran.append(cmd[0])
        return real_run(cmd, *a, **k)

    monkeypatch.setattr(subprocess, "run", guarded)
    assert install_julia(assume_yes=True) == find_julia()
    assert ran == [find_julia()]        # only the crash probe ran


@pytest.mark.julia
def test_julia_works_detects_a_crashing_julia(tmp_path):
    crashing = tmp_path / "julia"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    assert not julia_works(str(crashing))
    assert julia_works(find_julia())


def test_julia_project_dir_holds_engine():
    d = julia_project_dir()
    assert os.path.isfile(os.path.join(d, "KeplerSR.jl"))
    assert os.path.isfile(os.path.join(d, "worker.jl"))
    assert not os.path.exists(os.path.join(d, "test"))    # the engine's tests are in tests/julia/
