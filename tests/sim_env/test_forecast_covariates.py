"""Covariates in the backtest are what the park knew at each origin (a weather forecast issued then),
not the realised future weather, unless the caller says the realised values stand for a forecast."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast")
pytest.importorskip("lightgbm")

from sim_env.forecast import DAILY, HOURLY, choose
from sim_env.forecast.backtest import backtest
from sim_env.forecast.models import naive


def echo(y, h, X=None, X_future=None):
    """A model that forecasts the covariate it is handed: its error is the covariate's error."""
    m = np.asarray(X_future, dtype=float)[:, 0]
    return {"mean": m, "lo-80": m - 1, "hi-80": m + 1, "lo-95": m - 2, "hi-95": m + 2}


def test_the_backtest_judges_on_the_forecast_known_at_each_origin():
    n, h = 24 * 21, HOURLY.horizon
    t = np.arange(n)
    y = 10 + 5 * np.sin(2 * np.pi * t / 24)  # the series is its covariate: a perfect covariate gives MAE 0
    X = y[:, None].copy()
    issued = []

    def ahead(o):  # a forecast issued at o: the realised value 1 off, 2 off beyond a day
        issued.append(o)
        return (y[o : o + h] + np.where(np.arange(h) < 24, 1.0, 2.0))[:, None]

    models = {"naive_daily": naive(24), "echo": echo}
    realised = {s.model: s for s in backtest(y, HOURLY, models, 3, X)}
    judged = {s.model: s for s in backtest(y, HOURLY, models, 3, X, X_ahead=ahead)}
    print("echo MAE, realised weather", realised["echo"].mae, "forecast", judged["echo"].mae)
    assert realised["echo"].mae == 0.0  # the realised rows: a perfect forecast
    assert judged["echo"].mae == pytest.approx(1.5)  # the forecast issued at each origin: its own error
    assert issued == [n - h - 2 * 24, n - h - 24, n - h]


def test_choose_asks_for_the_forecast_at_the_origins_of_the_values_it_was_given():
    rng = np.random.default_rng(4)
    n, h = 400, DAILY.horizon
    x = 5 + np.sin(2 * np.pi * np.arange(n + h) / 7) + rng.normal(0, 0.3, n + h)
    y = 3 * x[:n] + rng.normal(0, 0.2, n)
    asked = []

    def ahead(i):  # the forecast of x issued after values[:i]
        asked.append(i)
        return x[i : i + h, None]

    f = choose("heat", y, DAILY, X=x[:n], X_future=x[n:, None], n_origins=2, X_ahead=ahead)
    # choose keeps the last 364 + 2 + 14 days; its origins are still the values' own indices
    assert sorted(set(asked)) == [n - h - 1, n - h]
    assert {s.model for s in f.scores} >= {"lightgbm", "naive_weekly"}
    assert f.bands["mean"].shape == (h,)
