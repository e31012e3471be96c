"""Zoo-style hyperparameter files: the shipped ones load; bad ones get errors naming file, line, key."""

from __future__ import annotations

import pytest

from sim_env.rl.config import HYPERPARAMS_DIR, ConfigError, load_config


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_shipped_files_load(algo):
    cfg = load_config(algo)
    assert cfg.env_id == "aisym/Park-v1" and cfg.n_timesteps > 0 and cfg.n_envs >= 1
    assert (HYPERPARAMS_DIR / f"{algo}.yml").exists()


def test_schedule_and_activation(tmp_path):
    f = tmp_path / "ppo.yml"
    f.write_text("aisym/Park-v1:\n  learning_rate: lin_0.001\n  policy_kwargs: {net_arch: [32], activation_fn: relu}\n")
    cfg = load_config("ppo", path=f)
    assert cfg.algo_kwargs["learning_rate"](0.5) == pytest.approx(0.0005)
    assert cfg.algo_kwargs["policy_kwargs"]["activation_fn"].__name__ == "ReLU"


BAD = [
    ("typo", "aisym/Park-v1:\n  n_steps: 64\n  learnig_rate: 0.001\n", ":3: learnig_rate", "no hyperparameter"),
    ("yaml", "aisym/Park-v1:\n  n_steps: [64\n", ":3", "YAML syntax"),
    ("no entry", "CartPole-v1:\n  n_steps: 64\n", "", "no entry for 'aisym/Park-v1'"),
    ("negative steps", "aisym/Park-v1:\n  n_timesteps: -5\n", ":2: n_timesteps", "positive whole number"),
    ("bad schedule", "aisym/Park-v1:\n  learning_rate: lin_fast\n", ":2: learning_rate", "not a schedule"),
    ("bad activation", "aisym/Park-v1:\n  policy_kwargs: {activation_fn: sigmoid}\n", "policy_kwargs", "activation_fn"),
    ("bad normalize", "aisym/Park-v1:\n  normalize: {norm_obs: true, center: 1}\n", "normalize", "unknown VecNormalize"),
    ("cnn policy", "aisym/Park-v1:\n  policy: CnnPolicy\n", "policy", "only MlpPolicy"),
]


@pytest.mark.parametrize(("what", "text", "where", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_hyperparameter_file(tmp_path, what, text, where, words):
    f = tmp_path / "ppo.yml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config("ppo", path=f)
    assert str(f) in str(info.value) and where in str(info.value) and words in str(info.value)


def test_unknown_algorithm():
    with pytest.raises(ConfigError, match="use one of ppo, sac"):
        load_config("dqn")
