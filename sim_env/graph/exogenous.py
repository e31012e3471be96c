"""Exogenous series of a v2 park, generated from its own ``series:`` section (or read from CSV).

Each series draws its noise from its own seed (the park seed and a hash of the series id),
so adding, removing or reordering series changes no other series. Derived series (``carnot``,
``affine``) are computed from the series they name after those exist.
"""

from __future__ import annotations

import csv
import math
import zlib
from pathlib import Path

import numpy as np

from aisym.park.graph import ParkGraph
from aisym.park.graph.series import SeriesSpec

HOURS_PER_YEAR = 8760  # the twin's year wraps around 365 days of steps


def steps_per_year(dt_h: float) -> int:
    """Steps in one year of ``dt_h`` hours."""
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


class SeriesError(ValueError):
    """A series cannot be generated (a CSV is missing, short or malformed); the message says where."""


def _clip(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    if lo is not None:
        x = np.maximum(x, lo)
    if hi is not None:
        x = np.minimum(x, hi)
    return x


def _seasonal(m, doy, hour, rng, rho) -> np.ndarray:
    if m.peak_day is not None:
        yearly = m.amplitude * np.cos(2 * np.pi * (doy - m.peak_day) / 365.0)
    else:
        yearly = -m.amplitude * np.cos(2 * np.pi * (doy - (m.coldest_day or 46)) / 365.0)
    daily = -m.daily_amplitude * np.cos(2 * np.pi * (hour - 3.0) / 24.0)
    noise = _ar1(rng, doy.size, m.noise_std, rho) if m.noise_std > 0 else 0.0
    return _clip(m.mean + yearly + daily + noise, m.min, m.max)


def _price(m, doy, hour, dt_h, rng) -> np.ndarray:
    winter = 1.0 + (m.winter_factor - 1.0) * 0.5 * (1.0 + np.cos(2 * np.pi * (doy - 15.0) / 365.0))
    shape = 1.0 - m.night_discount * ((hour >= 0) & (hour < 5))
    for h in m.daily_peak_hours:
        d = np.minimum(np.abs(hour - h), 24 - np.abs(hour - h))
        shape = shape + m.peak_boost * np.exp(-0.5 * (d / m.peak_width_h) ** 2)
    for dip in m.dips:
        shape = shape * (1.0 - dip.depth * np.exp(-(((doy - dip.day) / dip.width_days) ** 2)))
    per_day = max(1, round(24 / dt_h))
    days = math.ceil(doy.size / per_day)
    raw = winter * shape
    if m.volatility > 0:
        raw = raw * np.repeat(np.exp(_ar1(rng, days, m.volatility, 0.7)), per_day)[: doy.size]
        raw = raw * np.exp(_ar1(rng, doy.size, m.volatility * 0.3, 0.5))
    return np.clip(m.mean * raw / raw.mean(), m.min, m.max)


def _csv(spec: SeriesSpec, base: Path, T: int) -> np.ndarray:
    path = (base / spec.csv.path) if not Path(spec.csv.path).is_absolute() else Path(spec.csv.path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError) as e:
        raise SeriesError(f"{path}: cannot read: {e}") from None
    if not rows or spec.csv.column not in [h.strip() for h in rows[0]]:
        raise SeriesError(f"{path}:1: no column {spec.csv.column!r}")
    c = [h.strip() for h in rows[0]].index(spec.csv.column)
    vals = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            v = float(row[c])
        except (IndexError, ValueError):
            raise SeriesError(f"{path}:{line}: column {spec.csv.column!r}: not a number") from None
        if not math.isfinite(v):
            raise SeriesError(f"{path}:{line}: column {spec.csv.column!r}: not finite")
        vals.append(v)
    if len(vals) < T:
        raise SeriesError(f"{path}: {len(vals)} rows; a year at this step needs {T}")
    return np.asarray(vals[:T])


def _cop(c, source: np.ndarray) -> np.ndarray:
    """Carnot COP × efficiency at the sink temperature, in [min, max] (ΔT of at least 1 K)."""
    carnot = c.efficiency * (c.sink_c + 273.15) / np.maximum(c.sink_c - source, 1.0)
    return np.minimum(np.maximum(carnot, c.min), c.max)


def generate(graph: ParkGraph, seed: int = 0, n_years: int = 1, dt_h: float = 1.0,
             given: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Every series of ``graph`` as an array ``(n_years, T)``.

    :param graph: the resolved park
    :param seed: root seed; year ``i`` of series ``s`` uses ``SeedSequence([seed, i, crc32(s)])``
    :param n_years: independent years
    :param dt_h: step length (hours)
    :param given: series supplied by the caller (replayed telemetry, another generator's years);
        derived series are still computed from them
    """
    T = steps_per_year(dt_h)
    hours = np.arange(T) * dt_h
    doy, hour = hours / 24.0 + 1.0, hours % 24.0
    rho = math.exp(-dt_h / 12.0)  # weather noise decorrelates over about half a day
    base = Path(graph.source).parent
    out: dict[str, np.ndarray] = {k: np.asarray(v, dtype=np.float64).reshape(n_years, T) for k, v in (given or {}).items()}
    pending = [s for s in graph.series if s not in out]
    while pending:
        progressed = False
        for sid in list(pending):
            spec = graph.series[sid]
            if any(d not in out for d in spec.depends_on()):
                continue
            arr = np.empty((n_years, T))
            for y in range(n_years):
                rng = np.random.default_rng(np.random.SeedSequence([seed, y, zlib.crc32(sid.encode())]))
                kind = spec.kind
                if kind == "constant":
                    arr[y] = spec.constant
                elif kind == "seasonal":
                    arr[y] = _seasonal(spec.seasonal, doy, hour, rng, rho)
                elif kind == "price":
                    arr[y] = _price(spec.price, doy, hour, dt_h, rng)
                elif kind == "csv":
                    arr[y] = _csv(spec, base, T)
                elif kind == "carnot":
                    arr[y] = _cop(spec.carnot, out[spec.carnot.source][y])
                else:
                    a = spec.affine
                    arr[y] = _clip(a.scale * out[a.of][y] + a.offset, a.min, a.max)
            out[sid] = arr
            pending.remove(sid)
            progressed = True
        if not progressed:
            raise SeriesError(f"series {', '.join(pending)} depend on each other")
    return out


def save_series_csv(series: dict[str, np.ndarray], path: str | Path, dt_h: float = 1.0) -> None:
    """Write the first year of every series as CSV: an ``hour`` column, then one column per series id."""
    ids = sorted(series)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["hour", *ids])
        for i in range(next(iter(series.values())).shape[-1] if ids else 0):
            w.writerow([f"{i * dt_h:g}", *(f"{series[s].reshape(-1, series[s].shape[-1])[0, i]:.6g}" for s in ids)])


def load_series_csv(path: str | Path, graph: ParkGraph, steps: int, seed: int = 0,
                    dt_h: float = 1.0) -> dict[str, np.ndarray]:
    """Series of ``graph`` replayed from a CSV (real telemetry, or ``aisym twin series``), as ``given``.

    The header names series of the park (an ``hour`` column is allowed); each given column
    replaces its series over the first ``steps`` rows, the rest of the year stays generated from
    ``seed``. Series derived from a given one (a COP from a temperature) follow it.

    :raises SeriesError: ``file:line: column: why`` for an unknown column, a missing or
        non-finite number, or fewer rows than the run's steps
    """
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError) as e:
        raise SeriesError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    if not rows or not any(h.strip() for h in rows[0]):
        raise SeriesError(f"{path}:1: header: empty; name series of {graph.id} ({', '.join(sorted(graph.series))})")
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in graph.series and h != "hour"]
    if unknown:
        raise SeriesError(f"{path}:1: column {unknown[0]!r}: not a series of park {graph.id} "
                          f"(its series: {', '.join(sorted(graph.series))})")
    cols = [(c, h) for c, h in enumerate(header) if h != "hour"]
    if not cols:
        raise SeriesError(f"{path}:1: header: no series column; name series of {graph.id}")
    body = [(line, r) for line, r in enumerate(rows[1:], start=2) if any(x.strip() for x in r)]
    if len(body) < steps:
        raise SeriesError(f"{path}:{len(rows)}: rows: {len(body)} rows of data; the run needs {steps} (one per step)")
    generated = generate(graph, seed, 1, dt_h)
    given: dict[str, np.ndarray] = {}
    for c, sid in cols:
        arr = generated[sid][0].copy()
        for i, (line, row) in enumerate(body[: arr.shape[0]]):
            try:
                v = float(row[c])
            except (IndexError, ValueError):
                raise SeriesError(f"{path}:{line}: column {sid!r}: not a number ({row[c] if c < len(row) else ''!r})"
                                  ) from None
            if not math.isfinite(v):
                raise SeriesError(f"{path}:{line}: column {sid!r}: not finite")
            arr[i] = v
        given[sid] = arr[None, :]
    return given
