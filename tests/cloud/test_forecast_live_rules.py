"""The rules of the controller's stored forecasts without a server (the mutation benchmark runs these;
tests/cloud/test_forecast_live.py runs the same provider through the real InfluxDB)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from aisym.park.graph import load_graph
from cloud.forecast.live import InfluxForecasts
from cloud.forecast.store import HOUR_MS
from sim_env.graph.compile import compile_park

NOW = 1_767_225_600_000


class Stored:
    """Stands for InfluxDB's answer: every stored point (the provider's query bounds the times)."""

    def __init__(self, issued: int, values: np.ndarray):
        self.points = [{"time": NOW + (k + 1) * HOUR_MS, "mean": float(v), "issued": issued} for k, v in enumerate(values)]

    def rows(self, q):
        return self.points


class Past:
    history, n_origins = 672, 3

    def forecast(self, series, past, h):
        return np.full(h, -1.0)


def test_lead_one_is_the_next_hour_the_meter_unit_converted_and_stale_ones_refused():
    sea = 8 + 0.5 * np.arange(48)
    f = InfluxForecasts(Stored(NOW - HOUR_MS, sea), compile_park(load_graph(None)), lambda: NOW + 60_000, Past())
    assert np.array_equal(f.forecast("sea_temp", np.zeros(3), 5), sea[:5])  # targets NOW+1h .. NOW+5h
    f.meters["sea_temp"] = replace(f.meters["sea_temp"], unit="K")
    assert f.forecast("sea_temp", np.zeros(3), 5) == pytest.approx(sea[:5] - 273.15)
    f.now_ms = lambda: NOW + 2 * HOUR_MS  # lead 1 is now the stored lead 3; issued 3 h before: stale
    assert np.array_equal(f.forecast("sea_temp", np.zeros(3), 5), np.full(5, -1.0))
    assert "stale (issued 3.0 h ago)" in f.notes["sea_temp"]
