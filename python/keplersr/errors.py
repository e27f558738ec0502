"""The exceptions of the Julia worker: Julia errors and worker failures.

Layer 0 (a leaf): imports nothing from ``keplersr``. Raised by the framing
(``keplersr.framing``: bad frames, a protocol-version mismatch) and by the
bridge (``keplersr.bridge``), which re-exports them all.

* ``JuliaError``: a Julia exception inside a request; the worker stays
  usable. Those a user can act on have their own subclasses, chosen by the
  error frame's ``error_type`` (``JULIA_ERROR_TYPES``, the one table):
  ``JuliaArgumentError`` (also a ``ValueError``: a bad option or data),
  ``CheckpointError`` (a checkpoint that cannot be read or does not fit this
  fit) and ``WorkerProcessError`` (the worker processes of a
  multiprocessing search could not start);
* ``WorkerError``: the worker process failed, with the end of its stderr:
  ``WorkerDiedError`` (it exited), ``WorkerHungError`` (it went silent and
  was killed), ``WorkerProtocolError`` (it sent something that is not the
  protocol this package speaks);
* ``SearchIncompleteError``: a multiprocessing search lost every worker
  process; the front found before is kept.
"""

from __future__ import annotations

__all__ = [
    "JuliaError", "JuliaArgumentError", "WorkerError", "WorkerDiedError", "WorkerHungError",
    "WorkerProtocolError", "SearchIncompleteError", "CheckpointError", "WorkerProcessError",
    "JULIA_ERROR_TYPES", "julia_error",
]


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


class CheckpointError(JuliaError):
    """A checkpoint to continue from (``warm_start``) cannot be read or does not fit this fit.

    Not a KeplerSR checkpoint, another format version, invalid JSON, a file
    that is gone, or a search made with other operators, features,
    ``populations`` or ``population_size``: the message names the first
    difference. Fit with the same settings, or with ``warm_start=False`` to
    start a new search.
    """


class WorkerProcessError(JuliaError):
    """The worker processes of a multiprocessing search could not start, or were all lost while starting.

    Hosts that cannot be reached with password-less ``ssh`` (or lack Julia
    and KeplerSR at the same paths), a failing ``srun``: the message names
    the hosts or the command and the first error. The Julia worker stays
    usable; nothing was searched.
    """


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
    """The worker sent bytes that are not a valid frame, or speaks another protocol version."""


class SearchIncompleteError(RuntimeError):
    """A multiprocessing search lost every worker process; the estimator keeps the front found before."""


#: The engine's exception types (an error frame's ``error_type``) a user can act on -> their Python
#: class; any other is a plain ``JuliaError``. ``AllWorkersLost`` reaches Python this way only when
#: the islands could not start (a search that loses its processes later ends with
#: ``stop_reason == "workers_lost"``: ``SearchIncompleteError``).
JULIA_ERROR_TYPES: dict = {
    "ArgumentError": JuliaArgumentError,       # Base: a bad option or data
    "CheckpointError": CheckpointError,        # julia/io/checkpoint.jl
    "WorkerStartError": WorkerProcessError,    # julia/parallel/worker_start_error.jl
    "AllWorkersLost": WorkerProcessError,      # julia/search/run.jl
}


def julia_error(msg: dict) -> JuliaError:
    """The exception for an ``error`` frame from the worker (its class from ``JULIA_ERROR_TYPES``)."""
    cls = JULIA_ERROR_TYPES.get(str(msg.get("error_type", "")), JuliaError)
    return cls(str(msg.get("message", "")), str(msg.get("error_type", "")),
               str(msg.get("backtrace", "")))
