"""Where Julia and the engine's Julia sources are, and what that Julia is.

Layer 0 (a leaf): imports nothing from ``keplersr``. The installer
(``keplersr.install``), the system-image builder (``keplersr.sysimage``) and
the worker bridge (``keplersr.bridge``) all stand on it.

* ``find_julia()``: the Julia executable (``KEPLERSR_JULIA``, else ``julia``
  on ``PATH``), or ``JuliaNotFoundError`` saying what to install;
* ``julia_project_dir()``: the engine's Julia sources (``keplersr/julia/`` in
  an installed package, ``<repo>/julia/`` in a checkout);
* ``julia_version()``: ``julia --version`` (cached per executable);
* ``julia_works()``: whether a Julia survives a caught exception with a
  backtrace (Debian's julia 1.5.3 on a newer Debian does not);
* ``default_threads()``: how many Julia threads a new worker gets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = [
    "ENV_VAR", "THREADS_ENV_VAR", "INSTALL_HINT", "JuliaNotFoundError", "find_julia",
    "julia_project_dir", "julia_version", "julia_works", "default_threads",
]

ENV_VAR = "KEPLERSR_JULIA"
THREADS_ENV_VAR = "KEPLERSR_THREADS"

INSTALL_HINT = (
    "KeplerSR needs Julia (1.5 or newer) to run its search engine. Install it with "
    "`python -m keplersr.install` (Debian/Ubuntu, as root), with your system's package "
    "manager, or from julialang.org, and make sure `julia` is on PATH or set "
    f"{ENV_VAR}=/path/to/julia."
)

# A caught exception with a backtrace: crashes a julia linked against an
# incompatible libunwind (bullseye's julia 1.5.3 on bookworm).
_PROBE = ('f() = error("probe"); try f() catch err; sprint(showerror, err, catch_backtrace()) end; '
          'print("keplersr-ok")')


class JuliaNotFoundError(RuntimeError):
    """No usable Julia executable was found."""


def _is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_julia() -> str:
    """Path of the Julia executable to use.

    ``KEPLERSR_JULIA`` wins when set (it must name an existing executable
    file, otherwise ``JuliaNotFoundError`` names the variable); else
    ``julia`` on ``PATH``; else ``JuliaNotFoundError`` explaining what to
    install.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = os.path.expanduser(env)
        if not os.path.exists(path):
            raise JuliaNotFoundError(f"{ENV_VAR}={env!r} does not exist.")
        if not _is_executable_file(path):
            raise JuliaNotFoundError(f"{ENV_VAR}={env!r} is not an executable file.")
        return os.path.abspath(path)
    found = shutil.which("julia")
    if found:
        return found
    raise JuliaNotFoundError("Julia was not found on PATH. " + INSTALL_HINT)


def julia_project_dir() -> str:
    """Directory holding the engine's Julia sources (``KeplerSR.jl``, ``worker.jl``).

    Inside an installed package that is ``keplersr/julia/``; in a source
    checkout it is ``<repo root>/julia/``.
    """
    here = Path(__file__).resolve().parent
    candidates = [here / "julia", here.parent.parent / "julia"]
    for cand in candidates:
        if (cand / "KeplerSR.jl").is_file():
            return str(cand)
    raise FileNotFoundError(
        "cannot find the KeplerSR Julia sources (KeplerSR.jl); looked in "
        + ", ".join(str(c) for c in candidates))


_version_cache: dict = {}


def julia_version(julia: str | None = None, timeout: float = 60.0) -> str:
    """Version string reported by ``julia --version`` (e.g. ``"1.5.3"``).

    Cached per executable (real path and modification time), since the
    system-image lookup asks on every worker start. Raises
    ``JuliaNotFoundError`` if Julia prints nothing, ``subprocess`` errors if
    it fails or hangs.
    """
    exe = julia or find_julia()
    real = os.path.realpath(exe)
    try:
        stamp = (real, os.stat(real).st_mtime_ns)
    except OSError:
        stamp = (real, 0)
    if stamp not in _version_cache:
        out = subprocess.run([exe, "--startup-file=no", "--version"], capture_output=True,
                             text=True, timeout=timeout, check=True).stdout.split()
        if not out:   # "julia version 1.5.3"
            raise JuliaNotFoundError(f"`{exe} --version` printed nothing")
        _version_cache[stamp] = out[-1]
    return _version_cache[stamp]


def julia_works(julia: str, timeout: float = 180.0) -> bool:
    """True if ``julia`` starts and survives a caught exception with a backtrace."""
    try:
        r = subprocess.run([julia, "--startup-file=no", "-e", _PROBE], capture_output=True,
                           text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "keplersr-ok" in r.stdout


def available_cpus() -> int:
    """CPUs this process may use: its CPU affinity, capped by a cgroup CPU quota (containers, Slurm)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        n = min(n, max(1, int(quota + 0.5)))
    return max(1, n)


def _cgroup_cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """The cgroup CPU limit in CPUs (cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``), or None."""
    try:
        with open(os.path.join(root, "cpu.max")) as fh:
            quota, period = fh.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as fh:
            quota = int(fh.read())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as fh:
            period = int(fh.read())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def default_threads() -> int:
    """Julia threads for a new worker: ``KEPLERSR_THREADS``, else :func:`available_cpus`."""
    env = os.environ.get(THREADS_ENV_VAR)
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"{THREADS_ENV_VAR} must be an integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"{THREADS_ENV_VAR} must be >= 1, got {n}")
        return n
    return available_cpus()
