"""The loopback sshd used by the SSH-host tests and `python -m benchmarks scaling`: it starts,
lets the client key log in, and leaves nothing behind. No Julia.

In CI (`CI` set) a missing OpenSSH server is a failure, never a skip: `.ci/run`
installs it. Elsewhere the test is skipped with the reason.
"""

import os
import subprocess

import pytest

from benchmarks.loopback_sshd import (LoopbackSSHD, loopback_sshd, sshd_available,
                                               sshd_config)


def need_sshd():
    """Skip without sshd, except in CI, where its absence fails the test."""
    if sshd_available():
        return
    reason = "the OpenSSH server (/usr/sbin/sshd) is not installed (Debian: apt-get install openssh-server)"
    if os.environ.get("CI"):
        pytest.fail(reason + "; in CI it must be: .ci/run installs it")
    pytest.skip(reason)


def test_config_is_key_only_and_local():
    text = sshd_config(2222, "/k/host", "/k/auth", "/k/pid")
    lines = set(text.splitlines())
    assert {"ListenAddress 127.0.0.1", "Port 2222", "HostKey /k/host", "AuthorizedKeysFile /k/auth",
            "PidFile /k/pid", "PasswordAuthentication no", "UsePAM no", "StrictModes no"} <= lines


def test_ssh_flags_string():
    s = LoopbackSSHD("127.0.0.1", 2222, "/k/id", "/k", 1)
    assert s.ssh_flags == ("-p 2222 -i /k/id -o UserKnownHostsFile=/dev/null "
                           "-o StrictHostKeyChecking=no -o LogLevel=ERROR")


@pytest.mark.slow
def test_ssh_login_runs_a_command():
    need_sshd()
    with loopback_sshd() as server:
        assert server.host == "127.0.0.1" and server.port > 0
        r = subprocess.run(["ssh", *server.ssh_flags.split(), "-o", "BatchMode=yes", server.host, "echo", "ok"],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "ok"
        directory, pid = server.directory, server.pid
    assert not os.path.exists(directory)
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
