"""``GraphSB3VecEnv``: any park's compiled twin as a Stable-Baselines3 ``VecEnv``.

SB3 resets finished envs within the step and leaves the last observation in
``infos[i]["terminal_observation"]``. One kernel call steps the batch; per-step outputs stay in
:attr:`kpi` (an array), so no info dict per env is built on the hot path.

Stable-Baselines3 is an optional dependency (``pip install "aisym[rl]"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv
except ModuleNotFoundError as e:  # pragma: no cover - depends on the install
    raise ModuleNotFoundError(
        'sim_env.graph.sb3 needs stable-baselines3: pip install "aisym[rl]" (with torch==2.13.0 in the same command)'
    ) from e

from .envs import _spaces
from .twin import GraphTwin


class GraphSB3VecEnv(VecEnv):
    """N rows of one park as one SB3 VecEnv over a :class:`~sim_env.graph.twin.GraphTwin`.

    :param num_envs: rows
    :param seed: seed of episode starts (``VecEnv.seed`` changes it later)
    :param kwargs: :class:`~sim_env.graph.twin.GraphTwin` arguments (``park``, ``dt_h``,
        ``forecast_hours``, ``episode_hours``, ``start``, ``exo_seed``, ``n_years``, ``mask``,
        ``parallel``: the rows stepped on all cores, worth it from a few hundred envs)
    """

    def __init__(self, num_envs: int = 1, seed: int | None = None, **kwargs: Any):
        self.twin = GraphTwin(num_envs, seed=seed, **kwargs)
        observation_space, action_space = _spaces(self.twin)
        self.render_mode = None
        super().__init__(num_envs, observation_space, action_space)
        self.kpi_names, self.action_names = self.twin.kpi_names, self.twin.action_names
        self.kpi = self.twin.Y  # the last step's outputs, (num_envs, len(kpi_names)); the reward is column 0
        self._actions = np.zeros((num_envs, action_space.shape[0]))
        self._rng = np.random.default_rng(seed)
        self._episode_return = np.zeros(num_envs)

    def step_async(self, actions: np.ndarray) -> None:
        a = np.asarray(actions, dtype=np.float64)
        if a.shape != self._actions.shape:
            raise ValueError(f"actions must have shape {self._actions.shape} (envs, actions), got {a.shape}")
        self._actions[...] = a

    def reset(self) -> np.ndarray:
        if any(s is not None for s in self._seeds):
            self._rng = np.random.default_rng(self._seeds[0])
        self._reset_seeds()
        self.twin.reset(rng=self._rng)
        self._episode_return[:] = 0.0
        return self.twin.OBS.astype(np.float32)

    def step_wait(self):
        done = self.twin.step(self._actions)
        rewards = self.twin.Y[:, 0].astype(np.float32)
        self._episode_return += self.twin.Y[:, 0]
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done.any():
            for i in np.flatnonzero(done):
                infos[i]["terminal_observation"] = self.twin.OBS[i].astype(np.float32)
                infos[i]["TimeLimit.truncated"] = True
                infos[i]["episode_return"] = float(self._episode_return[i])
            self._episode_return[done] = 0.0
            self.twin.reset(done, rng=self._rng)
        return self.twin.OBS.astype(np.float32), rewards, done.copy(), infos

    def close(self) -> None:
        pass

    def _indices(self, indices) -> Sequence[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self, attr_name) for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        return [getattr(self, method_name)(*method_args, **method_kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False for _ in self._indices(indices)]
