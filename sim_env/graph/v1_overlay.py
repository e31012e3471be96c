"""What-if overlays on a user's v1 park file (``aisym bench --park V1_FILE --scenario OVERLAY``).

The shipped parks are v2 files and their what-ifs are v2 overlays (:mod:`sim_env.graph.whatif`;
Kråkøya's former v1 scenarios are ``aisym/parks/kraakoya_whatif/``, each proven to run as its v1
overlay did). This module stays for users who wrote v1 overlays on their own v1 park: ``aisym park
migrate`` converts a park file, not its overlays.

An overlay names what changes; everything else stays the base park's. Keys::

    name: Bigger heat store            # shown in reports
    description: ...
    merge:                             # deep-merged onto the park document (lists are replaced)
      market: {carbon_price_eur_per_t: 150}
    market: {carbon_price_eur_per_t: 150}   # shortcut for merge: {market: ...}
    assets:                            # fields set on assets, by asset id
      heat_store: {capacity_kwh: 26600}
    resize:                            # scale an asset's capacity fields by a factor
      heat_store: 2.0
    exchanges:
      remove: [oxygen_to_ras]          # delete exchanges
      disable: [electrolyser_heat_to_store]   # keep them, marked enabled: false
      set: {store_heat_to_ras: {capacity: 1500}}
      add:                             # new exchanges, written as in the park file
        - {id: ..., resource: heat, from: ..., to: ..., capacity: 100, unit: kW}

A malformed overlay raises :class:`ScenarioError` naming the file, line and field; the merged
park is validated by :func:`aisym.park.parse_park`, whose :class:`~aisym.park.ParkError`
names the field at fault.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aisym.park import DEFAULT_PARK, Park, parse_park

KEYS = ("name", "description", "merge", "market", "assets", "resize", "exchanges")
EXCHANGE_OPS = ("remove", "disable", "set", "add")
# Fields scaled by ``resize``, per asset kind: the sizes of stores and units.
RESIZE_FIELDS = {
    "heat_store": ("capacity_kwh", "max_charge_kw", "max_discharge_kw"),
    "gas_holder": ("capacity_nm3",),
    "water_treatment": ("capacity_m3_per_h", "tank_m3"),
    "electrolyser": ("rated_kw",),
    "heat_pump": ("rated_heat_kw",),
    "chp": ("rated_el_kw",),
    "biogas_upgrader": ("capacity_nm3_per_h",),
    "digester": ("volume_m3",),
    "grid": ("import_kw_max", "export_kw_max"),
}


class ScenarioError(ValueError):
    """A scenario overlay is malformed. The message reads ``file:line: field: problem``."""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    park: Park


def _line(root: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            return None
    return node.start_mark.line + 1 if node is not None else None


class _Overlay:
    """The overlay document with its YAML nodes, to point errors at lines."""

    def __init__(self, text: str, source: str):
        self.source = source
        try:
            self.root = yaml.compose(text)
            self.data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = f"{source}:{mark.line + 1}" if mark else source
            raise ScenarioError(f"{where}: YAML syntax: {e.problem or e}") from None
        if self.data is None:
            self.data = {}
        if not isinstance(self.data, dict):
            raise ScenarioError(f"{source}: a scenario is a mapping of {', '.join(KEYS)}; got a {type(self.data).__name__}")

    def error(self, path: tuple[str | int, ...], message: str) -> ScenarioError:
        line = _line(self.root, path)
        field = ".".join(str(p) for p in path) or "<document>"
        return ScenarioError(f"{self.source}{f':{line}' if line else ''}: {field}: {message}")

    def mapping(self, path: tuple[str | int, ...]) -> dict[str, Any]:
        value: Any = self.data
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"must be a mapping, got {type(value).__name__}")
        return value


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``patch`` onto a copy of ``base``: mappings merge recursively, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _assets_by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["id"]: a for c in doc.get("companies", []) for a in c.get("assets", []) if isinstance(a, dict) and "id" in a}


def _apply_assets(ov: _Overlay, doc: dict[str, Any]) -> None:
    assets = _assets_by_id(doc)
    for asset_id, fields in ov.mapping(("assets",)).items():
        if asset_id not in assets:
            raise ov.error(("assets", asset_id), f"no asset {asset_id!r} in the park; assets: {', '.join(assets)}")
        if not isinstance(fields, dict):
            raise ov.error(("assets", asset_id), "must map field names to new values")
        for key in ("id", "kind"):
            if key in fields:
                raise ov.error(("assets", asset_id, key), f"cannot change an asset's {key}")
        assets[asset_id].update(copy.deepcopy(fields))
    for asset_id, factor in ov.mapping(("resize",)).items():
        if asset_id not in assets:
            raise ov.error(("resize", asset_id), f"no asset {asset_id!r} in the park; assets: {', '.join(assets)}")
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
            raise ov.error(("resize", asset_id), f"the factor must be a positive number, got {factor!r}")
        kind = assets[asset_id]["kind"]
        if kind not in RESIZE_FIELDS:
            raise ov.error(("resize", asset_id), f"a {kind} has no size to scale")
        for f in RESIZE_FIELDS[kind]:
            assets[asset_id][f] = assets[asset_id][f] * factor


def _apply_exchanges(ov: _Overlay, doc: dict[str, Any]) -> None:
    ops = ov.mapping(("exchanges",))
    for op in ops:
        if op not in EXCHANGE_OPS:
            raise ov.error(("exchanges", op), f"unknown operation; use {', '.join(EXCHANGE_OPS)}")
    exchanges = doc.setdefault("exchanges", [])
    ids = [e.get("id") for e in exchanges]

    def known(op: str, i: int | str, eid: Any) -> None:
        if eid not in ids:
            raise ov.error(("exchanges", op, i), f"no exchange {eid!r} in the park; exchanges: {', '.join(map(str, ids))}")

    for op in ("remove", "disable"):
        listed = ops.get(op) or []
        if not isinstance(listed, list):
            raise ov.error(("exchanges", op), "must be a list of exchange ids")
        for i, eid in enumerate(listed):
            known(op, i, eid)
            if op == "remove":
                exchanges[:] = [e for e in exchanges if e.get("id") != eid]
            else:
                next(e for e in exchanges if e.get("id") == eid)["enabled"] = False
    for eid, fields in ov.mapping(("exchanges", "set")).items():
        known("set", eid, eid)
        if not isinstance(fields, dict):
            raise ov.error(("exchanges", "set", eid), "must map field names to new values")
        next(e for e in exchanges if e.get("id") == eid).update(copy.deepcopy(fields))
    added = ops.get("add") or []
    if not isinstance(added, list):
        raise ov.error(("exchanges", "add"), "must be a list of exchanges")
    for i, ex in enumerate(added):
        if not isinstance(ex, dict):
            raise ov.error(("exchanges", "add", i), "an exchange is a mapping (id, resource, from, to, capacity, unit)")
        if ex.get("id") in {e.get("id") for e in exchanges}:
            raise ov.error(("exchanges", "add", i, "id"), f"exchange {ex.get('id')!r} already exists; use set to change it")
        exchanges.append(copy.deepcopy(ex))


def apply_overlay(base_doc: dict[str, Any], text: str, source: str = "<scenario>") -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply overlay ``text`` to a park document; returns ``(merged document, overlay data)``."""
    ov = _Overlay(text, source)
    for key in ov.data:
        if key not in KEYS:
            raise ov.error((key,), f"unknown key; a scenario has {', '.join(KEYS)}")
    doc = deep_merge(base_doc, ov.mapping(("merge",)))
    if ov.data.get("market") is not None:
        doc = deep_merge(doc, {"market": ov.mapping(("market",))})
    _apply_assets(ov, doc)
    _apply_exchanges(ov, doc)
    return doc, ov.data


def load_scenario(path: str | Path, base: str | Path | None = None) -> Scenario:
    """Load an overlay file and apply it to the v1 park ``base`` (the shipped park is v2: refused).

    A path that is itself a park file (it has ``schema_version``) is loaded as is, so
    ``aisym twin run`` and ``aisym bench --scenario`` accept both parks and overlays.

    :raises ScenarioError: the overlay is malformed (file, line, field)
    :raises aisym.park.ParkError: the merged park is invalid (field path)
    """
    path = Path(path)
    base_path = Path(base) if base is not None else DEFAULT_PARK
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}") from None
    try:
        probe = yaml.safe_load(text)
    except yaml.YAMLError:
        probe = None  # apply_overlay reports it with its line
    if isinstance(probe, dict) and "schema_version" in probe:
        park = parse_park(text, source=str(path))
        return Scenario(park.park.name, park.park.description, str(path), park)
    base_doc = yaml.safe_load(base_path.read_text(encoding="utf-8"))
    if isinstance(base_doc, dict) and base_doc.get("schema_version") == 2:
        # a v1 overlay changes v1 fields; merged into a v2 park it would report every field as a problem
        raise ScenarioError(f"{path}: a v1 overlay applies to a v1 park (--park YOUR_V1_FILE), not to the v2 park "
                            f"{base_path}: write a v2 what-if (aisym twin whatif, docs/twin.md)")
    doc, data = apply_overlay(base_doc, text, str(path))
    merged = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    park = parse_park(merged, source=f"{path} applied to {base_path.name}")
    return Scenario(str(data.get("name") or path.stem), str(data.get("description") or ""), str(path), park)
