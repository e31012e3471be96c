"""How the agent acts on the park: direct, centred, or as a residual on the rules.

A residual policy: the agent corrects the plant engineer's rules instead of starting blind.

The rule-based controller (:mod:`sim_env.baselines.rule`) already schedules the park within a
few percent of the optimum; an agent that starts from random actions first has to relearn
water reuse, oxygen routing and heat demand before it can learn the price timing where the
remaining gap lies. Here the agent's action ``r`` in ``[-1, 1]`` is added to the rules'
action ``b``: ``a = clip(b + scale · r, 0, 1)``. With ``r = 0`` the agent *is* the rule
controller, so learning starts at its cost (Silver et al. 2018, "Residual Policy Learning",
arXiv:1812.06298; Johannink et al. 2019, "Residual Reinforcement Learning for Robot Control").

:func:`rule_actions` is the rules of :class:`~sim_env.baselines.rule.RuleStrategy` over a batch
(numpy only, so the ONNX loader can use it without SB3 or torch); a test keeps the two equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim_env import params as q


def rule_actions(
    obs: np.ndarray,
    P: np.ndarray,
    horizon: int,
    chp_on_level: float = 0.5,
    chp_min_level: float = 0.2,
    store_low: float = 0.4,
    store_high: float = 0.6,
) -> np.ndarray:
    """The rule controller's action fractions for each park of a batch.

    :param obs: raw (not normalised) observations ``(n, obs_dim)``
    :param P: parameter rows ``(n, N_PARAMS)`` (or one row for all)
    :param horizon: forecast steps in the observation
    """
    obs = np.atleast_2d(np.asarray(obs, dtype=np.float64))
    P = np.broadcast_to(np.atleast_2d(P), (obs.shape[0], q.N_PARAMS))
    gas, heat, tank = obs[:, 0], obs[:, 1], obs[:, 2]
    prices = obs[:, 4 : 5 + horizon] * 100.0
    price, mean = prices[:, 0], prices.mean(axis=1)
    a = np.zeros((obs.shape[0], q.N_ACTIONS))
    a[:, q.A_HEAT_RAS] = a[:, q.A_HEAT_DIG] = a[:, q.A_O2] = 1.0
    o2_value = np.where(P[:, q.P_X_O2] > 0, P[:, q.P_O2_PRICE] * P[:, q.P_ELY_O2_RATIO], 0.0)
    kwh_kg = P[:, q.P_ELY_KWH_KG]
    breakeven = np.where(kwh_kg > 0, 1000.0 * (P[:, q.P_H2_PRICE] + o2_value) / np.where(kwh_kg > 0, kwh_kg, 1.0), 0.0)
    a[:, q.A_ELY] = (price + P[:, q.P_GRID_FEE] < breakeven).astype(float)
    a[:, q.A_CHP] = ((gas > chp_on_level) | ((gas > chp_min_level) & (price > mean))).astype(float)
    a[:, q.A_UPG] = np.clip((gas - 0.4) / 0.4, 0.0, 1.0)
    a[:, q.A_FLARE] = (gas > 0.95).astype(float)
    hp = np.clip((store_high - heat) / (store_high - store_low), 0.0, 1.0)
    a[:, q.A_HP] = np.where((price > 1.5 * mean) & (heat > 0.2), 0.0, hp)
    a[:, q.A_REUSE] = 1.0
    wt_cap = P[:, q.P_WT_CAP]
    steady = np.where(wt_cap > 0, P[:, q.P_REUSE_CAP] / np.where(wt_cap > 0, wt_cap, 1.0), 0.0)
    a[:, q.A_TREAT] = np.where(tank < 0.5, 1.0, steady)
    return a


def compose(base: np.ndarray, residual: np.ndarray, scale: float) -> np.ndarray:
    """``clip(base + scale · residual, 0, 1)``: the action the park receives."""
    return np.clip(base + scale * np.asarray(residual, dtype=np.float64), 0.0, 1.0)


ACTION_MODES = ("direct", "centered", "residual")


def to_park_action(
    mode: str, agent_action: np.ndarray, obs: np.ndarray, params: np.ndarray, horizon: int, scale: float = 0.3
) -> np.ndarray:
    """The park's action fractions from the agent's action, for each parametrisation.

    - ``direct``: the agent acts in the park's ``[0, 1]`` box (clipped);
    - ``centered``: the agent acts in ``[-1, 1]``, mapped to ``[0, 1]`` (an untrained policy,
      whose mean is 0, then asks for half of every bound instead of nothing);
    - ``residual``: the agent corrects the rule controller by at most ``scale`` of each bound.
    """
    a = np.asarray(agent_action, dtype=np.float64)
    if mode == "direct":
        return np.clip(a, 0.0, 1.0)
    if mode == "centered":
        return np.clip(0.5 * (a + 1.0), 0.0, 1.0)
    if mode == "residual":
        base = rule_actions(obs, params, horizon)
        return compose(base.reshape(a.shape) if a.ndim == 1 else base, a, scale)
    raise ValueError(f"action mode {mode!r}: use one of {', '.join(ACTION_MODES)}")


def fixed_cost_eur(obs: np.ndarray, P: np.ndarray, horizon: int) -> np.ndarray:
    """The step's cost of the loads no action changes (farm and digester base power, its CO2).

    It depends on the exogenous price and CO2 intensity only, so adding it back to the reward
    (``reward: controllable``) changes no policy's ranking; it removes the largest share of the
    reward's variance, which the value function could only partly predict from a 24 h forecast.
    """
    obs = np.atleast_2d(obs)
    P = np.broadcast_to(np.atleast_2d(P), (obs.shape[0], q.N_PARAMS))
    kwh = (P[:, q.P_RAS_EL_KW] + P[:, q.P_DIG_EL_KW]) * P[:, q.P_DT_H]
    price = obs[:, 4].astype(np.float64) * 100.0
    co2_g_per_kwh = obs[:, 5 + horizon].astype(np.float64) * 100.0
    return kwh * (price + P[:, q.P_GRID_FEE]) / 1000.0 + kwh * co2_g_per_kwh / 1e6 * P[:, q.P_CARBON_PRICE]


def wrap_agent_actions(venv: Any, mode: str, scale: float = 0.3, reward: str = "full"):
    """Wrap an SB3 VecEnv of the twin so that the agent acts in ``mode`` (see :func:`to_park_action`).

    :param venv: a VecEnv whose innermost env is :class:`sim_env.sb3.ParkSB3VecEnv` (raw observations)
    :param mode: ``direct``, ``centered`` or ``residual``
    :param scale: largest residual change (fraction of each bound)
    :param reward: ``full`` (the env's reward) or ``controllable`` (plus :func:`fixed_cost_eur`)
    """
    if reward not in ("full", "controllable"):
        raise ValueError(f"reward {reward!r}: use 'full' or 'controllable'")
    if mode == "direct" and reward == "full":
        return venv
    if mode not in ACTION_MODES:
        raise ValueError(f"action mode {mode!r}: use one of {', '.join(ACTION_MODES)}")
    from gymnasium import spaces
    from stable_baselines3.common.vec_env import VecEnvWrapper

    twin = venv.unwrapped.twin if hasattr(venv, "unwrapped") else venv.venv.twin

    class AgentActionVecEnv(VecEnvWrapper):
        def __init__(self) -> None:
            n = venv.action_space.shape[0]
            box = venv.action_space if mode == "direct" else spaces.Box(-1.0, 1.0, (n,), dtype=np.float32)
            super().__init__(venv, action_space=box)
            self._fixed: np.ndarray | float = 0.0
            self._obs = np.zeros((venv.num_envs, venv.observation_space.shape[0]), dtype=np.float32)

        def reset(self):
            self._obs = self.venv.reset()
            return self._obs

        def step_async(self, actions: np.ndarray) -> None:
            self._fixed = fixed_cost_eur(self._obs, twin.P, twin.horizon) if reward == "controllable" else 0.0
            self.venv.step_async(to_park_action(mode, actions, self._obs, twin.P, twin.horizon, scale))

        def step_wait(self):
            obs, rewards, dones, infos = self.venv.step_wait()
            self._obs = obs
            return obs, (rewards + self._fixed).astype(np.float32), dones, infos

    return AgentActionVecEnv()
