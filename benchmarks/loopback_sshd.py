"""A throw-away OpenSSH server on 127.0.0.1, to test and benchmark SSH worker hosts on one machine.

``loopback_sshd()`` is a context manager: in a fresh temporary directory it
generates an ed25519 host key and an ed25519 client key (``ssh-keygen``),
authorises the client key, writes an ``sshd_config`` (127.0.0.1 only, a free
port, key authentication only, no PAM, no strict modes, its pid file in the
directory) and starts ``/usr/sbin/sshd -D -e`` as the current user. It
returns once ``ssh ... 127.0.0.1 true`` succeeds (``RuntimeError`` with
sshd's log otherwise), yields a ``LoopbackSSHD`` (``host``, ``port``,
``key``, ``ssh_flags``: the value for ``KEPLERSR_SSH_FLAGS``), and on exit
stops sshd and removes the directory.

Commands run through ssh get sshd's minimal environment (its default
``PATH``, no ``LD_LIBRARY_PATH``): the Julia executable they start must be
runnable as it is, e.g. the ``/usr/local/bin/julia`` wrapper that
``keplersr.install`` writes sets its own library path.

Needs the OpenSSH server (Debian: ``apt-get install openssh-server``; see
``sshd_available()``) and the client (``ssh``, ``ssh-keygen``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

__all__ = ["SSHD", "LoopbackSSHD", "loopback_sshd", "sshd_available", "descendants"]

SSHD = "/usr/sbin/sshd"           # sshd refuses to run unless started by its absolute path
PRIVSEP_DIR = "/run/sshd"         # sshd's privilege-separation directory (needed when run as root)
HOST = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class LoopbackSSHD:
    """A running loopback sshd: where it listens and how to log in."""

    host: str
    port: int
    key: str
    directory: str
    pid: int

    @property
    def ssh_flags(self) -> str:
        """Flags for ``ssh`` (and ``KEPLERSR_SSH_FLAGS``): port, key, no host-key checks, quiet."""
        return (f"-p {self.port} -i {self.key} -o UserKnownHostsFile=/dev/null "
                "-o StrictHostKeyChecking=no -o LogLevel=ERROR")

    def ssh_command(self, *remote: str) -> list:
        """``ssh`` argv running ``remote`` on the loopback host (batch mode: never prompts)."""
        return ["ssh", *self.ssh_flags.split(), "-o", "BatchMode=yes", self.host, *remote]


def sshd_available() -> bool:
    """True if the OpenSSH server and client are installed (``/usr/sbin/sshd``, ``ssh``, ``ssh-keygen``)."""
    return (os.path.isfile(SSHD) and os.access(SSHD, os.X_OK)
            and shutil.which("ssh") is not None and shutil.which("ssh-keygen") is not None)


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _keygen(path: str, comment: str):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def sshd_config(port: int, host_key: str, authorized_keys: str, pid_file: str, host: str = HOST) -> str:
    """The text of a minimal key-only ``sshd_config`` for ``host:port``."""
    return "\n".join([
        f"ListenAddress {host}",
        f"Port {port}",
        f"HostKey {host_key}",
        f"AuthorizedKeysFile {authorized_keys}",
        f"PidFile {pid_file}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        "StrictModes no",
        "PrintMotd no",
        "X11Forwarding no",
        "MaxStartups 50:30:100",    # several worker connections at once
        "LogLevel ERROR",
        "",
    ])


def _log_tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip() or "(empty)"
    except OSError:
        return "(no log)"


def descendants(pid: int) -> list:
    """Process ids of every live descendant of ``pid`` (Linux ``/proc``; children before grandchildren)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue   # gone meanwhile
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(0), [])
        out += kids
        todo += kids
    return out


def _signal_all(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except OSError:
            pass


def _stop(proc: subprocess.Popen):
    """Stop sshd and whatever still runs under it (its sessions detach: each has a session of its own)."""
    left = descendants(proc.pid) if proc.poll() is None else []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    _signal_all(left, signal.SIGTERM)
    deadline = time.monotonic() + 3.0
    while left and time.monotonic() < deadline:
        left = [p for p in left if os.path.exists(f"/proc/{p}")]
        time.sleep(0.05)
    _signal_all(left, signal.SIGKILL)


def _start(tmp: str, port: int, timeout: float) -> tuple:
    """Start sshd on ``port``; wait until an ssh login works. Returns (proc, sshd) or raises."""
    log_path = os.path.join(tmp, "sshd.log")
    cfg = os.path.join(tmp, "sshd_config")
    with open(cfg, "w") as f:
        f.write(sshd_config(port, os.path.join(tmp, "host_ed25519"), os.path.join(tmp, "authorized_keys"),
                            os.path.join(tmp, "sshd.pid")))
    with open(log_path, "ab") as log:
        # a session of its own: a terminal's Ctrl-C reaches Python, which stops sshd on exit
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", cfg], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True)
    server = LoopbackSSHD(HOST, port, os.path.join(tmp, "client_ed25519"), tmp, proc.pid)
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            r = subprocess.run(server.ssh_command("true"), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=max(1.0, deadline - time.monotonic()))
            if r.returncode == 0:
                return proc, server
            last = r.stderr.strip()
        except subprocess.TimeoutExpired:
            last = "ssh timed out"
        time.sleep(0.1)
    _stop(proc)
    state = (f"sshd exited with code {proc.returncode}" if proc.returncode not in (None, -15)
             else f"no ssh login within {timeout:g} s")
    raise RuntimeError(f"loopback sshd on {HOST}:{port} did not come up: {state}; last ssh error: "
                       f"{last or '(none)'}\nsshd log:\n{_log_tail(log_path)}")


@contextlib.contextmanager
def loopback_sshd(timeout: float = 10.0, attempts: int = 3):
    """Run a key-only sshd on 127.0.0.1 (a free port) for the ``with`` block; yields a ``LoopbackSSHD``.

    Raises ``RuntimeError`` if sshd is not installed or no ssh login works
    within ``timeout`` seconds (the message carries sshd's log). A port
    taken between picking and binding is retried up to ``attempts`` times.
    """
    if not sshd_available():
        raise RuntimeError(f"the OpenSSH server ({SSHD}) or client (ssh, ssh-keygen) is not installed; "
                           "on Debian: apt-get install openssh-server openssh-client")
    if os.geteuid() == 0:
        os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="keplersr-sshd-")
    proc = None
    try:
        _keygen(os.path.join(tmp, "host_ed25519"), "keplersr-loopback-host")
        _keygen(os.path.join(tmp, "client_ed25519"), "keplersr-loopback-client")
        shutil.copyfile(os.path.join(tmp, "client_ed25519.pub"), os.path.join(tmp, "authorized_keys"))
        os.chmod(os.path.join(tmp, "authorized_keys"), 0o600)
        for attempt in range(attempts):
            try:
                proc, server = _start(tmp, free_port(), timeout)
                break
            except RuntimeError as err:
                if attempt + 1 == attempts or "Address already in use" not in str(err):
                    raise
        yield server
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
