"""The layout of a compiled park that a trained policy depends on, and its fingerprint.

A policy trained on ``aisym/Park-v1`` reads one observation vector and writes one action
vector whose meaning is fixed by the park it was trained on: which stores, series, forecasts
and clocks the observation holds (:attr:`sim_env.graph.twin.GraphTwin.observation_names`), which
fractions the actions set, and the components and exchanges in between. The fingerprint is the
SHA-256 of those names, so a policy refuses a park whose layout differs (another park, an added
exchange, another forecast horizon) while a park with other numbers (prices, capacities: a
what-if) keeps the same layout and is accepted. Numpy and the standard library only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def park_layout(park_id: str, node_keys: list[str], link_ids: list[str], observation_names: list[str],
                action_names: list[str], dt_h: float) -> dict[str, Any]:
    """The names a policy's inputs and outputs mean, as plain data."""
    return {"park": park_id, "dt_h": float(dt_h), "components": list(node_keys), "exchanges": list(link_ids),
            "observation_names": list(observation_names), "action_names": list(action_names)}


def layout_of_twin(twin: Any) -> dict[str, Any]:
    """:func:`park_layout` of a :class:`~sim_env.graph.twin.GraphTwin`."""
    cp = twin.cp
    return park_layout(cp.graph.park.id, cp.node_keys, cp.link_ids, twin.observation_names, twin.action_names, cp.dt_h)


def fingerprint(layout: dict[str, Any]) -> str:
    """``sha256:<hex>`` of a layout's canonical JSON."""
    text = json.dumps(layout, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def layout_mismatch(expected: dict[str, Any], actual: dict[str, Any]) -> str | None:
    """What differs between two layouts, in words (None when they are the same)."""
    if fingerprint(expected) == fingerprint(actual):
        return None
    parts = []
    if expected.get("park") != actual.get("park"):
        parts.append(f"park id {actual.get('park')!r}, the policy was trained on {expected.get('park')!r}")
    if expected.get("dt_h") != actual.get("dt_h"):
        parts.append(f"step {actual.get('dt_h')} h, trained on {expected.get('dt_h')} h")
    for key in ("components", "exchanges", "observation_names", "action_names"):
        want, got = expected.get(key, []), actual.get(key, [])
        if want != got:
            missing = [n for n in want if n not in got][:3]
            extra = [n for n in got if n not in want][:3]
            what = f"{key}: {len(got)} here, {len(want)} in training"
            if missing:
                what += f"; missing {', '.join(missing)}"
            if extra:
                what += f"; not in training {', '.join(extra)}"
            if not missing and not extra:
                what += "; same names in another order"
            parts.append(what)
    return "; ".join(parts) or "the layout's fingerprint differs"
