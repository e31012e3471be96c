"""Training on the batched twin: learning moves the policy, resume works, seeds repeat, export matches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim_env.evaluate import evaluate
from sim_env.rl.config import load_config
from sim_env.rl.envs import make_sb3_vec_env
from sim_env.rl.export import export_policy
from sim_env.rl.onnx_policy import OnnxPolicy
from sim_env.rl.strategy import PolicyStrategy
from sim_env.rl.train import load_run, train

HOURS = 24 * 7


def _cfg(steps: int, **extra):
    overrides = {
        "n_timesteps": steps,
        "n_envs": 8,
        "n_steps": 128,
        "batch_size": 256,
        "n_epochs": 4,
        "eval_freq": steps,
        "eval_episodes": 1,
        "env_kwargs": {"episode_hours": 168},
        **extra,
    }
    return load_config("ppo", overrides=overrides)


def _eval_objective(folder) -> float:
    return evaluate(PolicyStrategy(folder), hours=HOURS, exo_seed=1001).kpis["objective_eur"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One PPO run of 8,192 steps, with its untrained twin (same seed, 0 steps) for comparison."""
    root = tmp_path_factory.mktemp("rl")
    untrained = train(_cfg(1, n_steps=128), root / "untrained", seed=3, progress_bar=False)
    run = train(_cfg(8192), root / "ppo", seed=3, progress_bar=False)
    return untrained.folder, run.folder


def test_learning_moves_the_policy(trained):
    untrained, run = trained
    before, after = _eval_objective(untrained), _eval_objective(run)
    assert after < before * 0.9, (before, after)  # at least 10 % cheaper on a held-out week


def test_run_folder_has_checkpoints_logs_and_stats(trained):
    _, run = trained
    assert (run / "model.zip").exists() and (run / "vecnormalize.pkl").exists() and (run / "config.yml").exists()
    assert list((run / "checkpoints").glob("model_*_steps.zip"))
    assert list((run / "tb").rglob("events.out.tfevents.*"))
    assert (run / "eval" / "evaluations.npz").exists()


def test_resume_after_interruption(tmp_path):
    first = train(_cfg(2048), tmp_path / "run", seed=1, progress_bar=False, checkpoint_every=1024)
    assert first.num_timesteps == 2048 and first.resumed_from == 0
    # The process died here; the same command with a larger budget picks up the newest checkpoint.
    again = train(_cfg(4096), tmp_path / "run", seed=1, progress_bar=False, checkpoint_every=1024)
    assert again.resumed_from == 2048 and again.num_timesteps == 4096


def test_same_seed_same_result(tmp_path):
    a = train(_cfg(1024), tmp_path / "a", seed=7, progress_bar=False)
    b = train(_cfg(1024), tmp_path / "b", seed=7, progress_bar=False)
    ma, _ = load_run(a.folder)
    mb, _ = load_run(b.folder)
    for pa, pb in zip(ma.policy.parameters(), mb.policy.parameters(), strict=True):
        assert np.array_equal(pa.detach().numpy(), pb.detach().numpy())


def test_export_gives_the_same_actions_as_sb3(trained, tmp_path):
    _, run = trained
    model, vn = load_run(run)
    folder = export_policy(model, tmp_path / "export", vn, action_names=[f"a{i}" for i in range(10)])
    meta = json.loads((folder / "policy.json").read_text())
    assert meta["algorithm"] == "PPO" and meta["obs_normalization"] is not None
    policy = OnnxPolicy(folder)
    venv = make_sb3_vec_env(16, seed=5, split="eval")
    obs = venv.reset()
    for _ in range(20):
        expected, _ = model.predict(vn.normalize_obs(obs), deterministic=True)
        got = policy.predict(obs)
        np.testing.assert_allclose(got, expected, atol=1e-5)
        obs, *_ = venv.step(expected)
    with pytest.raises(ValueError, match="expects"):
        policy.predict(np.zeros(3))


def test_onnx_loader_imports_neither_torch_nor_sb3(trained, tmp_path):
    import subprocess
    import sys

    _, run = trained
    model, vn = load_run(run)
    folder = export_policy(model, tmp_path / "export", vn)
    code = (
        f"import sys, numpy as np; from sim_env.rl.onnx_policy import OnnxPolicy; p = OnnxPolicy({str(folder)!r}); "
        "p.predict(np.zeros(p.obs_dim)); bad = [m for m in ('torch', 'stable_baselines3') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_residual_rules_match_the_rule_strategy():
    from sim_env.baselines.rule import RuleStrategy
    from sim_env.core import TwinBatch
    from sim_env.rl.actions import rule_actions

    twin = TwinBatch(32, seed=3)
    twin.reset()
    rule = RuleStrategy()
    rule._p, rule._h = twin.P[0], twin.horizon
    rng = np.random.default_rng(0)
    for _ in range(30):
        twin.step(rng.uniform(0, 1, (32, 10)))
        obs = twin.OBS.astype(np.float32)
        expected = np.stack([rule.act(o, None) for o in obs])
        np.testing.assert_allclose(rule_actions(obs, twin.P, twin.horizon), expected, atol=1e-5)


def test_residual_policy_starts_at_the_rules(tmp_path):
    """With a zero residual the agent is the rule controller: same cost on the same week."""
    from sim_env.baselines import make_strategy
    from sim_env.rl.actions import compose

    class ZeroResidual:
        name = "zero"

        def reset(self, env_info):
            self.p, self.h = env_info.params, env_info.forecast_steps

        def act(self, obs, info):
            from sim_env.rl.actions import rule_actions

            return compose(rule_actions(obs, self.p, self.h)[0], np.zeros(10), 0.3)

    a = evaluate(ZeroResidual(), hours=HOURS, exo_seed=1001).kpis["objective_eur"]
    b = evaluate(make_strategy("rule"), hours=HOURS, exo_seed=1001).kpis["objective_eur"]
    assert a == pytest.approx(b, rel=1e-6)


def test_the_same_train_command_again_never_overwrites_a_finished_run(tmp_path):
    """Issue 18, finding 15: running the same ``aisym train`` again retrained from scratch over the model."""
    from sim_env.rl.train import RunExists

    folder = tmp_path / "run"
    first = train(_cfg(1024), folder, seed=1, progress_bar=False)
    model = (folder / "model.zip").read_bytes()
    with pytest.raises(RunExists, match=r"finished run of 1,024 steps.*--timesteps above 1,024.*--force"):
        train(_cfg(1024), folder, seed=1, progress_bar=False)
    assert (folder / "model.zip").read_bytes() == model  # untouched
    more = train(_cfg(2048), folder, seed=1, progress_bar=False)  # a larger budget continues the final model
    assert more.resumed_from == first.num_timesteps == 1024 and more.num_timesteps == 2048
    fresh = train(_cfg(1024), folder, seed=1, progress_bar=False, force=True)
    assert fresh.resumed_from == 0 and fresh.num_timesteps == 1024
    assert not any(int(p.stem.split("_")[1]) > 1024 for p in (folder / "checkpoints").glob("model_*_steps.zip"))
