"""The bridge to the persistent Julia worker that runs the search engine.

Layer 3, the top of the Julia side: stands on ``keplersr.worker_process``
(one Julia process speaking frames), ``keplersr.framing`` (the float64
arrays of a fit request), ``keplersr.errors`` (the exceptions, re-exported
here) and ``keplersr.julia_env``. The estimator (``keplersr.estimator``)
stands on it.

One Julia process (``julia/worker.jl``) is started on first use and reused
for every later fit in this Python process (``get_worker``). Requests and
replies are length-prefixed frames on the worker's stdin/stdout: a JSON
header plus raw little-endian float64 arrays (``keplersr.framing``, see
docs/PROTOCOL.md). The worker's ``hello`` must announce this package's
``PROTOCOL_VERSION``, otherwise the start fails with ``WorkerProtocolError``.
When a current KeplerSR system image exists (``keplersr.sysimage``), the
worker starts from it (``julia -J <image>``) with the engine precompiled; if
it does not start that way, a warning is issued and it is started once more
without the image.

Failure handling:

* a Julia exception inside a fit raises ``JuliaError`` (the worker stays
  usable), or the subclass of the engine errors a user can act on
  (``JuliaArgumentError``, ``CheckpointError``, ``WorkerProcessError``;
  ``keplersr.errors.JULIA_ERROR_TYPES``);
* a worker that exits raises ``WorkerDiedError``; one that sends no frame
  for ``worker_timeout`` seconds raises ``WorkerHungError`` (it is killed);
  either way the next ``get_worker()`` starts a fresh process;
* Ctrl-C during ``fit`` sends ``interrupt`` and returns the partial result
  marked ``interrupted=True``; a second Ctrl-C, or no answer within
  ``interrupt_timeout`` seconds, kills the worker and re-raises.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import threading
import time
from typing import Any, Callable

import numpy as np

from .errors import (CheckpointError, JuliaArgumentError, JuliaError, WorkerDiedError, WorkerError,
                     WorkerHungError, WorkerProcessError, WorkerProtocolError, SearchIncompleteError,
                     julia_error)
from .framing import MAGIC, PROTOCOL_VERSION, encode_frame, f64_array, read_frame
from .julia_env import default_threads
from .worker_process import WorkerProcess

__all__ = [
    "FitResult", "JuliaWorker", "JuliaError", "JuliaArgumentError", "WorkerError",
    "WorkerDiedError", "WorkerHungError", "WorkerProtocolError", "SearchIncompleteError", "CheckpointError",
    "WorkerProcessError", "get_worker",
    "shutdown_worker", "PROTOCOL_VERSION", "MAGIC", "encode_frame", "read_frame",
    "default_threads",
]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class FitResult:
    """Outcome of one fit: the hall of fame and how the search ended."""

    records: list
    stop_reason: str
    interrupted: bool
    iterations: int
    evals: int
    elapsed: float


def _convert_record(r: dict) -> dict:
    """Record from the wire: constants as Python floats, codes as ints."""
    out = dict(r)
    out["constants"] = [float(c) for c in r.get("constants", [])]
    if "constants_stderr" in r:
        out["constants_stderr"] = [float(c) for c in r["constants_stderr"]]
    if "constants_covariance" in r:
        out["constants_covariance"] = [[float(c) for c in row] for row in r["constants_covariance"]]
    out["codes"] = [int(c) for c in r.get("codes", [])]
    for k in ("complexity",):
        if k in out:
            out[k] = int(out[k])
    for k in ("loss", "score"):
        if k in out:
            out[k] = float(out[k])
    return out


# ------------------------------------------------------------------ worker

class JuliaWorker(WorkerProcess):
    """One persistent Julia worker process, and the requests it serves.

    Use ``get_worker()`` rather than constructing this directly, so that
    the process is shared. Not safe for concurrent fits from several
    threads (calls are serialised by a lock). The constructor's arguments
    (``threads``, ``julia``, ``startup_timeout``, ``use_sysimage``,
    ``worker_script``) are those of ``keplersr.worker_process.WorkerProcess``.
    """

    # -- requests ----------------------------------------------------------

    def ping(self, timeout: float = 30.0) -> dict:
        """Julia version, thread count, engine and protocol version, pid."""
        with self._call_lock:
            rid = str(next(self._ids))
            self._send({"type": "ping", "id": rid})
            msg = self._wait_frame(rid, timeout, "ping")
        return {k: v for k, v in msg.items() if k not in ("type", "id")}

    def describe(self, timeout: float = 30.0) -> dict:
        """What the engine knows: its option defaults, operators, mutation kinds, losses.

        The reply's fields: ``option_defaults``, ``binary_operators``,
        ``unary_operators``, ``mutation_kinds``, ``losses`` and
        ``protocol_version``.
        """
        with self._call_lock:
            rid = str(next(self._ids))
            self._send({"type": "describe", "id": rid})
            msg = self._wait_frame(rid, timeout, "describe")
        if msg.get("type") != "description":
            raise WorkerProtocolError(
                f"expected a 'description' reply to describe, got {msg.get('type')!r}",
                self.stderr_tail())
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
            worker_timeout: float = 60.0, interrupt_timeout: float = 30.0,
            checkpoint_path: str | None = None, resume_from: str | None = None,
            seed_expressions: list | None = None, guess_expressions: list | None = None,
            fit_only: bool = False, absolute_sigma: bool = False) -> FitResult:
        """Run one search on the worker and return its hall of fame.

        ``X`` is (n, p) float64, ``y`` and ``weights`` (n,). ``options`` is the
        options message (see docs/PROTOCOL.md). ``on_progress(dict)`` receives
        each progress frame (keys iteration, niterations, evals,
        evals_per_second, elapsed, best_loss, records, status). If no frame
        arrives for ``worker_timeout`` s the worker is killed
        (``WorkerHungError``). ``checkpoint_path``: where the engine keeps the
        search state; ``resume_from``: a checkpoint to continue (warm start).
        ``seed_expressions``: ``[{"codes": [...], "constants": [...]}, ...]``
        formulas that start the search (their constants are fitted first).
        ``fit_only``: fit the constants of ``seed_expressions`` and search
        nothing (one record per seed, in order, with ``constants_covariance``).
        ``absolute_sigma``: ``weights`` are 1/sigma**2 of measurement errors and
        the standard errors are not rescaled by the residuals.
        ``guess_expressions``: the user's guesses, in the same form: seeds too,
        and copies of them keep coming back into the populations
        (``fraction_replaced_guesses``).
        """
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
        n, p = X.shape
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {y.shape}")
        arrays = [f64_array("X", X), f64_array("y", y)]
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (n,):
                raise ValueError(f"weights must have shape ({n},), got {w.shape}")
            arrays.append(f64_array("weights", w))
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
            if checkpoint_path is not None:
                msg["checkpoint_path"] = os.path.abspath(checkpoint_path)
            if resume_from is not None:
                msg["resume_from"] = os.path.abspath(resume_from)
            if seed_expressions:
                msg["seed_expressions"] = [{"codes": [int(c) for c in e["codes"]],
                                            "constants": [float(c) for c in e["constants"]]}
                                           for e in seed_expressions]
            if fit_only:
                msg["fit_only"] = True
            if absolute_sigma:
                msg["absolute_sigma"] = True
            if guess_expressions:
                msg["guess_expressions"] = [{"codes": [int(c) for c in e["codes"]],
                                             "constants": [float(c) for c in e["constants"]]}
                                            for e in guess_expressions]
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
                raise julia_error(msg)
            if t == "result":
                return FitResult(
                    records=[_convert_record(r) for r in msg.get("records", [])],
                    stop_reason=str(msg.get("stop_reason", "")),
                    interrupted=bool(msg.get("interrupted", False)),
                    iterations=int(msg.get("iterations", 0)),
                    evals=int(msg.get("evals", 0)),
                    elapsed=float(msg.get("elapsed", 0.0)))
            raise WorkerProtocolError(f"unexpected {t!r} frame during a fit", self.stderr_tail())


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
