"""The forecasts dashboard: a panel per metered exchange, its actuals beside the hourly forecast.

Each panel shows the meter (as the overview's flow panels do, in the panel's unit) and the latest
stored forecast (``forecast`` measurement, written by ``aisym forecast fit``): its mean and the
80 % and 95 % interval bounds. The time range reaches two days ahead, the forecast's horizon.
"""

from __future__ import annotations

from aisym.park.graph import ParkGraph

from .flows import flow_panels
from .influxql import InfluxQL
from .influxql import quote_str as qs

FORECAST = "forecast"  # the measurement of cloud.forecast.store (the cloud never imports it for a dashboard)
BANDS = (("mean", "forecast"), ("lo80", "80 % low"), ("hi80", "80 % high"), ("lo95", "95 % low"), ("hi95", "95 % high"))


def forecast_series(park: ParkGraph, tag_id: str, field: str, scale: float = 1.0) -> str:
    sel = f'mean("{field}")' + (f" * {scale!r}" if scale != 1.0 else "")
    where = f'"park" = {qs(park.id)} AND "series" = {qs(tag_id)} AND "resolution" = \'hourly\' AND $timeFilter'
    return f'SELECT {sel} FROM "{FORECAST}" WHERE {where} GROUP BY time($__interval) fill(none)'


def forecasts(park: ParkGraph):
    from .build import Board, _ts, grafana_unit, tag_series

    b = Board(f"aisym-{park.id}-forecasts", f"{park.doc.park.name}: forecasts beside the actuals", park, ["forecast"])
    b._b.time("now-2d", "now+2d")  # the forecasts run 48 h ahead
    for p in flow_panels(park):
        b.row(f"Forecasts: {p.title}")
        for f in p.flows:
            targets = [InfluxQL(tag_series(park, f.tag_id, by_node=False, scale=f.factor), "actual")]
            targets += [InfluxQL(forecast_series(park, f.tag_id, field, f.factor), label) for field, label in BANDS]
            desc = (f"{f.tag_id} and its hourly forecast (aisym forecast fit) with 80 % and 95 % intervals, in {p.unit}")
            b.add(_ts(f"{f.label} ({f.link.id})", grafana_unit(p.unit), targets, desc), w=12)
    return b.build()


def forecast_demo_lines(park: ParkGraph, end_ms: int) -> list[str]:
    """Forecast points for every metered exchange around ``end_ms`` (the first one 20 min before it),
    so the demo data has something in every forecast panel."""
    from aisym.contract.lineprotocol import point

    lines = []
    for p in flow_panels(park):
        for f in p.flows:
            mid = (f.tag.min + f.tag.max) / 2
            half = (f.tag.max - f.tag.min) / 2
            for i in range(48):
                fields: dict[str, float | int | str] = {
                    "mean": mid, "lo80": mid - 0.5 * half, "hi80": mid + 0.5 * half, "lo95": f.tag.min, "hi95": f.tag.max,
                    "lead": i + 1, "issued": end_ms - 1_200_000 - 3_600_000, "model": "demo",
                }
                lines.append(point(FORECAST, {"park": park.id, "series": f.tag_id, "resolution": "hourly"}, fields,
                                   end_ms - 1_200_000 + i * 3_600_000))
    return lines
