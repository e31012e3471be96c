"""MPC planning on learned forecasts: :class:`~sim_env.graph.baselines.GraphMpc` with each series'
next hours forecast from its own past (:class:`~sim_env.forecast.provider.LearnedForecasts`)
instead of the truth plus synthetic errors. The current hour is known, as in GraphMpc.
"""

from __future__ import annotations

import numpy as np

from sim_env.graph.baselines import GraphMpc

from .provider import LearnedForecasts


class LearnedMpc(GraphMpc):
    """:param learned: the forecaster (default: :class:`LearnedForecasts` with its defaults);
    the other parameters are :class:`GraphMpc`'s (``noise`` does not apply)."""

    name = "mpc_learned"

    def __init__(self, horizon_hours: float = 36.0, replan_hours: float = 6.0, relax: bool = False,
                 learned: LearnedForecasts | None = None):
        super().__init__(horizon_hours, replan_hours, noise=0.0, relax=relax)
        self.learned = learned or LearnedForecasts()

    def forecast(self, t: int) -> np.ndarray:
        info = self.info
        T = next(iter(info.series.values())).shape[1]
        need = self.learned.history + self.learned.n_origins * 24 + self.H
        past = np.arange(t - need, t) % T  # before the year's first hour: its last ones (a year wraps)
        out = {}
        for s, arr in info.series.items():
            row = arr[info.year]
            x = np.empty(self.H)
            x[0] = row[t % T]
            if self.H > 1:
                x[1:] = self.learned.forecast(s, row[past], self.H - 1)
            out[s] = x[None, :]
        return info.cp.coefficients(out)
