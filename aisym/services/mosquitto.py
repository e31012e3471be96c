"""Mosquitto as a plain local process: password file, per-node ACL, optional TLS listener.

Traps handled here (see the field notes in docs/services.md):
- running as root, Mosquitto drops to user ``mosquitto`` unless the config says ``user root``;
- the default ``max_queued_messages`` (1000) silently drops messages for offline sessions;
- persistent sessions left over by earlier runs keep collecting messages: sessions expire.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ._proc import free_port, port_open, spawn, stop_pid, wait_until
from .tls import make_ca_and_server_cert


@dataclass(frozen=True)
class AclRule:
    user: str
    access: str  # read | write | readwrite | deny
    topic: str


def park_acl(
    park_id: str, nodes: list[str], ingestors: list[str] = (), controllers: list[str] = (), admins: list[str] = ()
) -> list[AclRule]:
    """The standard rules: a node writes only under ``aisym/<park>/<node>/``; services see the park."""
    rules = [AclRule(n, "readwrite", f"aisym/{park_id}/{n}/#") for n in nodes]
    for u in ingestors:
        rules += [AclRule(u, "read", f"aisym/{park_id}/#"), AclRule(u, "write", f"aisym/{park_id}/{u}/#")]
    for u in controllers:
        rules += [
            AclRule(u, "read", f"aisym/{park_id}/#"),
            AclRule(u, "write", f"aisym/{park_id}/+/cmd"),
            AclRule(u, "write", f"aisym/{park_id}/{u}/#"),
        ]
    rules += [AclRule(u, "readwrite", "#") for u in admins]
    return rules


@dataclass
class Mosquitto:
    """A Mosquitto broker in ``folder`` on 127.0.0.1.

    :param folder: config, password file, ACL, persistence, certificates and log go here
    :param users: user name -> password
    :param acl: access rules; users without a rule may do nothing
    :param port: plain MQTT port (a free one if None)
    :param tls_port: TLS port (a free one if None; TLS disabled if ``tls`` is False)
    """

    folder: Path
    users: dict[str, str]
    acl: list[AclRule]
    port: int | None = None
    tls: bool = True
    tls_port: int | None = None
    binary: str = "mosquitto"
    pid: int | None = field(default=None, init=False)
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.port = self.port or free_port()
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

    def write_config(self) -> None:
        f = self.folder
        (f / "data").mkdir(parents=True, exist_ok=True)
        pw = f / "passwd"
        pw.write_text("")
        pw.chmod(0o600)
        for user, password in self.users.items():
            subprocess.run([_tool("mosquitto_passwd"), "-b", str(pw), user, password], check=True, capture_output=True)
        acl_lines = []
        for user in dict.fromkeys(r.user for r in self.acl):
            acl_lines.append(f"user {user}")
            acl_lines += [f"topic {r.access} {r.topic}" for r in self.acl if r.user == user]
            acl_lines.append("")
        (f / "acl").write_text("\n".join(acl_lines))
        lines = [
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {pw}",
            f"acl_file {f / 'acl'}",
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
            f"listener {self.port} 127.0.0.1",
        ]
        if os.geteuid() == 0:
            lines.insert(0, "user root")
        if self.tls:
            certs = make_ca_and_server_cert(f / "tls")
            lines += [
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {certs['ca']}",
                f"certfile {certs['cert']}",
                f"keyfile {certs['key']}",
                "tls_version tlsv1.2",
            ]
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 15.0) -> Mosquitto:
        if not self.conf.exists():
            self.write_config()
        self._proc = spawn([_tool(self.binary), "-c", str(self.conf)], self.log)
        self.pid = self._proc.pid
        ports = [p for p in (self.port, self.tls_port) if p]
        wait_until(lambda: all(port_open(p) for p in ports), timeout, f"mosquitto on port {self.port}", self._proc, self.log)
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
