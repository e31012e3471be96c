"""The forecasts a running controller plans on: those ``aisym forecast fit`` wrote to InfluxDB where
they are fresh, else the twin's view of each series' past (:class:`~sim_env.forecast.LearnedForecasts`).

MPC plans on the park's exogenous series (weather, prices, feed, ...), while ``forecast`` holds the
metered ``<asset>.<tag>`` series. A series reaches MPC from InfluxDB only through a meter that reads
it (the plant's signal map: ``heat_pump.source_temp`` reads ``sea_temp`` on Kråkøya); the others,
and any whose stored forecast is stale or does not cover the plan, fall back, and :attr:`notes` and
the log say which and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from cloud.dashboards.influxql import quote_ident as qi
from cloud.dashboards.influxql import quote_str as qs

from .store import HOUR_MS, MEASUREMENT

log = logging.getLogger(__name__)

FRESH_MS = 2 * HOUR_MS  # the hourly refit (scripts/aisym-forecast.timer) plus an hour's grace


class InfluxForecasts:
    """``forecast(series, past, h)`` -> the next ``h`` hourly values of an exogenous ``series``.

    :param db: an :class:`aisym.influx.InfluxV1` that may read ``forecast`` (the read-only account)
    :param cp: the compiled park (its id and its signal map: which meter reads which series)
    :param now_ms: the start of the current hour (the plan's step 0); lead k targets now + k hours
    :param fallback: what plans a series with no fresh forecast (default: a :class:`LearnedForecasts`)
    :param fresh_ms: the oldest issue time, before now, still used
    """

    name = "influx"

    def __init__(self, db, cp, now_ms: Callable[[], int], fallback=None, fresh_ms: int = FRESH_MS):
        from sim_env.plant.signals import park_signals
        from sim_env.plant.words import to_unit

        if fallback is None:
            from sim_env.forecast.provider import LearnedForecasts

            fallback = LearnedForecasts()
        self.db, self.park_id, self.now_ms, self.fallback, self.fresh_ms = db, cp.graph.id, now_ms, fallback, fresh_ms
        self.meters = {m.series: m for m in park_signals(cp).measures.values() if m.series}
        self._to_unit = to_unit
        self.notes: dict[str, str] = {}
        self.sources: dict[str, str] = {}  # series -> "influx" or "fallback", as of the last plan

    @property
    def history(self) -> int:  # LearnedMpc asks the forecaster how much past to hand it
        return self.fallback.history

    @property
    def n_origins(self) -> int:
        return self.fallback.n_origins

    def _stored(self, tag: str, now: int, h: int) -> tuple[np.ndarray | None, str]:
        q = (f'SELECT "mean", "issued" FROM {qi(MEASUREMENT)} WHERE "park" = {qs(self.park_id)} AND "series" = {qs(tag)} '
             f'AND "resolution" = \'hourly\' AND time > {now}ms AND time <= {now + h * HOUR_MS}ms')
        try:
            rows = self.db.rows(q)
        except Exception as e:  # an unreachable store must not stop the plan
            return None, f"forecasts of {tag} not read ({e})"
        by_time = {int(r["time"]): r for r in rows if r.get("mean") is not None}
        targets = [now + k * HOUR_MS for k in range(1, h + 1)]
        missing = [t for t in targets if t not in by_time]
        if missing:
            return None, f"no stored forecast of {tag} for {len(missing)} of the plan's {h} hours"
        oldest = min(int(by_time[t]["issued"]) for t in targets)
        if oldest < now - self.fresh_ms:
            return None, f"the stored forecast of {tag} is stale (issued {(now - oldest) / HOUR_MS:.1f} h ago)"
        return np.array([float(by_time[t]["mean"]) for t in targets]), ""

    def forecast(self, series: str, past: np.ndarray, h: int) -> np.ndarray:
        m = self.meters.get(series)
        why = f"no meter reads {series}"
        if m is not None:
            values, why = self._stored(m.tag, self.now_ms() // HOUR_MS * HOUR_MS, h)
            if values is not None:
                self._source(series, "influx", f"from InfluxDB ({m.tag})")
                return np.array([self._to_unit(float(v), m.unit, m.series_unit) for v in values])
        self._source(series, "fallback", f"{why}: learned from the twin's view of its past")
        return self.fallback.forecast(series, past, h)

    def _source(self, series: str, source: str, note: str) -> None:
        if self.sources.get(series) != source:  # said once per change, not at every plan
            (log.warning if source == "fallback" else log.info)("forecast of %s: %s", series, note)
        self.sources[series], self.notes[series] = source, note
