"""The demo's processes: every one it starts is stopped when it ends (normal end, Ctrl-C, an error).

The demo stops what it knows by name (gateway, ingestor, plant, the services, a broker it
restarted after a ``broker`` fault). As a last line, :class:`Children` remembers this process's
children before the demo starts and, at the end, stops any child started since that is still
running: a process the named stops missed (a broker restarted twice, a service whose PID was
never recorded because its start was interrupted) cannot outlive the demo. Read from ``/proc``
(Linux), so no extra dependency.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from aisym.services._proc import pid_alive, stop_pid

log = logging.getLogger("aisym.demo")


def children(pid: int | None = None) -> dict[int, str]:
    """Live child processes of ``pid`` (default: this process): pid -> command name."""
    parent = os.getpid() if pid is None else pid
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1: stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if int(rest[1]) == parent and rest[0] != "Z":
            out[int(entry.name)] = name
    return out


class Children:
    """Children of this process that were not there when it was made."""

    def __init__(self):
        self.before = set(children())

    def stop_new(self) -> list[str]:
        """Stop (SIGTERM, then SIGKILL after 10 s) every child started since; returns what was stopped."""
        stopped = []
        for pid, name in children().items():
            if pid not in self.before and pid_alive(pid):
                log.warning("%s (pid %d) was still running at the end of the demo: stopping it", name, pid)
                stop_pid(pid)
                stopped.append(f"{name} (pid {pid})")
        return stopped
