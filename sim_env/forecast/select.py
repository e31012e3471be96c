"""One model per series, chosen by the rolling-origin backtest, then its forecast from the end.

White noise is caught before the contest: a series whose autocorrelation at the first day of lags
(and a week) is not significant has nothing for a model to learn, so it gets the seasonal naive
and a note saying so, whatever a lucky backtest might say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .backtest import Score, backtest, calibrate
from .models import DAILY, HOURLY, Bands, Frequency, candidates, constant, run_all
from .prepare import prepare

WHITE_NOISE_P = 0.01  # Ljung-Box p-value above which no serial structure is claimed


@dataclass
class SeriesForecast:
    """One series at one resolution: the chosen model, its forecast from the end, and why.

    :param bands: ``mean``, ``lo-80``, ``hi-80``, ``lo-95``, ``hi-95`` for lead times 1..horizon; empty with a reason
    :param scores: the backtest, one row per candidate (empty when none ran)
    """

    series: str
    freq: Frequency
    model: str = ""
    bands: Bands = field(default_factory=dict)
    scores: list[Score] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def chosen(self) -> Score | None:
        return next((s for s in self.scores if s.model == self.model), None)


def ljung_box_p(y: np.ndarray, lags: list[int]) -> float:
    """p-value of the Ljung-Box test over ``lags`` (small: the series has serial structure)."""
    from scipy.stats import chi2

    z = y - y.mean()
    denom = float(z @ z)
    if denom == 0:
        return 1.0
    n = y.size
    lags = [k for k in lags if k < n - 1]
    q = n * (n + 2) * sum((float(z[k:] @ z[:-k]) / denom) ** 2 / (n - k) for k in lags)
    return float(chi2.sf(q, len(lags)))


def _structure_lags(freq: Frequency, n: int) -> list[int]:
    lags = list(range(1, max(freq.day, 7) + 1))
    return lags + ([freq.week] if n > 2 * freq.week and freq.week not in lags else [])


def choose(
    series: str,
    values: np.ndarray,
    freq: Frequency = HOURLY,
    X: np.ndarray | None = None,
    X_future: np.ndarray | None = None,
    n_origins: int = 7,
    progress: Callable[[], None] | None = None,
    X_ahead: Callable[[int], np.ndarray] | None = None,
) -> SeriesForecast:
    """Clean ``values`` (NaN where missing), backtest the candidates, forecast with the best.

    :param X: covariates aligned with ``values`` (rows) or None
    :param X_future: the covariates over the next ``freq.horizon`` steps (a weather forecast, the plan);
        without them LightGBM cannot forecast and is not tried
    :param X_ahead: for the backtest, ``X_ahead(i)`` -> the covariates over the ``freq.horizon`` steps after
        ``values[:i]`` as known then (the forecast issued at that origin); without it the backtest reads
        X's realised rows, a perfect forecast
    """
    out = SeriesForecast(series, freq)
    p = prepare(values, freq.day, freq.week)
    out.notes += p.notes
    if p.reason:
        out.reason = p.reason
        return out
    y = p.y[-(freq.history + n_origins * freq.day + freq.horizon) :]
    if p.constant:
        out.model, out.bands = "constant", constant(float(y[-1]) - p.offset, freq.horizon)
        return out
    if X is not None:
        X = np.asarray(X, dtype=float).reshape(len(values), -1)[-y.size :]
        if X_future is None or np.isnan(X).any():
            out.notes.append("covariates given without their future values or with gaps: LightGBM not tried")
            X = None
    models = candidates(freq, y.size, X is not None)
    shift = len(values) - y.size  # the backtest's origins index y, the tail of values
    ahead = None if X is None or X_ahead is None else (lambda o: np.asarray(X_ahead(o + shift), dtype=float))
    out.scores = backtest(y, freq, models, n_origins, X, progress, ahead)
    naives = [s for s in out.scores if s.model.startswith("naive")]
    if not out.scores:
        out.model = "naive_daily"
        out.notes.append(f"too short for a backtest ({y.size} steps): daily seasonal naive")
    elif ljung_box_p(y, _structure_lags(freq, y.size)) > WHITE_NOISE_P:
        out.model = min(naives, key=lambda s: s.mae).model
        out.notes.append(f"white noise (no serial structure found): falls back to {out.model}")
    else:
        best = min(out.scores, key=lambda s: s.mae)
        out.model = best.model
        if best.model.startswith("naive"):
            out.notes.append(f"no model beat the seasonal naive: falls back to {best.model}")
    h = freq.horizon
    xf = None if X is None else np.asarray(X_future, dtype=float).reshape(h, -1)
    bands = run_all(models, [out.model], y[-freq.history :], h, None if X is None else X[-freq.history :], xf)[out.model]
    if out.chosen is not None:  # the intervals widened (or narrowed) to what the backtest's errors showed
        bands = calibrate(bands, out.chosen)
    out.bands = {k: v - p.offset for k, v in bands.items()}
    return out


def to_daily(values: np.ndarray, hours_into_first_day: int = 0) -> np.ndarray:
    """Hourly values -> daily means over whole days (a day with any NaN hour is NaN)."""
    v = np.asarray(values, dtype=float)[(24 - hours_into_first_day) % 24 :]
    v = v[: v.size // 24 * 24]
    return v.reshape(-1, 24).mean(axis=1) if v.size else v


def forecast_series(series: str, hourly: np.ndarray, n_origins: int = 7, **kw) -> list[SeriesForecast]:
    """Both resolutions of one series: hourly 1-48 h and daily (means) 1-14 d."""
    return [choose(series, hourly, HOURLY, n_origins=n_origins, **kw), choose(series, to_daily(hourly), DAILY,
                                                                             n_origins=n_origins)]
