"""Dashboards as code: Grafana JSON and provisioning generated from the park description."""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from aisym.park import Park

from .build import build_all
from .influxql import DATASOURCE_UID, InfluxQL, InfluxQLQuery
from .provisioning import write_provisioning

__all__ = ["DATASOURCE_UID", "InfluxQL", "InfluxQLQuery", "build_all", "dashboard_json", "targets", "write_all"]


def dashboard_json(park: Park) -> dict[str, dict]:
    """File stem -> dashboard as plain JSON data (what Grafana stores)."""
    enc = JSONEncoder(sort_keys=True)
    return {name: json.loads(enc.encode(d)) for name, d in build_all(park).items()}


def targets(board: dict) -> list[tuple[str, dict]]:
    """(panel title, target) for every target of every panel, rows included."""
    out = []
    for p in board.get("panels", []):
        for sub in [p, *p.get("panels", [])]:
            out += [(sub.get("title", ""), t) for t in sub.get("targets", []) or []]
    return out


def write_all(park: Park, out: Path, database: str = "aisym", influx_url: str = "http://127.0.0.1:8086") -> list[Path]:
    """Write ``<out>/<name>.json`` for each dashboard and the provisioning YAML; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, board in dashboard_json(park).items():
        p = out / f"{name}.json"
        p.write_text(json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(p)
    return written + write_provisioning(out, influx_url, database)
