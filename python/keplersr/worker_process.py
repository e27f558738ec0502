"""One Julia worker process that speaks frames: start, send, receive, stop.

Layer 2: stands on ``keplersr.julia_env`` (which Julia, where the engine
is), ``keplersr.framing`` (frames and the protocol version),
``keplersr.errors`` and ``keplersr.sysimage`` (the precompiled image).
The requests (ping, describe, fit, interrupt) are added on top of it by
``keplersr.bridge.JuliaWorker``.

``WorkerProcess`` starts ``julia [-J <image>] --project=<julia dir> -t <n>
... worker.jl`` (or a given ``worker_script``) with its own session, reads its
stdout frames and its stderr lines in two daemon threads, and waits for the
``hello`` frame, which must announce this package's ``PROTOCOL_VERSION``
(otherwise ``WorkerProtocolError``). When the start with a system image
fails, it warns and starts once more without the image. A worker that exits
raises ``WorkerDiedError``, one that goes silent too long ``WorkerHungError``
(it is killed), and either error carries the end of Julia's stderr.

The command line and the environment are built by two functions of their
arguments alone, ``worker_command`` and ``worker_env``, which start nothing.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
import warnings
from typing import Callable

from .errors import (WorkerDiedError, WorkerError, WorkerHungError, WorkerProtocolError,
                     julia_error)
from .framing import check_protocol_version, encode_frame, read_frame
from .julia_env import default_threads, find_julia, julia_project_dir
from .sysimage import find_sysimage

__all__ = ["WorkerProcess", "worker_command", "worker_env", "STDERR_LINES"]

log = logging.getLogger("keplersr.bridge")   # one logger for the whole bridge

STDERR_LINES = 400               # ring buffer of Julia's stderr

# Worker entry with a system image (Julia code; {worker} is a JSON-quoted path).
_IMAGE_ENTRY = ("isdefined(Main, :KeplerSRWorker) || include({worker}); "
                "Base.invokelatest(Main.KeplerSRWorker.main)")


def _current_sysimage(julia: str) -> str | None:
    """Path of a valid, current KeplerSR system image for ``julia``, else None (never raises)."""
    try:
        path = find_sysimage(julia)
    except Exception as exc:  # the image is an optimisation: never fail a start over it
        log.debug("no system image: %r", exc)
        return None
    return str(path) if path is not None else None


def worker_command(julia: str, threads: int, project_dir: str, sysimage: str | None = None,
                   worker_script: str | None = None) -> list:
    """The worker's command line (a pure function of its arguments).

    ``julia [-J sysimage] --project=<project_dir> -t <threads> --startup-file=no
    --history-file=no`` followed by the worker: ``worker_script`` when given
    (tests run a fake worker; the rest of the line is the same, including
    ``-J``), else ``<project_dir>/worker.jl`` from source or, with a system
    image (which holds the worker module compiled from that very file), an
    ``-e`` entry that runs the image's ``KeplerSRWorker.main`` directly
    rather than redefining the module (which would recompile it).
    """
    cmd = [julia]
    if sysimage is not None:
        cmd += ["-J", str(sysimage)]
    cmd += [f"--project={project_dir}", "-t", str(threads), "--startup-file=no",
            "--history-file=no"]
    if worker_script is not None:
        return cmd + [os.fspath(worker_script)]
    worker_jl = os.path.join(project_dir, "worker.jl")
    if sysimage is None:
        return cmd + [worker_jl]
    quoted = json.dumps(worker_jl).replace("$", "\\$")   # a Julia string literal
    return cmd + ["-e", _IMAGE_ENTRY.format(worker=quoted)]


def worker_env(julia: str, project_dir: str, environ: dict) -> dict:
    """The worker's environment: ``environ`` plus the Julia executable (absolute) and engine folder.

    The worker processes of a multiprocessing search start from these two
    variables, so they run the same Julia and engine sources. A bare name
    such as ``julia`` is looked up on ``environ``'s ``PATH``.
    """
    if os.sep in julia:
        exe = os.path.abspath(julia)
    else:
        exe = shutil.which(julia, path=environ.get("PATH")) or julia
    return dict(environ, KEPLERSR_JULIA_EXE=exe, KEPLERSR_ENGINE_DIR=project_dir)


class WorkerProcess:
    """One Julia worker process and the frames to and from it.

    Not used directly: ``keplersr.bridge.JuliaWorker`` adds the requests.
    """

    def __init__(self, threads: int | None = None, julia: str | None = None,
                 startup_timeout: float = 300.0, use_sysimage: bool = True,
                 worker_script: str | os.PathLike | None = None):
        """Start the worker and wait for its ``hello``.

        ``worker_script`` is the path of a Julia script to run instead of the
        shipped ``worker.jl`` (tests use it to run a fake worker); the command
        line is otherwise the same, including ``-J <image>`` when a system
        image is used.
        """
        self.julia = julia or find_julia()
        self.threads = int(threads) if threads else default_threads()
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.project_dir = julia_project_dir()
        self.worker_script = os.fspath(worker_script) if worker_script is not None else None
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self._call_lock = threading.RLock()
        self._current_fit: str | None = None
        image = _current_sysimage(self.julia) if use_sysimage else None
        try:
            self._launch(image, startup_timeout)
        except WorkerError as exc:
            if image is None:
                raise
            reason = str(exc).splitlines()[0]
            msg = (f"the Julia worker did not start with the KeplerSR system image {image} "
                   f"({reason}); starting it without the image, so the first fit is slower. "
                   "Rebuild the image with `python -m keplersr.sysimage --force`.")
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            failed = getattr(self, "_proc", None)
            for stream in (failed.stdin, failed.stdout, failed.stderr) if failed else ():
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass
            self._launch(None, startup_timeout)

    def _launch(self, image: str | None, startup_timeout: float):
        """Start the process and wait for its ``hello``; raises WorkerError on failure."""
        self.sysimage = str(image) if image is not None else None
        self._frames: queue.Queue = queue.Queue()
        self._stderr = collections.deque(maxlen=STDERR_LINES)
        self._dead = False
        cmd = worker_command(self.julia, self.threads, self.project_dir, image, self.worker_script)
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            bufsize=0, env=worker_env(self.julia, self.project_dir, dict(os.environ)),
            start_new_session=True)  # own session: terminal Ctrl-C spares Julia
        self._stdout_thread = threading.Thread(
            target=self._pump_stdout, args=(self._proc, self._frames),
            name=f"keplersr-julia-{self._proc.pid}-out", daemon=True)
        self._stderr_thread = threading.Thread(
            target=self._pump_stderr, args=(self._proc, self._stderr),
            name=f"keplersr-julia-{self._proc.pid}-err", daemon=True)
        self._stdout_thread.start()
        self._stderr_thread.start()
        try:
            hello = self._wait_frame(None, startup_timeout, "start")
        except BaseException:
            self.kill()
            raise
        try:
            if hello.get("type") != "hello":
                raise WorkerProtocolError(
                    f"expected 'hello' from the worker, got {hello.get('type')!r}")
            check_protocol_version(hello)
        except WorkerProtocolError as exc:
            self.kill()
            raise WorkerProtocolError(str(exc), self.stderr_tail()) from None
        self.info = {k: v for k, v in hello.items() if k != "type"}

    # -- plumbing ----------------------------------------------------------

    @staticmethod
    def _pump_stdout(proc, frames):
        stream = proc.stdout
        try:
            while True:
                frames.put(read_frame(stream))
        except EOFError:
            frames.put(EOFError())
        except Exception as exc:  # protocol error, or stream closed under us
            frames.put(exc)

    @staticmethod
    def _pump_stderr(proc, lines):
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(line)
            log.debug("julia: %s", line)

    @property
    def pid(self) -> int:
        """Process id of the Julia worker."""
        return self._proc.pid

    def alive(self) -> bool:
        """True while the process runs and has not been declared dead."""
        return not self._dead and self._proc.poll() is None

    def stderr_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines Julia wrote to stderr."""
        if self._proc.poll() is not None:
            self._stderr_thread.join(timeout=2.0)   # the last words of a dead process
        else:
            time.sleep(0.05)
        return "\n".join(list(self._stderr)[-lines:])

    def _send(self, msg: dict, payload: bytes = b""):
        if self._dead:
            raise WorkerDiedError("the Julia worker is no longer running", self.stderr_tail())
        data = encode_frame(msg, payload)
        try:
            with self._write_lock:
                self._proc.stdin.write(data)
                self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            self._fail()
            raise WorkerDiedError(
                f"cannot write to the Julia worker (pid {self.pid}): {exc}; exit code "
                f"{self._proc.poll()}", self.stderr_tail()) from None

    def _fail(self):
        """Mark dead and make sure the process is gone."""
        self._dead = True
        if self._proc.poll() is None:
            try:
                self._proc.kill()
            except OSError:
                pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by the worker; None if unknown (non-Linux)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def _next_frame(self, deadline: float, what: str,
                    extend: Callable[[], float | None] | None = None) -> tuple[dict, bytes]:
        """Next frame, or raise WorkerDiedError/WorkerHungError/WorkerProtocolError.

        When ``deadline`` passes, ``extend()`` may return a new deadline
        instead of declaring the worker hung.
        """
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and extend is not None:
                new_deadline = extend()
                if new_deadline is not None:
                    deadline = new_deadline
                    continue
            if remaining <= 0:
                self._fail()
                raise WorkerHungError(
                    f"the Julia worker (pid {self.pid}) sent nothing for too long during "
                    f"{what}; it was killed", self.stderr_tail())
            try:
                item = self._frames.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if isinstance(item, EOFError):
                self._fail()
                code = self._proc.returncode
                hint = ""
                if code == -11:
                    hint = ("; a segmentation fault: if this is Debian's julia 1.5.3 on a newer "
                            "Debian, run `python -m keplersr.install` (it installs a compatible "
                            "libunwind)")
                raise WorkerDiedError(
                    f"the Julia worker (pid {self.pid}) exited during {what} "
                    f"(exit code {code}){hint}", self.stderr_tail())
            if isinstance(item, BaseException):
                self._fail()
                if isinstance(item, WorkerError):
                    raise WorkerProtocolError(f"{item} (during {what})", self.stderr_tail())
                raise WorkerProtocolError(
                    f"unreadable output from the Julia worker during {what}: {item!r}",
                    self.stderr_tail())
            return item

    def _wait_frame(self, req_id: str | None, timeout: float, what: str) -> dict:
        """Wait for the reply to ``req_id`` (heartbeats and stale frames are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            msg, _ = self._next_frame(deadline, what)
            if req_id is not None and msg.get("id") != req_id:
                continue
            if msg["type"] == "heartbeat":
                deadline = time.monotonic() + timeout
                continue
            if msg["type"] == "error":
                raise julia_error(msg)
            return msg

    # -- lifecycle ---------------------------------------------------------

    def close(self, timeout: float = 10.0):
        """Ask the worker to exit; kill it if it does not within ``timeout`` s."""
        if self._dead:
            return
        try:
            self._send({"type": "shutdown", "id": "shutdown"})
            self._proc.stdin.close()
            self._proc.wait(timeout=timeout)
        except (WorkerError, subprocess.TimeoutExpired, OSError):
            pass
        self._fail()

    def kill(self):
        """Kill the worker process at once."""
        self._fail()

    def __repr__(self):
        state = "alive" if self.alive() else "dead"
        return f"<{type(self).__name__} pid={self.pid} threads={self.threads} {state}>"
