"""The perfect-foresight optimum: the whole run as one MILP (HiGHS), then replayed in the twin.

It knows the true exogenous series of the run, so no causal strategy can beat it; every other
strategy's optimality gap is measured against its objective (cost + carbon cost).
"""

from __future__ import annotations

import numpy as np

from ..evaluate import EnvInfo, StepInfo
from . import lp


class OptimumStrategy:
    """Solve the run's MILP in ``reset`` and play its schedule.

    :param integer: on/off binaries for CHP and electrolyser (False: LP relaxation, a bound)
    :param time_limit_s: HiGHS time limit (s)
    :param mip_rel_gap: relative MIP gap at which HiGHS stops
    :param progress: called with one line about twice a second while HiGHS solves; the harness
        sets it when it shows a progress bar
    :param end_values: end the gas holder, heat store and water tank no emptier than they started
        (as the compiled twin's optimum does) and price those end levels (``self.end_values``, EUR
        per Nm3, kWh, m3): the leaderboard values every run's stores at these prices
    """

    name = "optimum"

    def __init__(self, integer: bool = True, time_limit_s: float = 300.0, mip_rel_gap: float = 1e-4, progress=None,
                 end_values: bool = False):
        self.progress, self.price_ends = progress, end_values
        self.end_values: np.ndarray | None = None
        self.integer = integer
        self.time_limit_s = time_limit_s
        self.mip_rel_gap = mip_rel_gap
        self.plan: lp.Plan | None = None
        self._actions = np.zeros((0, 0))

    def reset(self, env_info: EnvInfo) -> None:
        p = env_info.params
        prof = lp.profile(p, env_info.exo, env_info.series, env_info.start, env_info.steps, env_info.state0)
        self.plan = lp.build_and_solve(
            p, prof, env_info.state0, integer=self.integer, time_limit_s=self.time_limit_s, mip_rel_gap=self.mip_rel_gap,
            progress=self.progress, end_values=self.price_ends,
            terminal=lp.start_levels(env_info.state0) if self.price_ends else None,
        )
        self.end_values = self.plan.end_values
        self._actions = lp.plan_actions(p, self.plan)

    def act(self, obs: np.ndarray, info: StepInfo) -> np.ndarray:
        return self._actions[info.step]
