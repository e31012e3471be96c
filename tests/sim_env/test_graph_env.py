"""``aisym/Park-v1``: any park's compiled twin through Gymnasium, the native vector env and SB3."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium.utils.env_checker import check_env

import sim_env  # noqa: F401 - registers the envs
from sim_env.graph.envs import GraphParkEnv
from tests.core.test_park_graph import SMALL


@pytest.fixture
def small_park(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    return path


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("which", ["kraakoya", "small"])
def test_env_passes_gymnasiums_checker_for_any_park(which, small_park):
    env = gym.make("aisym/Park-v1", park=None if which == "kraakoya" else small_park, episode_hours=24)
    check_env(env.unwrapped)
    u = env.unwrapped
    assert env.observation_space.shape == (len(u.observation_names),)
    assert env.action_space.shape == (len(u.action_names),)
    env.reset(seed=0)
    done, steps, total = False, 0, 0.0
    while not done:
        _, r, term, trunc, info = env.step(env.action_space.sample())
        total += r
        steps += 1
        done = term or trunc
    assert steps == 24 and np.isfinite(total) and set(info) >= {"cost", "co2_kg", "clip_total"}


def test_spaces_and_names_are_the_parks_own(small_park):
    env = GraphParkEnv(park=small_park, forecast_hours=3)
    assert env.action_names == []  # a park with nothing to control is a valid (if dull) env
    assert "now:price" in env.observation_names and "ahead3:price" in env.observation_names
    k = GraphParkEnv(forecast_hours=2)
    assert "level:heat_store.heat" in k.observation_names
    assert k.action_units[k.action_names.index("chp.engine")] == "kW"


def test_wrong_shaped_actions_are_refused():
    env = GraphParkEnv(episode_hours=4)
    env.reset(seed=0)
    n = len(env.action_names)
    for bad in (0.5, np.zeros(n + 1), np.zeros((1, n)), np.zeros((n, 1))):
        with pytest.raises(ValueError, match="action must have shape"):
            env.step(bad)
    vec = gym.make_vec("aisym/Park-v1", num_envs=3, vectorization_mode="vector_entry_point", episode_hours=4)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="actions must have shape"):
        vec.step(np.zeros((n, 3)))  # transposed


def test_vector_env_autoresets_and_matches_single_envs():
    vec = gym.make_vec("aisym/Park-v1", num_envs=2, vectorization_mode="vector_entry_point", episode_hours=3,
                       start=100)
    obs, _ = vec.reset(seed=0)
    single = GraphParkEnv(episode_hours=3, start=100)
    s_obs, _ = single.reset(seed=0)
    np.testing.assert_allclose(obs[0], s_obs)
    a = np.full((2, len(single.action_names)), 0.4)
    rewards = []
    for _ in range(4):
        _, r, _, _, _ = vec.step(a)
        rewards.append(r.copy())
    assert rewards[3][0] == 0.0  # the step after truncation resets (NEXT_STEP)
    for i in range(3):
        _, r1, _, trunc1, _ = single.step(a[0])
        assert r1 == pytest.approx(rewards[i][0], rel=1e-12)
    assert trunc1


def test_sb3_vec_env_trains_a_few_steps():
    sb3 = pytest.importorskip("stable_baselines3")
    from sim_env.graph.sb3 import GraphSB3VecEnv

    env = GraphSB3VecEnv(4, seed=0, episode_hours=24)
    model = sb3.PPO("MlpPolicy", env, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(256)
    assert env.kpi.shape == (4, len(env.kpi_names))
    with pytest.raises(ValueError, match="actions must have shape"):
        env.step_async(np.zeros(len(env.action_names)))
