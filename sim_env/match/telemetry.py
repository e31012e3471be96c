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


def meter_readings(client, graph, tag_id: str, start: str, stop: str, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Hourly means of a meter tag's good readings in InfluxDB, converted to ``unit``.

    Readings are where the platform's ingestor writes them: measurement = the asset, tag
    ``signal`` = the tag's name, field ``value``, field ``quality``.

    :param client: an :class:`aisym.influx.InfluxV1` on the park's database
    :param graph: the resolved park (it knows the tag's unit)
    :param tag_id: ``"<asset>.<tag>"``
    :param start: first instant, ISO 8601 (``"2024-01-01T00:00:00Z"``)
    :param stop: end instant (excluded)
    :param unit: the unit to return (the flow's canonical unit, ``"kW"``, ``"kg/h"``)
    :return: ``(epoch seconds, values)``
    :raises ValueError: an unknown tag, a unit that does not convert, or unreadable instants
    """
    from aisym.park.quantity import convert

    tag = graph.tags.get(tag_id)
    if tag is None:
        raise ValueError(f"no tag {tag_id!r} in park {graph.id}; tags are written <asset>.<tag>")
    try:
        factor = convert(1.0, tag.unit, unit)
    except Exception as e:  # pint's DimensionalityError and parse errors
        raise ValueError(f"{tag_id} is in {tag.unit}: it does not convert to {unit} ({e})") from None
    bounds = []
    for when in (start, stop):
        try:
            bounds.append(np.datetime64(when.rstrip("Z"), "s"))
        except ValueError:
            raise ValueError(f"cannot read {when!r} as an ISO 8601 instant") from None
    asset, name = tag_id.split(".", 1)  # both are identifiers of the park: safe inside the query
    q = (f'SELECT mean("value") AS v FROM "{asset}" WHERE "signal" = \'{name}\' AND "quality" = \'good\' '
         f"AND time >= '{bounds[0]}Z' AND time < '{bounds[1]}Z' GROUP BY time(1h) fill(none)")
    rows = client.rows(q)
    t = np.array([r["time"] / 1000.0 for r in rows], dtype=float)  # the client asks for epoch milliseconds
    v = np.array([r["v"] * factor for r in rows], dtype=float)
    return t, v


def fit_meter(client, graph, tag_id: str, start: str, stop: str, unit: str,
              harmonics: int = 2) -> tuple[np.ndarray, dict[str, float]]:
    """A seasonal profile fitted to a meter tag's readings in InfluxDB (see :func:`meter_readings`)."""
    t, v = meter_readings(client, graph, tag_id, start, stop, unit)
    return fit_seasonal(t, v, harmonics)
