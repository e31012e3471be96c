"""A local stack (Mosquitto + InfluxDB and its gate) that outlives the command that started it.

State (ports, PIDs, generated credentials) is kept in ``<folder>/state.json`` so that ``down``
and ``status`` find the processes again. Credentials are random; the folder is made 0700 whatever
mode it had, and every secret file is created 0600 (see :mod:`aisym.services.secretfile`).

``up`` on a half-dead stack (one of its processes died, the others still run) says so in the
state's ``repaired`` list and a warning, stops the survivors and starts all of them again, so that
every PID recorded is a live process of this stack and ``down`` stops every process ``up`` started.
A PID is only ever signalled while its command line names this stack's folder: after a reboot a
recorded PID may belong to anything.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._proc import cmdline_has, pid_alive, port_open, stop_pid
from .acl import park_acl
from .influxdb import InfluxDB, remove_socket_dir
from .mosquitto import Mosquitto
from .secretfile import private_dir, write_private

log = logging.getLogger(__name__)
DEFAULT_FOLDER = Path(".aisym/services")
DATABASE = "aisym"
#: state key -> what runs under that PID, in the order ``down`` stops them
PROCESSES = {"influx_gate_pid": "influxdb gate", "influx_pid": "influxd", "mosquitto_pid": "mosquitto"}


def ingest_accounts(n: int) -> list[str]:
    """``ingest``, ``ingest-2``, ...: one broker account per ingestor instance (the account is the client id)."""
    if n < 1:
        raise ValueError(f"at least one ingest account is needed, not {n}")
    return ["ingest"] + [f"ingest-{i}" for i in range(2, n + 1)]


def _password() -> str:
    return secrets.token_urlsafe(16)


@dataclass
class Stack:
    folder: Path = DEFAULT_FOLDER

    @property
    def state_file(self) -> Path:
        return Path(self.folder) / "state.json"

    def state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def up(
        self,
        park_id: str,
        nodes: list[str],
        mqtt_port: int | None = None,
        influx_port: int | None = None,
        tls_only: bool = False,
        ingestors: int = 1,
    ) -> dict[str, Any]:
        """Start both services unless they already run; returns the state.

        :param park_id: the park whose ACL to write
        :param nodes: node accounts (the controller may command exactly these)
        :param tls_only: the broker gets no plain listener
        :param ingestors: number of ingest accounts (one per concurrently running ingestor)
        """
        st = self.state()
        if st and self._alive(st):
            return st
        repaired = self._stop_survivors(st) if st else []
        folder = private_dir(Path(self.folder).resolve())
        ingest = ingest_accounts(ingestors)
        # passwords stay stable across restarts; an account no longer asked for is dropped
        old, old_influx = (st or {}).get("users") or {}, (st or {}).get("influx_users") or {}
        users = {u: old.get(u) or _password() for u in ["admin", *ingest, "controller", *nodes]}
        influx_users = {u: old_influx.get(u) or _password() for u in ("admin", "ingest", "dashboards", "controller")}
        acl = park_acl(park_id, nodes, ingestors=ingest, controllers=["controller"], admins=["admin"])
        broker = Mosquitto(
            folder / "mosquitto",
            users,
            acl,
            port=None if tls_only else mqtt_port or (st or {}).get("mqtt_port"),
            tls_port=(st or {}).get("mqtt_tls_port"),
            tls_only=tls_only,
        )
        broker.write_config()
        influx = InfluxDB(
            folder / "influxdb",
            port=influx_port or (st or {}).get("influx_port"),
            rpc_port=(st or {}).get("influx_rpc_port"),
            admin_password=influx_users["admin"],
        )
        influx.write_config()  # always: a config left by an older version may have auth off
        taken = [p for p in (broker.port, broker.tls_port, influx.port) if p and port_open(p)]
        if taken:
            raise RuntimeError(f"port {', '.join(map(str, taken))} already in use by a process that is not this "
                               f"stack's ({folder}): stop it, or choose other ports")
        broker.start()
        try:
            influx.start()
            influx.provision(DATABASE, {"ingest": influx_users["ingest"]}, {"dashboards": influx_users["dashboards"]},
                             owners={"controller": influx_users["controller"]})
            if not broker.running:
                raise RuntimeError(f"mosquitto (pid {broker.pid}) exited after it started; see {broker.log}")
        except BaseException:
            broker.stop()
            influx.stop()
            raise
        st = {
            "park": park_id,
            "mqtt_port": broker.port,
            "mqtt_tls_port": broker.tls_port,
            "tls_only": tls_only,
            "ca_file": str(broker.ca_file),
            "acl_file": str(broker.acl_file),
            "mosquitto_pid": broker.pid,
            "influx_url": influx.url,
            "influx_db": DATABASE,
            "influx_port": influx.port,
            "influx_rpc_port": influx.rpc_port,
            "influx_pid": influx.pid,
            "influx_gate_pid": influx.gate_pid,
            "influx_socket": str(influx.socket),
            "influx_isolation": influx.isolation,
            "repaired": repaired,
            "users": users,
            "influx_users": influx_users,
        }
        write_private(self.state_file, json.dumps(st, indent=2))
        return st

    def down(self) -> list[str]:
        """Stop every process ``up`` started (gate, influxd, broker); returns what was stopped."""
        st = self.state() or {}
        stopped = []
        for key, name in PROCESSES.items():
            pid = st.get(key)
            if pid and self._ours(pid):
                stop_pid(pid)
                stopped.append(f"{name} (pid {pid})")
        if st.get("influx_socket"):
            remove_socket_dir(st["influx_socket"])
        return stopped

    def _ours(self, pid: int) -> bool:
        """A live process whose command line names this stack's folder (its config files are there)."""
        return pid_alive(pid) and cmdline_has(pid, str(Path(self.folder).resolve()) + "/")

    def _stop_survivors(self, st: dict[str, Any]) -> list[str]:
        """Stop what still runs of a stack of which something died; returns what was found and done."""
        alive = {k: st[k] for k in PROCESSES if st.get(k) and self._ours(st[k])}
        dead = [f"{name} (pid {st[k]})" if st.get(k) else f"{name} (none recorded: a stack of an older version)"
                for k, name in PROCESSES.items() if k not in alive]
        if not alive:
            return []
        notes = [f"{', '.join(dead) or 'a service port'} had stopped while "
                 f"{', '.join(f'{PROCESSES[k]} (pid {pid})' for k, pid in alive.items())} still ran: "
                 "stopped those and started the whole stack again"]
        log.warning("half-dead stack in %s: %s", self.folder, notes[0])
        for pid in alive.values():
            stop_pid(pid)
        return notes

    def _alive(self, st: dict[str, Any]) -> bool:
        port = st.get("mqtt_port") or st.get("mqtt_tls_port")
        return (all(st.get(k) and self._ours(st[k]) for k in PROCESSES) and bool(port) and port_open(port)
                and bool(st.get("influx_port")) and port_open(st["influx_port"]))


__all__ = ["DATABASE", "Stack", "ingest_accounts"]
