"""Model-predictive control with noisy forecasts on a rolling 24–48 h horizon.

Every ``replan_hours`` the controller forecasts the next ``horizon_hours`` (the truth plus
noise that grows with the lead time, as day-ahead forecasts do), solves the MILP of
:mod:`sim_env.baselines.lp` from the measured state, and applies the plan's first steps.
The plan must end with the holder, store and tank no emptier than the park's initial levels
(or the current ones, if lower), so a short horizon does not sell the stores off.
"""

from __future__ import annotations

import numpy as np

from .. import params as q
from ..evaluate import EnvInfo, StepInfo
from . import lp

PRICE_ERROR_24H = 0.15  # [E] relative day-ahead price forecast error at 24 h lead
CO2_ERROR_24H = 0.10  # [E]
TEMP_ERROR_24H_K = 0.5  # [E] weather forecast error at 24 h lead


class MpcStrategy:
    """Rolling-horizon MILP on noisy forecasts.

    :param horizon_hours: planning horizon (h), 24–48 typical
    :param replan_hours: hours between re-plans (1 is textbook MPC; 6 is 6x cheaper)
    :param noise: scale of the forecast errors (0 gives perfect forecasts)
    :param seed: seed of the forecast errors
    :param integer: on/off binaries in each plan
    """

    name = "mpc"

    def __init__(self, horizon_hours: float = 36.0, replan_hours: float = 6.0, noise: float = 1.0, seed: int = 0,
                 integer: bool = True):  # fmt: skip
        assert horizon_hours >= replan_hours > 0, "need horizon_hours >= replan_hours > 0"
        self.horizon_hours = horizon_hours
        self.replan_hours = replan_hours
        self.noise = noise
        self.seed = seed
        self.integer = integer
        self.solves = 0
        self.solve_seconds = 0.0

    def reset(self, env_info: EnvInfo) -> None:
        self.env = env_info
        self.rng = np.random.default_rng(self.seed)
        dt = env_info.dt_h
        self.H = max(1, round(self.horizon_hours / dt))
        self.every = max(1, round(self.replan_hours / dt))
        p = env_info.params
        self.terminal_ref = np.array(
            [p[q.P_GAS_INIT] * p[q.P_HOLDER_NM3], p[q.P_STORE_INIT] * p[q.P_STORE_CAP], p[q.P_TANK_INIT] * p[q.P_WT_TANK]]
        )
        self._plan = np.zeros((0, q.N_ACTIONS))
        self._since = 0
        self.solves = 0
        self.solve_seconds = 0.0

    def forecast(self, t: int) -> np.ndarray:
        """The next H steps of the exogenous series as a forecaster would see them, ``(1, H, 6)``."""
        exo = self.env.exo
        rows = (t + np.arange(self.H)) % exo.shape[1]
        f = exo[self.env.series, rows].copy()
        lead = np.sqrt(np.arange(self.H) * self.env.dt_h / 24.0)  # errors grow like a random walk
        f[1:, q.E_PRICE] *= 1.0 + self.noise * PRICE_ERROR_24H * lead[1:] * self.rng.standard_normal(self.H - 1)
        f[1:, q.E_CO2] *= 1.0 + self.noise * CO2_ERROR_24H * lead[1:] * self.rng.standard_normal(self.H - 1)
        for c in (q.E_SEA_C, q.E_FRESH_C, q.E_AIR_C):
            f[1:, c] += self.noise * TEMP_ERROR_24H_K * lead[1:] * self.rng.standard_normal(self.H - 1)
        return f[None]

    def act(self, obs: np.ndarray, info: StepInfo) -> np.ndarray:
        if self._since >= len(self._plan) or self._since >= self.every:
            p = self.env.params
            fc = self.forecast(info.t)
            prof = lp.profile(p, fc, 0, 0, self.H, info.state)
            terminal = np.minimum(self.terminal_ref, info.state[[q.S_GAS, q.S_HEAT, q.S_TANK]])
            plan = lp.build_and_solve(p, prof, info.state, integer=self.integer, terminal=terminal, time_limit_s=30.0,
                                      mip_rel_gap=1e-3)  # fmt: skip
            self.solves += 1
            self.solve_seconds += plan.seconds
            self._plan = lp.plan_actions(p, plan)
            self._since = 0
        a = self._plan[self._since]
        self._since += 1
        return a
