"""Measured series for bench_forecast.py beyond the twin: a public load shipped in a wheel, and the
CityLearn 2022 weather-driven series with the covariates a park would have had at each origin.

- Taylor's England & Wales demand (``pmdarima.datasets.load_taylor``, pmdarima 2.1.1 on PyPI, the
  R forecast package's ``taylor``): half-hourly MW, Monday 5 June to Sunday 27 August 2000, 4,032
  values; Taylor, J.W. (2003) "Short-term electricity demand forecasting using double seasonal
  exponential smoothing", J. Operational Research Society 54, 799-805. Aggregated here to hourly
  means (MW averaged over the hour = MWh per hour). Twelve weeks only: a daily resolution has 84 days.
- A UK household's hourly gas use (kWh) and the outdoor temperature beside it (deg C), 1 April 2020
  to 6 December 2022, 23,508 hours each: ``uk-gas-hdd-only-hourly-sample-0.csv.gz`` and
  ``uk-tempC-sample-0.csv.gz`` of the OpenEEmeter package ``eemeter`` 4.1.1 (PyPI, LF Energy,
  Apache-2.0; ``eemeter/eemeter/samples``, read as files: eemeter itself is never imported). A heat
  demand that answers to the weather (daily totals correlate -0.77 with the day's mean temperature);
  the wheel says no more of where it was metered than "sample" (its metadata.json's load figures are
  a template's), and it has no temperature forecasts: the realised temperature stands in for one.
- CityLearn 2022 (``citylearn_challenge_2022_phase_all``; the folder given on the command line):
  ``weather.csv``'s ``*_predicted_1/2/3`` columns are its 6, 12 and 24 h forecasts issued at each
  row. Checked here: each equals the realised value 6/12/24 h later exactly (MAE 0.0), so in this
  dataset a "forecast" is the realised weather: covariates from them are a perfect forecast for
  leads up to 24 h, and the benchmark says so.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np

WEATHER = ("outdoor_dry_bulb_temperature", "direct_solar_irradiance", "diffuse_solar_irradiance")
LEADS = (6, 12, 24)  # the hours ahead of CityLearn's _predicted_1, _2, _3


def taylor_hourly() -> np.ndarray:
    """Taylor's half-hourly demand as 2,016 hourly means (MW)."""
    from pmdarima.datasets import load_taylor

    y = np.asarray(load_taylor(as_series=False), dtype=float)
    return y.reshape(-1, 2).mean(axis=1)


def uk_gas_and_temperature() -> tuple[np.ndarray, np.ndarray]:
    """(hourly gas kWh, hourly outdoor temperature deg C) from eemeter's wheel, the same 23,508 hours."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("eemeter")  # finds the files without importing eemeter (and its dependencies)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("eemeter is not installed: pip install --no-deps eemeter==4.1.1 (its sample files only)")
    root = Path(next(iter(spec.submodule_search_locations))) / "eemeter" / "samples"
    cols = []
    for name, col in (("uk-gas-hdd-only-hourly-sample-0", "value"), ("uk-tempC-sample-0", "tempC")):
        with gzip.open(root / f"{name}.csv.gz", "rt") as fh:
            rows = list(csv.DictReader(fh))
        cols.append((np.array([r[next(k for k in r if k in ("start", "dt"))][:19] for r in rows]),
                     np.array([float(r[col] or "nan") for r in rows])))
    (t_gas, gas), (t_temp, temp) = cols
    if not np.array_equal(t_gas, t_temp):
        raise SystemExit("eemeter's gas and temperature samples are not on the same hours")
    return gas, temp


def _cols(path: Path, names: list[str]) -> np.ndarray:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return np.array([[float(r[n] or "nan") for n in names] for r in rows])


def citylearn_weather(root: Path) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """(realised weather, one column per WEATHER; {lead: the forecast of row s + lead issued at row s})."""
    real = _cols(root / "weather.csv", list(WEATHER))
    fc = {L: _cols(root / "weather.csv", [f"{w}_predicted_{i}" for w in WEATHER]) for i, L in enumerate(LEADS, 1)}
    return real, fc


def forecast_gap(real: np.ndarray, fc: dict[int, np.ndarray]) -> str:
    """How far each of the dataset's forecasts is from the weather it forecast (MAE per column)."""
    out = []
    for L, f in fc.items():
        mae = np.nanmean(np.abs(f[:-L] - real[L:]), axis=0)
        out.append(f"{L} h: " + ", ".join(f"{w.split('_')[-2]} {m:.2f}" for w, m in zip(WEATHER, mae, strict=True)))
    return "CityLearn's weather forecasts vs the weather that came (MAE): " + "; ".join(out)


def issued_at_origin(real: np.ndarray, fc: dict[int, np.ndarray], h: int) -> Callable[[int], np.ndarray]:
    """``ahead(o)``: the weather over targets o .. o+h-1 as known after row o-1, lead k = T - o + 1.

    The freshest forecast issued by row o-1 that targets T: the 6 h one for leads 1-6 (issued at T-6),
    the 12 h one for 7-12, the 24 h one for 13-24; beyond a day none targets T, so the day-ahead
    forecast of T-24 (issued at T-48) stands in, the diurnal shape of the day before."""
    day_ahead = np.full_like(real, np.nan)
    day_ahead[24:] = fc[24][:-24]  # row T: the 24 h forecast issued at T-24

    def ahead(o: int) -> np.ndarray:
        rows = []
        for k in range(1, h + 1):
            T = o + k - 1
            lead = next((L for L in LEADS if k <= L), None)
            rows.append(fc[lead][T - lead] if lead else day_ahead[T - 24])
        return np.array(rows)

    return ahead


def observed_only(real: np.ndarray, h: int) -> Callable[[int], np.ndarray]:
    """``ahead(o)``: no forecast at all: each target hour gets the weather last observed at that hour of
    the day (row T - 24 * ceil(k / 24)), the park's own weather station and nothing else."""

    def ahead(o: int) -> np.ndarray:
        k = np.arange(1, h + 1)
        return real[o + k - 1 - 24 * (-(-k // 24))]

    return ahead
