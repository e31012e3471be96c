"""The agent's action box and a generic variance reduction of the reward on any compiled park.

The reward's variance is reduced by a **shadow row**: each training row has a twin row that starts from the
same state, in the same year and hour, and is stepped with one fixed action (``baseline_action``
for every fraction) or by the park's generic rules (``baseline_action: rule``,
:class:`sim_env.graph.baselines.GraphRules`, on the shadow's own levels). The agent is rewarded
with its step reward minus the shadow's::

    r'(t) = r(t) - r_shadow(t)

The shadow's reward depends on the year, the start and the fixed action only, never on the
agent's actions, so every policy's expected return moves by the same amount per start and no
ranking changes; what it removes is the share of each hour's cost that swings with prices and
weather whatever the agent does (the base loads at the spot price, the demands met by backup),
which the value function could only partly predict from a 24 h forecast. Evaluation
(:func:`sim_env.graph.evaluate.evaluate`, the eval env of training) always counts the full
cost; VecMonitor's episode returns (inside this wrapper) are the full cost too.

Action modes on any park: ``direct`` (the agent acts in ``[0, 1]``), ``centered`` (in ``[-1, 1]``,
mapped to ``[0, 1]``) and ``residual`` (``clip(rule + residual_scale · a, 0, 1)``, a correction of
the park's generic rules, :mod:`sim_env.rl.graph_rules`: with ``a = 0`` the agent is the rules).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnvWrapper

from sim_env.graph.kernel import Y_REWARD, Batch

from .actions import to_park_action
from .graph_rules import YearRules, residual

GRAPH_ACTION_MODES = ("direct", "centered", "residual")
GRAPH_REWARDS = ("full", "baseline")


def _graph_twin(venv: Any):
    inner = venv
    for _ in range(16):  # VecNormalize/VecMonitor/... down to GraphSB3VecEnv
        if hasattr(inner, "twin"):
            return inner.twin
        inner = getattr(inner, "venv", None)
        if inner is None:
            break
    raise TypeError("wrap_graph_actions needs a VecEnv over sim_env.graph.sb3.GraphSB3VecEnv")


class GraphAgentVecEnv(VecEnvWrapper):
    """The agent's box and reward over the compiled twin (see :func:`wrap_graph_actions`)."""

    def __init__(self, venv: Any, mode: str, reward: str, baseline_action: float | str, scale: float) -> None:
        self.twin = _graph_twin(venv)
        n = venv.action_space.shape[0]
        box = venv.action_space if mode == "direct" else spaces.Box(-1.0, 1.0, (n,), dtype=np.float32)
        super().__init__(venv, action_space=box)
        self.mode, self.scale = mode, scale
        self.rules = YearRules(self.twin) if mode == "residual" or baseline_action == "rule" else None
        self.shadow: Batch | None = None
        self._base = np.zeros(venv.num_envs)
        if reward == "baseline":
            b = self.twin.batch
            specialise = "fold" if b._args is not None else None
            self.shadow = Batch(self.twin.cp, b.coef, b.K, b.mask.copy(), specialise=specialise)
            self._fixed = None if baseline_action == "rule" else np.full((b.K, self.twin.cp.n_actions),
                                                                          float(baseline_action))

    def _sync(self, rows: np.ndarray | None = None) -> None:
        b, s = self.twin.batch, self.shadow
        s.t[:] = b.t  # in place: the specialised kernel holds these arrays
        s.ser[:] = b.ser
        if rows is None:
            s.S[:] = b.S
        elif rows.any():
            s.S[rows] = b.S[rows]

    def reset(self):
        obs = self.venv.reset()
        if self.shadow is not None:
            self._sync()
        return obs

    def park_action(self, actions: np.ndarray) -> np.ndarray:
        """The fractions the park receives for the agent's ``actions`` (rows at their current step)."""
        if self.mode == "residual":
            b = self.twin.batch
            return residual(self.rules(b.S, b.t, b.ser), actions, self.scale)
        return to_park_action(self.mode, actions)

    def step_async(self, actions: np.ndarray) -> None:
        if self.shadow is not None:  # from the same hour as the agent's rows, before they step
            s = self.shadow
            fixed = self._fixed if self._fixed is not None else self.rules(s.S, s.t, s.ser)
            self._base = s.step(fixed)[:, Y_REWARD].copy()
        self.venv.step_async(self.park_action(actions))

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        if self.shadow is None:
            return obs, rewards, dones, infos
        self._sync(np.asarray(dones, dtype=bool))  # finished rows restarted: their shadows restart with them
        return obs, (rewards - self._base).astype(np.float32), dones, infos


def wrap_graph_actions(venv: Any, mode: str = "centered", reward: str = "full", baseline_action: float | str = 0.0,
                       residual_scale: float = 0.3):
    """Wrap a VecEnv of the compiled twin so that the agent acts in ``mode`` and is rewarded by ``reward``.

    :param venv: a VecEnv whose innermost env is :class:`sim_env.graph.sb3.GraphSB3VecEnv`
    :param mode: ``direct``, ``centered`` or ``residual`` (see the module docstring)
    :param reward: ``full`` (the env's reward) or ``baseline`` (minus a shadow row's, see the module docstring)
    :param baseline_action: the shadow rows' fixed fraction for every action, or ``"rule"``
    :param residual_scale: the largest residual correction, as a fraction of each bound
    """
    if mode not in GRAPH_ACTION_MODES:
        raise ValueError(f"action mode {mode!r} on the compiled twin: use one of {', '.join(GRAPH_ACTION_MODES)}")
    if reward not in GRAPH_REWARDS:
        raise ValueError(f"reward {reward!r} on the compiled twin: use one of {', '.join(GRAPH_REWARDS)} "
                         "(controllable was the retired hand-written twin's, aisym/Park-v0)")
    if baseline_action != "rule" and not (isinstance(baseline_action, int | float) and 0.0 <= baseline_action <= 1.0):
        raise ValueError(f"baseline_action must be a fraction in [0, 1] or 'rule', got {baseline_action!r}")
    if not 0.0 < residual_scale <= 1.0:
        raise ValueError(f"residual_scale must be in (0, 1], got {residual_scale!r}")
    if mode == "direct" and reward == "full":
        return venv
    return GraphAgentVecEnv(venv, mode, reward, baseline_action, residual_scale)
