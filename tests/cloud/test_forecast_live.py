"""The controller's MPC forecasts from InfluxDB (what ``aisym forecast fit`` wrote) where fresh, else the
twin's view of the series' past, saying which: through the real InfluxDB (tests/conftest.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from aisym.park.graph import load_graph
from cloud.forecast.live import InfluxForecasts
from cloud.forecast.store import HOUR_MS, History, forecast_lines
from sim_env.forecast import HOURLY, SeriesForecast
from sim_env.graph.compile import compile_park

NOW = 1_767_225_600_000 + 10 * HOUR_MS  # 2026-01-01T10:00Z


class Past:
    """A fallback that says what it was asked (the learned forecasts' own tests are elsewhere)."""

    history, n_origins = 4 * 168, 3

    def __init__(self):
        self.asked = []

    def forecast(self, series, past, h):
        self.asked.append(series)
        return np.full(h, -1.0)


def _stored(park_id: str, tag: str, issued_ms: int, first_target_ms: int, mean: np.ndarray) -> list[str]:
    f = SeriesForecast(tag, HOURLY, "mstl", {k: mean + d for k, d in
                                            (("mean", 0), ("lo-80", -1), ("hi-80", 1), ("lo-95", -2), ("hi-95", 2))})
    return forecast_lines(park_id, [(f, History(tag, first_target_ms - 48 * HOUR_MS, np.zeros(48)))], issued_ms)


@pytest.fixture(scope="module")
def cp():
    return compile_park(load_graph(None))


def test_fresh_forecasts_are_read_back_stale_or_unmetered_ones_fall_back_and_say_so(influx, cp, caplog):
    sea = 8 + 0.01 * np.arange(48)
    influx.write(_stored(cp.graph.id, "heat_pump.source_temp", NOW - HOUR_MS, NOW + HOUR_MS, sea))
    now = [NOW + 5 * 60_000]  # 10:05, within the hour the plan starts in
    past = Past()
    f = InfluxForecasts(influx, cp, lambda: now[0], fallback=past)
    assert f.history == 4 * 168
    assert np.array_equal(f.forecast("sea_temp", np.zeros(10), 35), sea[:35])  # the meter reads the series in degC
    assert f.sources["sea_temp"] == "influx" and past.asked == []
    m = f.meters["sea_temp"]
    f.meters["sea_temp"] = replace(m, unit="K")  # a meter in kelvin: its forecast converted to the series' degC
    assert f.forecast("sea_temp", np.zeros(10), 35) == pytest.approx(sea[:35] - 273.15)
    f.meters["sea_temp"] = m
    assert np.array_equal(f.forecast("price", np.zeros(10), 35), np.full(35, -1.0))  # no meter reads the price
    assert f.notes["price"].startswith("no meter reads price: learned from the twin's view")
    now[0] = NOW + 3 * HOUR_MS  # issued 4 h before this plan: stale
    assert np.array_equal(f.forecast("sea_temp", np.zeros(10), 35), np.full(35, -1.0))
    assert "stale (issued 4.0 h ago)" in f.notes["sea_temp"] and f.sources["sea_temp"] == "fallback"
    now[0] = NOW + 20 * HOUR_MS  # the stored 48 h no longer cover a 35 h plan
    f.fresh_ms = 100 * HOUR_MS
    f.forecast("sea_temp", np.zeros(10), 35)
    assert "for 7 of the plan's 35 hours" in f.notes["sea_temp"]
    assert past.asked == ["price", "sea_temp", "sea_temp"]
    assert any("forecast of sea_temp" in r.message and "stale" in r.message for r in caplog.records)


def test_the_controller_running_mpc_learned_plans_on_them(mosquitto, influx, cp):
    from cloud.controller.controller import Controller, MqttSettings
    from sim_env.forecast.mpc import LearnedMpc
    from sim_env.plant.signals import park_signals

    strategy = LearnedMpc()
    learned = strategy.learned
    writes = {t: "gateway" for t in park_signals(cp).actuators}
    ctl = Controller("aisym/parks/kraakoya.yaml", writes, strategy, MqttSettings(port=mosquitto.port), lambda: 0,
                     influx=influx)
    assert isinstance(strategy.learned, InfluxForecasts) and strategy.learned.fallback is learned
    # its health says how many series the last plan read from InfluxDB and how many it learned
    strategy.learned.sources.update({"sea_temp": "influx", "price": "fallback", "air_temp": "fallback"})
    ctl.health()
    assert ctl.last_health["forecasts_stored"] == 1 and ctl.last_health["forecasts_learned"] == 2
