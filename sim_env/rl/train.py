"""Train a scheduling agent (SB3 PPO or SAC) on the batched park twin, resumably.

A run folder holds everything needed to continue, evaluate or deploy it::

    runs/ppo-s1/
      config.yml            the hyperparameters actually used (zoo keys + constructor kwargs)
      checkpoints/          model_<steps>_steps.zip + vecnormalize (+ replay buffer for SAC)
      tb/                   TensorBoard logs
      eval/                 evaluations.npz on held-out years
      best_model.zip        best on the held-out years
      model.zip, vecnormalize.pkl   the final model and its normalisation statistics

Run ``train`` again on the same folder after an interruption: it resumes from the newest
checkpoint with the same statistics (and replay buffer), up to the same ``n_timesteps``. A
finished run (``model.zip`` written) is never trained over silently: a larger ``n_timesteps``
continues it from its final model, the same or a smaller one is refused (:class:`RunExists`),
and ``force=True`` deletes what an earlier ``train`` wrote there and starts afresh.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .config import TrainConfig

EnvFactory = Callable[[int, int, str, dict[str, Any]], Any]  # (n_envs, seed, split, env_kwargs) -> SB3 VecEnv


class RunExists(ValueError):
    """The run folder holds a finished run that this call would train over; the message says what to do."""


# what train() writes into a run folder; force=True removes exactly these (tb/ keeps its history)
RUN_FILES = ("model.zip", "vecnormalize.pkl", "best_model.zip", "config.yml")
RUN_DIRS = ("checkpoints", "eval")


def _finished_steps(folder: Path) -> int | None:
    """Steps of the final model of a finished run in ``folder`` (None when there is none)."""
    if not (folder / "model.zip").exists():
        return None
    import json
    import zipfile

    try:  # SB3 keeps num_timesteps in the zip's JSON "data"; no torch load needed
        with zipfile.ZipFile(folder / "model.zip") as z:
            return int(json.loads(z.read("data"))["num_timesteps"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise RunExists(f"{folder / 'model.zip'}: not a model of 'aisym train' ({e}); move it away or use --force") from None


def _clear_run(folder: Path) -> None:
    import shutil

    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)
    for name in RUN_DIRS:
        shutil.rmtree(folder / name, ignore_errors=True)


@dataclass
class TrainResult:
    folder: Path
    num_timesteps: int
    resumed_from: int


def _latest_checkpoint(folder: Path) -> tuple[Path, int] | None:
    best = None
    for p in (folder / "checkpoints").glob("model_*_steps.zip"):
        m = re.match(r"model_(\d+)_steps\.zip", p.name)
        if m and (best is None or int(m.group(1)) > best[1]):
            best = (p, int(m.group(1)))
    return best


def graph_env_factory(n_envs: int, seed: int, split: str, env_kwargs: dict[str, Any]):
    """Any park's compiled twin (``aisym/Park-v1``, ``env_kwargs["park"]``) as an SB3 VecEnv."""
    from sim_env.rl.envs import make_graph_vec_env

    return make_graph_vec_env(n_envs=n_envs, seed=seed, split=split, **env_kwargs)


ENV_FACTORIES: dict[str, EnvFactory] = {"aisym/Park-v1": graph_env_factory}


def env_factory_for(env_id: str) -> EnvFactory:
    """The VecEnv factory of a registered env id (``aisym/Park-v1``)."""
    try:
        return ENV_FACTORIES[env_id]
    except KeyError:
        raise ValueError(f"no training env {env_id!r}: use one of {', '.join(ENV_FACTORIES)}") from None


def train(
    cfg: TrainConfig,
    folder: str | Path,
    seed: int = 0,
    env_factory: EnvFactory | None = None,
    progress_bar: bool = True,
    checkpoint_every: int | None = None,
    verbose: int = 0,
    force: bool = False,
) -> TrainResult:
    """Train (or resume) one run.

    :param cfg: from :func:`sim_env.rl.config.load_config`
    :param folder: the run folder; an existing one with checkpoints is resumed
    :param seed: seeds SB3, torch and the training env; the same seed gives the same run
    :param env_factory: builds the training/evaluation VecEnvs (default: the one of ``cfg.env_id``)
    :param checkpoint_every: total env steps between checkpoints (default: ``cfg.eval_freq``)
    :param force: train a finished run's folder again from scratch (what an earlier run wrote is deleted)
    :raises RunExists: ``folder`` holds a finished run of ``cfg.n_timesteps`` steps or more and not ``force``
    """
    import torch as th
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback, EvalCallback
    from stable_baselines3.common.utils import set_random_seed
    from stable_baselines3.common.vec_env import VecNormalize

    folder = Path(folder)
    if force:
        _clear_run(folder)
    done = _finished_steps(folder)
    if done is not None and done >= cfg.n_timesteps:
        raise RunExists(f"{folder}: a finished run of {done:,} steps is there; give --timesteps above {done:,} to "
                        f"continue it, --force to train again from scratch (its model is deleted), or another --out")
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    th.set_num_threads(1)  # determinism, and on 2 cores the env and the learner share the CPU anyway
    set_random_seed(seed)
    cls = {"ppo": PPO, "sac": SAC}[cfg.algo]

    env_factory = env_factory or env_factory_for(cfg.env_id)
    env = env_factory(cfg.n_envs, seed, "train", cfg.env_kwargs)
    eval_env = env_factory(1, seed + 10_000, "eval", cfg.env_kwargs)
    latest = _latest_checkpoint(folder)
    stats = latest[0].parent / f"model_vecnormalize_{latest[1]}_steps.pkl" if latest else None
    buffer = latest[0].parent / f"model_replay_buffer_{latest[1]}_steps.pkl" if latest else None
    if done is not None and (latest is None or latest[1] < done):  # continue from the final model, not an older one
        latest, stats = (folder / "model.zip", done), folder / "vecnormalize.pkl"
    if cfg.normalize:
        if stats is not None and stats.exists():
            env = VecNormalize.load(str(stats), env)
        else:
            env = VecNormalize(env, gamma=cfg.algo_kwargs.get("gamma", 0.99), **cfg.normalize)
        eval_env = VecNormalize(
            eval_env,
            training=False,
            norm_reward=False,
            **{k: v for k, v in cfg.normalize.items() if k not in ("norm_reward",)},
        )

    resumed_from = 0
    if latest is not None:
        model = cls.load(str(latest[0]), env=env, tensorboard_log=str(folder / "tb"), device="cpu")
        if cfg.algo == "sac" and buffer is not None and buffer.exists():
            model.load_replay_buffer(str(buffer))
        resumed_from = model.num_timesteps
    else:
        model = cls(
            cfg.policy, env, seed=seed, verbose=verbose, tensorboard_log=str(folder / "tb"), device="cpu", **cfg.algo_kwargs
        )
        (folder / "config.yml").write_text(yaml.safe_dump({**cfg.as_dict(), "seed": seed}, sort_keys=False))

    every = max((checkpoint_every or cfg.eval_freq) // cfg.n_envs, 1)
    callbacks = CallbackList(
        [
            CheckpointCallback(
                every,
                str(folder / "checkpoints"),
                name_prefix="model",
                save_replay_buffer=cfg.algo == "sac",
                save_vecnormalize=bool(cfg.normalize),
            ),
            EvalCallback(
                eval_env,
                n_eval_episodes=cfg.eval_episodes,
                eval_freq=max(cfg.eval_freq // cfg.n_envs, 1),
                log_path=str(folder / "eval"),
                best_model_save_path=str(folder),
                deterministic=True,
                verbose=0,
            ),
        ]
    )
    left = cfg.n_timesteps - model.num_timesteps
    if left > 0:
        model.learn(
            left,
            callback=callbacks,
            progress_bar=progress_bar,
            reset_num_timesteps=latest is None,
            tb_log_name=f"{cfg.algo}_s{seed}",
        )
    model.save(str(folder / "model.zip"))
    if cfg.normalize:
        env.save(str(folder / "vecnormalize.pkl"))
    env.close()
    eval_env.close()
    return TrainResult(folder, model.num_timesteps, resumed_from)


def load_run(folder: str | Path, env: Any | None = None):
    """The final model of a run and its VecNormalize (or None): ``(model, vec_normalize)``."""
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.vec_env import VecNormalize

    folder = Path(folder)
    try:
        cfg = yaml.safe_load((folder / "config.yml").read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{folder}: no config.yml; is this a folder written by 'aisym train'?") from None
    cls = {"ppo": PPO, "sac": SAC}[cfg["algo"]]
    model = cls.load(str(folder / "model.zip"), device="cpu")
    vn = None
    if (folder / "vecnormalize.pkl").exists():
        if env is None:
            import gymnasium as gym
            from stable_baselines3.common.vec_env import DummyVecEnv

            space_env = gym.Env()
            space_env.observation_space, space_env.action_space = model.observation_space, model.action_space
            env = DummyVecEnv([lambda: space_env])
        vn = VecNormalize.load(str(folder / "vecnormalize.pkl"), env)
        vn.training = False
        vn.norm_reward = False
    return model, vn
