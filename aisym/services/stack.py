"""A local stack (Mosquitto + InfluxDB) that outlives the command that started it.

State (ports, PIDs, generated credentials) is kept in ``<folder>/state.json`` so that ``down``
and ``status`` find the processes again. Credentials are random and stored 0600 beside it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._proc import pid_alive, port_open, stop_pid
from .influxdb import InfluxDB
from .mosquitto import Mosquitto, park_acl

DEFAULT_FOLDER = Path(".aisym/services")


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
        self, park_id: str, nodes: list[str], mqtt_port: int | None = None, influx_port: int | None = None
    ) -> dict[str, Any]:
        """Start both services unless they already run; returns the state."""
        st = self.state()
        if st and self._alive(st):
            return st
        folder = Path(self.folder).resolve()
        users = {u: secrets.token_urlsafe(12) for u in ["admin", "ingest", "controller", *nodes]}
        if st and st.get("users"):
            users.update(st["users"])  # keep passwords stable across restarts
        acl = park_acl(park_id, nodes, ingestors=["ingest"], controllers=["controller"], admins=["admin"])
        broker = Mosquitto(
            folder / "mosquitto",
            users,
            acl,
            port=mqtt_port or (st or {}).get("mqtt_port"),
            tls_port=(st or {}).get("mqtt_tls_port"),
        )
        broker.write_config()
        influx = InfluxDB(
            folder / "influxdb", port=influx_port or (st or {}).get("influx_port"), rpc_port=(st or {}).get("influx_rpc_port")
        )
        broker.start()
        try:
            influx.start()
        except Exception:
            broker.stop()
            raise
        st = {
            "park": park_id,
            "mqtt_port": broker.port,
            "mqtt_tls_port": broker.tls_port,
            "ca_file": str(broker.ca_file),
            "mosquitto_pid": broker.pid,
            "influx_url": influx.url,
            "influx_port": influx.port,
            "influx_rpc_port": influx.rpc_port,
            "influx_pid": influx.pid,
            "users": users,
        }
        self.state_file.write_text(json.dumps(st, indent=2))
        self.state_file.chmod(0o600)
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
        return all(pid_alive(st.get(k) or -1) for k in ("mosquitto_pid", "influx_pid")) and port_open(st["mqtt_port"])
