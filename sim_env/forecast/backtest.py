"""Rolling-origin backtest: each candidate forecasts the full horizon from many origins a day apart.

Scores per model, pooled over origins and lead times:

- ``mae`` and ``rel_mae``: MAE over the MAE of the better of the daily and weekly seasonal naive
  (the better one per series: on a weekly-shaped load the weekly naive alone is far ahead);
- ``mase``: MAE over the in-sample MAE of the daily seasonal naive before the first origin;
- ``cover80`` / ``cover95``: the share of outcomes inside the 80 % / 95 % interval once
  calibrated (below), each origin judged with widths calibrated on the other origins only, so
  the figure is out of sample; ``raw80`` / ``raw95``: the model's own intervals.

Calibration (split-conformal with normalised scores, e.g. Angelopoulos & Bates 2021, "A gentle
introduction to conformal prediction", section 2.3): a model's own interval half-widths keep
their shape over the lead times, scaled by the factor that would have covered the level's share
of the backtest's outcomes. MSTL's intervals assume Gaussian, uncorrelated remainders and cover
0.66-0.72 at 80 % on the CityLearn loads; the factor widens them to what the errors show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .models import Bands, Frequency, run_all


@dataclass
class Score:
    model: str
    mae: float
    rel_mae: float
    mase: float
    cover80: float
    cover95: float
    origins: int
    raw80: float = float("nan")
    raw95: float = float("nan")
    scale80: float = 1.0  # the factor the model's 80 % half-widths are multiplied by
    scale95: float = 1.0
    origin_mae: tuple[float, ...] = ()  # the MAE at each origin, oldest first (for intervals over origins)

    def scale(self, level: int) -> float:
        return self.scale80 if level == 80 else self.scale95


def origins(n: int, freq: Frequency, count: int, min_train: int) -> list[int]:
    """Up to ``count`` origins a day apart, the last one leaving a full horizon of outcomes."""
    last = n - freq.horizon
    out = [last - i * freq.day for i in range(count)]
    return sorted(o for o in out if o >= min_train)


def backtest(
    y: np.ndarray,
    freq: Frequency,
    models: dict[str, Callable[..., Bands]],
    n_origins: int = 28,
    X: np.ndarray | None = None,
    progress: Callable[[], None] | None = None,
    X_ahead: Callable[[int], np.ndarray] | None = None,
) -> list[Score]:
    """Score every model in ``models`` on ``y`` (cleaned); ``X``: covariates aligned with ``y``.

    :param X_ahead: ``X_ahead(o)`` -> the covariates over the horizon as they were known at origin ``o``
        (a weather forecast issued then), one row per lead; without it X's own rows at the outcome times
        stand for a perfect forecast of them (weather, plans), which flatters a weather-driven model"""
    # every origin leaves each model two of its seasons (statsforecast fills a missing season with NaN)
    min_train = 2 * freq.week if "naive_weekly" in models else max(2 * freq.day, 2)
    starts = origins(y.size, freq, n_origins, min_train)
    if not starts:
        return []
    errs: dict[str, list[np.ndarray]] = {m: [] for m in models}
    inside: dict[str, list[np.ndarray]] = {m: [] for m in models}
    ratio: dict[str, list[np.ndarray]] = {m: [] for m in models}  # |error| / half-width, per level
    for o in starts:
        lo = max(0, o - freq.history)
        actual = y[o : o + freq.horizon]
        xf = None if X is None else X[o : o + freq.horizon] if X_ahead is None else X_ahead(o)
        bands = run_all(models, models, y[lo:o], freq.horizon, None if X is None else X[lo:o], xf)
        for name, b in bands.items():
            errs[name].append(np.abs(actual - b["mean"]))
            inside[name].append(np.stack([(b[f"lo-{lv}"] <= actual) & (actual <= b[f"hi-{lv}"]) for lv in (80, 95)]))
            ratio[name].append(np.stack([_score(actual, b, lv) for lv in (80, 95)]))
        if progress:
            progress()
    lag = freq.day
    scale = float(np.mean(np.abs(y[lag : starts[0]] - y[: starts[0] - lag]))) if starts[0] > lag else np.nan
    mae = {m: float(np.mean(np.concatenate(e))) for m, e in errs.items()}
    ref = min((mae[m] for m in ("naive_daily", "naive_weekly") if m in mae), default=np.nan)
    out = []
    for m in models:
        raw = np.concatenate(inside[m], axis=1).mean(axis=1)
        scores = np.stack(ratio[m])  # (origins, levels, lead times)
        scales = [conformal_factor(scores[:, i].ravel(), lv) for i, lv in enumerate((80, 95))]
        cov = [_held_out_cover(scores[:, i], lv) for i, lv in enumerate((80, 95))]
        out.append(Score(m, mae[m], _ratio(mae[m], ref), _ratio(mae[m], scale), cov[0], cov[1], len(starts),
                         float(raw[0]), float(raw[1]), scales[0], scales[1], tuple(float(e.mean()) for e in errs[m])))
    return out


def _score(actual: np.ndarray, b: Bands, level: int) -> np.ndarray:
    """Normalised nonconformity: the error over the model's half-width (inf where the model gives none
    and misses; 0 where it gives none and hits)."""
    half = (b[f"hi-{level}"] - b[f"lo-{level}"]) / 2.0
    err = np.abs(actual - b["mean"])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(half > 0, err / np.where(half > 0, half, 1.0), np.where(err > 0, np.inf, 0.0))


def conformal_factor(scores: np.ndarray, level: int) -> float:
    """The ceil((n+1)·level)-th smallest score: the finite-sample conformal quantile (1.0 without scores;
    never below 1e-9 so a band keeps its shape)."""
    s = np.sort(scores[~np.isnan(scores)])
    if s.size == 0:
        return 1.0
    k = int(np.ceil((s.size + 1) * level / 100.0)) - 1
    return float(max(s[min(k, s.size - 1)], 1e-9))


def _held_out_cover(scores: np.ndarray, level: int) -> float:
    """Coverage of each origin's outcomes under the factor calibrated on the other origins."""
    if scores.shape[0] < 2:
        return float(np.mean(scores <= 1.0))
    hits = [np.mean(scores[i] <= conformal_factor(np.delete(scores, i, axis=0).ravel(), level))
            for i in range(scores.shape[0])]
    return float(np.mean(hits))


def calibrate(bands: Bands, score: Score) -> Bands:
    """``bands`` with each level's half-widths scaled by the backtest's factor, around the same mean."""
    out = {"mean": bands["mean"]}
    for lv in (80, 95):
        mid = bands["mean"]
        if not np.isfinite(score.scale(lv)):  # zero-width intervals that miss: no factor mends them
            out[f"lo-{lv}"], out[f"hi-{lv}"] = bands[f"lo-{lv}"], bands[f"hi-{lv}"]
            continue
        out[f"lo-{lv}"] = mid - (mid - bands[f"lo-{lv}"]) * score.scale(lv)
        out[f"hi-{lv}"] = mid + (bands[f"hi-{lv}"] - mid) * score.scale(lv)
    return out


def _ratio(a: float, b: float) -> float:
    if b == 0:
        return 1.0 if a == 0 else np.inf
    return a / b
