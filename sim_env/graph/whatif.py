"""What-if overlays for a v2 park, and a side-by-side run of a park and its what-if.

An overlay is a small YAML file beside the park::

    name: All symbiosis links off
    park: kalundborg.yaml              # the base park, relative to this file
    exchanges:
      disable: between_companies       # or a list of ids; "between_companies" keeps trade (what markets
      remove: [fuel_to_boiler]         #   and purchases deliver, what goes to a market) and turns off every
                                       #   other exchange between companies
      set: {steam_16: {capacity: 50 MW}}
      add: [{id: x, from: a.heat, to: b.heat, capacity: 2 MW}]
    assets:
      remove: [digester]               # and every exchange that touches it
      remove_components: [network.heat_pump]
      params: {heat_pump: {rated_heat: 5 MW}}
    series:                            # deep-merged into the base's series (what is not named stays)
      freshwater_temp: {seasonal: {mean: 1.5, amplitude: 2.0}}
    settings: {carbon_price: 150 EUR/t}   # fields of the base's park: section

Every key is used or refused with the overlay's file and line; the merged park is resolved like
any park, so a what-if that breaks the park gets the park's own error.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from aisym.park import ParkError
from aisym.park.graph import FLOW_UNITS, ParkGraph, Resource, parse_graph
from aisym.yamlfile import parse_yaml_model

from .compile import I_TYPE, T_DISPOSAL, T_MARKET, T_PURCHASE, T_SOURCE, CompiledPark, compile_park
from .kernel import N_HEAD, Y_CO2, Y_COST, Batch
from .units import by_unit, demand_needs


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExchangeEdits(_Strict):
    disable: Literal["between_companies"] | list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)
    set: dict[str, dict[str, object]] = Field(default_factory=dict)
    add: list[dict[str, object]] = Field(default_factory=list)


class AssetEdits(_Strict):
    remove: list[str] = Field(default_factory=list)
    remove_components: list[str] = Field(default_factory=list)  # "asset.component" of written-out assets
    params: dict[str, dict[str, object]] = Field(default_factory=dict)


class Overlay(_Strict):
    name: str
    description: str = ""
    park: str
    exchanges: ExchangeEdits = Field(default_factory=ExchangeEdits)
    assets: AssetEdits = Field(default_factory=AssetEdits)
    series: dict[str, dict[str, object]] = Field(default_factory=dict)
    settings: dict[str, object] = Field(default_factory=dict)


def trade_links(graph: ParkGraph) -> set[str]:
    """Exchanges that are trade with the world outside the park, not symbiosis links: what a
    market or a purchase delivers (buying), and what goes into a market (selling).

    Judged by the ports an exchange joins, not by their assets (issue 22, finding 7): a plant
    that sells its product through a market inside its own asset is still a plant, and its
    residue links (CO2, DDGS, stillage) are links. A port is a seller's when everything on it
    that gives is a market or a priced source, and a market's when everything on it that takes
    is a market. Selling stays on, so a links-off what-if never stops a plant by closing its
    sales (finding 6: the savings would be the plant stopping, not the links).
    """
    kind = {n.key: (n.type, "price" in n.val) for n in graph.nodes}

    def only(bus: str, sides: tuple[str, ...], ok) -> bool:
        members = [kind[key] for key, _, d in graph.buses[bus].members if d in sides]
        return bool(members) and all(ok(t, priced) for t, priced in members)

    def sells(t: str, priced: bool) -> bool:
        return t == "market" or (t == "source" and priced)

    return {link.id for link in graph.links if only(link.src, ("out", "both"), sells)
            or only(link.dst, ("in", "both"), lambda t, _: t == "market")}


def _check_ids(overlay: Overlay, doc: dict, source: str) -> None:
    """Every id the overlay names must exist in the base park."""
    problems = []
    assets = {a["id"] for c in doc["companies"] for a in c["assets"]}
    ex_ids = {e["id"] for e in doc.get("exchanges", [])}
    comps = {f"{a['id']}.{comp.get('id') or comp.get('type')}" for c in doc["companies"] for a in c["assets"]
             for comp in a.get("components") or []}
    disable = overlay.exchanges.disable if isinstance(overlay.exchanges.disable, list) else []
    for kind, ids, known in (("assets.remove", overlay.assets.remove, assets),
                             ("assets.params", overlay.assets.params, assets),
                             ("assets.remove_components", overlay.assets.remove_components, comps),
                             ("exchanges.remove", overlay.exchanges.remove, ex_ids),
                             ("exchanges.set", overlay.exchanges.set, ex_ids), ("exchanges.disable", disable, ex_ids),
                             ("series", overlay.series, set(doc.get("series") or {}))):
        problems += [f"{kind}: no {i!r} in {overlay.park}" for i in ids if i not in known]
    if problems:
        raise ParkError(source, [_problem(p) for p in problems], "what-if")


def _edit_assets(overlay: Overlay, doc: dict) -> None:
    gone, cut = set(overlay.assets.remove), set(overlay.assets.remove_components)
    for c in doc["companies"]:
        c["assets"] = [a for a in c["assets"] if a["id"] not in gone]
        for a in c["assets"]:
            if a.get("components"):
                a["components"] = [x for x in a["components"] if f"{a['id']}.{x.get('id') or x.get('type')}" not in cut]
            if a["id"] in overlay.assets.params:
                a["params"] = {**a.get("params", {}), **overlay.assets.params[a["id"]]}
    doc["companies"] = [c for c in doc["companies"] if c["assets"]]


def apply(overlay: Overlay, base: dict, source: str, graph: ParkGraph) -> dict:
    """The base document with the overlay's edits; unknown ids raise :class:`ParkError`.

    :param graph: ``base`` resolved, to tell trade from links (:func:`trade_links`)
    """
    doc = copy.deepcopy(base)
    _check_ids(overlay, doc, source)
    doc["park"] = _merged(doc["park"], overlay.settings)
    for sid, edit in overlay.series.items():
        doc["series"][sid] = _merged(doc["series"][sid], edit)
    company_of = {a["id"]: c["id"] for c in doc["companies"] for a in c["assets"]}
    trade = trade_links(graph)
    _edit_assets(overlay, doc)
    gone = set(overlay.assets.remove)

    def asset(end: str) -> str:
        return end.split(".")[0]

    kept = []
    for e in doc.get("exchanges", []):
        if e["id"] in overlay.exchanges.remove or asset(e["from"]) in gone or asset(e["to"]) in gone:
            continue
        e = {**e, **overlay.exchanges.set.get(e["id"], {})}
        d = overlay.exchanges.disable
        between = company_of.get(asset(e["from"])) != company_of.get(asset(e["to"]))
        if (d == "between_companies" and between and e["id"] not in trade) or (
                isinstance(d, list) and e["id"] in d):
            e["enabled"] = False
        kept.append(e)
    doc["exchanges"] = kept + [dict(x) for x in overlay.exchanges.add]
    return doc


def _merged(base: object, edit: dict) -> dict:
    """``base`` with ``edit`` written over it: mappings merged key by key, anything else replaced
    (a cold winter names the mean it changes; the series' noise and floor stay the base's)."""
    out = dict(base) if isinstance(base, dict) else {}
    for k, v in edit.items():
        out[k] = _merged(out.get(k), v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _problem(msg: str):
    from aisym.yamlfile import Problem

    return Problem((), msg)


def load_whatif(path: str | Path) -> tuple[Overlay, ParkGraph, ParkGraph]:
    """(overlay, base park, what-if park) from an overlay file."""
    path = Path(path)
    overlay = parse_yaml_model(_read(path, "what-if"), str(path), Overlay, what="what-if", error=ParkError)
    park_path = (path.parent / overlay.park).resolve()
    text = _read(park_path, f"park description (named by {path}: park)")
    base = parse_graph(text, str(park_path))  # before safe_load: a broken base gets its file:line here
    base_doc = yaml.safe_load(text)
    merged = apply(overlay, base_doc, str(path), base)
    what_if = parse_graph(yaml.safe_dump(merged, sort_keys=False, allow_unicode=True), f"{path} (applied to {park_path.name})")
    return overlay, base, what_if


def _read(path: Path, what: str) -> str:
    """A file's text, or a :class:`ParkError` naming the file (missing, unreadable, not UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ParkError(str(path), [], f"{what} ({e.strerror or e})") from None


@dataclass
class RunTotals:
    """A year of one compiled park under fixed actions, summed by what a park facilitator asks."""

    name: str
    cost: float
    co2_t: float
    water_bought_m3: float  # water bought from markets and priced sources (ground, surface, potable)
    residues_disposed_t: float  # materials, biomass and sludge that went to a disposal or a surplus
    backup: dict[str, float] = field(default_factory=dict)  # component -> amount bought as backup
    currency: str = ""
    backup_by_unit: dict[str, float] = field(default_factory=dict)  # "kWh" -> bought as backup (never kg + kWh)
    unmet_by_unit: dict[str, float] = field(default_factory=dict)  # "kWh" -> met neither by the park nor a backup
    notes: list[str] = field(default_factory=list)  # what validating the park said (a unit that never runs...)


def run_year(cp: CompiledPark, name: str, action: float = 0.5, seed: int = 0, steps: int = 8760) -> RunTotals:
    """Run ``cp`` for ``steps`` with every action at ``action`` and sum the headline figures."""
    coef = cp.exogenous(seed=seed)
    b = Batch(cp, coef, 1)
    A = np.full((1, cp.n_actions), action)
    Y = np.array([b.step(A)[0].copy() for _ in range(steps)])
    nl, nn = len(cp.link_ids), cp.n_nodes
    act = Y[:, N_HEAD + nl:N_HEAD + nl + nn].sum(axis=0)
    back = Y[:, N_HEAD + nl + nn:N_HEAD + nl + 2 * nn].sum(axis=0)
    water, residues, backups = headline(cp, act, back)
    unmet_u, backup_u = by_unit(cp, Y.sum(axis=0), demand_needs(cp, coef[0], np.arange(steps) % coef.shape[1]))
    return RunTotals(name, float(Y[:, Y_COST].sum()), float(Y[:, Y_CO2].sum()) / 1000.0, water, residues,
                     backups, cp.graph.currency, backup_u, unmet_u, list(cp.graph.notes))


def headline(cp: CompiledPark, act: np.ndarray, back: np.ndarray) -> tuple[float, float, dict[str, float]]:
    """Water bought (m3), residues disposed (t) and backups by component, from a run's summed
    ``activity:`` and ``backup:`` outputs (per component)."""
    water = residues = 0.0
    solid = (Resource.material, Resource.biomass, Resource.sludge)
    for n, node in enumerate(cp.graph.nodes):
        carrier = next(iter(node.ports.values())).carrier
        t = cp.NI[n, I_TYPE]
        if carrier.resource == Resource.water and (t == T_PURCHASE or (t == T_MARKET and act[n] > 0)):
            water += max(act[n], 0.0)
        if carrier.resource in solid and t == T_DISPOSAL:
            residues += act[n]
        if carrier.resource in solid and t == T_SOURCE:
            residues += back[n]  # surplus of a must-take residue: landfilled or removed
    backups = {cp.node_keys[n]: float(back[n]) for n in range(cp.n_nodes) if back[n] > 0 and cp.NI[n, I_TYPE] not in (
        T_SOURCE,) and cp.graph.nodes[n].type != "storage"}
    assert FLOW_UNITS[Resource.material] == "kg/h"
    return float(water), float(residues) / 1000.0, backups


def compare(path: str | Path, action: float = 0.5, seed: int = 0, steps: int = 8760) -> tuple[RunTotals, RunTotals]:
    """The base park and its what-if, side by side over the same year."""
    overlay, base, what_if = load_whatif(path)
    return (run_year(compile_park(base), base.doc.park.name, action, seed, steps),
            run_year(compile_park(what_if), overlay.name, action, seed, steps))
