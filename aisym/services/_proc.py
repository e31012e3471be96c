"""Start, wait for and stop a local server process by PID."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

# The ports this process handed out lately: one chosen but not yet listened on (a broker's plain port
# while its TLS port is picked, or a port a half-dead stack is about to reuse) is free to the kernel,
# which gave the same port twice (a broker then failed on its own second listener: "Address already
# in use").
_HANDED: collections.deque[int] = collections.deque(maxlen=256)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now and that this process has not
    handed out among its last 256."""
    for _ in range(64):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED:
            _HANDED.append(port)
            return port
    raise RuntimeError("no free TCP port on 127.0.0.1 outside the ones this process handed out lately")


def claim_port(port: int | None) -> int | None:
    """Count a port given from elsewhere (a stack's recorded state) as handed out: :func:`free_port`
    then never picks it for another listener of this process while it is not yet listened on."""
    if port and port not in _HANDED:
        _HANDED.append(port)
    return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def spawn(argv: list[str], log: Path) -> subprocess.Popen:
    # A new session, so Ctrl-C in the shell that ran `aisym services up` does not kill it.
    fh = log.open("ab")
    return subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting:\n{tail}")
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not answer within {timeout:.0f} s" + (f"; see {log}" if log else ""))


def pid_alive(pid: int) -> bool:
    if pid <= 0:  # kill(-1, 0) would address every process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def cmdline_has(pid: int, text: str) -> bool:
    """Whether ``/proc/<pid>/cmdline`` contains ``text`` (a recorded PID may have been reused)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return text.encode() in f.read()
    except OSError:
        return False


def stop_pid(pid: int, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` and wait for the process to go; SIGKILL it after ``timeout``."""
    if not pid_alive(pid):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            if not pid_alive(pid):
                return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
