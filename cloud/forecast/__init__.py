"""Forecasts of a park's metered series: read history from InfluxDB, fit, write forecasts back.

The models live in :mod:`sim_env.forecast`; this package only moves data (see docs/forecast.md).
"""
