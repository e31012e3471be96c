"""InfluxDB side of the forecasts: hourly history in (read-only account), forecasts out.

Forecasts are their own measurement, ``forecast``, one point per series, resolution and target time:

| line protocol | what | example |
|---|---|---|
| tag ``park`` | the park id | ``kraakoya`` |
| tag ``series`` | ``<asset>.<tag>`` of the park description | ``heat_store.temp_top`` |
| tag ``resolution`` | ``hourly`` (1-48 h) or ``daily`` (1-14 d, daily means) | ``hourly`` |
| fields ``mean``, ``lo80``, ``hi80``, ``lo95``, ``hi95`` | the forecast and its intervals, the tag's unit | ``61.2`` |
| field ``lead`` | steps ahead of the issue time | ``3i`` |
| field ``issued`` | when the forecast was made (ms) | ``1732370000000i`` |
| field ``model`` | the model chosen by the backtest | ``"mstl"`` |
| timestamp | the target time (ms) | |

The model is a field, not a tag: a refit overwrites the same points instead of adding a second line
per target time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from aisym.contract.lineprotocol import point
from aisym.influx import InfluxV1
from aisym.park.graph import ParkGraph
from cloud.dashboards.influxql import quote_ident as qi
from cloud.dashboards.influxql import quote_str as qs
from sim_env.forecast import SeriesForecast

MEASUREMENT = "forecast"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
BANDS = {"mean": "mean", "lo80": "lo-80", "hi80": "hi-80", "lo95": "lo-95", "hi95": "hi-95"}


@dataclass
class History:
    """Means of one series per step (an hour, or a day) from ``start_ms`` on (NaN where nothing was stored)."""

    series: str
    start_ms: int
    values: np.ndarray
    step_ms: int = HOUR_MS

    @property
    def end_ms(self) -> int:
        """Start of the step after the last one: the target time of lead 1."""
        return self.start_ms + self.values.size * self.step_ms


def metered_series(park: ParkGraph) -> list[str]:
    """Every ``<asset>.<tag>`` the park's gateways report: flows, levels, prices, temperatures."""
    return sorted(park.tags)


def read_history(db: InfluxV1, park: ParkGraph, until_ms: int, days: int) -> dict[str, History]:
    """Hourly means of every metered series over ``days`` before ``until_ms`` (one query per asset)."""
    start = (until_ms - days * DAY_MS) // HOUR_MS * HOUR_MS
    end = until_ms // HOUR_MS * HOUR_MS
    n = (end - start) // HOUR_MS
    out = {s: History(s, start, np.full(n, np.nan)) for s in metered_series(park)}
    for asset in sorted({s.split(".", 1)[0] for s in out}):
        q = (f'SELECT mean("value") FROM {qi(asset)} WHERE "park" = {qs(park.id)} AND time >= {start}ms '
             f'AND time < {end}ms GROUP BY time(1h), "signal" fill(none)')
        for r in db.rows(q):
            h = out.get(f"{asset}.{r.get('signal')}")
            if h is not None and r["mean"] is not None:
                h.values[(int(r["time"]) - start) // HOUR_MS] = float(r["mean"])
    return out


def forecast_lines(park_id: str, forecasts: Iterable[tuple[SeriesForecast, History]], issued_ms: int) -> list[str]:
    lines = []
    for f, h in forecasts:
        if f.reason:
            continue
        tags = {"park": park_id, "series": f.series, "resolution": f.freq.name}
        for i in range(f.bands["mean"].size):
            fields: dict[str, float | int | str] = {k: float(f.bands[b][i]) for k, b in BANDS.items()}
            fields.update(lead=i + 1, issued=issued_ms, model=f.model)
            lines.append(point(MEASUREMENT, tags, fields, h.end_ms + i * h.step_ms))
    return lines


def read_forecasts(db: InfluxV1, park_id: str, series: str | None = None) -> list[dict]:
    """Every stored forecast point of the park (one series with ``series``), oldest target first."""
    where = f'"park" = {qs(park_id)}' + (f' AND "series" = {qs(series)}' if series else "")
    return db.rows(f'SELECT * FROM {qi(MEASUREMENT)} WHERE {where} GROUP BY "series", "resolution"')
