"""Training runs on the compiled twin (``aisym/Park-v1``): resume, seeding and never training over a finished run.

Small runs (256–512 steps of 4 rows, the generic kernel, 24 h episodes): what is tested is the
run folder's life, not what the agent learns (that is benchmarks/bench_rl_graph.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_env.rl.config import load_config, set_park
from sim_env.rl.train import RunExists, load_run, train

KRAAKOYA = "aisym/parks/kraakoya.yaml"


def _cfg(steps: int):
    overrides = {"n_timesteps": steps, "n_envs": 4, "n_steps": 64, "batch_size": 128, "n_epochs": 1,
                 "eval_freq": steps, "eval_episodes": 1}
    cfg = load_config("ppo", "aisym/Park-v1", overrides=overrides)
    set_park(cfg, KRAAKOYA)
    cfg.env_kwargs.update(episode_hours=24, specialise=None, train_years=2)
    cfg.raw["env_kwargs"] = dict(cfg.env_kwargs)
    return cfg


def test_resume_after_interruption(tmp_path):
    first = train(_cfg(256), tmp_path / "run", seed=1, progress_bar=False, checkpoint_every=128)
    assert first.num_timesteps == 256 and first.resumed_from == 0
    assert list((tmp_path / "run" / "checkpoints").glob("model_*_steps.zip"))
    # The process died here; the same command with a larger budget picks up the newest checkpoint.
    again = train(_cfg(512), tmp_path / "run", seed=1, progress_bar=False, checkpoint_every=128)
    assert again.resumed_from == 256 and again.num_timesteps == 512


def test_same_seed_same_result(tmp_path):
    a = train(_cfg(256), tmp_path / "a", seed=7, progress_bar=False)
    b = train(_cfg(256), tmp_path / "b", seed=7, progress_bar=False)
    ma, _ = load_run(a.folder)
    mb, _ = load_run(b.folder)
    for pa, pb in zip(ma.policy.parameters(), mb.policy.parameters(), strict=True):
        assert np.array_equal(pa.detach().numpy(), pb.detach().numpy())


def test_the_same_train_command_again_never_overwrites_a_finished_run(tmp_path):
    """Issue 18, finding 15: running the same ``aisym train`` again retrained from scratch over the model."""
    folder = tmp_path / "run"
    first = train(_cfg(256), folder, seed=1, progress_bar=False)
    model = (folder / "model.zip").read_bytes()
    with pytest.raises(RunExists, match=r"finished run of 256 steps.*--timesteps above 256.*--force"):
        train(_cfg(256), folder, seed=1, progress_bar=False)
    assert (folder / "model.zip").read_bytes() == model  # untouched
    more = train(_cfg(512), folder, seed=1, progress_bar=False)  # a larger budget continues the final model
    assert more.resumed_from == first.num_timesteps == 256 and more.num_timesteps == 512
    fresh = train(_cfg(256), folder, seed=1, progress_bar=False, force=True)
    assert fresh.resumed_from == 0 and fresh.num_timesteps == 256
