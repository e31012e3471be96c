"""Trained policies as strategies of the evaluation harness (:mod:`sim_env.graph.evaluate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def action_layout(env_kwargs: dict) -> dict:
    """The agent's action parametrisation of a run (see :func:`sim_env.rl.actions.to_park_action`)."""
    return {"mode": env_kwargs.get("action_mode", "centered"), "scale": float(env_kwargs.get("residual_scale", 0.3))}


def _layout_from_info(info) -> dict:
    from .layout import park_layout

    cp = info.cp
    return park_layout(cp.graph.park.id, cp.node_keys, cp.link_ids, info.observation_names, info.action_names, info.dt_h)


class GraphPolicyStrategy:
    """A policy trained on ``aisym/Park-v1`` as a strategy of :func:`sim_env.graph.evaluate.evaluate`.

    Refuses, at :meth:`reset`, a park whose layout (components, exchanges, observation and action
    names, step; :mod:`sim_env.rl.layout`) is not the one it was trained on.

    :param policy: a shipped policy's name (``kraakoya_ppo``, see :mod:`sim_env.rl.shipped`), an export
        folder (``policy.onnx`` + ``policy.json``, run with onnxruntime only) or a run folder of
        ``aisym train --env aisym/Park-v1`` (SB3 model + VecNormalize)
    :param name: label in results (default: the folder name)
    """

    def __init__(self, policy: str | Path, name: str | None = None):
        from .shipped import policy_folder

        folder = policy_folder(policy)
        self.folder = folder
        self.name = name or folder.name
        if (folder / "policy.onnx").exists():
            from .onnx_policy import OnnxPolicy

            onnx = OnnxPolicy(folder)
            meta = onnx.meta
            if meta.get("env_id") != "aisym/Park-v1" or "layout" not in meta:
                raise ValueError(f"{folder / 'policy.json'}: not a policy of the compiled twin (env_id "
                                 f"{meta.get('env_id')!r}; aisym/Park-v0, the hand-written twin, was retired)")
            self.layout, self.meta = meta["layout"], meta
            agent = meta.get("agent_actions") or {}
            self.mode, self.scale = agent.get("mode", "direct"), float(agent.get("scale", 0.0))
            self._predict = onnx.predict
        else:
            import yaml

            from .train import load_run

            model, vn = load_run(folder)
            cfg = yaml.safe_load((folder / "config.yml").read_text())
            if cfg.get("env_id") != "aisym/Park-v1":
                raise ValueError(f"{folder}: trained on {cfg.get('env_id')!r}, not aisym/Park-v1 (the only twin)")
            env_kwargs = cfg["hyperparams"].get("env_kwargs") or {}
            agent = action_layout(env_kwargs)
            self.mode, self.scale = agent["mode"], agent["scale"]
            self.layout, self.meta = None, {"env_kwargs": env_kwargs}

            def predict(obs: np.ndarray) -> np.ndarray:
                x = vn.normalize_obs(obs) if vn is not None else obs
                return model.predict(x, deterministic=True)[0]

            self._predict = predict

    def _misfit(self, actual: dict) -> str | None:
        from .layout import layout_mismatch

        if self.layout is None:  # a run folder: its park, compiled as in training
            from .export import run_layout

            self.layout = run_layout(self.meta["env_kwargs"])
        why = layout_mismatch(self.layout, actual)
        if why is None:
            return None
        return (f"policy {self.folder} was trained on park {self.layout['park']!r} and does not fit "
                f"park {actual['park']!r}: {why}")

    def misfit(self, cp, forecast_hours: float = 24.0) -> str | None:
        """Why this policy cannot run compiled park ``cp`` as the harness runs it (None: it fits); nothing is stepped."""
        from sim_env.graph.twin import GraphTwin

        from .layout import park_layout

        twin = GraphTwin(1, cp, forecast_hours=forecast_hours)
        return self._misfit(park_layout(cp.graph.park.id, cp.node_keys, cp.link_ids, twin.observation_names,
                                        twin.action_names, twin.dt_h))

    def reset(self, info) -> None:
        why = self._misfit(_layout_from_info(info))
        if why is not None:
            raise ValueError(why)
        self._rules = None
        if self.mode == "residual":  # the corrections are on the park's generic rules, as in training
            from sim_env.graph.baselines import GraphRules

            self._rules = GraphRules()
            self._rules.reset(info)

    def act(self, obs: np.ndarray, info) -> np.ndarray:
        """The park's action fractions for the harness's observation ``obs`` and step ``info``."""
        agent = self._predict(np.asarray(obs))
        if self._rules is not None:
            from .graph_rules import residual

            return residual(self._rules.act(obs, info), agent, self.scale)
        from .actions import to_park_action

        return to_park_action(self.mode, agent)
