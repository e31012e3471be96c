"""Mosquitto as a plain local process: password file, per-account ACL, TLS, client ids bound to accounts.

Traps handled here (see the field notes in docs/services.md):
- running as root, Mosquitto drops to user ``mosquitto`` unless the config says ``user root``;
- the default ``max_queued_messages`` (1000) silently drops messages for offline sessions;
- persistent sessions left over by earlier runs keep collecting messages: sessions expire;
- by default any account may connect with another account's client id and take over its
  session: ``use_username_as_clientid`` makes the account name the client id;
- without ``max_packet_size`` one client can make the broker (and every subscriber) hold a
  256 MB message: packets are limited to the contract's payload limit plus headers;
- ``mosquitto_passwd -b`` shows the password to every local process: hashes are written here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aisym.contract.payload import MAX_PAYLOAD_BYTES

from ._proc import free_port, port_open, spawn, stop_pid, wait_until
from .acl import AclRule, acl_text, park_acl
from .secretfile import password_file, write_private
from .tls import make_ca_and_server_cert

__all__ = ["MAX_PACKET_BYTES", "AclRule", "Mosquitto", "park_acl"]

# The contract's payload limit plus room for the fixed header, topic, packet id and v5 properties
# (an ``aisym/<park>/<node>/cmd/ack`` topic is at most 100 bytes).
MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 2048


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
    binary: str = "mosquitto"
    pid: int | None = field(default=None, init=False)
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if self.tls_only and not self.tls:
            raise ValueError("tls_only needs tls")
        self.port = None if self.tls_only else (self.port or free_port())
        if self.tls:
            self.tls_port = self.tls_port or free_port()

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
            "max_queued_messages 1000000",
            "max_queued_bytes 0",
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
