"""Searches in real Slurm jobs, on the one-node cluster of tests/slurm/cluster.sh.

Each job runs ``job_fit.py`` (written here into the test's temporary
folder, which the job reads: it runs as root on this machine) with this
interpreter and the ``keplersr`` package this process imports: one fit with
``parallelism="multiprocessing", cluster_manager="slurm"`` (worker
processes started by ``srun`` as the tasks of a job step) whose front,
stop reason and status lines go to a JSON file and to the job's output.

* an ``sbatch -n 2`` job, one whose Python runs in a step of its own
  (``srun -n 1 python ...``: the workers' step must overlap it; there
  ``SLURM_NTASKS`` is the step's, 1, so one worker process starts) and a
  ``salloc -n 2 python ...`` give the front of a serial deterministic fit in
  this process, and the workers are tasks 0 and 1 of a job step
  (``scontrol listpids``);
* a job whose worker task is killed (``kill -9``) mid-search finishes with
  the survivor, the lost islands continuing there;
* a job over its time limit (``--time=1``, Slurm's smallest: one minute)
  is killed by Slurm, leaves a checkpoint and no process behind, and a
  second job continues it with ``from_file`` + ``warm_start``. That job is
  submitted first (a module fixture), so the minute passes while the others
  run (the node counts more CPUs than it has; see cluster.sh).

Without a cluster (``sinfo`` missing or no node up) the tests are skipped
with the reason, but fail when ``CI`` is set: .ci/run starts the cluster.
Marked ``slow``, ``julia`` and ``slurm``."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import keplersr

pytestmark = [pytest.mark.slow, pytest.mark.julia, pytest.mark.slurm]

ROOT = Path(__file__).resolve().parents[1]
# the jobs import the keplersr this process imports (this tree's python/, or the installed copy)
PACKAGE_PARENT = str(Path(keplersr.__file__).resolve().parents[1])
CLUSTER_SCRIPT = ROOT / "tests" / "slurm" / "cluster.sh"
FINISHED = ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
            "BOOT_FAIL", "DEADLINE")

# Written into the job folder; run by every job: `python job_fit.py SPEC.json`.
JOB_FIT = '''\
"""One KeplerSR fit inside a Slurm allocation (written by tests/test_slurm_cluster.py)."""
import json, os, sys
import numpy as np
import keplersr
from keplersr.bridge import SearchIncompleteError

spec = json.load(open(sys.argv[1]))
X, y = np.load(spec["X"]), np.load(spec["y"])
if spec.get("resume"):
    m = keplersr.SymbolicRegressor.from_file(spec["resume"])
    m.set_params(warm_start=True, **spec["params"])
else:
    m = keplersr.SymbolicRegressor(**spec["params"])
out = {"slurm": {k: os.environ.get(k) for k in ("SLURM_JOB_ID", "SLURM_NTASKS", "SLURM_JOB_NODELIST")},
       "error": None}
try:
    m.fit(X, y)
except SearchIncompleteError as err:
    out["error"] = str(err)
out["front"] = m.equations_[["complexity", "loss", "equation"]].to_dict("records")
out["stop_reason"] = m.stop_reason_
out["statuses"] = [h["status"] for h in m.history_ if h.get("status")]
out["run_dir"] = m.run_dir_
print("job", out["slurm"]["SLURM_JOB_ID"], "on", out["slurm"]["SLURM_JOB_NODELIST"], "with",
      out["slurm"]["SLURM_NTASKS"], "tasks; stop reason", out["stop_reason"])
for status in out["statuses"][-1:]:
    print("status:", status)
print(m.equations_[["complexity", "loss", "equation"]].to_string())
with open(spec["out"] + ".tmp", "w") as fh:
    json.dump(out, fh)
os.replace(spec["out"] + ".tmp", spec["out"])
'''


def _run(*cmd, timeout=30.0):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)


def _cluster_problem():
    """Why no Slurm cluster can take jobs here, or None."""
    for tool in ("sinfo", "sbatch", "salloc", "scontrol", "scancel"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found (slurm-wlm not installed)"
    try:
        r = _run("sinfo", "-h", "-o", "%T")
    except subprocess.TimeoutExpired:
        return "`sinfo` did not answer within 30 s"
    if r.returncode != 0:
        return f"`sinfo` failed: {(r.stderr or r.stdout).strip()}"
    states = r.stdout.split()
    if not any(s.rstrip("*~#") in ("idle", "mixed", "allocated", "completing") for s in states):
        return f"no node is up (sinfo node states: {states or 'none'})"
    return None


@pytest.fixture(scope="module")
def cluster():
    why = _cluster_problem()
    if why:
        msg = f"no Slurm cluster here ({why}); start one with `{CLUSTER_SCRIPT.relative_to(ROOT)} start` (as root)"
        if os.environ.get("CI"):
            pytest.fail(msg + ". Under CI it must run: .ci/run starts it.")
        pytest.skip(msg)


def _data(seed):
    X = np.random.default_rng(seed).random((300, 2)) + 0.5
    return X, X[:, 0] * X[:, 1] + np.sin(X[:, 0])


def _params(folder, **kw):
    p = dict(niterations=4, populations=4, population_size=20, ncycles_per_iteration=60,
             unary_operators=["sin"], deterministic=True, random_state=3, progress=False, verbosity=0,
             output_directory=str(folder / "outputs"), worker_timeout=180.0)
    p.update(kw)
    return p


def _front(records):
    return [{"complexity": int(r["complexity"]), "loss": float(r["loss"]), "equation": str(r["equation"])}
            for r in records]


class Job:
    """One test job: its spec, script and files in `folder`, named `name`."""

    def __init__(self, folder, name, seed, params, resume=None):
        self.folder, self.name = Path(folder), name
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "job_fit.py").write_text(JOB_FIT)
        X, y = _data(seed)
        np.save(self.folder / f"{name}.X.npy", X)
        np.save(self.folder / f"{name}.y.npy", y)
        self.result_file = self.folder / f"{name}.json"
        self.output = self.folder / f"{name}.out"
        spec = {"X": str(self.folder / f"{name}.X.npy"), "y": str(self.folder / f"{name}.y.npy"),
                "params": params, "resume": resume, "out": str(self.result_file)}
        self.spec = self.folder / f"{name}.spec.json"
        self.spec.write_text(json.dumps(spec))
        self.argv = [sys.executable, str(self.folder / "job_fit.py"), str(self.spec)]
        self.env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
        self.jobid = None

    def sbatch(self, *flags, in_step=False):
        """Submit the fit as a batch job; `in_step`: Python runs in a job step of its own
        (`srun --ntasks=1 python ...`), which holds one of the allocation's CPUs."""
        script = self.folder / f"{self.name}.sh"
        launcher = "srun --ntasks=1 " if in_step else ""
        script.write_text("#!/bin/bash\n# a KeplerSR test job (tests/test_slurm_cluster.py)\n"
                          f"export PYTHONPATH='{PACKAGE_PARENT}'\n"
                          + launcher + " ".join(f"'{a}'" for a in self.argv) + "\n")
        r = _run("sbatch", "--parsable", f"--job-name=keplersr-{self.name}", f"--output={self.output}",
                 f"--chdir={self.folder}", *flags, str(script))
        assert r.returncode == 0, f"sbatch failed: {r.stderr}"
        self.jobid = r.stdout.strip().split(";")[0]
        return self

    def state(self):
        r = _run("scontrol", "show", "job", "-o", self.jobid)
        m = re.search(r"JobState=(\S+)", r.stdout)
        return m.group(1) if m else "GONE"

    def wait(self, timeout):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            s = self.state()
            if s in FINISHED or s == "GONE":
                return s
            time.sleep(0.5)
        _run("scancel", self.jobid)
        pytest.fail(f"job {self.jobid} ({self.name}) still {self.state()} after {timeout} s:\n{self.log()}")

    def log(self):
        return self.output.read_text() if self.output.exists() else "(no job output)"

    def result(self):
        assert self.result_file.exists(), f"job {self.name} wrote no result; its output:\n{self.log()}"
        return json.loads(self.result_file.read_text())


def _listpids(jobid):
    """(pid, step, local task id) of the job's processes, as `scontrol listpids` shows them."""
    r = _run("scontrol", "listpids", str(jobid))
    out = []
    for line in r.stdout.splitlines()[1:]:
        f = line.split()
        if len(f) >= 4 and f[0].isdigit():
            out.append((int(f[0]), f[2], f[3]))
    return out


def _worker_tasks(jobid):
    """{local task id: pid} of the job's latest step (not the batch step)."""
    rows = [r for r in _listpids(jobid) if r[1].isdigit() and r[2].isdigit()]
    if not rows:
        return {}
    last = max(int(r[1]) for r in rows)
    return {int(r[2]): r[0] for r in rows if int(r[1]) == last}


def _job_processes(jobid):
    """Pids of live processes started for job `jobid` (SLURM_JOB_ID in their environment)."""
    pids = []
    needle = f"SLURM_JOB_ID={jobid}".encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
            with open(f"/proc/{d}/stat") as fh:
                zombie = fh.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if needle in env and not zombie:
            pids.append(int(d))
    return pids


@pytest.fixture(scope="module", autouse=True)
def overtime_job(cluster, tmp_path_factory):
    """The time-limit job, submitted before the other tests so that its minute runs meanwhile."""
    folder = tmp_path_factory.mktemp("slurm-overtime")
    params = _params(folder, niterations=10**7, deterministic=False, random_state=None,
                     checkpoint_interval=1.0, decomposition_depth=0, run_id="overtime",
                     parallelism="multiprocessing", cluster_manager="slurm")
    job = Job(folder, "overtime", 7, params).sbatch("--ntasks=2", "--time=1")
    yield job
    if job.state() not in FINISHED:
        _run("scancel", job.jobid)


def test_sbatch_and_salloc_jobs_give_the_serial_front(julia_worker, tmp_path):
    params = _params(tmp_path, parallelism="multiprocessing", cluster_manager="slurm")
    job = Job(tmp_path, "batch", 0, params).sbatch("--ntasks=2", "--time=10")
    # Python in a step of its own: the workers' step overlaps it (srun --overlap)
    in_step = Job(tmp_path, "in-step", 0, params).sbatch("--ntasks=2", "--time=10", in_step=True)
    # the workers, as Slurm sees them: tasks of a job step beside the batch step
    seen = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.update(_worker_tasks(job.jobid))
            time.sleep(0.2)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    # meanwhile, the reference: the same search, serially, in this process
    X, y = _data(0)
    serial = keplersr.SymbolicRegressor(**_params(tmp_path, parallelism="serial")).fit(X, y)
    reference = _front(serial.equations_.to_dict("records"))
    assert reference[-1]["loss"] < 1e-20
    state = job.wait(240)
    stop.set()
    watcher.join(5)
    assert state == "COMPLETED", job.log()
    res = job.result()
    assert res["slurm"]["SLURM_NTASKS"] == "2" and res["error"] is None
    assert _front(res["front"]) == reference, job.log()
    assert seen == {0, 1}, f"worker tasks seen in the job's steps: {sorted(seen)}"
    assert in_step.wait(240) == "COMPLETED", in_step.log()
    res = in_step.result()
    assert res["slurm"]["SLURM_NTASKS"] == "1"       # a step's own task count: one worker process
    assert _front(res["front"]) == reference, in_step.log()

    # the same from an interactive allocation: salloc runs python here, srun starts the workers
    inter = Job(tmp_path, "salloc", 0, _params(tmp_path, parallelism="multiprocessing", cluster_manager="slurm"))
    r = subprocess.run(["salloc", "--ntasks=2", "--time=10", "--job-name=keplersr-salloc", *inter.argv],
                       env=inter.env, cwd=str(tmp_path), capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Granted job allocation" in r.stderr
    res = inter.result()
    assert res["slurm"]["SLURM_NTASKS"] == "2"
    assert _front(res["front"]) == reference, r.stdout + r.stderr


def test_a_job_whose_worker_is_killed_finishes_with_the_survivor(cluster, tmp_path):
    params = _params(tmp_path, niterations=400, deterministic=False, random_state=None, checkpoint_interval=0.1,
                     decomposition_depth=0, run_id="one-lost", parallelism="multiprocessing",
                     cluster_manager="slurm")
    job = Job(tmp_path, "killed", 3, params).sbatch("--ntasks=2", "--time=10")
    ck = tmp_path / "outputs" / "one-lost" / "checkpoint.json"
    killed = None
    t0 = time.monotonic()
    while killed is None and time.monotonic() - t0 < 180 and job.state() not in FINISHED:
        tasks = _worker_tasks(job.jobid)
        if ck.exists() and 1 in tasks:      # an iteration is done: kill task 1 of the workers' step
            killed = tasks[1]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    assert killed is not None, f"no worker task to kill; job {job.state()}:\n{job.log()}"
    state = job.wait(240)
    assert state == "COMPLETED", job.log()
    res = job.result()
    assert res["error"] is None and res["stop_reason"] == ["niterations"], job.log()
    status = res["statuses"][-1] if res["statuses"] else ""
    assert "lost" in status and "continue from their last iteration" in status, status
    assert "on host" in status, status        # the node's address (Slurm workers are not local processes)
    assert len(res["front"]) > 0
    assert len(json.loads(ck.read_text())["islands"]) == 4      # the lost islands live on with the survivor


def test_a_job_over_its_time_limit_leaves_a_checkpoint_that_a_second_job_continues(overtime_job):
    job = overtime_job
    state = job.wait(200)
    assert state == "TIMEOUT", f"job {job.jobid}: {state}\n{job.log()}"
    assert "DUE TO TIME LIMIT" in job.log()
    assert not job.result_file.exists()              # killed mid-fit: no result
    # no process of the job is left. The coordinator may outlive Python by a few seconds: once
    # its parent is dead it is out of the process tree that proctrack/linuxproc signals, and it
    # ends by itself (the workers' step was cancelled; its stdin is closed)
    t0 = time.monotonic()
    while _job_processes(job.jobid) and time.monotonic() - t0 < 60:
        time.sleep(0.5)
    assert _job_processes(job.jobid) == [], "processes of the timed-out job are still running"
    run_dir = job.folder / "outputs" / "overtime"
    ck = json.loads((run_dir / "checkpoint.json").read_text())
    done = ck["iteration"]
    best = min(e["loss"] for e in ck["hof"])
    assert done >= 1
    # a second job continues the run from its checkpoint
    again = Job(job.folder, "continued", 7, {"niterations": 3, "worker_timeout": 180.0},
                resume=str(run_dir)).sbatch("--ntasks=2", "--time=10")
    assert again.wait(240) == "COMPLETED", again.log()
    res = again.result()
    assert res["error"] is None and res["stop_reason"] == ["niterations"]
    assert res["run_dir"] == str(run_dir)
    assert json.loads((run_dir / "checkpoint.json").read_text())["iteration"] == done + 3
    assert min(r["loss"] for r in res["front"]) <= best
