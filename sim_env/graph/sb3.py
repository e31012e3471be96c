"""``GraphSB3VecEnv``: any park's compiled twin as a Stable-Baselines3 ``VecEnv``.

SB3 resets finished envs within the step and leaves the last observation in
``infos[i]["terminal_observation"]``. One kernel call steps the batch; per-step outputs stay in
:attr:`kpi` (an array), so no info dict per env is built on the hot path.

Stable-Baselines3 is an optional dependency (``pip install "aisym[rl]"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from ..sb3 import ParkSB3VecEnv  # raises the install hint when stable-baselines3 is missing
from .envs import _spaces
from .twin import GraphTwin


class GraphSB3VecEnv(ParkSB3VecEnv):
    """N rows of one park as one SB3 VecEnv (the stepping, resets and SB3 plumbing of
    :class:`sim_env.sb3.ParkSB3VecEnv`, over a :class:`~sim_env.graph.twin.GraphTwin`).

    :param num_envs: rows
    :param seed: seed of episode starts (``VecEnv.seed`` changes it later)
    :param kwargs: :class:`~sim_env.graph.twin.GraphTwin` arguments (``park``, ``dt_h``,
        ``forecast_hours``, ``episode_hours``, ``start``, ``exo_seed``, ``n_years``, ``mask``)
    """

    def __init__(self, num_envs: int = 1, seed: int | None = None, **kwargs: Any):
        self.twin = GraphTwin(num_envs, seed=seed, **kwargs)
        observation_space, action_space = _spaces(self.twin)
        self.render_mode = None
        VecEnv.__init__(self, num_envs, observation_space, action_space)
        self.kpi_names, self.action_names = self.twin.kpi_names, self.twin.action_names
        self.kpi = self.twin.Y  # the reward is column 0, as in the hand-written twin's outputs
        self._actions = np.zeros((num_envs, action_space.shape[0]))
        self._rng = np.random.default_rng(seed)
        self._episode_return = np.zeros(num_envs)

    def step_async(self, actions: np.ndarray) -> None:
        a = np.asarray(actions, dtype=np.float64)
        if a.shape != self._actions.shape:
            raise ValueError(f"actions must have shape {self._actions.shape} (envs, actions), got {a.shape}")
        self._actions[...] = a
