"""sim_env: the park's digital twin (compiled from any park's description), its envs, baselines and training.

Importing it registers ``aisym/Park-v1`` (any park, compiled from its description) with Gymnasium::

    import gymnasium as gym
    import sim_env  # noqa: F401

    env = gym.make("aisym/Park-v1", park="aisym/parks/kraakoya.yaml", episode_hours=24 * 7)
"""

from gymnasium.envs.registration import register, registry

GRAPH_ENV_ID = "aisym/Park-v1"

# Bump the version (-v2) when the reward or dynamics change. -v0 was the hand-written Kråkøya
# twin, retired in issue 22: the compiled twin is the only one.
if GRAPH_ENV_ID not in registry:
    register(
        id=GRAPH_ENV_ID,
        entry_point="sim_env.graph.envs:GraphParkEnv",
        vector_entry_point="sim_env.graph.envs:GraphParkVectorEnv",
    )

__all__ = ["GRAPH_ENV_ID"]
