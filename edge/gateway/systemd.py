"""systemd's notify protocol: READY when running, a watchdog ping while the event loop is alive.

Why: ``Restart=always`` restarts a gateway that *exits*; a gateway whose event loop hangs (a
blocking call that never returns) would stay "active" forever with nothing polled. With
``Type=notify`` and ``WatchdogSec=`` (scripts/aisym-gateway.service) systemd kills and restarts a
process that stops pinging. The protocol is one datagram per message to ``$NOTIFY_SOCKET``
(sd_notify(3)); without that variable (a manual run, tests) nothing is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Mapping


class Notifier:
    """:param env: the process environment (``NOTIFY_SOCKET``, ``WATCHDOG_USEC``, ``WATCHDOG_PID``)"""

    def __init__(self, env: Mapping[str, str] = os.environ):
        path = env.get("NOTIFY_SOCKET", "")
        # "@name" is a socket in the abstract namespace (sd_notify(3))
        self.address = "\0" + path[1:] if path.startswith("@") else path
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None

    def notify(self, message: str) -> None:
        if not self.address:
            return
        # systemd gone (shutdown): nothing to tell
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s, contextlib.suppress(OSError):
            s.sendto(message.encode(), self.address)

    async def watchdog(self) -> None:
        """Ping at half the watchdog interval for as long as the event loop runs this task."""
        if self.watchdog_s is None or not self.address:
            return
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_s / 2)
