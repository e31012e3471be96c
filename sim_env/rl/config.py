"""Hyperparameter files in the RL Zoo's style (``hyperparams/<algo>.yml``).

Entries are keyed by env id (``aisym/Park-v1``) with an optional ``default`` entry that they
update. Zoo keys (``n_envs``, ``n_timesteps``, ``policy``, ``normalize``, ``env_kwargs``) are taken
out; the rest go to the algorithm's constructor and are checked against its signature, so a typo
is an error naming the file, the line and the key instead of a crash deep inside SB3. Schedules
are written ``lin_0.0003``. ``policy_kwargs`` is a plain mapping (no ``eval``'d strings);
``activation_fn`` names a ``torch.nn`` class (``tanh``, ``relu``...).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ALGOS = ("ppo", "sac")
ZOO_KEYS = {"n_envs", "n_timesteps", "policy", "normalize", "env_kwargs", "eval_episodes", "eval_freq"}
HYPERPARAMS_DIR = Path(__file__).resolve().parent.parent / "hyperparams"


class ConfigError(ValueError):
    """A hyperparameter file that cannot be used; the message names file, line and key."""


@dataclass
class TrainConfig:
    algo: str
    env_id: str
    n_envs: int = 8
    n_timesteps: int = 100_000
    policy: str = "MlpPolicy"
    normalize: dict[str, Any] = field(default_factory=dict)  # VecNormalize kwargs; empty = off
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    eval_episodes: int = 2
    eval_freq: int = 50_000  # total env steps between evaluations
    algo_kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)  # the merged YAML entry, as written

    def as_dict(self) -> dict[str, Any]:
        """The configuration as plain YAML-able data (schedules and classes as written in the file)."""
        return {"algo": self.algo, "env_id": self.env_id, "source": self.source, "hyperparams": self.raw}


def _line_of(text: str, env_id: str, key: str) -> int | None:
    node = yaml.compose(text)
    for k, v in getattr(node, "value", []):
        if k.value in (env_id, "default") and isinstance(v, yaml.MappingNode):
            for kk, _ in v.value:
                if kk.value == key:
                    return kk.start_mark.line + 1
    return None


def _schedule(value: Any, where: str) -> Any:
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            start = float(value[4:])
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a schedule; write lin_<number>, e.g. lin_3e-4") from None
        return lambda progress_remaining: progress_remaining * start
    return value


def _activation(name: Any, where: str) -> Any:
    import torch.nn as nn

    table = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU}
    if name not in table:
        raise ConfigError(f"{where}: activation_fn {name!r} is not one of {', '.join(table)}")
    return table[name]


def load_config(
    algo: str, env_id: str = "aisym/Park-v1", path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """Read the entry for ``env_id`` (falling back on ``default``) from a zoo-style file."""
    algo = algo.lower()
    if algo not in ALGOS:
        raise ConfigError(f"algorithm {algo!r} is not supported; use one of {', '.join(ALGOS)}")
    path = Path(path) if path else HYPERPARAMS_DIR / f"{algo}.yml"
    try:
        text = path.read_text()
        data = yaml.safe_load(text) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"{path}:{mark.line + 1 if mark else '?'}: YAML syntax: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict) or not (env_id in data or "default" in data):
        raise ConfigError(f"{path}: no entry for {env_id!r} and no 'default' entry")
    entry: dict[str, Any] = {**(data.get("default") or {}), **(data.get(env_id) or {}), **(overrides or {})}

    def where(key: str) -> str:
        line = _line_of(text, env_id, key)
        return f"{path}:{line}: {key}" if line else f"{path}: {key}"

    cfg = TrainConfig(algo=algo, env_id=env_id, source=str(path), raw=dict(entry))
    _take_zoo_keys(entry, cfg, where)
    cfg.algo_kwargs = _algo_kwargs(algo, entry, where)
    return cfg


def _take_zoo_keys(entry: dict[str, Any], cfg: TrainConfig, where: Callable[[str], str]) -> None:
    for key in ("n_envs", "n_timesteps", "eval_episodes", "eval_freq"):
        if key in entry:
            value = entry.pop(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or int(value) != value:
                raise ConfigError(f"{where(key)}: must be a positive whole number (got {value!r})")
            setattr(cfg, key, int(value))
    cfg.policy = str(entry.pop("policy", cfg.policy))
    if cfg.policy != "MlpPolicy":
        raise ConfigError(f"{where('policy')}: only MlpPolicy fits the park's flat observation (got {cfg.policy!r})")
    normalize = entry.pop("normalize", False)
    if normalize is True:
        cfg.normalize = {"norm_obs": True, "norm_reward": True}
    elif isinstance(normalize, dict):
        unknown = set(normalize) - {"norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma"}
        if unknown:
            raise ConfigError(f"{where('normalize')}: unknown VecNormalize option(s) {sorted(unknown)}")
        cfg.normalize = dict(normalize)
    elif normalize not in (False, None):
        raise ConfigError(f"{where('normalize')}: use true, false or a mapping of VecNormalize options")
    env_kwargs = entry.pop("env_kwargs", {}) or {}
    if not isinstance(env_kwargs, dict):
        raise ConfigError(f"{where('env_kwargs')}: must be a mapping")
    cfg.env_kwargs = env_kwargs


def _algo_kwargs(algo: str, entry: dict[str, Any], where: Callable[[str], str]) -> dict[str, Any]:
    from stable_baselines3 import PPO, SAC

    cls = {"ppo": PPO, "sac": SAC}[algo]
    out: dict[str, Any] = {}
    allowed = set(inspect.signature(cls.__init__).parameters) - {"self", "policy", "env", "_init_setup_model"}
    for key, value in entry.items():
        if key not in allowed:
            raise ConfigError(f"{where(key)}: {cls.__name__} has no hyperparameter {key!r}")
        if key == "policy_kwargs":
            if not isinstance(value, dict):
                raise ConfigError(f"{where(key)}: must be a mapping, e.g. {{net_arch: [64, 64]}}")
            value = dict(value)
            if "activation_fn" in value:
                value["activation_fn"] = _activation(value["activation_fn"], where(key))
        out[key] = _schedule(value, where(key))
    return out


def set_park(cfg: TrainConfig, park: str | Path) -> None:
    """Train ``cfg`` on the park file ``park`` (``env_kwargs.park``; recorded in the run's config.yml).

    The park is compiled here, so that a bad file fails before any training starts.
    """
    if cfg.env_id != "aisym/Park-v1":
        raise ConfigError(f"--park needs --env aisym/Park-v1 (the compiled twin of any park), not {cfg.env_id!r}")
    path = Path(park)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such park file")
    from sim_env.graph.twin import resolve

    resolve(path)  # a bad park file is an error naming its line now, not deep inside training
    cfg.env_kwargs = {**cfg.env_kwargs, "park": str(path)}
    cfg.raw["env_kwargs"] = dict(cfg.env_kwargs)


KERNELS = {"fold": "fold", "generic": None}  # --kernel → env_kwargs.specialise of aisym/Park-v1


def set_kernel(cfg: TrainConfig, kernel: str) -> None:
    """Step the compiled twin with the ``fold`` (generated per park) or the ``generic`` kernel."""
    if kernel not in KERNELS:
        raise ConfigError(f"--kernel {kernel!r}: use one of {', '.join(KERNELS)}")
    if cfg.env_id != "aisym/Park-v1":
        raise ConfigError(f"--kernel applies to --env aisym/Park-v1 (the compiled twin), not {cfg.env_id!r}")
    cfg.env_kwargs = {**cfg.env_kwargs, "specialise": KERNELS[kernel]}
    cfg.raw["env_kwargs"] = dict(cfg.env_kwargs)
