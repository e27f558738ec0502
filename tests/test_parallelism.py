"""Layouts of a search (serial, threads, worker processes, SSH hosts), faults of
worker processes, checkpoints, warm start and resume.

Every test that runs a search is marked `slow` (and `julia`, by its
`julia_worker` fixture); the checks of options and CPU counts are neither."""

import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import keplersr
from benchmarks.fault_bench import children
from keplersr.bridge import SearchIncompleteError, WorkerDiedError, get_worker
from keplersr.julia_env import _cgroup_cpu_quota, available_cpus



def _data(n=300, seed=0):
    X = np.random.default_rng(seed).random((n, 2)) + 0.5
    return X, X[:, 0] * X[:, 1] + np.sin(X[:, 0])


def _model(tmp_path, **kw):
    base = dict(niterations=4, populations=4, population_size=20, ncycles_per_iteration=60,
                unary_operators=["sin"], deterministic=True, random_state=3, progress=False, verbosity=0,
                output_directory=str(tmp_path / "outputs"), worker_timeout=180.0)
    base.update(kw)
    return keplersr.SymbolicRegressor(**base)


def _front(model):
    return model.equations_[["complexity", "loss", "equation"]].to_dict("records")


def _kill_children_when(pred, coordinator_pid, how_many, deadline=120.0):
    """Background thread: once ``pred()`` holds, kill -9 ``how_many`` child processes of the coordinator."""
    killed = []

    def run():
        t0 = time.monotonic()
        while time.monotonic() - t0 < deadline:
            kids = children(coordinator_pid)
            if pred() and len(kids) >= how_many:
                for p in kids[:how_many]:
                    os.kill(p, signal.SIGKILL)
                    killed.append(p)
                return
            time.sleep(0.05)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, killed


@pytest.mark.slow
def test_every_layout_gives_the_same_front(julia_worker, tmp_path):
    X, y = _data()
    fronts = {}
    for par, procs in (("serial", None), ("multithreading", None), ("multiprocessing", 2)):
        m = _model(tmp_path, parallelism=par, procs=procs).fit(X, y)
        fronts[par] = _front(m)
    assert fronts["serial"] == fronts["multithreading"] == fronts["multiprocessing"]
    assert fronts["serial"][-1]["loss"] < 1e-20


@pytest.mark.slow
def test_warm_start_continues_and_matches_one_uninterrupted_run(julia_worker, tmp_path):
    X, y = _data(seed=1)
    whole = _model(tmp_path, niterations=6, enumerate_max_complexity=0).fit(X, y)
    part = _model(tmp_path, niterations=3, enumerate_max_complexity=0).fit(X, y)
    assert part.checkpoints_ == [os.path.join(part.run_dir_, "checkpoint.json")]
    first_dir = part.run_dir_
    part.set_params(warm_start=True)
    part.fit(X, y)
    assert part.run_dir_ == first_dir                      # the same run goes on
    assert _front(part) == _front(whole)
    # the checkpoint is plain data: trees as integer codes, numbers, names
    with open(part.checkpoints_[0]) as fh:
        ck = json.load(fh)
    assert ck["format"] == "keplersr-checkpoint" and ck["iteration"] == 6
    assert len(ck["islands"]) == 4 and all(len(i["members"]) == 20 for i in ck["islands"])


@pytest.mark.slow
def test_warm_start_without_a_previous_fit_starts_fresh_and_mismatches_are_named(julia_worker, tmp_path):
    X, y = _data(seed=2)
    m = _model(tmp_path, niterations=2, warm_start=True, output_directory=None).fit(X, y)
    assert len(m.checkpoints_) == 1 and os.path.exists(m.checkpoints_[0])   # kept in a temp dir
    m.set_params(populations=5)
    with pytest.raises(keplersr.CheckpointError, match="populations"):
        m.fit(X, y)
    m.set_params(populations=4, unary_operators=["cos"])
    with pytest.raises(keplersr.CheckpointError, match="unary_operators"):
        m.fit(X, y)


@pytest.mark.slow
def test_a_bad_or_mismatched_checkpoint_is_a_checkpoint_error_and_the_run_is_kept(julia_worker, tmp_path):
    X, y = _data(seed=7)
    m = _model(tmp_path, niterations=2, run_id="to-continue").fit(X, y)
    run_dir, ck = m.run_dir_, m.checkpoints_[0]
    with open(ck) as fh:
        text = fh.read()
    with open(os.path.join(run_dir, "run.json")) as fh:
        run_file = fh.read()

    def resume(**params):
        resumed = keplersr.SymbolicRegressor.from_file(run_dir)
        resumed.set_params(warm_start=True, **params)
        return resumed.fit(X, y)

    # the checkpoint of a search with other operators, or other populations
    with pytest.raises(keplersr.CheckpointError, match="unary_operators") as info:
        resume(unary_operators=["cos"])
    assert isinstance(info.value, keplersr.JuliaError) and info.value.julia_type == "CheckpointError"
    assert "use the same operators" in str(info.value)
    with pytest.raises(keplersr.CheckpointError, match="use the same `population_size`"):
        resume(population_size=24)
    # a checkpoint of another format version, and a truncated one
    ckd = json.loads(text)
    ckd["version"] = 99
    with open(ck, "w") as fh:
        json.dump(ckd, fh)
    with pytest.raises(keplersr.CheckpointError, match="format version 99"):
        resume()
    with open(ck, "w") as fh:
        fh.write(text[: len(text) // 2])
    with pytest.raises(keplersr.CheckpointError, match=r"checkpoint\.json is not valid JSON"):
        resume()
    # nothing was searched: the run directory still holds the run as it was, and the worker goes on
    with open(os.path.join(run_dir, "run.json")) as fh:
        assert fh.read() == run_file
    assert _front(keplersr.SymbolicRegressor.from_file(run_dir)) == _front(m)
    with open(ck, "w") as fh:
        fh.write(text)
    assert resume().run_dir_ == run_dir


@pytest.mark.slow
def test_a_killed_worker_process_loses_only_its_islands(julia_worker, tmp_path):
    X, y = _data(seed=3)
    m = _model(tmp_path, parallelism="multiprocessing", procs=2, niterations=200, populations=4,
               deterministic=False, random_state=None, checkpoint_interval=0.1, run_id="one-lost")
    ck = os.path.join(str(tmp_path / "outputs"), "one-lost", "checkpoint.json")
    # kill one worker process once the search has completed an iteration (a checkpoint exists)
    t, killed = _kill_children_when(lambda: os.path.exists(ck), get_worker().pid, 1)
    m.fit(X, y)
    t.join(5)
    assert killed, "no worker process was killed"
    assert m.stop_reason_ == ["niterations"]
    statuses = [h.get("status") for h in m.history_ if h.get("status")]
    assert statuses and "lost" in statuses[-1] and "continue from their last iteration" in statuses[-1]
    assert "on host" in statuses[-1] and "SIGKILL" in statuses[-1]     # where, and the OOM killer's signal
    assert len(m.equations_) > 0
    with open(ck) as fh:
        assert len(json.load(fh)["islands"]) == 4      # the lost islands live on elsewhere


@pytest.mark.slow
def test_losing_every_worker_process_keeps_the_front_and_says_so(julia_worker, tmp_path):
    X, y = _data(seed=4)
    m = _model(tmp_path, parallelism="multiprocessing", procs=2, niterations=10_000, deterministic=False,
               random_state=None)
    coordinator = get_worker().pid
    m.set_params(run_id="lost-run", checkpoint_interval=0.1)
    ck = os.path.join(str(tmp_path / "outputs"), "lost-run", "checkpoint.json")
    t, killed = _kill_children_when(lambda: os.path.exists(ck), coordinator, 2)
    with pytest.raises(SearchIncompleteError, match="lost every worker process"):
        m.fit(X, y)
    t.join(5)
    assert len(killed) == 2
    assert m.stop_reason_ == ["workers_lost"] and len(m.equations_) > 0
    assert get_worker().alive()       # the coordinator itself is fine


@pytest.mark.slow
def test_a_crashed_run_resumes_from_its_checkpoint(julia_worker, tmp_path):
    X, y = _data(seed=5)
    m = _model(tmp_path, niterations=10_000, deterministic=False, random_state=None, checkpoint_interval=0.2,
               run_id="crash")
    run_dir = os.path.join(str(tmp_path / "outputs"), "crash")
    ck = os.path.join(run_dir, "checkpoint.json")
    coordinator = get_worker().pid

    def killer():
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120 and not os.path.exists(ck):
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(coordinator, signal.SIGKILL)
    t = threading.Thread(target=killer, daemon=True)
    t.start()
    with pytest.raises(WorkerDiedError):
        m.fit(X, y)
    t.join(5)
    with open(ck) as fh:
        done = json.load(fh)["iteration"]
    assert done >= 1
    resumed = keplersr.SymbolicRegressor.from_file(run_dir)
    assert resumed.checkpoints_ == [ck]
    resumed.set_params(warm_start=True, niterations=2, worker_timeout=180.0)
    resumed.fit(X, y)
    with open(ck) as fh:
        assert json.load(fh)["iteration"] == done + 2
    assert resumed.run_dir_ == run_dir and len(resumed.equations_) > 0


@pytest.mark.slow
def test_worker_processes_are_kept_across_fits_until_the_layout_changes(julia_worker, tmp_path):
    X, y = _data(seed=7)
    coordinator = get_worker().pid
    m = _model(tmp_path, parallelism="multiprocessing", procs=2, niterations=2, output_directory=None)
    m.fit(X, y)
    first = sorted(children(coordinator))
    assert len(first) == 2
    first_front = _front(m)
    m.fit(X, y)                                    # the same layout: the same processes
    assert sorted(children(coordinator)) == first
    assert _front(m) == first_front
    m.set_params(procs=1).fit(X, y)                # another layout: the old pool goes, a new one comes
    now = children(coordinator)
    assert len(now) == 1 and not set(now) & set(first)
    m.set_params(heap_size_hint_in_bytes=2 ** 30).fit(X, y)    # started with another heap hint
    hinted = children(coordinator)
    assert len(hinted) == 1 and hinted != now
    now = hinted
    m.set_params(parallelism="serial", procs=None).fit(X, y)   # no processes needed: the pool stays
    assert children(coordinator) == now


_ORPHAN_SCRIPT = """
import os, sys, time
import numpy as np
import keplersr
from keplersr.bridge import get_worker
X = np.random.default_rng(0).random((200, 2)) + 0.5
keplersr.SymbolicRegressor(parallelism="multiprocessing", procs=2, niterations=2, populations=4,
                           population_size=20, progress=False, verbosity=0, output_directory=None,
                           worker_timeout=180.0).fit(X, X[:, 0] * X[:, 1])
print(get_worker().pid, flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_no_orphan_processes_when_python_is_killed(julia_worker, tmp_path):
    import subprocess
    import sys
    script = tmp_path / "fit_and_wait.py"
    script.write_text(_ORPHAN_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.path.abspath("python"),
                                                                 os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        coordinator = int(proc.stdout.readline())
        pool = children(coordinator)
        assert len(pool) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 60
        alive = [p for p in [coordinator, *pool] if os.path.exists(f"/proc/{p}")]
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [p for p in alive if os.path.exists(f"/proc/{p}") and _not_zombie(p)]
        assert not alive, f"processes left behind after kill -9 of Python: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_layout_options_are_checked_before_julia(tmp_path):
    X, y = _data()
    with pytest.raises(ValueError, match="parallelism"):
        _model(tmp_path, parallelism="mpi").fit(X, y)
    with pytest.raises(ValueError, match="multiprocessing"):
        _model(tmp_path, hosts=["node1"]).fit(X, y)
    with pytest.raises(ValueError, match="host:n"):
        _model(tmp_path, parallelism="multiprocessing", hosts=["node1:x"]).fit(X, y)
    with pytest.raises(ValueError, match="not a file"):
        _model(tmp_path, parallelism="multiprocessing", hosts=str(tmp_path / "nofile")).fit(X, y)
    with pytest.raises(ValueError, match="not both"):
        _model(tmp_path, parallelism="multiprocessing", hosts=["a"], cluster_manager="slurm").fit(X, y)


@pytest.mark.slow
def test_a_host_that_cannot_be_reached_is_a_worker_process_error(julia_worker, tmp_path):
    # no sshd needed: the name does not resolve (RFC 2606), so ssh fails at once
    X, y = _data(seed=8)
    m = _model(tmp_path, parallelism="multiprocessing", hosts=["nonexistent.invalid:2"], run_id="unreachable")
    t0 = time.monotonic()
    with pytest.raises(keplersr.WorkerProcessError) as info:
        m.fit(X, y)
    assert time.monotonic() - t0 < 45
    err = info.value
    assert isinstance(err, keplersr.JuliaError) and err.julia_type == "WorkerStartError"
    assert "cannot start worker processes on hosts nonexistent.invalid:2" in str(err)
    assert "reachable with `ssh` without a password" in str(err)
    assert get_worker().alive()                 # the Julia worker goes on: a search on this machine runs
    assert len(_model(tmp_path, niterations=1).fit(X, y).equations_) > 0


def test_available_cpus_counts_the_cgroup_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _cgroup_cpu_quota(str(tmp_path)) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _cgroup_cpu_quota(str(tmp_path)) is None
    assert 1 <= available_cpus() <= (os.cpu_count() or 1)


def _sshd_or_skip():
    from benchmarks.loopback_sshd import sshd_available
    if not sshd_available():
        if os.environ.get("CI"):
            pytest.fail("sshd is missing: .ci/run installs openssh-server")
        pytest.skip("no sshd here (openssh-server): the hosts layout is not tested")


@pytest.mark.slow
def test_hosts_over_ssh_give_the_same_front_and_an_unreachable_host_fails_fast(julia_worker, tmp_path,
                                                                                monkeypatch):
    _sshd_or_skip()
    from benchmarks.loopback_sshd import loopback_sshd
    from keplersr.bridge import shutdown_worker
    X, y = _data(seed=6)
    serial = _front(_model(tmp_path, parallelism="serial").fit(X, y))
    with loopback_sshd() as sshd:
        # the coordinating Julia process reads KEPLERSR_SSH_FLAGS from its environment: a fresh one
        shutdown_worker()
        monkeypatch.setenv("KEPLERSR_SSH_FLAGS", sshd.ssh_flags)
        try:
            m = _model(tmp_path, parallelism="multiprocessing", hosts=[f"{sshd.host}:2"]).fit(X, y)
            assert _front(m) == serial
            # a host nobody answers on: a clear error within the documented 10 s connect timeout
            monkeypatch.setenv("KEPLERSR_SSH_FLAGS", sshd.ssh_flags)
            bad = _model(tmp_path, parallelism="multiprocessing", hosts=["192.0.2.1"])   # TEST-NET-1
            t0 = time.monotonic()
            with pytest.raises(keplersr.WorkerProcessError, match="cannot start worker processes on hosts 192.0.2.1"):
                bad.fit(X, y)
            assert time.monotonic() - t0 < 45
            assert get_worker().alive()
        finally:
            shutdown_worker()
