"""Uniformly random actions: the floor every strategy must beat."""

from __future__ import annotations

import numpy as np

from ..evaluate import EnvInfo, StepInfo
from ..params import N_ACTIONS


class RandomStrategy:
    """Draws every action fraction uniformly in [0, 1], seeded.

    :param seed: seed of the draws
    """

    name = "random"

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._actions = np.zeros((0, N_ACTIONS))

    def reset(self, env_info: EnvInfo) -> None:
        # Drawn in bulk: one Generator call per step costs more than the twin's step.
        self._actions = np.random.default_rng(self.seed).uniform(0.0, 1.0, size=(env_info.steps, N_ACTIONS))

    def act(self, obs: np.ndarray, info: StepInfo) -> np.ndarray:
        return self._actions[info.step]
