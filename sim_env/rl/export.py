"""Export a trained SB3 policy (PPO or SAC) to ONNX with its normalisation and layout.

Writes ``policy.onnx`` (normalised observation in, deterministic action out) and ``policy.json``
(format, algorithm, observation/action names and bounds, VecNormalize statistics). Load it with
:class:`sim_env.rl.onnx_policy.OnnxPolicy`.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .onnx_policy import FORMAT


def _actor_module(model: Any):
    import torch as th

    policy = model.policy

    class PpoActor(th.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = policy.pi_features_extractor
            self.mlp = policy.mlp_extractor
            self.action_net = policy.action_net

        def forward(self, obs):
            return self.action_net(self.mlp.forward_actor(self.features(obs)))

    class SacActor(th.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.actor = policy.actor

        def forward(self, obs):
            mean, _log_std, _ = self.actor.get_action_dist_params(obs)
            return th.tanh(mean)

    name = type(model).__name__
    if name == "PPO":
        return PpoActor(), "gaussian_mean"
    if name == "SAC":
        return SacActor(), "squashed"
    raise ValueError(f"cannot export {name}: only PPO and SAC are supported")


def export_policy(
    model: Any,
    folder: str | Path,
    vec_normalize: Any | None = None,
    obs_names: list[str] | None = None,
    action_names: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``policy.onnx`` and ``policy.json`` into ``folder``; returns the folder.

    :param model: a trained SB3 ``PPO`` or ``SAC`` with a flat Box observation and action space
    :param vec_normalize: the ``VecNormalize`` used in training, whose observation statistics go in the JSON
    :param obs_names: one name per observation value (the twin's layout), for people reading the file
    :param action_names: one name per action value
    """
    import torch as th

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    module, output = _actor_module(model)
    module.eval()
    obs_dim = int(np.prod(model.observation_space.shape))
    dummy = th.zeros((1, obs_dim), dtype=th.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        th.onnx.export(
            module,
            (dummy,),
            str(folder / "policy.onnx"),
            input_names=["obs"],
            output_names=["action"],
            dynamic_axes={"obs": {0: "batch"}, "action": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    meta: dict[str, Any] = {
        "format": FORMAT,
        "algorithm": type(model).__name__,
        "action_output": output,
        "obs_dim": obs_dim,
        "action_dim": int(np.prod(model.action_space.shape)),
        "action_low": model.action_space.low.tolist(),
        "action_high": model.action_space.high.tolist(),
        "obs_names": obs_names or [],
        "action_names": action_names or [],
        "obs_normalization": None,
        **(extra or {}),
    }
    if vec_normalize is not None and vec_normalize.norm_obs:
        rms = vec_normalize.obs_rms
        meta["obs_normalization"] = {
            "mean": rms.mean.tolist(),
            "var": rms.var.tolist(),
            "epsilon": float(vec_normalize.epsilon),
            "clip_obs": float(vec_normalize.clip_obs),
        }
    (folder / "policy.json").write_text(json.dumps(meta, indent=1))
    return folder


def _graph_twin(env_kwargs: dict[str, Any], exo_seed: int = 0):
    from sim_env.graph.twin import GraphTwin

    return GraphTwin(1, env_kwargs.get("park"), dt_h=float(env_kwargs.get("dt_h", 1.0)),
                     forecast_hours=float(env_kwargs.get("forecast_hours", 24.0)), start=0, exo_seed=exo_seed)


def run_layout(env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The park layout (:mod:`sim_env.rl.layout`) a run of ``aisym/Park-v1`` trained on."""
    from .layout import layout_of_twin

    return layout_of_twin(_graph_twin(env_kwargs))


def reference_observations(env_kwargs: dict[str, Any], starts: tuple[int, ...] = (0, 2200, 4400, 6600)) -> np.ndarray:
    """Raw observations of the run's park on the held-out evaluation year, one per start, 12 h in
    (stores away from their initial levels), for checking an export against the trained model."""
    from .envs import EVAL_SEED

    twin = _graph_twin(env_kwargs, EVAL_SEED)
    rows = []
    half = np.full((1, len(twin.action_names)), 0.5)
    for start in starts:
        twin.reset(start=start)
        for _ in range(12):
            twin.step(half)
        rows.append(twin.OBS[0].copy())
    return np.array(rows)


def export_graph_run(run: str | Path, out: str | Path | None = None, name: str | None = None) -> Path:
    """Export a run of ``aisym/Park-v1``: ``policy.onnx`` and ``policy.json`` with the park's layout,
    its fingerprint, and reference observations with the trained model's actions on them.

    :param run: the run folder written by ``aisym train --env aisym/Park-v1``
    :param out: the export folder (default: ``RUN/export``)
    :param name: the policy's name in ``policy.json`` (default: the run folder's name)
    """
    import yaml

    from .layout import fingerprint
    from .strategy import action_layout
    from .train import load_run

    run = Path(run)
    model, vn = load_run(run)
    cfg = yaml.safe_load((run / "config.yml").read_text())
    env_kwargs = cfg["hyperparams"].get("env_kwargs") or {}
    layout = run_layout(env_kwargs)
    obs = reference_observations(env_kwargs)
    agent = model.predict(vn.normalize_obs(obs) if vn is not None else obs, deterministic=True)[0]
    extra = {
        "env_id": "aisym/Park-v1",
        "name": name or run.name,
        "park": layout["park"],
        "park_fingerprint": fingerprint(layout),
        "layout": layout,
        "agent_actions": action_layout(env_kwargs),
        "forecast_hours": float(env_kwargs.get("forecast_hours", 24.0)),
        "horizon": round(float(env_kwargs.get("forecast_hours", 24.0)) / float(env_kwargs.get("dt_h", 1.0))),
        "training": {"run": run.name, "num_timesteps": int(model.num_timesteps), "seed": cfg.get("seed"),
                     "env_kwargs": {k: (str(v) if k == "park" else v) for k, v in env_kwargs.items()}},
        "reference": {"obs": obs.tolist(), "agent_action": np.asarray(agent, dtype=np.float64).tolist()},
    }
    return export_policy(model, out or run / "export", vn, layout["observation_names"], layout["action_names"], extra)
