"""Policies shipped with the package (``sim_env/policies/<name>/policy.onnx + policy.json``).

Each was trained on the compiled twin of one park (``aisym/Park-v1``) and runs with onnxruntime
and numpy only (no torch, no SB3)::

    from sim_env.graph.evaluate import evaluate
    from sim_env.rl.shipped import load_policy

    result = evaluate(load_policy("kraakoya"), "aisym/parks/kraakoya.yaml", exo_seed=1001)

How they were trained and what they reach: docs/training.md, "Any park".
"""

from __future__ import annotations

from pathlib import Path

POLICIES_DIR = Path(__file__).resolve().parent.parent / "policies"


def shipped_policies() -> list[str]:
    """Names of the shipped policies (folders of :data:`POLICIES_DIR` with a ``policy.onnx``)."""
    return sorted(p.parent.name for p in POLICIES_DIR.glob("*/policy.onnx"))


def policy_folder(policy: str | Path) -> Path:
    """The folder of ``policy``: an existing folder as is, else a shipped name (``kraakoya_ppo`` or ``kraakoya``)."""
    path = Path(policy)
    if path.is_dir():
        return path
    for name in (str(policy), f"{policy}_ppo"):
        if (POLICIES_DIR / name / "policy.onnx").exists():
            return POLICIES_DIR / name
    raise FileNotFoundError(f"{policy}: neither a policy folder nor a shipped policy "
                            f"(shipped: {', '.join(shipped_policies()) or 'none'})")


def load_policy(name: str):
    """A shipped policy as a strategy of :func:`sim_env.graph.evaluate.evaluate` (:class:`GraphPolicyStrategy`).

    :param name: ``kraakoya`` / ``kraakoya_ppo``, ``kalundborg`` / ``kalundborg_ppo``, ...
    """
    from .strategy import GraphPolicyStrategy

    return GraphPolicyStrategy(policy_folder(name))
