"""A local stack (Mosquitto + InfluxDB) that outlives the command that started it.

State (ports, PIDs, generated credentials) is kept in ``<folder>/state.json`` so that ``down``
and ``status`` find the processes again. Credentials are random; the folder is 0700 and every
secret file is created 0600 (see :mod:`aisym.services.secretfile`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._proc import pid_alive, port_open, stop_pid
from .acl import park_acl
from .influxdb import InfluxDB
from .mosquitto import Mosquitto
from .secretfile import write_private

DEFAULT_FOLDER = Path(".aisym/services")
DATABASE = "aisym"


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
        folder = Path(self.folder).resolve()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        broker.start()
        try:
            influx.start()
            influx.provision(DATABASE, {"ingest": influx_users["ingest"]}, {"dashboards": influx_users["dashboards"]},
                             owners={"controller": influx_users["controller"]})
        except Exception:
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
            "users": users,
            "influx_users": influx_users,
        }
        write_private(self.state_file, json.dumps(st, indent=2))
        return st

    def down(self) -> list[str]:
        st = self.state() or {}
        stopped = []
        for key in ("mosquitto_pid", "influx_pid"):
            pid = st.get(key)
            if pid and pid_alive(pid):
                stop_pid(pid)
                stopped.append(f"{key.split('_')[0]} (pid {pid})")
        return stopped

    def _alive(self, st: dict[str, Any]) -> bool:
        port = st.get("mqtt_port") or st.get("mqtt_tls_port")
        return all(pid_alive(st.get(k) or -1) for k in ("mosquitto_pid", "influx_pid")) and bool(port) and port_open(port)


__all__ = ["DATABASE", "Stack", "ingest_accounts"]
