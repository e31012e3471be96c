"""The compiled twin's generic rules over training rows that live in different years.

:class:`sim_env.graph.baselines.GraphRules` precomputes its margins for one year at reset; the
rows of a training batch are spread over several generated years. :class:`YearRules` holds one
set of rules per year and evaluates each row with the rules of its own year, so a residual agent
(``action_mode: residual``) corrects exactly what :func:`sim_env.graph.evaluate.evaluate` runs as
``rule``. Numpy only (no torch): the ONNX strategy uses the same rules.
"""

from __future__ import annotations

import numpy as np

from sim_env.graph.baselines import GraphRules
from sim_env.graph.evaluate import GraphEnvInfo


def env_info(twin, year: int) -> GraphEnvInfo:
    """What the harness hands a strategy at reset, for year ``year`` of a :class:`~sim_env.graph.twin.GraphTwin`."""
    return GraphEnvInfo(twin.cp, twin, twin.batch.coef, twin.series, year, 0, twin.episode_steps, twin.dt_h,
                        twin.horizon, list(twin.observation_names), list(twin.action_names), list(twin.kpi_names),
                        twin.S0[0].copy(), twin.batch.mask[0].copy())


TIME_TABLES = ("margin", "per_content", "margin_mean", "in_cost", "cost_mean", "cost_cheap")


class YearRules:
    """The rules of each generated year of ``twin``, for its rows, in one call per step.

    The rules' per-step tables (:data:`TIME_TABLES`, each ``(T, actions)``, day-ahead windows
    wrapping within their year) are stacked year after year into one rules object whose year
    has ``years × T`` steps; a row of year ``y`` at step ``t`` reads step ``y·T + t``. Everything
    else in the rules depends on the park only. A test keeps this equal to each year's own
    :class:`~sim_env.graph.baselines.GraphRules`.

    :param twin: a :class:`~sim_env.graph.twin.GraphTwin` (its years, forecast and park)
    """

    def __init__(self, twin):
        years = []
        for year in range(twin.batch.coef.shape[0]):
            r = GraphRules()
            r.reset(env_info(twin, year))
            years.append(r)
        self.T = years[0].T
        self.stacked = years[0]
        if len(years) > 1:
            for name in TIME_TABLES:
                setattr(self.stacked, name, np.concatenate([getattr(r, name) for r in years], axis=0))
            self.stacked.T = self.T * len(years)

    def __call__(self, S: np.ndarray, t: np.ndarray, ser: np.ndarray) -> np.ndarray:
        """The rules' action fractions ``(K, n_actions)`` of rows with store levels ``S``, steps ``t``, years ``ser``."""
        return self.stacked.act_batch(S, np.asarray(ser) * self.T + np.asarray(t) % self.T)


def residual(base: np.ndarray, agent: np.ndarray, scale: float) -> np.ndarray:
    """``clip(base + scale · agent, 0, 1)``: the rules' action corrected by at most ``scale`` of each bound."""
    return np.clip(base + scale * np.clip(np.asarray(agent, dtype=np.float64), -1.0, 1.0), 0.0, 1.0)
