"""Resource profiles: what each company gives out and takes in, over the year.

A profile lists a company's sector (NACE Rev. 2), its site and its flows. Each flow is a
carrier (a resource at a quality: heat and its temperature, a water grade, a material with its
EWC code...), a quantity hour by hour over the year where known, what its present route costs
(a residue's disposal, a need's purchase) and its constraints (continuity, hazardous).

Profiles come from:

- the park graph itself (:func:`from_graph`): a must-take source or a disposal is an output, a
  demand or an input bought as backup is an input; a port an exchange uses is one too;
- the companies' ``outputs:``/``inputs:`` in the park file (:func:`from_document`);
- a company's filled-in template (:mod:`sim_env.match.importers`);
- a meter's telemetry (:func:`sim_env.match.telemetry.fit_seasonal`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from aisym.park.graph import ParkGraph
from aisym.park.graph.build import Val
from aisym.park.graph.carriers import FLOW_UNITS, Carrier, amount_unit
from aisym.park.quantity import parse_quantity

HOURS = 8760
# first hour of each month in the 365-day modelling year
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MONTH_OF_HOUR = np.repeat(np.arange(12), np.array(_MONTH_DAYS) * 24)


@dataclass(frozen=True)
class Flow:
    """One output or input of a company.

    ``hourly`` is the flow in the carrier's canonical unit for each hour of the year, or None
    when only an upper bound (``capacity``) or nothing is known. ``cost`` is per canonical
    amount, in the park's currency: for a residue, what its disposal costs the supplier (saved
    when a partner takes it); for a sale or a market output, its price; for a product, None (its
    cost of making is not known); for an input, what the receiver pays now for it (its backup),
    or the price a market pays.
    """

    company: str
    id: str  # unique within the company
    direction: str  # "output" or "input"
    carrier: Carrier
    kind: str  # output: residue, product, sale, market; input: need, market
    hourly: np.ndarray | None = None
    capacity: float | None = None  # canonical flow: the most it can be (a converter's rating)
    port: str | None = None  # "asset.port" of the park, where it is one
    cost: float | None = None  # currency per canonical amount of its present route (None: not known)
    co2: float | None = None  # kg CO2 per canonical amount of its present route
    route: str = ""
    continuity: str = "continuous"
    hazardous: bool = False
    accepts_hazardous: bool = False
    heat_pump: bool = True
    origin: str = ""  # where it was read: "park graph", "companies[2].outputs[0]", "plant.xlsx row 4"
    metered: str = ""  # the meter tag whose readings gave ``hourly`` (sim_env.match.metered), if any
    band: tuple[float, float] | None = None  # 80 % interval of the amount, as factors of it (a meter's forecast)
    estimate: str = ""  # where an estimated amount comes from (sim_env.match.estimates); "" : stated or metered

    @property
    def annual(self) -> float | None:
        """Canonical amount per year (kWh, kg, m3...), or None."""
        return float(self.hourly.sum()) if self.hourly is not None else None

    def label(self) -> str:
        return f"{self.company}:{self.port or self.id}"

    def amount_text(self) -> str:
        unit = amount_unit(self.carrier.resource)
        if self.hourly is not None and self.band is not None:
            lo, hi = self.band
            return f"{self.annual:,.4g} {unit}/yr (80 %: {lo * self.annual:,.4g}-{hi * self.annual:,.4g}, metered)"
        if self.hourly is not None and self.estimate:
            return f"{self.annual:,.4g} {unit}/yr ({self.estimate})"
        if self.hourly is not None:
            return f"{self.annual:,.4g} {unit}/yr"
        if self.capacity is not None and math.isfinite(self.capacity):
            return f"up to {self.capacity:,.4g} {FLOW_UNITS[self.carrier.resource]}"
        return "quantity unknown"


@dataclass
class Profile:
    """A company: sector, site and flows."""

    id: str
    name: str = ""
    nace: str = ""
    location: str = ""
    site: tuple[float, float] | None = None  # (lat, lon)
    flows: list[Flow] = field(default_factory=list)
    employees: int | None = None  # persons employed, where a template states it: its flows are then estimated

    def outputs(self) -> list[Flow]:
        return [f for f in self.flows if f.direction == "output"]

    def inputs(self) -> list[Flow]:
        return [f for f in self.flows if f.direction == "input"]


def _site(company) -> tuple[float, float] | None:
    if company.lat is not None:
        return (company.lat, company.lon)
    parts = company.location.replace(";", ",").split(",")
    if len(parts) == 2:  # "55.66, 11.09" is coordinates written as a place
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            return None
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return (lat, lon)
    return None


def _series_year(graph: ParkGraph, seed: int) -> dict[str, np.ndarray]:
    if not graph.series:
        return {}
    from sim_env.graph.exogenous import generate

    return {k: v[0][:HOURS] for k, v in generate(graph, seed=seed, dt_h=1.0).items()}


def _hourly(v: Val, series: dict[str, np.ndarray]) -> np.ndarray:
    if not v.is_series:
        return np.full(HOURS, v.const)
    s = series[v.series]
    return v.scale * (s ** v.power) + v.offset


def _mean(v: Val | None, series: dict[str, np.ndarray]) -> float | None:
    return None if v is None else float(_hourly(v, series).mean())


def from_graph(graph: ParkGraph, seed: int = 0) -> dict[str, Profile]:
    """Profiles of every company of a resolved park, from its components and exchanges.

    :param graph: the resolved park
    :param seed: seed of the year of series that shapes the hourly profiles
    """
    series = _series_year(graph, seed)
    nodes = {n.key: n for n in graph.nodes}
    flows: dict[tuple[str, str], Flow] = {}  # (bus, direction) -> flow
    exported = {link.src for link in graph.links}
    imported = {link.dst for link in graph.links}

    def put(f: Flow) -> None:
        key = (f.port, f.direction)
        old = flows.get(key)
        if old is None or _rank(f) > _rank(old):
            flows[key] = f

    for bus in graph.buses.values():
        members = [(nodes[k], p, d) for k, p, d in bus.members]
        mk = _flow_maker(graph.company_of[bus.id.split(".")[0]], bus)
        for node, pname, direction in members:
            for f in _node_flows(node, pname, direction, members, mk, series, bus.id in exported, bus.id in imported):
                put(f)
    out: dict[str, Profile] = {}
    for c in graph.doc.companies:
        out[c.id] = Profile(c.id, c.name, c.nace, c.location, _site(c))
    for f in sorted(flows.values(), key=lambda f: (f.port, f.direction)):
        out[f.company].flows.append(f)
    return out


def _node_flows(node, pname, direction, members, mk, series, exported: bool, imported: bool):
    """The flows one component's port makes of its bus (none for an internal port)."""
    t = node.type
    if t == "source" and "profile" in node.val:
        yield mk("output", "residue", _hourly(node.val["profile"], series), None,
                 _mean(node.val.get("surplus_cost"), series), _mean(node.val.get("surplus_co2"), series),
                 node.text.get("surplus_name", ""))
    elif t == "source":
        yield mk("output", "sale", None, node.num.get("max"), _mean(node.val.get("price"), series),
                 _mean(node.val.get("co2"), series), "sold")
    elif t == "demand":
        b = node.ports[pname].backup
        yield mk("input", "need", _hourly(node.val["profile"], series), None,
                 _mean(b.cost, series) if b else None, _mean(b.co2, series) if b else None, b.name if b else "")
    elif t == "disposal":
        yield mk("output", "residue", None, _producing(members), _mean(node.val["cost"], series),
                 _mean(node.val["co2"], series), node.name or node.key)
    elif t == "market":
        if node.num.get("import_max", 0) > 0:
            yield mk("output", "market", None, node.num["import_max"], _mean(node.val.get("import_price"), series),
                     _mean(node.val.get("co2"), series), "bought from the market")
        if node.num.get("export_max", 0) > 0:
            price = _mean(node.val.get("export_price"), series)
            yield mk("input", "market", None, node.num["export_max"], price,
                     0.0, "sold to the market at its price")
    elif t == "converter":
        yield from _converter_flows(node, pname, direction, members, mk, series, exported, imported)
    elif t == "storage":
        if exported:
            yield mk("output", "product", None, node.num.get("max_discharge"), None, None, "through a store")
        if imported:
            yield mk("input", "need", None, node.num.get("max_charge"), None, None, "through a store")


def _converter_flows(node, pname, direction, members, mk, series, exported: bool, imported: bool):
    port = node.ports[pname]
    cap = _port_rating(node, pname)
    givers = [m for m in members if m[2] in ("out", "both") and m[0] is not node]
    takers = [m for m in members if m[2] in ("in", "both") and m[0] is not node]
    if direction == "in" and (port.backup or not givers or imported):
        b = port.backup
        yield mk("input", "need", None, cap, _mean(b.cost, series) if b else None,
                 _mean(b.co2, series) if b else None, b.name if b else "")
    elif direction == "out" and (not takers or exported):
        yield mk("output", "product", None, cap, None, None, "made on request")


_KIND_RANK = {"residue": 3, "need": 3, "sale": 2, "product": 1, "market": 0}


def _rank(f: Flow) -> tuple[int, int]:
    return (f.hourly is not None, _KIND_RANK[f.kind])


def _flow_maker(company: str, bus):
    def mk(direction, kind, hourly, capacity, cost, co2, route) -> Flow:
        return Flow(company, bus.id, direction, bus.carrier, kind, hourly, capacity, bus.id, cost, co2, route,
                    hazardous=bool(bus.carrier.ewc and bus.carrier.ewc.endswith("*")), origin="park graph")
    return mk


def _port_rating(node, pname: str) -> float | None:
    """A converter port's flow at rated load (constant ratios only)."""
    ref = node.text.get("reference")
    rated = node.num.get("rated")
    port = node.ports[pname]
    if rated is None or port.ratio.is_series:
        return None
    if pname == ref:
        return rated
    base = node.ports.get(port.of) if port.of else None
    if base is not None:
        if base.ratio.is_series:
            return None
        return rated * base.ratio.const * port.ratio.const
    return rated * port.ratio.const


def _producing(members) -> float | None:
    """The rated flow a disposal's bus receives from the converters on it."""
    caps = [_port_rating(n, p) for n, p, d in members if n.type == "converter" and d == "out"]
    known = [c for c in caps if c is not None]
    return sum(known) if known else None


def shape(profile, quantity: float, series: dict[str, np.ndarray]) -> np.ndarray:
    """An hourly year of mean ``quantity``: flat, a series' shape, or 12 monthly factors.

    :param profile: None (flat), a series id, or 12 non-negative monthly factors
    :param quantity: the mean flow (canonical unit)
    :param series: the park's series for a year
    """
    if profile is None:
        return np.full(HOURS, quantity)
    if isinstance(profile, str):
        s = np.asarray(series[profile], dtype=float)
    else:
        s = np.asarray(profile, dtype=float)[MONTH_OF_HOUR]
    m = s.mean()
    return quantity * s / m if m > 0 else np.zeros(HOURS)


def from_document(graph: ParkGraph, seed: int = 0) -> dict[str, list[Flow]]:
    """The flows each company states in the park file (``companies[].outputs/inputs``)."""
    cur = graph.currency
    carriers = {c.id: Carrier(**c.model_dump(exclude={"id"})) for c in graph.doc.carriers}
    series = _series_year(graph, seed) if any(
        isinstance(f.profile, str) for c in graph.doc.companies for f in (*c.outputs, *c.inputs)) else {}
    out: dict[str, list[Flow]] = {}
    for ci, c in enumerate(graph.doc.companies):
        for side in ("outputs", "inputs"):
            for fi, f in enumerate(getattr(c, side)):
                carrier = f.carrier if isinstance(f.carrier, Carrier) else carriers.get(f.carrier) or Carrier(
                    resource=f.carrier)
                unit, amount = FLOW_UNITS[carrier.resource], amount_unit(carrier.resource)
                hourly = None
                if f.quantity is not None:
                    hourly = shape(f.profile, parse_quantity(f.quantity, unit), series)
                cost = None if f.cost is None else parse_quantity(f.cost, f"{cur}/({amount})")
                co2 = None if f.co2 is None else parse_quantity(f.co2, f"kg/({amount})")
                direction = side[:-1]
                haz = f.hazardous if f.hazardous is not None else bool(carrier.ewc and carrier.ewc.endswith("*"))
                out.setdefault(c.id, []).append(Flow(
                    c.id, f.id, direction, carrier, "residue" if direction == "output" else "need", hourly, None,
                    f.port, cost, co2, f.route, f.continuity, haz, bool(f.accepts_hazardous),
                    f.heat_pump is not False, f"companies[{ci}].{side}[{fi}]"))
    return out


def park_profiles(graph: ParkGraph, seed: int = 0) -> dict[str, Profile]:
    """Profiles of a park: derived from its graph, with what the file states in place of them.

    A stated flow with a ``port`` replaces the flow derived for that port; others are added.
    """
    profiles = from_graph(graph, seed)
    for company, flows in from_document(graph, seed).items():
        prof = profiles[company]
        for f in flows:
            if f.port is not None:
                prof.flows = [g for g in prof.flows if not (g.port == f.port and g.direction == f.direction)]
            prof.flows.append(f)
    return profiles


def merge(profiles: dict[str, Profile], extra: list[Profile]) -> dict[str, Profile]:
    """Add imported profiles: a known company gets their flows (and sector, site if it had none)."""
    out = dict(profiles)
    for p in extra:
        old = out.get(p.id)
        if old is None:
            out[p.id] = p
            continue
        ids = {f.id for f in p.flows}
        out[p.id] = replace(old, nace=old.nace or p.nace, site=old.site or p.site,
                            flows=[f for f in old.flows if f.id not in ids] + list(p.flows))
    return out
