"""Trained policies as strategies of the evaluation harness (:mod:`sim_env.evaluate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def action_layout(env_kwargs: dict) -> dict:
    """The agent's action parametrisation of a run (see :func:`sim_env.rl.actions.to_park_action`)."""
    return {"mode": env_kwargs.get("action_mode", "centered"), "scale": float(env_kwargs.get("residual_scale", 0.3))}


class PolicyStrategy:
    """A trained agent as a :class:`sim_env.evaluate.Strategy`.

    :param folder: a run folder from ``aisym train`` (SB3 model + VecNormalize) or an export
        folder from ``aisym export`` (ONNX, run with onnxruntime only)
    :param name: label in results (default: the folder name)
    """

    def __init__(self, folder: str | Path, name: str | None = None):
        folder = Path(folder)
        self.name = name or folder.name
        self._params = None
        self._horizon = 0
        if (folder / "policy.onnx").exists():
            from .onnx_policy import OnnxPolicy

            onnx = OnnxPolicy(folder)
            self._predict = onnx.predict
            self.layout = onnx.meta.get("agent_actions") or {"mode": "direct", "scale": 0.0}
        elif (folder / "model.zip").exists():
            import yaml

            from .train import load_run

            model, vn = load_run(folder)
            env_kwargs = yaml.safe_load((folder / "config.yml").read_text())["hyperparams"].get("env_kwargs") or {}
            self.layout = action_layout(env_kwargs)

            def predict(obs: np.ndarray) -> np.ndarray:
                x = vn.normalize_obs(obs) if vn is not None else obs
                return model.predict(x, deterministic=True)[0]

            self._predict = predict
        else:
            raise FileNotFoundError(f"{folder}: neither a run folder (model.zip) nor an export folder (policy.onnx)")

    def reset(self, env_info) -> None:
        self._params = env_info.params
        self._horizon = env_info.forecast_steps

    def act(self, obs: np.ndarray, info) -> np.ndarray:
        from .actions import to_park_action

        return to_park_action(self.layout["mode"], self._predict(obs), obs, self._params, self._horizon, self.layout["scale"])
