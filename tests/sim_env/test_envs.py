"""The three entry points (Gymnasium env, native vector env, SB3 VecEnv) against the reference step."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim_env
from sim_env import params as q
from sim_env.envs import ParkEnv, ParkVectorEnv
from sim_env.params import OUT_NAMES
from sim_env.reference import step_reference


def _reference_rollout(p, exo, start, actions):
    state = q.initial_state(p)
    rewards, outs = [], []
    for i, a in enumerate(actions):
        state, out = step_reference(p, exo[0, (start + i) % exo.shape[1]], state, a)
        rewards.append(out["reward"])
        outs.append(out)
    return np.array(rewards), outs


def test_registered_env_passes_gymnasium_checker():
    env = gym.make(sim_env.ENV_ID, episode_hours=48)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.filterwarnings("ignore:We recommend you to use a symmetric")  # [0, 1] actions, by design (docs/twin.md)
def test_registered_env_passes_sb3_checker():
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_checker import check_env as sb3_check

    sb3_check(ParkEnv(episode_hours=48), warn=True)


def test_seeded_reset_is_deterministic():
    a = gym.make(sim_env.ENV_ID)
    b = gym.make(sim_env.ENV_ID)
    actions = np.random.default_rng(0).uniform(0, 1, (50, q.N_ACTIONS)).astype(np.float32)
    oa, _ = a.reset(seed=42)
    ob, _ = b.reset(seed=42)
    np.testing.assert_array_equal(oa, ob)
    for act in actions:
        ra, rb = a.step(act), b.step(act)
        np.testing.assert_array_equal(ra[0], rb[0])
        assert ra[1] == rb[1] and ra[4] == rb[4]
    oc, _ = b.reset(seed=43)
    assert not np.array_equal(oa, oc)  # another seed, another start hour


def test_pickled_env_continues_identically():
    import pickle

    env = gym.make(sim_env.ENV_ID, episode_hours=24)
    env.reset(seed=1)
    env.step(np.full(q.N_ACTIONS, 0.5, np.float32))
    twin = pickle.loads(pickle.dumps(env))
    for a in np.random.default_rng(2).uniform(0, 1, (5, q.N_ACTIONS)).astype(np.float32):
        r1, r2 = env.step(a), twin.step(a)
        np.testing.assert_array_equal(r1[0], r2[0])
        assert r1[1] == r2[1]
    venv = ParkVectorEnv(num_envs=3)
    venv.reset(seed=0)
    copy = pickle.loads(pickle.dumps(venv))
    np.testing.assert_array_equal(venv.step(np.zeros((3, q.N_ACTIONS)))[0], copy.step(np.zeros((3, q.N_ACTIONS)))[0])


def test_env_equals_reference(p, exo):
    env = gym.make(sim_env.ENV_ID, episode_hours=24, start=500)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    actions = np.random.default_rng(1).uniform(-0.1, 1.1, (24, q.N_ACTIONS))
    ref_rewards, ref_outs = _reference_rollout(p, exo, 500, actions)
    for i, a in enumerate(actions):
        obs, reward, terminated, truncated, info = env.step(a)
        assert reward == pytest.approx(ref_rewards[i], rel=1e-9)
        assert info["unmet_heat_kwh"] == pytest.approx(ref_outs[i]["unmet_heat_kwh"], rel=1e-9, abs=1e-9)
        assert set(OUT_NAMES) <= set(info)
        assert not terminated and truncated == (i == 23)


def test_info_array_mode_matches_named(p):
    named = ParkEnv(start=0)
    arr = ParkEnv(start=0, info="array")
    named.reset(seed=0)
    arr.reset(seed=0)
    a = np.full(q.N_ACTIONS, 0.6, np.float32)
    _, _, _, _, i1 = named.step(a)
    _, _, _, _, i2 = arr.step(a)
    np.testing.assert_array_equal([i1[n] for n in OUT_NAMES], i2["kpi"])


def test_vector_env_equals_reference_and_autoresets(p, exo):
    n, hours = 5, 6
    venv = gym.make_vec(sim_env.ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", episode_hours=hours)
    venv.reset(seed=7)
    twin = venv.unwrapped.twin
    starts = twin.t.copy()
    actions = np.random.default_rng(3).uniform(0, 1, (hours, n, q.N_ACTIONS))
    for i in range(hours):
        _, rewards, terminated, truncated, info = venv.step(actions[i])
        assert info["kpi"].shape == (n, len(OUT_NAMES)) and info["_kpi"].all()
        assert not terminated.any() and truncated.all() == (i == hours - 1)
        for k in range(n):
            ref, _ = _reference_rollout(p, exo, int(starts[k]), actions[: i + 1, k])
            assert rewards[k] == pytest.approx(ref[-1], rel=1e-9)
    # next step: every park resets (reward 0, not done), the step after runs again
    obs, rewards, _, truncated, info = venv.step(actions[0])
    assert np.all(rewards == 0) and not truncated.any() and not info["_kpi"].any()
    np.testing.assert_allclose(obs[:, :4], [twin.OBS[0, :4]] * n, rtol=1e-6)
    _, rewards, _, _, _ = venv.step(actions[0])
    assert np.all(rewards != 0)


def test_vector_env_runs_parallel_kernel():
    venv = ParkVectorEnv(num_envs=300, episode_hours=4, parallel=True)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (300, venv.twin.obs_dim) and obs.dtype == np.float32
    for _ in range(5):
        obs, rewards, _, _, _ = venv.step(np.full((300, q.N_ACTIONS), 0.5))
    assert np.isfinite(rewards).all() and venv.single_observation_space.contains(obs[0])
    serial = ParkVectorEnv(num_envs=300, episode_hours=4)
    serial.reset(seed=0)
    for _ in range(5):
        obs2, rewards2, _, _, _ = serial.step(np.full((300, q.N_ACTIONS), 0.5))
    np.testing.assert_array_equal(obs, obs2)
    np.testing.assert_array_equal(rewards, rewards2)


def test_sb3_vec_env_equals_reference_and_resets_same_step(p, exo):
    pytest.importorskip("stable_baselines3")
    from sim_env.sb3 import ParkSB3VecEnv

    n, hours = 3, 5
    venv = ParkSB3VecEnv(num_envs=n, seed=11, episode_hours=hours)
    venv.reset()
    starts = venv.twin.t.copy()
    actions = np.random.default_rng(4).uniform(0, 1, (hours, n, q.N_ACTIONS))
    for i in range(hours):
        _, rewards, dones, infos = venv.step(actions[i])
        for k in range(n):
            ref, _ = _reference_rollout(p, exo, int(starts[k]), actions[: i + 1, k])
            assert rewards[k] == pytest.approx(ref[-1], rel=1e-5)
    assert dones.all()
    assert all("terminal_observation" in info and info["TimeLimit.truncated"] for info in infos)
    assert venv.twin.elapsed.max() == 0  # reset within the same step
    assert venv.get_attr("render_mode") == [None] * n
