"""How the agent's action becomes the park's action fractions: direct or centred.

The residual mode (the agent corrects the park's generic rules) needs the rules' state and is
applied by :func:`sim_env.rl.graph_rules.residual` (training: :mod:`sim_env.rl.shadow`; a
trained policy: :class:`sim_env.rl.strategy.GraphPolicyStrategy`).
"""

from __future__ import annotations

import numpy as np

ACTION_MODES = ("direct", "centered", "residual")


def to_park_action(mode: str, agent_action: np.ndarray) -> np.ndarray:
    """The park's action fractions from the agent's action.

    - ``direct``: the agent acts in the park's ``[0, 1]`` box (clipped);
    - ``centered``: the agent acts in ``[-1, 1]``, mapped to ``[0, 1]`` (an untrained policy,
      whose mean is 0, then asks for half of every bound instead of nothing).
    """
    a = np.asarray(agent_action, dtype=np.float64)
    if mode == "direct":
        return np.clip(a, 0.0, 1.0)
    if mode == "centered":
        return np.clip(0.5 * (a + 1.0), 0.0, 1.0)
    if mode == "residual":
        raise ValueError("action mode 'residual' needs the park's rules: use sim_env.rl.graph_rules.residual")
    raise ValueError(f"action mode {mode!r}: use one of {', '.join(ACTION_MODES)}")
