"""Telemetry of a park's metered exchanges: each one's latest value and a 7-day sparkline.

Read from InfluxDB through a read-only account (the dashboards' one), named by
``AISYM_WORKBENCH_INFLUX_URL``, ``_DB``, ``_USER`` and ``_PASSWORD``. The series are the telemetry
contract's (:mod:`aisym.contract.lineprotocol`): measurement = asset, tags ``park`` and ``signal``.
An exchange's meter is its ``meter_tag`` (``asset.signal``) in the park file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

SPARK_W, SPARK_H = 160, 32


@dataclass
class Meter:
    exchange: str
    tag: str
    latest: float | None = None
    latest_ms: int | None = None
    unit: str = ""
    hourly: list[float] = field(default_factory=list)  # 7 days of hourly means, oldest first

    @property
    def points(self) -> str:
        """The sparkline as an SVG polyline's points."""
        values = [v for v in self.hourly if v is not None]
        if len(values) < 2:
            return ""
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        step = SPARK_W / (len(self.hourly) - 1)
        return " ".join(f"{i * step:.1f},{SPARK_H - 2 - (v - lo) / span * (SPARK_H - 4):.1f}"
                        for i, v in enumerate(self.hourly) if v is not None)


def influx_from_env():
    from aisym.influx import InfluxV1

    url = os.environ.get("AISYM_WORKBENCH_INFLUX_URL")
    if not url:
        return None
    return InfluxV1(url, os.environ.get("AISYM_WORKBENCH_INFLUX_DB", "aisym"),
                    os.environ.get("AISYM_WORKBENCH_INFLUX_USER"), os.environ.get("AISYM_WORKBENCH_INFLUX_PASSWORD"),
                    timeout=5.0)


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def meters(park_id: str, links, client) -> list[Meter]:
    """Each metered exchange's latest value and hourly means over 7 days (raises InfluxError)."""
    out = []
    for lk in links:
        if not lk.meter_tag:
            continue
        asset, signal = lk.meter_tag.split(".", 1)
        where = f"WHERE \"park\" = {_text(park_id)} AND \"signal\" = {_text(signal)}"
        m = Meter(lk.id, lk.meter_tag)
        last = client.rows(f'SELECT last("value") AS v, "unit" FROM {_ident(asset)} {where} GROUP BY "unit"')
        if last:
            m.latest, m.latest_ms, m.unit = last[0]["v"], last[0]["time"], last[0].get("unit", "")
            rows = client.rows(f'SELECT mean("value") AS v FROM {_ident(asset)} {where} AND time > now() - 7d '
                               "GROUP BY time(1h) fill(none)")
            m.hourly = [r["v"] for r in rows]
        out.append(m)
    return out
