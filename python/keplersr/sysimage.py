"""A custom Julia system image that holds the KeplerSR engine already compiled.

Layer 1: stands on ``keplersr.julia_env`` (where Julia and the engine
sources are) and ``keplersr.options`` (the options message a default
estimator sends, which the build workload replays); imports neither the
bridge nor the estimator. The installer (``keplersr.install``) builds the
image; the bridge (``keplersr.bridge``) looks it up with ``find_sysimage``.

Without it, the first fit of every Python process spends many seconds
JIT-compiling the engine. The image is built once, from
``julia/sysimage_workload.jl`` (which loads the engine and the worker and runs
small fits through the worker's request loop), with Julia's own
``--output-o`` mode and the C compiler (``gcc``) as linker. The bridge then
starts the worker with ``julia -J <image>``.

Images live in a cache folder, ``$XDG_CACHE_HOME/keplersr/sysimage/``
(default ``~/.cache/keplersr/sysimage/``), named
``<julia version>-<key>.so`` where the key hashes the engine sources (every
``*.jl`` under ``julia/``, in any subfolder, by relative path and content;
the engine's tests are not there but in ``tests/julia/``) and the Julia
executable, so editing or moving an engine file or changing Julia makes the
old image stale (it is ignored, and replaced by the next build). Each image
has a ``.json`` sidecar, written only after the image was built and checked,
so a half-written file is never used.

``KEPLERSR_SYSIMAGE``: ``0``/``off``/``no``/``false`` disables the image;
any other value is the path of the image to use (and to build).

Command line: ``python -m keplersr.sysimage [--force] [--quiet]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .julia_env import JuliaNotFoundError, find_julia, julia_project_dir, julia_version

__all__ = [
    "SysimageError", "sysimage_disabled", "engine_sources", "source_hash", "cache_dir",
    "sysimage_path", "find_sysimage", "workload_options", "build_sysimage", "main",
]

ENV_VAR = "KEPLERSR_SYSIMAGE"
DISABLE_VALUES = ("0", "off", "no", "false")
WORKLOAD = "sysimage_workload.jl"
MIN_IMAGE_BYTES = 1 << 20          # a real image is well over 100 MB
BUILD_TIMEOUT = 3600.0             # seconds for Julia's --output-o run
_ELF_MAGIC = b"\x7fELF"

# Facts about the Julia installation, printed by a normal Julia session.
_PROBE = (
    'using Libdl; println(VERSION); println(unsafe_string(Base.JLOptions().image_file)); '
    'println(Sys.STDLIB); '
    'foreach(println, filter(l -> occursin("libjulia", basename(l)), Libdl.dllist()))'
)
_LOAD_CHECK = 'print(isdefined(Main, :KeplerSR) && isdefined(Main, :KeplerSRWorker) ? "keplersr-image-ok" : "missing")'


class SysimageError(RuntimeError):
    """The system image cannot be built (no C compiler, unsupported Julia, failed build)."""


# ------------------------------------------------------------------ where

def sysimage_disabled() -> bool:
    """True when ``KEPLERSR_SYSIMAGE`` is ``0``, ``off``, ``no`` or ``false``."""
    return os.environ.get(ENV_VAR, "").strip().lower() in DISABLE_VALUES


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def engine_sources(project_dir: str | os.PathLike | None = None) -> list:
    """The engine's Julia sources, sorted by their path relative to the Julia folder.

    Every ``*.jl`` file under the Julia folder, in any subfolder (the engine
    is split into folders such as ``core/`` and ``io/``). The folder holds
    the engine only: its unit tests are in the repository's ``tests/julia/``.
    """
    d = Path(project_dir or julia_project_dir())
    files = [p for p in d.rglob("*.jl") if p.is_file()]
    files.sort(key=lambda p: _relative(p, d))
    if not (d / "KeplerSR.jl").is_file():
        raise FileNotFoundError(f"no KeplerSR.jl in {d}")
    return files


def source_hash(project_dir: str | os.PathLike | None = None, julia: str | None = None) -> str:
    """Hex key (16 chars) of the engine sources and the Julia executable.

    Each source counts by its path relative to the Julia folder (so moving a
    file changes the key) and its content.
    """
    d = Path(project_dir or julia_project_dir())
    h = hashlib.sha256()
    for p in engine_sources(d):
        h.update(_relative(p, d).encode() + b"\0" + p.read_bytes() + b"\0")
    if julia:
        h.update(b"julia\0" + os.path.realpath(julia).encode())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/keplersr/sysimage`` (default ``~/.cache/keplersr/sysimage``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keplersr" / "sysimage"


def sysimage_path(julia: str | None = None) -> Path | None:
    """Where the image for the current engine sources and Julia is (or would be) stored.

    ``None`` when ``KEPLERSR_SYSIMAGE`` disables it; the variable's value when
    it names a path; otherwise ``cache_dir()/<julia version>-<key>.so``.
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env.lower() in DISABLE_VALUES:
        return None
    if env:
        return Path(os.path.expanduser(env)).resolve()
    exe = julia or find_julia()
    return cache_dir() / f"{julia_version(exe)}-{source_hash(julia=exe)}.so"


def _meta_path(image: Path) -> Path:
    return image.with_name(image.name + ".json")


def _is_valid(image: Path) -> bool:
    """The image exists, is a complete ELF file, and its sidecar records its size and key."""
    try:
        st = image.stat()
        meta = json.loads(_meta_path(image).read_text())
        with open(image, "rb") as f:
            magic = f.read(4)
    except (OSError, ValueError):
        return False
    return (magic == _ELF_MAGIC and st.st_size >= MIN_IMAGE_BYTES
            and isinstance(meta, dict) and meta.get("size") == st.st_size
            and meta.get("image") == image.name)


def find_sysimage(julia: str | None = None) -> Path | None:
    """The current, completely built image, or ``None`` (missing, stale, partial or disabled)."""
    try:
        path = sysimage_path(julia)
    except (OSError, subprocess.SubprocessError, SysimageError, JuliaNotFoundError):
        return None
    if path is None or not _is_valid(path):
        return None
    return path


# ------------------------------------------------------------------ build

def workload_options() -> dict:
    """The options message the image workload's fits send: a default estimator's, seed 0.

    The workload fits use exactly the key set a default ``SymbolicRegressor``
    sends, so that the keyword-argument code the engine compiles per key set
    is already in the image. The message comes from
    ``keplersr.options.default_engine_options()``; if that is unavailable or
    fails, ``SysimageError`` says so (no silent fallback to a stale copy).
    """
    try:
        from .options import default_engine_options
        d = dict(default_engine_options())
        d["seed"] = 0
        json.dumps(d)
    except Exception as exc:
        raise SysimageError(
            "cannot compute the options message of a default estimator "
            f"(keplersr.options.default_engine_options): {type(exc).__name__}: {exc}") from exc
    return d


def _find_cc() -> str:
    """The C compiler used as linker: ``$CC``, else ``gcc``, else ``cc``."""
    for name in (os.environ.get("CC"), "gcc", "cc"):
        if name:
            found = shutil.which(name)
            if found:
                return found
    raise SysimageError(
        "building the KeplerSR system image needs a C compiler to link it, and none was "
        "found (looked for $CC, gcc, cc): install gcc (e.g. `apt-get install gcc`) or set CC. "
        "KeplerSR works without the image; only the first fit is slower.")


def _probe_julia(julia: str) -> dict:
    r = subprocess.run([julia, "--startup-file=no", "--history-file=no", "-e", _PROBE],
                       capture_output=True, text=True, timeout=300)
    lines = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
    if r.returncode != 0 or len(lines) < 3:
        raise SysimageError(f"cannot query {julia} for its system image and libraries:\n"
                            f"{r.stderr.strip()[-2000:]}")
    libs = lines[3:]
    return {"version": lines[0], "image": lines[1], "stdlib": lines[2], "libs": libs}


def _version_tuple(v: str) -> tuple:
    parts = []
    for p in v.split("-")[0].split(".")[:2]:
        parts.append(int("".join(c for c in p if c.isdigit()) or 0))
    return tuple(parts)


def _link_libraries(info: dict) -> list:
    """libjulia (and, on Julia >= 1.6, libjulia-internal) loaded by the running Julia."""
    libs = info["libs"]
    main = [l for l in libs if os.path.basename(l).startswith("libjulia.so")]
    internal = [l for l in libs if os.path.basename(l).startswith("libjulia-internal")]
    if not main:
        raise SysimageError(f"cannot find libjulia among the libraries Julia loaded: {libs}")
    out = [os.path.realpath(main[0])]
    if _version_tuple(info["version"]) >= (1, 6) and internal:
        out.append(os.path.realpath(internal[0]))
    return out


@contextlib.contextmanager
def _build_lock(folder: Path):
    """Serialise builds into the same cache folder (another process may be building)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".build.lock", "w") as fh:
        try:
            import fcntl
            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:   # not POSIX: no locking
            pass
        yield


def _remove_stale(folder: Path, keep: Path, version: str):
    """Delete older images of the same Julia version (they are large)."""
    for p in folder.glob(f"{version}-*.so"):
        if p != keep:
            for q in (p, _meta_path(p)):
                with contextlib.suppress(OSError):
                    q.unlink()


def _run_logged(cmd: list, env: dict, verbose: bool, timeout: float, log_file: Path) -> int:
    """Run ``cmd``; its output goes to the terminal (verbose) and always to ``log_file``.

    The process is killed after ``timeout`` seconds (exit code then negative).
    """
    import threading
    with open(log_file, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            for line in iter(proc.stdout.readline, b""):
                log.write(line)
                if verbose:
                    sys.stderr.write(line.decode("utf-8", "replace"))
            return proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            killer.cancel()


def _tail(path: Path, n: int = 30) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def build_sysimage(force: bool = False, verbose: bool = True, julia: str | None = None) -> Path:
    """Build the system image (unless a current one exists) and return its path.

    Runs ``julia --output-o`` on ``julia/sysimage_workload.jl`` (several
    minutes), links the object with the C compiler against libjulia, checks
    that the result loads, then moves it into place atomically. Raises
    ``SysimageError`` with the reason when it cannot: image disabled by
    ``KEPLERSR_SYSIMAGE``, no C compiler, non-Linux system, or a failed step
    (the message quotes Julia's output).
    """
    from .options.julia_defaults import StaleJuliaDefaultsError, check_julia_defaults
    try:
        check_julia_defaults()
    except StaleJuliaDefaultsError as err:
        raise SysimageError(str(err)) from None
    exe = julia or find_julia()
    target = sysimage_path(exe)
    if target is None:
        raise SysimageError(f"the system image is disabled ({ENV_VAR}={os.environ.get(ENV_VAR)!r})")
    if not force and _is_valid(target):
        return target
    if not sys.platform.startswith("linux"):
        raise SysimageError(f"building the system image is supported on Linux only (this is {sys.platform})")
    cc = _find_cc()
    options = workload_options()      # fails here, before minutes of compiling
    project = Path(julia_project_dir())
    workload = project / WORKLOAD
    if not workload.is_file():
        raise SysimageError(f"the image workload {workload} is missing")
    info = _probe_julia(exe)
    version = info["version"]
    if _version_tuple(version) < (1, 5):
        raise SysimageError(f"Julia {version} is too old for KeplerSR (1.5 or newer needed)")
    libs = _link_libraries(info)
    key = source_hash(project, exe)   # the sources as they are when the build starts
    say = (lambda *a: print("keplersr.sysimage:", *a, file=sys.stderr, flush=True)) if verbose else (lambda *a: None)

    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target.parent):
        if not force and _is_valid(target):
            return target          # built by another process meanwhile
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
        try:
            obj, so, status, log = tmp / "keplersr.o", tmp / "keplersr.so", tmp / "status.txt", tmp / "build.log"
            env = dict(os.environ, KEPLERSR_STDLIB_DIR=info["stdlib"],
                       KEPLERSR_WORKLOAD_STATUS=str(status), JULIA_NUM_THREADS="1")
            (tmp / "options.json").write_text(json.dumps(options))
            env["KEPLERSR_WORKLOAD_OPTIONS"] = str(tmp / "options.json")
            cmd = [exe, "--startup-file=no", "--history-file=no", f"--output-o={obj}",
                   "-J", info["image"], str(workload)]
            say(f"compiling the engine into a system image with Julia {version} (several minutes)...")
            t0 = time.monotonic()
            code = _run_logged(cmd, env, verbose, BUILD_TIMEOUT, log)
            state = status.read_text().strip() if status.exists() else ""
            if state != "ok":
                why = state or f"the workload did not complete (Julia exit code {code})"
                raise SysimageError(f"building the system image failed: {why}\n"
                                    f"--- Julia output ---\n{_tail(log)}")
            if code != 0 or not obj.is_file():
                raise SysimageError(f"Julia --output-o exited with code {code} without a complete "
                                    f"object file\n--- Julia output ---\n{_tail(log)}")
            say(f"compiled in {time.monotonic() - t0:.0f} s; linking with {cc}")
            link = [cc, "-shared", "-o", str(so), "-Wl,--whole-archive", str(obj),
                    "-Wl,--no-whole-archive", *libs]
            r = subprocess.run(link, capture_output=True, text=True)
            if r.returncode != 0:
                raise SysimageError(f"linking the system image failed ({' '.join(link)}):\n"
                                    f"{r.stderr.strip()[-3000:]}")
            obj.unlink()
            r = subprocess.run([exe, "--startup-file=no", "--history-file=no", "-J", str(so),
                                "-e", _LOAD_CHECK], capture_output=True, text=True, timeout=300)
            if "keplersr-image-ok" not in r.stdout:
                raise SysimageError(f"the new system image does not load (exit code {r.returncode}):\n"
                                    f"{(r.stdout + r.stderr).strip()[-3000:]}")
            size = so.stat().st_size
            os.replace(so, target)
            meta = {"image": target.name, "size": size, "julia": os.path.realpath(exe),
                    "julia_version": version, "base_image": info["image"],
                    "source_hash": key, "built": time.time(),
                    "build_seconds": round(time.monotonic() - t0, 1)}
            tmp_meta = tmp / "meta.json"
            tmp_meta.write_text(json.dumps(meta, indent=1))
            os.replace(tmp_meta, _meta_path(target))
            if target.parent == cache_dir():
                _remove_stale(target.parent, target, version)
            say(f"done in {time.monotonic() - t0:.0f} s: {target} ({size / 2**20:.0f} MB)")
            return target
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list | None = None) -> int:
    """``python -m keplersr.sysimage [--force] [--quiet]``: build the image, print its path."""
    parser = argparse.ArgumentParser(
        prog="python -m keplersr.sysimage",
        description="Build the KeplerSR Julia system image (makes the first fit fast).")
    parser.add_argument("--force", action="store_true", help="rebuild even if a current image exists")
    parser.add_argument("--quiet", action="store_true", help="do not show Julia's build output")
    args = parser.parse_args(argv)
    try:
        path = build_sysimage(force=args.force, verbose=not args.quiet)
    except (SysimageError, subprocess.SubprocessError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
