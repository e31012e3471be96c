"""Mosquitto as a plain local process: password file, per-account ACL, TLS, client ids bound to accounts.

Traps handled here (see the field notes in docs/services.md):
- running as root, Mosquitto drops to user ``mosquitto`` unless the config says ``user root``;
- the default ``max_queued_messages`` (1000) silently drops messages for offline sessions;
- persistent sessions left over by earlier runs keep collecting messages: sessions expire;
- by default any account may connect with another account's client id and take over its
  session: ``use_username_as_clientid`` makes the account name the client id;
- without ``max_packet_size`` one client can make the broker (and every subscriber) hold a
  256 MB message: packets are limited to the contract's payload limit plus headers;
- ``mosquitto_passwd -b`` shows the password to every local process: hashes are written here;
- a socket that never sends CONNECT holds a descriptor until Mosquitto 2.0.11 drops it after a
  hard-coded 90 s (keepalive 60 s x 1.5, src/context.c; no option shortens it): under the common
  soft limit of 1,024 descriptors, 1,100 idle sockets locked every new client out (issue 18).
  The broker's soft ``RLIMIT_NOFILE`` is raised to its hard limit (at most :data:`MAX_OPEN_FILES`)
  and each listener's ``max_connections`` is set below it, so sockets cannot take the descriptors
  the broker needs for its persistence file and tcpd's ``hosts.allow`` check (at exhaustion every
  new connection was "denied access by tcpd"). 2.0.11 miscounts ``max_connections`` (one slot
  comes back per disconnect; fixed in 2.0.12), so the descriptor limit is the bound that holds;
- an offline persistent session queues without end by default (1,000 x 250 KB from one node took
  the broker from 29 to 251 MiB, and as much to disk): each client's queue is capped by
  ``max_queued_bytes`` and ``max_queued_messages``. Past the cap Mosquitto drops the *newest*
  messages for that client (it has already PUBACKed them to the publisher): it logs "Outgoing
  messages are being dropped for client ...", counts them in ``$SYS/broker/publish/messages/dropped``,
  and the ingestor sees them as seq gaps (``missing`` in ``ingest_health``).
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aisym.contract.payload import MAX_PAYLOAD_BYTES

from ._proc import claim_port, free_port, port_open, spawn, stop_pid, wait_until
from .acl import AclRule, acl_text, park_acl
from .secretfile import password_file, write_private
from .tls import make_ca_and_server_cert

__all__ = ["MAX_OPEN_FILES", "MAX_PACKET_BYTES", "MAX_QUEUED_BYTES", "MAX_QUEUED_MESSAGES", "AclRule", "Mosquitto", "park_acl"]

# The contract's payload limit plus room for the fixed header, topic, packet id and v5 properties
# (an ``aisym/<park>/<node>/cmd/ack`` topic is at most 100 bytes).
MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 2048
#: descriptors the broker asks for (if its hard limit allows): more than the ~28,000 ephemeral ports
#: one source address has towards one port, so one host cannot hold every slot with idle sockets
MAX_OPEN_FILES = 65536
#: descriptors kept free of client sockets: persistence file, log, password/ACL reload, tcpd, TLS
RESERVED_FILES = 64
#: per client, payload bytes queued while it is away. Only accounts that subscribe queue (one session
#: each: client ids are bound to accounts), so the broker holds at most subscribers x this.
MAX_QUEUED_BYTES = 128 * 1024 * 1024
#: per client, messages queued while it is away: bounds the per-message overhead (~300 B) that the
#: byte cap does not count
MAX_QUEUED_MESSAGES = 100_000


@dataclass
class Mosquitto:
    """A Mosquitto broker in ``folder`` on 127.0.0.1.

    :param folder: config, password file, ACL, persistence, certificates and log go here
    :param users: user name -> password
    :param acl: access rules; users without a rule may do nothing
    :param port: plain MQTT port (a free one if None; none at all when ``tls_only``)
    :param tls_port: TLS port (a free one if None; TLS disabled if ``tls`` is False)
    :param tls_only: no plain listener: every client must use TLS
    :param bind_clientid: ``use_username_as_clientid``: an account can never use (or take over)
        another account's client id; two connections of one account replace each other
    :param max_packet_size: bytes; a client sending a bigger packet is disconnected (0: no limit)
    :param max_queued_bytes: payload bytes queued per client while it is away or slow; past it the
        newest are dropped for that client (and counted, see the module's notes)
    :param max_queued_messages: messages queued per client, the same way
    :param max_open_files: the broker's descriptor limit (soft ``RLIMIT_NOFILE``); None: its hard
        limit, at most :data:`MAX_OPEN_FILES`. Each listener gets ``max_connections`` below it.
    """

    folder: Path
    users: dict[str, str]
    acl: list[AclRule]
    port: int | None = None
    tls: bool = True
    tls_port: int | None = None
    tls_only: bool = False
    bind_clientid: bool = True
    max_packet_size: int = MAX_PACKET_BYTES
    max_queued_bytes: int = MAX_QUEUED_BYTES
    max_queued_messages: int = MAX_QUEUED_MESSAGES
    max_open_files: int | None = None
    binary: str = "mosquitto"
    pid: int | None = field(default=None, init=False)
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if self.tls_only and not self.tls:
            raise ValueError("tls_only needs tls")
        claim_port(self.port)
        claim_port(self.tls_port)
        self.port = None if self.tls_only else (self.port or free_port())
        if self.tls:
            self.tls_port = self.tls_port or free_port()
        if self.port and self.port == self.tls_port:
            raise ValueError(f"the plain and TLS listeners cannot share port {self.port}")
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        hard = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else hard
        self.max_open_files = self.max_open_files or min(hard, MAX_OPEN_FILES)
        if self.max_open_files > hard:
            raise ValueError(f"max_open_files {self.max_open_files} is above the hard descriptor limit {hard}")
        if self.max_open_files < 2 * RESERVED_FILES + 2:
            least = 2 * RESERVED_FILES + 2
            raise ValueError(f"max_open_files {self.max_open_files} leaves no room for clients (at least {least})")
        if self.max_queued_bytes < 0 or self.max_queued_messages < 0:
            raise ValueError("max_queued_bytes and max_queued_messages are counts (0: no limit)")

    @property
    def max_connections(self) -> int:
        """Per listener: the descriptors left after :data:`RESERVED_FILES`, shared by the listeners."""
        listeners = (1 if self.port else 0) + (1 if self.tls else 0)
        return (self.max_open_files - RESERVED_FILES) // max(listeners, 1)

    @property
    def conf(self) -> Path:
        return self.folder / "mosquitto.conf"

    @property
    def log(self) -> Path:
        return self.folder / "mosquitto.log"

    @property
    def ca_file(self) -> Path:
        return self.folder / "tls" / "ca.crt"

    @property
    def acl_file(self) -> Path:
        return self.folder / "acl"

    def write_config(self) -> None:
        """Write the password file, ACL and config, each created 0600 (no password on any command line)."""
        f = self.folder
        (f / "data").mkdir(parents=True, exist_ok=True)
        pw = write_private(f / "passwd", password_file(self.users))
        write_private(self.acl_file, acl_text(self.acl))
        lines = [
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {pw}",
            f"acl_file {self.acl_file}",
            "persistence true",
            f"persistence_location {f / 'data'}/",
            "autosave_interval 30",
            f"max_queued_messages {self.max_queued_messages}",
            f"max_queued_bytes {self.max_queued_bytes}",
            "max_inflight_messages 100",
            "persistent_client_expiration 1d",
            "set_tcp_nodelay true",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "connection_messages true",
        ]
        if self.max_packet_size:
            lines.append(f"max_packet_size {self.max_packet_size}")
        if os.geteuid() == 0:
            lines.insert(0, "user root")
        # a listener option: before the first ``listener`` line it silently applies to no listener
        bind = ["use_username_as_clientid true"] if self.bind_clientid else []
        bind.append(f"max_connections {self.max_connections}")
        if self.port:
            lines += [f"listener {self.port} 127.0.0.1", *bind]
        if self.tls:
            certs = make_ca_and_server_cert(f / "tls")
            lines += [
                f"listener {self.tls_port} 127.0.0.1",
                *bind,
                f"cafile {certs['ca']}",
                f"certfile {certs['cert']}",
                f"keyfile {certs['key']}",
                "tls_version tlsv1.2",
            ]
        write_private(self.conf, "\n".join(lines) + "\n")

    def start(self, timeout: float = 15.0) -> Mosquitto:
        if not self.conf.exists():
            self.write_config()
        self._proc = spawn([_tool(self.binary), "-c", str(self.conf)], self.log)
        self.pid = self._proc.pid
        # set on the running process: the listeners open after it reads its config, well after this
        with contextlib.suppress(ProcessLookupError):  # it exited at once: wait_until reports why
            hard = resource.prlimit(self.pid, resource.RLIMIT_NOFILE)[1]
            resource.prlimit(self.pid, resource.RLIMIT_NOFILE, (self.max_open_files, hard))
        ports = [p for p in (self.port, self.tls_port) if p]
        wait_until(lambda: all(port_open(p) for p in ports), timeout, f"mosquitto on port {ports}", self._proc, self.log)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.pid is not None:
            stop_pid(self.pid, timeout)
            self.pid = None
            self._proc = None

    def kill(self) -> None:
        """SIGKILL: a crash, not a shutdown (nothing is saved)."""
        if self.pid is not None:
            stop_pid(self.pid, 0.0, sig=9)
            self.pid = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _tool(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    raise FileNotFoundError(
        f"{name} not found: install it with 'apt-get install mosquitto' (or run scripts/services.sh install)"
    )
