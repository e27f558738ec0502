"""The exceptions of the Julia worker: Julia errors and worker failures.

Layer 0 (a leaf): imports nothing from ``keplersr``. Raised by the framing
(``keplersr.framing``: bad frames, a protocol-version mismatch) and by the
bridge (``keplersr.bridge``), which re-exports them all.

* ``JuliaError`` (and ``JuliaArgumentError``, also a ``ValueError``): a Julia
  exception inside a request; the worker stays usable;
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
    "WorkerProtocolError", "SearchIncompleteError", "julia_error",
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


def julia_error(msg: dict) -> JuliaError:
    """The exception for an ``error`` frame from the worker."""
    cls = JuliaArgumentError if msg.get("error_type") == "ArgumentError" else JuliaError
    return cls(str(msg.get("message", "")), str(msg.get("error_type", "")),
               str(msg.get("backtrace", "")))
