"""sim_env: the park's digital twin (Numba kernels, Gymnasium envs, scenarios, baselines).

Importing it registers ``aisym/Park-v0`` with Gymnasium::

    import gymnasium as gym
    import sim_env  # noqa: F401

    env = gym.make("aisym/Park-v0", episode_hours=24 * 7)
"""

from gymnasium.envs.registration import register, registry

ENV_ID = "aisym/Park-v0"

# Bump the version (-v1) when the reward or dynamics change.
if ENV_ID not in registry:
    register(
        id=ENV_ID,
        entry_point="sim_env.envs.park:ParkEnv",
        vector_entry_point="sim_env.envs.park:ParkVectorEnv",
    )

__all__ = ["ENV_ID"]
