"""The installer: make a working Julia available, then build the system image.

Layer 2: stands on ``keplersr.julia_env`` (finding and describing Julia) and
``keplersr.sysimage`` (the image builder); imports neither the bridge nor the
estimator. The Julia-finding helpers (``find_julia``, ``julia_project_dir``,
``julia_version``, ``julia_works``, ``JuliaNotFoundError``) live in
``keplersr.julia_env`` and are re-exported here for older imports.

``install_julia()`` installs Debian's ``julia`` package from the bullseye
suite (pinned so that nothing else is upgraded from it), with bullseye's
libunwind beside it where needed. ``python -m keplersr.install`` runs the
installer, prints the Julia path and version, and then builds the engine's
system image (``keplersr.sysimage``) if it is missing, which makes the first
fit of each Python process fast; ``--no-sysimage`` skips that. A failed image
build is only a warning: the worker then runs without the image.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import sysimage
from .julia_env import (ENV_VAR, INSTALL_HINT, JuliaNotFoundError, find_julia,
                        julia_project_dir, julia_version, julia_works)

__all__ = [
    "JuliaNotFoundError",
    "find_julia",
    "install_julia",
    "julia_project_dir",
    "julia_version",
    "julia_works",
    "main",
]

SOURCES_FILE = Path("/etc/apt/sources.list.d/keplersr-bullseye.sources")
PREFERENCES_FILE = Path("/etc/apt/preferences.d/keplersr-bullseye")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

SOURCES_TEXT = f"""\
Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: {KEYRING}
"""

PREFERENCES_TEXT = """\
Package: *
Pin: release n=bullseye
Pin-Priority: 100
"""

DEBIAN_JULIA = "/usr/bin/julia"
LIBUNWIND_DIR = Path("/opt/keplersr/lib")
WRAPPER = Path("/usr/local/bin/julia")
WRAPPER_TEXT = f"""\
#!/bin/sh
# Installed by keplersr.install: Debian bullseye's julia 1.5.3 crashes on any
# exception with bookworm's libunwind 1.6; run it with bullseye's libunwind 1.3.
LD_LIBRARY_PATH="{LIBUNWIND_DIR}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" exec {DEBIAN_JULIA} "$@"
"""


def _os_release() -> dict:
    info = {}
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return info
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            info[k.strip()] = v.strip().strip('"')
    return info


def _is_debian_like(info: dict) -> bool:
    ids = {info.get("ID", "")} | set(info.get("ID_LIKE", "").split())
    return bool(ids & {"debian", "ubuntu"})


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def _run(cmd: list, **kw):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(cmd, check=True, env=env, **kw)


def _install_libunwind_fix():
    """Bullseye's libunwind 1.3 in /opt/keplersr/lib plus the /usr/local/bin/julia wrapper."""
    if not (LIBUNWIND_DIR / "libunwind.so.8").exists():
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)   # apt's download user must be able to write there
            _run(["apt-get", "download", "libunwind8/bullseye"], cwd=tmp)
            debs = sorted(Path(tmp).glob("libunwind8_*.deb"))
            if not debs:
                raise JuliaNotFoundError("apt-get download libunwind8/bullseye produced no .deb")
            extract = Path(tmp) / "x"
            _run(["dpkg-deb", "-x", str(debs[0]), str(extract)])
            LIBUNWIND_DIR.mkdir(parents=True, exist_ok=True)
            for f in extract.rglob("libunwind*.so*"):
                dest = LIBUNWIND_DIR / f.name
                if dest.is_symlink() or dest.exists():
                    dest.unlink()
                shutil.copy2(f, dest, follow_symlinks=False)
    _write_if_changed(WRAPPER, WRAPPER_TEXT)
    WRAPPER.chmod(0o755)


def install_julia(assume_yes: bool = False) -> str:
    """Make a working Julia available and return its path. Idempotent.

    If ``KEPLERSR_JULIA`` is set, it is only validated. If ``julia`` on
    PATH works, nothing is changed. Otherwise, on Debian/Ubuntu and as
    root: add Debian bullseye as a pinned apt source (priority 100, so no
    other package is upgraded from it), ``apt-get install -t bullseye
    julia``, and, if that Julia crashes on exceptions (bullseye's Julia
    1.5.3 with bookworm's libunwind 1.6), put bullseye's libunwind into
    /opt/keplersr/lib and install a /usr/local/bin/julia wrapper that uses
    it. Elsewhere, or without root, raise ``JuliaNotFoundError`` saying what
    to do. Unless ``assume_yes``, asks for confirmation on a terminal first.
    """
    if os.environ.get(ENV_VAR):
        return find_julia()  # explicit setting: validate it, never override it
    found = shutil.which("julia")
    if found and julia_works(found):
        return found
    problem = (f"{found} crashes on a caught exception (incompatible libunwind?)"
               if found else "Julia was not found on PATH")
    info = _os_release()
    if not _is_debian_like(info):
        raise JuliaNotFoundError(
            f"{problem}; automatic installation supports Debian/Ubuntu only (this is "
            f"{info.get('PRETTY_NAME', sys.platform)!r}). " + INSTALL_HINT)
    if os.geteuid() != 0:
        raise JuliaNotFoundError(
            f"{problem}; installing Julia with apt needs root: run "
            f"`sudo python -m keplersr.install`, or install Julia yourself and set {ENV_VAR}.")
    if not os.path.exists(KEYRING):
        raise JuliaNotFoundError(
            f"{KEYRING} is missing: `apt-get install debian-archive-keyring` first.")
    if not assume_yes:
        if not sys.stdin.isatty():
            raise JuliaNotFoundError(
                f"{problem}; refusing to change apt sources without confirmation: pass "
                "assume_yes=True (or --yes on the command line).")
        answer = input("Add Debian bullseye (pinned) to apt and install julia? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise JuliaNotFoundError("installation cancelled. " + INSTALL_HINT)
    _write_if_changed(SOURCES_FILE, SOURCES_TEXT)
    _write_if_changed(PREFERENCES_FILE, PREFERENCES_TEXT)
    _run(["apt-get", "update"])
    if not os.path.exists(DEBIAN_JULIA):
        _run(["apt-get", "install", "-y", "-t", "bullseye", "julia"])
    if julia_works(DEBIAN_JULIA):
        return DEBIAN_JULIA
    _install_libunwind_fix()
    if not julia_works(str(WRAPPER)):
        raise JuliaNotFoundError(
            f"{DEBIAN_JULIA} crashes on exceptions even with {WRAPPER} "
            f"(LD_LIBRARY_PATH={LIBUNWIND_DIR}). " + INSTALL_HINT)
    return str(WRAPPER)


def _ensure_sysimage(julia: str) -> None:
    """Build the system image if missing; failures are warnings (the worker runs without it)."""
    if sysimage.sysimage_disabled():
        print(f"System image: disabled by {sysimage.ENV_VAR}")
        return
    try:
        existing = sysimage.find_sysimage(julia)
        if existing is None:
            print("Building the KeplerSR system image (a few minutes, once; makes the first fit fast)...",
                  flush=True)
        path = existing or sysimage.build_sysimage(verbose=True, julia=julia)
    except Exception as exc:  # never fail the installation over the optimisation
        print(f"warning: could not build the KeplerSR system image; the worker runs without it "
              f"(the first fit of each session is slower).\n  reason: {exc}", file=sys.stderr)
        return
    print(f"System image: {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m keplersr.install",
        description="Find Julia, installing it with apt on Debian/Ubuntu if needed, then build "
                    "the engine's system image.")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--no-sysimage", action="store_true",
                        help="do not build the system image (the first fit is then slower)")
    args = parser.parse_args(argv)
    try:
        path = install_julia(assume_yes=args.yes)
        version = julia_version(path)
    except (JuliaNotFoundError, subprocess.SubprocessError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Julia {version}: {path}")
    print(f"KeplerSR engine sources: {julia_project_dir()}")
    if not args.no_sysimage:
        _ensure_sysimage(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
