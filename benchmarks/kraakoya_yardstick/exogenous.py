"""Exogenous series of the twin: temperatures, electricity price, grid CO2 and fish feeding.

Generated deterministically from a seed with the park's ``climate`` and ``market`` shapes
(docs/park_parameters.md §3, §6, §7), or loaded from CSV so real telemetry can be replayed.
The result is a float64 array ``(n_series, T, N_EXO)`` with columns ``EXO_NAMES``; T covers
one year at the step length and the twin wraps around it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from aisym.park import Park

from .params import E_AIR_C, E_CO2, E_FEED, E_FRESH_C, E_PRICE, E_SEA_C, EXO_NAMES, N_EXO

HOURS_PER_YEAR = 8760
FEED_AMPLITUDE = 0.15  # [E] feeding (hence sludge and O2 demand) peaks in late summer
FEED_PEAK_DAY = 230
MELT_DAY, MELT_WIDTH_D, MELT_DEPTH = 140, 12.0, 0.7  # [S] spring-melt week prices near 4 øre/kWh (eidefoss.no)
NIGHT_DISCOUNT = 0.2  # [S] trough 00–05 h (kwhprice.eu NO4)
PEAK_BOOST, PEAK_WIDTH_H = 0.35, 1.5  # [S] morning and evening peaks (kwhprice.eu NO4)


class ExogenousError(ValueError):
    """A CSV of exogenous series is malformed; the message names the file, line and column."""


def steps_per_year(dt_h: float) -> int:
    return round(HOURS_PER_YEAR / dt_h)


def _ar1(rng: np.random.Generator, n: int, std: float, rho: float) -> np.ndarray:
    """Stationary AR(1) noise with standard deviation ``std`` and lag-1 correlation ``rho``."""
    e = rng.standard_normal(n) * std * math.sqrt(1.0 - rho * rho)
    out = np.empty(n)
    x = rng.standard_normal() * std
    for i in range(n):
        x = rho * x + e[i]
        out[i] = x
    return out


def _seasonal(model, doy: np.ndarray, hour: np.ndarray, rng: np.random.Generator, rho: float) -> np.ndarray:
    """Yearly cosine lowest on ``coldest_day``, a daily swing peaking at 15 h, and AR(1) noise."""
    yearly = -model.amplitude * np.cos(2 * np.pi * (doy - model.coldest_day) / 365.0)
    daily = -model.daily_amplitude * np.cos(2 * np.pi * (hour - 3.0) / 24.0)
    noise = _ar1(rng, doy.size, model.noise_std, rho) if model.noise_std > 0 else 0.0
    return model.mean + yearly + daily + noise


def _price(park: Park, doy: np.ndarray, hour: np.ndarray, dt_h: float, rng: np.random.Generator) -> np.ndarray:
    """Hourly spot price: winter factor, spring-melt dip, two daily peaks, log-normal day-to-day noise."""
    m = park.market.electricity_price_eur_per_mwh
    winter = 1.0 + (m.winter_factor - 1.0) * 0.5 * (1.0 + np.cos(2 * np.pi * (doy - 15.0) / 365.0))
    melt = 1.0 - MELT_DEPTH * np.exp(-(((doy - MELT_DAY) / MELT_WIDTH_D) ** 2))
    shape = 1.0 - NIGHT_DISCOUNT * ((hour >= 0) & (hour < 5))
    for h in m.daily_peak_hours:
        d = np.minimum(np.abs(hour - h), 24 - np.abs(hour - h))
        shape = shape + PEAK_BOOST * np.exp(-0.5 * (d / PEAK_WIDTH_H) ** 2)
    per_day = max(1, round(24 / dt_h))
    days = math.ceil(doy.size / per_day)
    daily_noise = np.repeat(np.exp(_ar1(rng, days, m.volatility, 0.7)), per_day)[: doy.size]
    hourly_noise = np.exp(_ar1(rng, doy.size, m.volatility * 0.3, 0.5))
    raw = winter * melt * shape * daily_noise * hourly_noise
    price = m.mean * raw / raw.mean()
    return np.clip(price, m.min, m.max)


def generate(park: Park, seed: int = 0, dt_h: float = 1.0, n_series: int = 1) -> np.ndarray:
    """Seeded exogenous series for ``park``: the same seed gives the same numbers.

    :param park: park whose ``climate`` and ``market`` shape the series
    :param seed: root seed; series ``i`` uses the i-th child of ``SeedSequence(seed)``
    :param dt_h: step length (hours)
    :param n_series: independent years to generate (the vector env spreads parks over them)
    :return: float64 array ``(n_series, steps_per_year(dt_h), N_EXO)``
    """
    assert n_series >= 1, f"n_series must be >= 1, got {n_series}"
    T = steps_per_year(dt_h)
    hours = np.arange(T) * dt_h
    doy = hours / 24.0 + 1.0
    hour = hours % 24.0
    rho = math.exp(-dt_h / 12.0)  # weather noise decorrelates over about half a day
    out = np.empty((n_series, T, N_EXO))
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_series)):
        rng = np.random.default_rng(child)
        c = park.climate
        out[i, :, E_SEA_C] = _seasonal(c.sea_temp_c, doy, hour, rng, rho)
        out[i, :, E_FRESH_C] = np.maximum(_seasonal(c.freshwater_temp_c, doy, hour, rng, rho), 0.1)
        out[i, :, E_AIR_C] = _seasonal(c.air_temp_c, doy, hour, rng, rho)
        out[i, :, E_PRICE] = _price(park, doy, hour, dt_h, rng)
        out[i, :, E_CO2] = np.maximum(_seasonal(park.market.grid_co2_g_per_kwh, doy, hour, rng, rho), 0.0)
        feed = 1.0 + FEED_AMPLITUDE * np.cos(2 * np.pi * (doy - FEED_PEAK_DAY) / 365.0)
        out[i, :, E_FEED] = np.maximum(feed + _ar1(rng, T, 0.03, rho), 0.0)
    return out


def save_csv(exo: np.ndarray, path: str | Path, dt_h: float = 1.0) -> None:
    """Write one series ``(T, N_EXO)`` (or the first of a stack) as CSV with an ``hour`` column."""
    series = exo[0] if exo.ndim == 3 else exo
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["hour", *EXO_NAMES])
        for i, row in enumerate(series):
            w.writerow([f"{i * dt_h:g}", *(f"{v:.6g}" for v in row)])


def load_csv(path: str | Path) -> np.ndarray:
    """Load exogenous series from CSV (columns ``EXO_NAMES`` in any order; others ignored).

    :return: float64 array ``(1, T, N_EXO)``
    :raises ExogenousError: naming the file, line and column of the first problem
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ExogenousError(f"{path}: cannot read: {e}") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise ExogenousError(f"{path}: empty file; expected a header with {', '.join(EXO_NAMES)}")
    header = [h.strip() for h in header]
    missing = [n for n in EXO_NAMES if n not in header]
    if missing:
        raise ExogenousError(f"{path}:1: missing column(s) {', '.join(missing)}; found {', '.join(header)}")
    cols = [header.index(n) for n in EXO_NAMES]
    rows = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        values = []
        for name, c in zip(EXO_NAMES, cols, strict=True):
            try:
                v = float(row[c])
            except (IndexError, ValueError):
                got = row[c] if c < len(row) else "<missing>"
                raise ExogenousError(f"{path}:{line}: column {name!r}: not a number ({got!r})") from None
            if not math.isfinite(v):
                raise ExogenousError(f"{path}:{line}: column {name!r}: not finite ({v})")
            values.append(v)
        rows.append(values)
    if not rows:
        raise ExogenousError(f"{path}: no data rows")
    return np.asarray(rows, dtype=np.float64)[None, :, :]
