"""Rolling-origin backtest: each candidate forecasts the full horizon from many origins a day apart.

Scores per model, pooled over origins and lead times:

- ``mae`` and ``rel_mae``: MAE over the MAE of the better of the daily and weekly seasonal naive
  (the better one per series: on a weekly-shaped load the weekly naive alone is far ahead);
- ``mase``: MAE over the in-sample MAE of the daily seasonal naive before the first origin;
- ``cover80`` / ``cover95``: the share of outcomes inside the 80 % / 95 % interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .models import Bands, Frequency


@dataclass
class Score:
    model: str
    mae: float
    rel_mae: float
    mase: float
    cover80: float
    cover95: float
    origins: int


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
) -> list[Score]:
    """Score every model in ``models`` on ``y`` (cleaned); ``X``: covariates aligned with ``y``,
    their values at the outcome times stand for a perfect forecast of them (weather, plans)."""
    # every origin leaves each model two of its seasons (statsforecast fills a missing season with NaN)
    min_train = 2 * freq.week if "naive_weekly" in models else max(2 * freq.day, 2)
    starts = origins(y.size, freq, n_origins, min_train)
    if not starts:
        return []
    errs: dict[str, list[np.ndarray]] = {m: [] for m in models}
    inside: dict[str, list[np.ndarray]] = {m: [] for m in models}
    for o in starts:
        lo = max(0, o - freq.history)
        actual = y[o : o + freq.horizon]
        for name, run in models.items():
            xf = None if X is None else X[o : o + freq.horizon]
            b = run(y[lo:o], freq.horizon, None if X is None else X[lo:o], xf)
            errs[name].append(np.abs(actual - b["mean"]))
            inside[name].append(np.stack([(b[f"lo-{lv}"] <= actual) & (actual <= b[f"hi-{lv}"]) for lv in (80, 95)]))
        if progress:
            progress()
    lag = freq.day
    scale = float(np.mean(np.abs(y[lag : starts[0]] - y[: starts[0] - lag]))) if starts[0] > lag else np.nan
    mae = {m: float(np.mean(np.concatenate(e))) for m, e in errs.items()}
    ref = min((mae[m] for m in ("naive_daily", "naive_weekly") if m in mae), default=np.nan)
    out = []
    for m in models:
        cov = np.concatenate(inside[m], axis=1).mean(axis=1)
        out.append(Score(m, mae[m], _ratio(mae[m], ref), _ratio(mae[m], scale), float(cov[0]), float(cov[1]), len(starts)))
    return out


def _ratio(a: float, b: float) -> float:
    if b == 0:
        return 1.0 if a == 0 else np.inf
    return a / b
