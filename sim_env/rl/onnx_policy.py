"""Run an exported scheduling policy with onnxruntime only: no SB3, no torch.

The folder written by ``aisym export`` holds ``policy.onnx`` and ``policy.json`` (normalisation
statistics, observation and action layout). This module imports numpy and onnxruntime only, so
the cloud controller can load a policy on a small machine::

    policy = OnnxPolicy("runs/ppo/export")
    action = policy.predict(obs)          # same action as SB3's model.predict(obs, deterministic=True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "aisym-policy/1"


class OnnxPolicy:
    """A deterministic policy exported from SB3 (PPO or SAC).

    :param folder: the export folder (``policy.onnx`` + ``policy.json``)
    """

    def __init__(self, folder: str | Path):
        import onnxruntime as ort

        folder = Path(folder)
        try:
            self.meta: dict[str, Any] = json.loads((folder / "policy.json").read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"{folder}: no policy.json; is this a folder written by 'aisym export'?") from None
        if self.meta.get("format") != FORMAT:
            raise ValueError(f"{folder / 'policy.json'}: format {self.meta.get('format')!r}, expected {FORMAT!r}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self._session = ort.InferenceSession(str(folder / "policy.onnx"), opts, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        norm = self.meta.get("obs_normalization")
        self._mean = np.asarray(norm["mean"], dtype=np.float64) if norm else None
        self._var = np.asarray(norm["var"], dtype=np.float64) if norm else None
        self._eps = float(norm["epsilon"]) if norm else 0.0
        self._clip = float(norm["clip_obs"]) if norm else 0.0
        self.low = np.asarray(self.meta["action_low"], dtype=np.float32)
        self.high = np.asarray(self.meta["action_high"], dtype=np.float32)
        self.obs_dim = int(self.meta["obs_dim"])

    @property
    def obs_names(self) -> list[str]:
        return list(self.meta.get("obs_names", []))

    @property
    def action_names(self) -> list[str]:
        return list(self.meta.get("action_names", []))

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        if self._mean is None:
            return obs.astype(np.float32)
        # Same arithmetic as SB3's VecNormalize.normalize_obs (float64, then the policy's float32).
        out = np.clip((obs.astype(np.float64) - self._mean) / np.sqrt(self._var + self._eps), -self._clip, self._clip)
        return out.astype(np.float32)

    def predict(self, obs: np.ndarray) -> np.ndarray:
        """Action(s) for one observation ``(obs_dim,)`` or a batch ``(n, obs_dim)``."""
        obs = np.asarray(obs)
        single = obs.ndim == 1
        batch = obs.reshape(1, -1) if single else obs
        if batch.shape[1] != self.obs_dim:
            raise ValueError(f"observation has {batch.shape[1]} values, the policy expects {self.obs_dim}")
        raw = self._session.run(None, {self._input: self.normalize(batch)})[0]
        if self.meta["action_output"] == "squashed":  # SAC: tanh output in [-1, 1]
            act = self.low + 0.5 * (raw + 1.0) * (self.high - self.low)
        else:  # PPO: Gaussian mean, clipped to the box like SB3's predict
            act = np.clip(raw, self.low, self.high)
        act = act.astype(np.float32)
        return act[0] if single else act
