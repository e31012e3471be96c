"""Forecasts learned from a park's own telemetry: one model per metered series, chosen by backtest.

Models only (numpy, statsforecast, LightGBM): reading and writing InfluxDB is
:mod:`cloud.forecast`'s job, so the twin never imports the cloud. See docs/forecast.md.
"""

from .backtest import Score, backtest
from .models import DAILY, HOURLY, Frequency
from .prepare import Prepared, prepare
from .select import SeriesForecast, choose, forecast_series, to_daily

__all__ = ["DAILY", "HOURLY", "Frequency", "Prepared", "Score", "SeriesForecast", "backtest", "choose",
           "forecast_series", "prepare", "to_daily"]
