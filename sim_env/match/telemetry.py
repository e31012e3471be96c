"""A flow's seasonal profile estimated from a meter's readings (a tag's telemetry).

Reading the tag's series from InfluxDB is the caller's part; this fits what was read.
"""

from __future__ import annotations

import numpy as np

from .profiles import HOURS


def fit_seasonal(timestamps, values, harmonics: int = 2) -> tuple[np.ndarray, dict[str, float]]:
    """Fit a seasonal profile to a meter's readings; returns an hourly year and the fit's figures.

    A least-squares fit of a yearly Fourier series (``harmonics`` terms) and a mean daily shape
    (24 hourly offsets, mean 0) to the readings: gaps and irregular sampling are fine, the fit
    uses the hours and days the readings fall on. The year's profile is clipped at 0.

    :param timestamps: datetimes, numpy datetime64 or epoch seconds (UTC)
    :param values: readings in the flow's canonical unit (kW, kg/h, m3/h...)
    :param harmonics: yearly harmonics (1: one cosine over the year)
    :return: ``(hourly, info)``; info has mean, r2, n (readings) and days_covered
    :raises ValueError: fewer than 48 finite readings, or mismatched lengths
    """
    t = np.asarray(timestamps)
    if np.issubdtype(t.dtype, np.datetime64):
        sec = t.astype("datetime64[s]").astype(np.int64).astype(float)
    elif t.dtype == object:
        sec = np.array([x.timestamp() for x in t], dtype=float)
    else:
        sec = t.astype(float)
    y = np.asarray(values, dtype=float)
    if sec.shape != y.shape:
        raise ValueError(f"{sec.size} timestamps but {y.size} values")
    ok = np.isfinite(sec) & np.isfinite(y)
    sec, y = sec[ok], y[ok]
    if y.size < 48:
        raise ValueError(f"a seasonal fit needs at least 48 readings (got {y.size} finite ones)")
    when = sec.astype("datetime64[s]")
    start = when.astype("datetime64[Y]").astype("datetime64[s]")
    day = np.minimum((when - start).astype(float) / 86400.0, 364.999)  # 0 on 1 January (31 Dec of a leap year: 364)
    hour = np.floor((sec / 3600.0) % 24.0).astype(int)

    def design(day, hour):
        cols = [np.ones_like(day)]
        for k in range(1, harmonics + 1):
            w = 2 * np.pi * k * day / 365.0
            cols += [np.cos(w), np.sin(w)]
        onehot = np.zeros((day.size, 23))
        for h in range(23):  # hour 23 is minus the sum of the others: the daily shape has mean 0
            onehot[:, h] = (hour == h).astype(float) - (hour == 23)
        return np.column_stack([*cols, onehot])

    X = design(day, hour)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    fitted = X @ coef
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - fitted) ** 2).sum()) / ss if ss > 0 else 1.0
    hrs = np.arange(HOURS)
    year = np.clip(design(hrs / 24.0, hrs % 24) @ coef, 0.0, None)
    days = np.unique(np.floor(day)).size
    return year, {"mean": float(year.mean()), "r2": r2, "n": int(y.size), "days_covered": int(days)}
