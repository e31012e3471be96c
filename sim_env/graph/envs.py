"""Any park's compiled twin as a Gymnasium env (``aisym/Park-v1``) and a native vector env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .kernel import Y_REWARD
from .twin import GraphTwin


def _spaces(twin: GraphTwin) -> tuple[spaces.Box, spaces.Box]:
    n_obs = len(twin.observation_names)
    observation = spaces.Box(-np.inf, np.inf, shape=(n_obs,), dtype=np.float32)
    action = spaces.Box(0.0, 1.0, shape=(len(twin.action_names),), dtype=np.float32)
    return observation, action


def _check_action(action, n: int, names: list[str]) -> np.ndarray:
    a = np.asarray(action, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"action must have shape ({n},): one fraction in [0, 1] per action ({', '.join(names)}); "
                         f"got shape {a.shape}")
    return a


class GraphParkEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description
    The digital twin of any park, compiled from its description (v1 or v2 file): every asset
    and exchange in the file is simulated (docs/twin.md, "Step semantics"). Default: the
    Kråkøya-like biopark.

    ## Action Space
    ``Box(0, 1, (n_actions,), float32)``: one fraction per controllable element, named in
    :attr:`action_names` (sorted ids: setpoint converters at a fraction of rated load,
    controllable exchanges at a fraction of capacity, flares at a fraction of ``max``), with
    units in :attr:`action_units`. Infeasible requests are clipped; ``info["clip_total"]``
    and the ``clip:<action>`` KPIs say by how much. A wrong-shaped action raises ``ValueError``.

    ## Observation Space
    ``Box(-inf, inf, (n,), float32)``, named in :attr:`observation_names`: store levels,
    every exogenous series now (scaled to order 1), the priced series ``forecast_hours``
    ahead, and the time of day and year (see :mod:`sim_env.graph.twin`).

    ## Rewards
    ``−(cost + carbon price × CO2)`` per step in the park's currency: market imports less
    exports, purchases, backup bought for unmet needs, disposal and transport costs.

    ## Starting State
    Stores at their ``initial`` fraction; a random (``start="random"``) or fixed start step.

    ## Episode End
    - Termination: never (infeasible requests are clipped, not failures).
    - Truncation: after ``episode_hours``.

    ## Arguments
    ``park`` (compiled park, graph, path or None), ``dt_h`` (1.0), ``forecast_hours`` (24),
    ``episode_hours`` (168), ``start``, ``exo_seed``, ``n_years``, ``mask`` (an edge-mask row),
    ``info`` (``"named"``: the head KPIs as a dict; ``"array"``: ``info["kpi"]``, every output
    in :attr:`kpi_names` order), ``specialise`` (``"fold"``: a kernel generated for this park,
    about 8x faster per step once compiled; its first compile on a machine takes 1–3 min).

    ## Version History
    - v1: compiled from the park graph, any park; observation and actions named per park.
    - v0: the hand-written Kråkøya twin (``aisym/Park-v0``), retired in issue 22.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - Gymnasium's convention

    def __init__(self, park=None, dt_h: float = 1.0, forecast_hours: float = 24.0, episode_hours: float = 168.0,
                 start: str | int = "random", exo_seed: int = 0, n_years: int = 1, mask: np.ndarray | None = None,
                 info: str = "named", specialise: str | None = None, render_mode: str | None = None):
        if render_mode is not None:
            raise ValueError("GraphParkEnv has no render modes")
        if info not in ("named", "array"):
            raise ValueError(f"info must be 'named' or 'array', got {info!r}")
        self.twin = GraphTwin(1, park, dt_h=dt_h, forecast_hours=forecast_hours, episode_hours=episode_hours,
                              start=start, exo_seed=exo_seed, n_years=n_years,
                              mask=None if mask is None else np.asarray(mask, dtype=np.float64)[None],
                              specialise=specialise)
        self.observation_space, self.action_space = _spaces(self.twin)
        self.action_names, self.action_units = self.twin.action_names, self.twin.action_units
        self.observation_names, self.kpi_names = self.twin.observation_names, self.twin.kpi_names
        self._named = info == "named"
        self._head = self.kpi_names[:8]
        self._A = np.zeros((1, len(self.action_names)))
        self.render_mode = render_mode

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.twin.reset(rng=self.np_random, start=(options or {}).get("start"))
        return self.twin.OBS[0].astype(np.float32), {}

    def step(self, action: np.ndarray):
        self._A[0] = _check_action(action, self._A.shape[1], self.action_names)
        truncated = bool(self.twin.step(self._A)[0])
        Y = self.twin.Y[0]
        info = dict(zip(self._head, Y[:8].tolist(), strict=True)) if self._named else {"kpi": Y.copy()}
        return self.twin.OBS[0].astype(np.float32), float(Y[Y_REWARD]), False, truncated, info


class GraphParkVectorEnv(VectorEnv):
    """N rows of one park as a native vector env: one kernel call steps them all.

    Same spaces, reward and episode end as :class:`GraphParkEnv`; autoreset ``NEXT_STEP``;
    ``info["kpi"]`` is ``(num_envs, len(kpi_names))``, masked by ``info["_kpi"]``.

    :param num_envs: rows
    :param kwargs: as :class:`GraphParkEnv` (``mask`` here is ``(num_envs, n_exchanges)``)
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **kwargs: Any):
        if render_mode is not None:
            raise ValueError("GraphParkVectorEnv has no render modes")
        self.twin = GraphTwin(num_envs, **kwargs)
        self.num_envs = num_envs
        self.single_observation_space, self.single_action_space = _spaces(self.twin)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.kpi_names, self.action_names = self.twin.kpi_names, self.twin.action_names
        self.observation_names = self.twin.observation_names
        self.render_mode = render_mode
        self._prev_done = np.zeros(num_envs, dtype=bool)
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._rng = np.random.default_rng(seed) if seed is not None else self._rng
        self.twin.reset(rng=self._rng, start=(options or {}).get("start"))
        self._prev_done[:] = False
        return self.twin.OBS.astype(np.float32), {}

    def step(self, actions: np.ndarray):
        a = np.asarray(actions, dtype=np.float64)
        if a.shape != (self.num_envs, len(self.action_names)):
            raise ValueError(f"actions must have shape ({self.num_envs}, {len(self.action_names)}) (envs, actions), "
                             f"got {a.shape}")
        truncated = self.twin.step(a)
        reward = self.twin.Y[:, Y_REWARD].copy()
        stepped = ~self._prev_done
        if self._prev_done.any():
            self.twin.reset(self._prev_done, rng=self._rng)
            reward[self._prev_done] = 0.0
            truncated = truncated & stepped
        info = {"kpi": self.twin.Y.copy(), "_kpi": stepped}
        self._prev_done = truncated.copy()
        return self.twin.OBS.astype(np.float32), reward, np.zeros(self.num_envs, dtype=bool), truncated, info
