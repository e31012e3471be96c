"""Dashboards as code: Grafana JSON and provisioning generated from the park description (any park, v1 or v2)."""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from aisym.park import Park
from aisym.park.graph import ParkGraph, migrate_text, parse_graph

from .build import build_all
from .influxql import DATASOURCE_UID, InfluxQL, InfluxQLQuery
from .provisioning import write_provisioning

__all__ = [
    "DATASOURCE_UID", "InfluxQL", "InfluxQLQuery", "as_graph", "build_all", "dashboard_json", "targets", "write_all",
]  # fmt: skip


def as_graph(park: Park | ParkGraph) -> ParkGraph:
    """The park as its resolved graph: a v1 :class:`Park` is migrated (as ``aisym park migrate`` does)."""
    if isinstance(park, ParkGraph):
        return park
    return parse_graph(migrate_text(park), f"park {park.park.id} (migrated to v2)")


def dashboard_json(park: Park | ParkGraph) -> dict[str, dict]:
    """File stem -> dashboard as plain JSON data (what Grafana stores)."""
    enc = JSONEncoder(sort_keys=True)
    return {name: json.loads(enc.encode(d)) for name, d in build_all(as_graph(park)).items()}


def targets(board: dict) -> list[tuple[str, dict]]:
    """(panel title, target) for every target of every panel, rows included."""
    out = []
    for p in board.get("panels", []):
        for sub in [p, *p.get("panels", [])]:
            out += [(sub.get("title", ""), t) for t in sub.get("targets", []) or []]
    return out


def write_all(
    park: Park | ParkGraph, out: Path, database: str = "aisym", influx_url: str = "http://127.0.0.1:8086"
) -> list[Path]:
    """Write ``<out>/<name>.json`` for each dashboard and the provisioning YAML; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, board in dashboard_json(park).items():
        p = out / f"{name}.json"
        p.write_text(json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(p)
    return written + write_provisioning(out, influx_url, database)
