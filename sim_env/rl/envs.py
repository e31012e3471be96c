"""Environments for training and evaluating agents, with training and held-out weather years.

Weather/price "years" are exogenous series drawn from a seed (:func:`sim_env.graph.exogenous.generate`). Agents train on the
``TRAIN_YEARS`` series of seed ``TRAIN_SEED``; evaluation during training uses seed
``EVAL_SEED``; the leaderboard uses seeds ``BENCH_SEEDS``. No policy ever sees those years.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TRAIN_SEED = 0
TRAIN_YEARS = 8
EVAL_SEED = 1000
BENCH_SEEDS = (1001, 1002, 1003, 1004, 1005)


GRAPH_ENV_ID = "aisym/Park-v1"


def make_graph_vec_env(
    n_envs: int,
    seed: int,
    split: str = "train",
    park: str | Path | None = None,
    episode_hours: float = 168.0,
    forecast_hours: float = 24.0,
    train_years: int = TRAIN_YEARS,
    action_mode: str = "centered",
    reward: str = "full",
    baseline_action: float | str = 0.0,
    residual_scale: float = 0.3,
    specialise: str | None = "fold",
    **twin_kwargs: Any,
):
    """Any park's compiled twin (``aisym/Park-v1``) as an SB3 VecEnv, with the same year splits.

    :param n_envs: rows stepped together
    :param seed: seed of episode starts
    :param split: ``"train"`` (``train_years`` years of ``TRAIN_SEED``) or ``"eval"`` (one year of ``EVAL_SEED``)
    :param park: park file (v1 or v2), a graph, a compiled park, or None (Kråkøya)
    :param episode_hours: episode length (h)
    :param forecast_hours: horizon of the priced series in the observation (h)
    :param train_years: generated training years the rows are spread over
    :param action_mode: ``direct``, ``centered`` or ``residual`` on the park's generic rules
        (:mod:`sim_env.rl.shadow`)
    :param reward: ``full`` or ``baseline`` (training only, see :mod:`sim_env.rl.shadow`;
        evaluation always counts the full cost)
    :param baseline_action: the ``baseline`` reward's shadow rows: a fixed fraction, or ``"rule"``
    :param residual_scale: largest residual correction, as a fraction of each bound
    :param specialise: kernel specialisation of :class:`~sim_env.graph.twin.GraphTwin` (``"fold"``:
        about 8x faster once compiled; None: the generic kernel, compiled in seconds)
    """
    from stable_baselines3.common.vec_env import VecMonitor

    from sim_env.graph.sb3 import GraphSB3VecEnv

    from .shadow import wrap_graph_actions

    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    exo_seed, n_years = (TRAIN_SEED, train_years) if split == "train" else (EVAL_SEED, 1)
    venv = GraphSB3VecEnv(
        n_envs,
        seed=seed,
        park=park,
        episode_hours=episode_hours,
        forecast_hours=forecast_hours,
        exo_seed=exo_seed,
        n_years=n_years,
        specialise=specialise,
        **twin_kwargs,
    )
    return wrap_graph_actions(VecMonitor(venv), action_mode, reward if split == "train" else "full", baseline_action,
                              residual_scale)
