"""sim_env: the park's digital twin (Numba kernels, Gymnasium envs, scenarios, baselines).

Importing it registers with Gymnasium ``aisym/Park-v1`` (any park, compiled from its
description) and ``aisym/Park-v0`` (the hand-written Kråkøya twin, kept as a reference)::

    import gymnasium as gym
    import sim_env  # noqa: F401

    env = gym.make("aisym/Park-v1", park="aisym/parks/kraakoya.yaml", episode_hours=24 * 7)
"""

from gymnasium.envs.registration import register, registry

ENV_ID = "aisym/Park-v0"
GRAPH_ENV_ID = "aisym/Park-v1"

# Bump the version (-v1) when the reward or dynamics change.
if ENV_ID not in registry:
    register(
        id=ENV_ID,
        entry_point="sim_env.envs.park:ParkEnv",
        vector_entry_point="sim_env.envs.park:ParkVectorEnv",
    )

if GRAPH_ENV_ID not in registry:
    register(
        id=GRAPH_ENV_ID,
        entry_point="sim_env.graph.envs:GraphParkEnv",
        vector_entry_point="sim_env.graph.envs:GraphParkVectorEnv",
    )

__all__ = ["ENV_ID", "GRAPH_ENV_ID"]
