"""Learned forecasts of a twin's series for a planner (MPC): each series' own past, nothing else.

The model of a series is chosen once, by the rolling-origin backtest, the first time the series has
two weeks of past; every later plan refits that model on the latest past (as the hourly refit of
``aisym forecast fit`` does), MSTL with the ARIMA order it found the first time. Before two days
of past there is nothing to learn from: the last value is held (persistence), and
:attr:`LearnedForecasts.notes` says so.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .models import HOURLY, candidates
from .prepare import prepare
from .select import choose

SELECT_AFTER = 2 * HOURLY.week  # steps of past before the model choice is made (and kept)


class LearnedForecasts:
    """``forecast(series, past, h)`` -> the next ``h`` hourly values of ``series``.

    :param n_origins: daily origins of the backtest that chooses each series' model
    :param history: most recent steps a model is fitted on (MSTL's cost grows with it)
    """

    name = "learned"

    def __init__(self, n_origins: int = 3, history: int = 4 * HOURLY.week):
        self.n_origins, self.history = n_origins, history
        self.models: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self._runs: dict[str, object] = {}  # the chosen model per series, kept: MSTL keeps its ARIMA order

    def forecast(self, series: str, past: np.ndarray, h: int) -> np.ndarray:
        past = np.asarray(past, dtype=float)[-(self.history + self.n_origins * 24 + h) :]
        freq = replace(HOURLY, horizon=h, history=self.history)
        p = prepare(past, freq.day, freq.week)
        if p.reason or p.constant:
            last = past[~np.isnan(past)][-1:] if np.any(~np.isnan(past)) else np.zeros(1)
            self.notes[series] = f"persistence: {p.reason or 'constant series'}"
            return np.full(h, float(last[0]))
        model = self.models.get(series)
        if model is None and p.y.size >= SELECT_AFTER:
            f = choose(series, past, freq, n_origins=self.n_origins)
            self.models[series], self.notes[series] = f.model, "; ".join(f.notes)
            return f.bands["mean"]
        y = p.y[-self.history :]
        run = self._runs.get(series) if model else None
        if run is None:
            runs = candidates(freq, y.size, False)
            run = runs.get(model or "", runs.get("mstl", runs["naive_daily"]))
            if model:  # an ARIMA order searched on one past serves the later plans (their coefficients refitted)
                self._runs[series] = run
        return run(y, h)["mean"] - p.offset
