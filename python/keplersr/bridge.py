"""The bridge to the persistent Julia worker that runs the search engine.

One Julia process (``julia/worker.jl``) is started on first use and reused
for every later fit in this Python process (``get_worker``). Requests and
replies are length-prefixed frames on the worker's stdin/stdout: a JSON
header plus raw little-endian float64 arrays (see docs/PROTOCOL.md).
When a current KeplerSR system image exists (``keplersr.sysimage``), the
worker starts from it (``julia -J <image>``) with the engine precompiled; if
it does not start that way, a warning is issued and it is started once more
without the image.

Failure handling:

* a Julia exception inside a fit raises ``JuliaError`` (the worker stays
  usable);
* a worker that exits raises ``WorkerDiedError``; one that sends no frame
  for ``worker_timeout`` seconds raises ``WorkerHungError`` (it is killed);
  either way the next ``get_worker()`` starts a fresh process;
* Ctrl-C during ``fit`` sends ``interrupt`` and returns the partial result
  marked ``interrupted=True``; a second Ctrl-C, or no answer within
  ``interrupt_timeout`` seconds, kills the worker and re-raises.
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import itertools
import json
import logging
import os
import queue
import struct
import subprocess
import threading
import time
import warnings
from typing import Any, Callable

import numpy as np

from .install import find_julia, julia_project_dir

__all__ = [
    "FitResult", "JuliaWorker", "JuliaError", "JuliaArgumentError", "WorkerError",
    "WorkerDiedError", "WorkerHungError", "WorkerProtocolError", "get_worker",
    "shutdown_worker",
]

log = logging.getLogger(__name__)

MAGIC = b"KSR1"
_PREFIX = struct.Struct("<IQ")   # JSON header length, payload length
PROTOCOL_VERSION = 1
STDERR_LINES = 400               # ring buffer of Julia's stderr

# Worker entry with a system image (Julia code; {worker} is a JSON-quoted path).
_IMAGE_ENTRY = ("isdefined(Main, :KeplerSRWorker) || include({worker}); "
                "Base.invokelatest(Main.KeplerSRWorker.main)")


def _current_sysimage(julia: str) -> str | None:
    """Path of a valid, current KeplerSR system image for ``julia``, else None (never raises)."""
    try:
        from .sysimage import find_sysimage
        path = find_sysimage(julia)
    except Exception as exc:  # the image is an optimisation: never fail a start over it
        log.debug("no system image: %r", exc)
        return None
    return str(path) if path is not None else None


# ------------------------------------------------------------------ errors

class JuliaError(RuntimeError):
    """A Julia exception raised while the worker served a request.

    ``julia_type`` is the exception's type name, ``julia_message`` its
    message and ``julia_backtrace`` the (truncated) Julia backtrace.
    """

    def __init__(self, message: str, julia_type: str = "", backtrace: str = ""):
        self.julia_type = julia_type
        self.julia_message = message
        self.julia_backtrace = backtrace
        prefix = f"{julia_type}: " if julia_type and not message.startswith(julia_type) else ""
        super().__init__(f"Julia raised {prefix}{message}")


class JuliaArgumentError(JuliaError, ValueError):
    """A Julia ``ArgumentError`` (bad option or data); also a ``ValueError``."""


class WorkerError(RuntimeError):
    """The worker process failed; ``stderr_tail`` holds the end of its stderr."""

    def __init__(self, message: str, stderr_tail: str = ""):
        self.stderr_tail = stderr_tail
        if stderr_tail:
            message = f"{message}\n--- last lines of Julia's stderr ---\n{stderr_tail}"
        super().__init__(message)


class WorkerDiedError(WorkerError):
    """The worker process exited or closed its output."""


class WorkerHungError(WorkerError):
    """The worker sent nothing for longer than the allowed time."""


class WorkerProtocolError(WorkerError):
    """The worker sent bytes that are not a valid frame."""


@dataclasses.dataclass
class FitResult:
    """Outcome of one fit: the hall of fame and how the search ended."""

    records: list
    stop_reason: str
    interrupted: bool
    iterations: int
    evals: int
    elapsed: float


# ------------------------------------------------------------------ frames

def _json_default(obj):
    """JSON for numpy scalars/arrays found in options (anything else: TypeError)."""
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    raise TypeError(f"cannot send a value of type {type(obj).__name__} to Julia: {obj!r}")


def encode_frame(msg: dict, payload: bytes = b"") -> bytes:
    """Bytes of one frame: magic, lengths, JSON header, payload."""
    header = json.dumps(msg, allow_nan=True, separators=(",", ":"),
                        default=_json_default).encode("utf-8")
    return MAGIC + _PREFIX.pack(len(header), len(payload)) + header + payload


def _read_exactly(stream, n: int) -> bytes:
    chunks = []
    while n > 0:
        b = stream.read(n)
        if not b:
            raise EOFError
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def read_frame(stream) -> tuple[dict, bytes]:
    """Read one frame from a binary stream; ``EOFError`` at end of stream."""
    pre = _read_exactly(stream, 4 + _PREFIX.size)
    if pre[:4] != MAGIC:
        raise WorkerProtocolError(f"bad frame magic {pre[:4]!r} (stream desynchronised)")
    jlen, blen = _PREFIX.unpack(pre[4:])
    header = _read_exactly(stream, jlen)
    payload = _read_exactly(stream, blen) if blen else b""
    msg = json.loads(header.decode("utf-8"))
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise WorkerProtocolError("frame header is not a JSON object with a 'type'")
    return msg, payload


def _f64_array(name: str, a: np.ndarray) -> tuple[dict, bytes]:
    a = np.asarray(a, dtype="<f8")
    if a.ndim == 2:
        data = np.asfortranarray(a).tobytes(order="F")   # column-major for Julia
    else:
        data = np.ascontiguousarray(a).tobytes()
    return {"name": name, "dtype": "float64", "shape": list(a.shape)}, data


def _convert_record(r: dict) -> dict:
    """Record from the wire: constants as Python floats, codes as ints."""
    out = dict(r)
    out["constants"] = [float(c) for c in r.get("constants", [])]
    if "constants_stderr" in r:
        out["constants_stderr"] = [float(c) for c in r["constants_stderr"]]
    out["codes"] = [int(c) for c in r.get("codes", [])]
    for k in ("complexity",):
        if k in out:
            out[k] = int(out[k])
    for k in ("loss", "score"):
        if k in out:
            out[k] = float(out[k])
    return out


# ------------------------------------------------------------------ worker

class JuliaWorker:
    """One persistent Julia worker process.

    Use ``get_worker()`` rather than constructing this directly, so that
    the process is shared. Not safe for concurrent fits from several
    threads (calls are serialised by a lock).
    """

    def __init__(self, threads: int | None = None, julia: str | None = None,
                 startup_timeout: float = 300.0, use_sysimage: bool = True):
        self.julia = julia or find_julia()
        self.threads = int(threads) if threads else default_threads()
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.project_dir = julia_project_dir()
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

    def _command(self, image: str | None) -> list:
        """The worker's command line, with ``-J image`` when a system image is used."""
        worker_jl = os.path.join(self.project_dir, "worker.jl")
        cmd = [self.julia]
        if image is not None:
            cmd += ["-J", str(image)]
        cmd += [f"--project={self.project_dir}", "-t", str(self.threads),
                "--startup-file=no", "--history-file=no"]
        if image is None:
            return cmd + [worker_jl]
        # The image already holds the worker module compiled from this very
        # worker.jl (its cache key hashes the sources): run its main directly
        # rather than redefining the module (which would recompile it).
        quoted = json.dumps(worker_jl).replace("$", "\\$")   # a Julia string literal
        return cmd + ["-e", _IMAGE_ENTRY.format(worker=quoted)]

    def _launch(self, image: str | None, startup_timeout: float):
        """Start the process and wait for its ``hello``; raises WorkerError on failure."""
        self.sysimage = str(image) if image is not None else None
        self._frames: queue.Queue = queue.Queue()
        self._stderr = collections.deque(maxlen=STDERR_LINES)
        self._dead = False
        self._proc = subprocess.Popen(
            self._command(image), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, bufsize=0,
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
        if hello.get("type") != "hello":
            self.kill()
            raise WorkerProtocolError(f"expected 'hello' from the worker, got {hello.get('type')!r}",
                                      self.stderr_tail())
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
                raise _julia_error(msg)
            return msg

    # -- requests ----------------------------------------------------------

    def ping(self, timeout: float = 30.0) -> dict:
        """Julia version, thread count, engine and protocol version, pid."""
        with self._call_lock:
            rid = str(next(self._ids))
            self._send({"type": "ping", "id": rid})
            msg = self._wait_frame(rid, timeout, "ping")
        return {k: v for k, v in msg.items() if k not in ("type", "id")}

    def interrupt(self):
        """Ask the running fit (if any) to stop early; its result still arrives.

        Safe to call from another thread or from an ``on_progress`` callback.
        """
        rid = self._current_fit
        if rid is not None and self.alive():
            self._send({"type": "interrupt", "id": rid})

    def fit(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None, options: dict,
            variable_names: list, on_progress: Callable[[dict], Any] | None = None,
            worker_timeout: float = 60.0, interrupt_timeout: float = 30.0) -> FitResult:
        """Run one search on the worker and return its hall of fame.

        ``X`` is (n, p) float64, ``y`` and ``weights`` (n,). ``options`` is the
        options message (see docs/PROTOCOL.md). ``on_progress(dict)`` receives
        each progress frame (keys iteration, niterations, evals,
        evals_per_second, elapsed, best_loss, records). If no frame arrives
        for ``worker_timeout`` s the worker is killed (``WorkerHungError``).
        """
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
        n, p = X.shape
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {y.shape}")
        arrays = [_f64_array("X", X), _f64_array("y", y)]
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (n,):
                raise ValueError(f"weights must have shape ({n},), got {w.shape}")
            arrays.append(_f64_array("weights", w))
        names = [str(v) for v in variable_names]
        if len(names) != p:
            raise ValueError(f"{len(names)} variable names for {p} features")
        if worker_timeout <= 0:
            raise ValueError("worker_timeout must be > 0")
        with self._call_lock:
            rid = str(next(self._ids))
            msg = {"type": "fit", "id": rid, "options": options, "variable_names": names,
                   "nrows": n, "nfeatures": p,
                   "heartbeat_interval": min(1.0, worker_timeout / 4.0),
                   "arrays": [spec for spec, _ in arrays]}
            payload = b"".join(data for _, data in arrays)
            self._current_fit = rid
            try:
                try:
                    self._send(msg, payload)
                except KeyboardInterrupt:   # a half-written frame desynchronises the stream
                    self._fail()
                    raise
                return self._run_fit(rid, on_progress, worker_timeout, interrupt_timeout)
            finally:
                self._current_fit = None

    def _run_fit(self, rid, on_progress, worker_timeout, interrupt_timeout) -> FitResult:
        try:
            return self._collect(rid, on_progress, worker_timeout)
        except KeyboardInterrupt:
            log.info("interrupt: asking the Julia search to stop (Ctrl-C again to kill it)")
            return self._after_interrupt(rid, interrupt_timeout, KeyboardInterrupt, True)
        except (WorkerError, JuliaError):
            raise
        except BaseException as exc:  # e.g. the on_progress callback raised
            self._after_interrupt(rid, interrupt_timeout, exc, False)
            raise

    def _after_interrupt(self, rid, timeout, exc, return_result):
        """Send interrupt, drain to the result within ``timeout`` s; kill on failure."""
        try:
            self._send({"type": "interrupt", "id": rid})
            res = self._collect(rid, None, timeout, total_timeout=timeout)
        except KeyboardInterrupt:      # second Ctrl-C: give up on the worker
            self._fail()
            raise
        except (WorkerError, JuliaError):
            # a dead/hung worker was already killed by _next_frame; a Julia
            # error leaves the worker usable. Either way there is no result.
            if return_result:
                raise exc from None
            return None
        res.interrupted = True
        return res

    def _collect(self, rid, on_progress, worker_timeout, total_timeout=None) -> FitResult:
        deadline = time.monotonic() + worker_timeout
        hard = None if total_timeout is None else time.monotonic() + total_timeout
        # Until the first iteration is reported the worker is mostly JIT
        # compiling, which can block its heartbeat: CPU use counts as life.
        started = False
        cpu_mark = [self.cpu_seconds()]

        def still_compiling():
            if started or hard is not None:
                return None
            now_cpu = self.cpu_seconds()
            if now_cpu is None or cpu_mark[0] is None:
                return None
            busy = now_cpu - cpu_mark[0]
            cpu_mark[0] = now_cpu
            if busy >= 0.05 * worker_timeout:
                log.debug("no frame for %.1f s but the worker used %.1f s of CPU: still starting",
                          worker_timeout, busy)
                return time.monotonic() + worker_timeout
            return None

        while True:
            limit = deadline if hard is None else min(deadline, hard)
            msg, _ = self._next_frame(limit, "a fit", still_compiling)
            if msg.get("id") != rid:
                continue  # stale frame of an earlier request
            deadline = time.monotonic() + worker_timeout
            cpu_mark[0] = self.cpu_seconds()
            t = msg["type"]
            if t == "heartbeat":
                continue
            if t == "progress":
                it = msg.get("iteration", 1)
                if not isinstance(it, int) or it >= 1:
                    started = True
                if on_progress is not None:
                    prog = {k: v for k, v in msg.items() if k not in ("type", "id")}
                    prog["records"] = [_convert_record(r) for r in msg.get("records", [])]
                    on_progress(prog)
                continue
            if t == "error":
                raise _julia_error(msg)
            if t == "result":
                return FitResult(
                    records=[_convert_record(r) for r in msg.get("records", [])],
                    stop_reason=str(msg.get("stop_reason", "")),
                    interrupted=bool(msg.get("interrupted", False)),
                    iterations=int(msg.get("iterations", 0)),
                    evals=int(msg.get("evals", 0)),
                    elapsed=float(msg.get("elapsed", 0.0)))
            raise WorkerProtocolError(f"unexpected {t!r} frame during a fit", self.stderr_tail())

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
        return f"<JuliaWorker pid={self.pid} threads={self.threads} {state}>"


def _julia_error(msg: dict) -> JuliaError:
    cls = JuliaArgumentError if msg.get("error_type") == "ArgumentError" else JuliaError
    return cls(str(msg.get("message", "")), str(msg.get("error_type", "")),
               str(msg.get("backtrace", "")))


def default_threads() -> int:
    """Threads for a new worker: ``KEPLERSR_THREADS`` or the number of CPUs."""
    env = os.environ.get("KEPLERSR_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"KEPLERSR_THREADS must be an integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"KEPLERSR_THREADS must be >= 1, got {n}")
        return n
    return os.cpu_count() or 1


# ------------------------------------------------------------------ shared worker

_shared: JuliaWorker | None = None
_shared_lock = threading.Lock()


def get_worker(threads: int | None = None, julia: str | None = None) -> JuliaWorker:
    """The process-wide worker, started (or restarted) as needed.

    Reused while it is alive; a new one is started if it died, or if a
    different thread count or Julia executable is asked for.
    """
    global _shared
    with _shared_lock:
        w = _shared
        if w is not None:
            wanted_julia = julia or None
            if (not w.alive() or (threads is not None and int(threads) != w.threads)
                    or (wanted_julia is not None and os.path.abspath(wanted_julia) != os.path.abspath(w.julia))):
                w.close()
                _shared = w = None
        if w is None:
            _shared = w = JuliaWorker(threads=threads, julia=julia)
        return w


def shutdown_worker():
    """Stop the shared worker, if any."""
    global _shared
    with _shared_lock:
        w, _shared = _shared, None
    if w is not None:
        w.close()


atexit.register(shutdown_worker)
