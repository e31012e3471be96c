"""The refit's cost: MSTL's decomposition with R's loess jumps, the ARIMA order searched once per
series (not once per backtest origin); the pool of processes is tests/cloud/test_forecast_refit.py."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast")

from sim_env.forecast import HOURLY, choose
from sim_env.forecast.models import _stl_jumps, decompose


def _shaped(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.6 * noise[i - 1] + rng.normal(0, 3)
    return 50 + 20 * np.sin(2 * np.pi * t / 24) + 8 * np.sin(2 * np.pi * t / 168) + noise


def test_stl_jumps_are_rs_defaults():
    # hourly weekly season, seasonal window 15: trend window = ceil(1.5 * 168 / (1 - 1.5 / 15)) = 280,
    # made odd: 281; low-pass window: 169 (the period made odd); each jump = ceil(window / 10)
    assert _stl_jumps(168, 15) == {"seasonal_jump": 2, "trend_jump": 29, "low_pass_jump": 17}
    # daily season, window 11: trend ceil(36 / (1 - 1.5 / 11)) = ceil(41.68) = 42 -> 43; low pass 25
    assert _stl_jumps(24, 11) == {"seasonal_jump": 2, "trend_jump": 5, "low_pass_jump": 3}


def test_the_jumped_decomposition_is_close_to_the_full_one():
    from statsforecast.mstl import mstl as full

    y = _shaped(4 * 168)
    seas, deseas = decompose(y, [24, 168])
    ref = full(y, [24, 168])
    # the daily shape's amplitude is 20: the jumped loess stays within 5 % of it, and the parts add up
    assert np.max(np.abs(seas[0] - ref["seasonal24"].to_numpy())) < 1.0
    assert np.max(np.abs(seas[1] - ref["seasonal168"].to_numpy())) < 1.0
    assert np.allclose(seas.sum(axis=0) + deseas, y)


def test_mstl_continues_a_noise_free_shape_in_phase():
    # a pure daily + weekly shape: the seasons repeated ahead must land on the same hours (one hour
    # late would miss by up to 20 * 2 * pi / 24 = 5.2 on the daily sine alone)
    from sim_env.forecast.models import mstl

    t = np.arange(3 * 168 + 48)
    y = 50 + 20 * np.sin(2 * np.pi * t / 24) + 8 * np.sin(2 * np.pi * t / 168)
    b = mstl(HOURLY)(y[:-48], 48)
    assert np.max(np.abs(b["mean"] - y[-48:])) < 0.5


def test_the_arima_order_is_searched_once_per_series_not_per_origin(monkeypatch):
    from statsforecast.models import AutoARIMA

    calls = []
    for name in ("fit", "forecast"):
        orig = getattr(AutoARIMA, name)
        monkeypatch.setattr(AutoARIMA, name, lambda self, *a, _o=orig, _n=name, **k: calls.append(_n) or _o(self, *a, **k))
    f = choose("flow", _shaped(4 * 168), HOURLY, n_origins=3)
    assert f.model == "mstl" and f.chosen.origins == 3
    assert calls == ["fit"]  # 3 origins and the final fit: one search (it was 4)


def test_an_order_that_does_not_fit_a_later_origin_is_searched_again():
    # Kalundborg's heat-pump availability: a slow yearly curve, flat to 1e-3 over the window; the order
    # searched at the first origin fails to fit the next one (statsforecast raises): searched again
    from dataclasses import replace
    from pathlib import Path

    from aisym.park.graph import load_graph
    from sim_env.graph.exogenous import generate

    park = Path(__file__).resolve().parents[2] / "aisym" / "parks" / "kalundborg.yaml"
    y = generate(load_graph(park), 3, 1, 1.0)["hp_availability"][0]
    past = y[np.arange(720 - (4 * 168 + 3 * 24 + 35), 720) % y.size]
    f = choose("hp_availability", past, replace(HOURLY, horizon=35, history=4 * 168), n_origins=3)
    assert f.model and np.isfinite(f.bands["mean"]).all()
