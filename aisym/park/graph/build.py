"""A v2 park document resolved into a graph: components on buses, joined by exchanges.

Every asset port is a **bus** (``asset.port``) of one carrier. Components attach to buses
(a source gives to one, a demand takes from one, a converter takes from its input buses and
gives to its output buses, a store and a market do both). An exchange is a directed link from
one bus to another. Numbers are held in canonical units (:data:`carriers.FLOW_UNITS`), costs
in the park's currency per canonical amount, CO2 in kg per canonical amount.

Everything is sorted by id, so the order of companies, assets and exchanges in the file
changes nothing downstream. Every problem is collected with its location in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError

from ...yamlfile import Loc, pydantic_problems
from ..quantity import CURRENCIES, UnitProblem, convertible, parse_quantity, registry
from ..tags import Tag
from .carriers import FLOW_UNITS, Carrier, Resource, amount_unit, equivalences, quality_problems, serves
from .components import COMPONENT_TYPES, Component, SeriesValue
from .document import ParkV2
from .loops import impossible_loops, unstarted_loops
from .outlets import dumped, outlet
from .params import ParamProblem, Params
from .series import SeriesSpec
from .templates import TEMPLATES

_COMPONENT = TypeAdapter(Component)
# Series and measurement names the platform writes itself: an asset or tag may not take them
# (an asset id is an InfluxDB measurement: the ingestor's own are listed in cloud/ingest/health.py).
RESERVED_IDS = frozenset({"data_quality", "ingest", "health", "gateway", "status", "kpi", "kpis", "park",
                          "controller", "dead_letter", "dead_letters", "aisym", "ingest_health", "ingest_seq",
                          "ingest_dead_letters", "seq_gap", "node_last_seen", "node_status", "node_health",
                          "forecast", "forecast_health"})


@dataclass(frozen=True)
class Val:
    """A resolved number: ``const`` or ``scale × series**power + offset``, in canonical units."""

    const: float = 0.0
    series: str | None = None
    scale: float = 1.0
    power: float = 1.0
    offset: float = 0.0

    @property
    def is_series(self) -> bool:
        return self.series is not None


@dataclass(frozen=True)
class Backup:
    cost: Val
    co2: Val
    name: str


@dataclass(frozen=True)
class PortRef:
    name: str  # the component's own name for it
    bus: str  # "asset.port"
    direction: str  # "in" (takes from the bus), "out" (gives to it), "both"
    carrier: Carrier
    ratio: Val = Val(1.0)
    of: str | None = None
    backup: Backup | None = None


@dataclass
class Node:
    """One component of one asset, resolved."""

    key: str  # "asset.component"
    asset: str
    company: str
    type: str
    name: str
    ports: dict[str, PortRef]
    num: dict[str, float] = field(default_factory=dict)  # canonical numbers of the component
    val: dict[str, Val] = field(default_factory=dict)  # canonical values that may be series
    text: dict[str, str] = field(default_factory=dict)  # control modes, end rules, reference port


@dataclass
class Bus:
    id: str
    carrier: Carrier
    members: list[tuple[str, str, str]] = field(default_factory=list)  # (node key, port name, direction)


@dataclass(frozen=True)
class Link:
    id: str
    src: str  # bus
    dst: str
    resource: Resource
    capacity: float  # canonical flow
    loss: float
    cost: float  # currency per canonical amount sent (the loss is on the way)
    controllable: bool
    priority: int
    enabled: bool
    meter_tag: str | None
    description: str = ""


@dataclass
class ParkGraph:
    """The resolved park: what the compiler, the dashboards and matchmaking read."""

    doc: ParkV2
    source: str
    nodes: list[Node]
    buses: dict[str, Bus]
    links: list[Link]
    series: dict[str, SeriesSpec]
    company_of: dict[str, str]  # asset -> company
    tags: dict[str, Tag]  # "<asset>.<tag>" -> tag
    defaults: dict[str, dict[str, str]]  # asset -> template defaults taken, with their citation
    carbon_price_per_kg: float = 0.0  # currency per kg CO2
    notes: list[str] = field(default_factory=list)  # what `aisym park validate` says beside "ok"
    value_of_lost_load: dict[str, float] = field(default_factory=dict)  # resource -> currency per amount, as stated

    @property
    def id(self) -> str:
        return self.doc.park.id

    @property
    def currency(self) -> str:
        return self.doc.park.currency

    @property
    def park(self):
        """The file's ``park:`` section (id, name, currency...), as a v1 park's ``park`` is."""
        return self.doc.park

    @property
    def assets(self) -> list[str]:
        return sorted(self.company_of)


class _Builder:
    def __init__(self, doc: ParkV2, source: str):
        self.doc = doc
        self.source = source
        self.problems: list[tuple[Loc, str]] = []
        self.currency = doc.park.currency
        self.carriers = {c.id: Carrier(**c.model_dump(exclude={"id"})) for c in doc.carriers}
        # a campaign is resolved into the clipped seasonal it is: the twin generates only base kinds
        self.series: dict[str, SeriesSpec] = {k: v.resolved(doc.park.step_h) for k, v in doc.series.items()}
        self.nodes: list[Node] = []
        self.buses: dict[str, Bus] = {}
        self.asset_loc: dict[str, Loc] = {}
        self.node_loc: dict[str, Loc] = {}
        self.company_of: dict[str, str] = {}
        self.tags: dict[str, Tag] = {}
        self.defaults: dict[str, dict[str, str]] = {}
        self.notes: list[str] = []  # findings that are not errors, said to the user (never silent)
        # The carrier of the field being read, so "50 m3/h" of ethanol or "800 SEK/MWh" of
        # biomethane convert through its density or heating value; None outside a carrier's fields.
        self.carrier_now: Carrier | None = None

    def bad(self, loc: Loc, msg: str) -> None:
        self.problems.append((loc, msg))

    # -- values ------------------------------------------------------------------------------
    def parse(self, v: object, unit: str, what: str) -> float:
        """``v`` in ``unit``: by pint alone, else through the park's ``exchange_rates`` and the
        density or heating value of the carrier being read, each stated in the file."""
        try:
            return parse_quantity(v, unit, what=what)
        except UnitProblem as first:
            if not isinstance(v, str):
                raise
            try:
                q = registry().Quantity(v.strip())
            except Exception:
                raise first from None
            q = self._in_currency(q, v, what)
            factors = [registry().Quantity(1.0, "dimensionless")]
            if self.carrier_now is not None:
                factors += [registry().Quantity(x, u) for x, u in equivalences(self.carrier_now)]
            for f in factors:
                for cand in (q * f, q / f):
                    try:
                        return float(cand.to(unit).magnitude)
                    except Exception:  # pint's DimensionalityError: try the next factor
                        continue
            if self.carrier_now is not None and not equivalences(self.carrier_now):
                raise UnitProblem(f"{first} (a carrier converts volume or energy to its own unit only with "
                                  "density_kg_per_m3 or heating_value_kwh stated)") from None
            raise first from None

    def _in_currency(self, q, text: str, what: str):
        """``q`` with every foreign currency turned into the park's by its exchange rate."""
        rates = self.doc.park.exchange_rates
        for code in CURRENCIES:
            exp = q.dimensionality.get(f"[currency_{code.lower()}]", 0)
            if code == self.currency or not exp:
                continue
            if code not in rates:
                cur = self.currency
                raise UnitProblem(f"{what}: {text!r} is in {code} ({q.dimensionality}), the park's currency is "
                                  f"{cur}: state the rate in park.exchange_rates ({{{code}: {cur} per {code}}})")
            q = q * registry().Quantity(rates[code], f"{self.currency}/{code}") ** exp
        return q

    def value(self, v: object, unit: str, loc: Loc, what: str) -> Val:
        if isinstance(v, SeriesValue):
            v = v.model_dump()
        if isinstance(v, dict):
            sid = v.get("series")
            spec = self.series.get(sid) if isinstance(sid, str) else None
            if spec is None:
                self.bad(loc, f"{what}: no series {sid!r} in this park; series: {', '.join(sorted(self.series)) or 'none'}")
                return Val()
            power = float(v.get("power", 1.0))
            scale_text = v.get("scale", 1.0)
            try:
                su = spec.unit if power == 1.0 else f"1/({spec.unit})"
                if isinstance(scale_text, str):
                    q = registry().Quantity(scale_text)
                elif convertible(su, unit):  # a plain factor on a series already in the field's unit
                    q = registry().Quantity(float(scale_text), "dimensionless")
                elif convertible(su, "dimensionless"):  # a bare scale on a shape series: the field's unit
                    q = registry().Quantity(float(scale_text), f"({unit})/({su})")
                else:
                    raise ValueError("state the scale with a unit")
                scale = float((q * registry().Quantity(1.0, su)).to(unit).magnitude)
                offset = parse_quantity(v.get("offset", 0.0), unit, what=f"{what} offset")
            except UnitProblem as e:
                self.bad(loc, f"{what}: {e}")
                return Val()
            except Exception as e:  # pint's DimensionalityError and parse errors
                self.bad(loc, f"{what}: series {sid!r} in {spec.unit} times {scale_text!r} does not give {unit} ({e})")
                return Val()
            return Val(series=sid, scale=scale, power=power, offset=offset)
        try:
            return Val(self.parse(v, unit, what))
        except UnitProblem as e:
            self.bad(loc, str(e))
            return Val()

    def number(self, v: object, unit: str, loc: Loc, what: str, default: float | None = None) -> float:
        if v is None:
            return 0.0 if default is None else default
        try:
            return self.parse(v, unit, what)
        except UnitProblem as e:
            self.bad(loc, str(e))
            return 0.0

    def carrier(self, c: object, loc: Loc) -> Carrier:
        if isinstance(c, str):
            if c in self.carriers:
                return self.carriers[c]
            if c in Resource.__members__:
                return Carrier(resource=Resource(c))
            self.bad(loc, f"no carrier {c!r}: name a resource ({', '.join(r.value for r in Resource)}) "
                          f"or a carrier of this file's 'carriers' ({', '.join(sorted(self.carriers)) or 'none'})")
            return Carrier(resource=Resource.electricity)
        assert isinstance(c, Carrier)
        for msg in quality_problems(c):
            self.bad(loc, msg)
        return c

    # -- assets ------------------------------------------------------------------------------
    def expand(self) -> None:
        seen_assets: dict[str, Loc] = {}
        seen_companies: set[str] = set()
        for ci, company in enumerate(self.doc.companies):
            if company.id in seen_companies:
                self.bad(("companies", ci, "id"), f"company id {company.id!r} is used twice")
            seen_companies.add(company.id)
            for ai, asset in enumerate(company.assets):
                aloc: Loc = ("companies", ci, "assets", ai)
                if asset.id in seen_assets:
                    self.bad((*aloc, "id"), f"asset id {asset.id!r} is already used")
                    continue
                if asset.id in RESERVED_IDS:
                    self.bad((*aloc, "id"), f"{asset.id!r} is a name the platform uses for its own series; rename the asset")
                seen_assets[asset.id] = aloc
                self.asset_loc[asset.id] = aloc
                self.company_of[asset.id] = company.id
                self._tags(asset, aloc)
                for comp, cloc in self._components(asset, aloc):
                    self._node(asset.id, company.id, comp, cloc)

    def _tags(self, asset, aloc: Loc) -> None:
        names: set[str] = set()
        for ti, tag in enumerate(asset.tags):
            if tag.name in names:
                self.bad((*aloc, "tags", ti, "name"), f"tag {tag.name!r} appears twice in {asset.id}")
            if tag.name in RESERVED_IDS:
                self.bad((*aloc, "tags", ti, "name"), f"{tag.name!r} is a name the platform uses for its own series")
            names.add(tag.name)
            self.tags[f"{asset.id}.{tag.name}"] = tag

    def _components(self, asset, aloc: Loc) -> Iterator[tuple[object, Loc]]:
        if (asset.template is None) == (asset.components is None):
            self.bad(aloc, "an asset states either 'template' (with 'params') or 'components', not both or neither")
            return
        if asset.components is not None:
            if asset.params:
                self.bad((*aloc, "params"), "'params' belong to a template; this asset writes its components out")
            for k, comp in enumerate(asset.components):
                yield comp, (*aloc, "components", k)
            return
        make = TEMPLATES.get(asset.template)
        if make is None:
            self.bad((*aloc, "template"), f"no template {asset.template!r}; templates: {', '.join(sorted(TEMPLATES))}")
            return
        p = Params(dict(asset.params), asset.template)
        try:
            exp = make(asset.id, p)
            p.finish()
        except ParamProblem as e:
            self.bad((*aloc, "params", e.key) if e.key in asset.params else (*aloc, "params"), str(e))
            return
        self.defaults[asset.id] = p.defaults
        for sid, spec in exp.series.items():
            try:
                self.series[sid] = SeriesSpec.model_validate(spec)
            except ValidationError as e:
                self.bad((*aloc, "params"), f"derived series {sid}: {e.errors()[0]['msg']}")
        for raw in exp.components:
            try:
                comp = _COMPONENT.validate_python(raw)
            except ValidationError as e:
                for loc, msg in pydantic_problems(e, frozenset(COMPONENT_TYPES)):
                    self.bad((*aloc, "params"), f"{asset.template} {raw.get('id')}: {'.'.join(map(str, loc))}: {msg}")
                continue
            yield comp, (*aloc, "params")

    def _node(self, asset: str, company: str, c, loc: Loc) -> None:
        cid = c.id or c.type
        key = f"{asset}.{cid}"
        if any(n.key == key for n in self.nodes):
            self.bad((*loc, "id"), f"{asset} has two components named {cid!r}; give each an 'id'")
            return
        node = Node(key, asset, company, c.type, c.name, {})
        kind = self._converter if c.type == "converter" else self._single
        if not kind(node, c, loc, asset, cid):
            return
        self.nodes.append(node)
        self.node_loc[key] = loc
        for pname, port in node.ports.items():
            bus = self.buses.get(port.bus)
            if bus is None:
                self.buses[port.bus] = Bus(port.bus, port.carrier, [(key, pname, port.direction)])
            elif bus.carrier != port.carrier:
                self.bad(loc, f"port {port.bus} is shared by components that state different carriers: "
                              f"{bus.carrier.label()} and {port.carrier.label()}")
            else:
                bus.members.append((key, pname, port.direction))

    def _converter(self, node: Node, c, loc: Loc, asset: str, cid: str) -> bool:
        ports = {**{k: ("in", v) for k, v in c.inputs.items()}, **{k: ("out", v) for k, v in c.outputs.items()}}
        dup = set(c.inputs) & set(c.outputs)
        if dup:
            self.bad((*loc, "outputs"), f"port {sorted(dup)[0]!r} is both an input and an output")
        ref = c.reference or next(iter(c.outputs))
        if ref not in ports:
            self.bad((*loc, "reference"), f"no port {ref!r} to refer the load to; ports: {', '.join(ports)}")
            return False
        carriers = {pname: self.carrier(port.carrier, (*loc, "inputs" if d == "in" else "outputs", pname))
                    for pname, (d, port) in ports.items()}
        for pname, (direction, port) in ports.items():
            carrier = carriers[pname]
            base = carriers.get(port.of or ref, carrier)
            unit = f"({FLOW_UNITS[carrier.resource]})/({FLOW_UNITS[base.resource]})"
            ratio = self.value(port.ratio, unit, (*loc, pname), f"{pname}.ratio")
            if port.of is not None and port.of not in ports:
                self.bad((*loc, pname), f"{pname}.of: no port {port.of!r}")
            backup = None
            if port.backup is not None:
                if direction != "in":
                    self.bad((*loc, pname), "only an input may have a backup (an output's surplus goes to a disposal)")
                backup = self._backup(port.backup, carrier, (*loc, pname))
            node.ports[pname] = PortRef(pname, f"{asset}.{pname}", direction, carrier, ratio, port.of, backup)
        self.carrier_now = carriers[ref]  # "12 m3/h" of a liquid rated by mass converts through its density
        node.num["rated"] = self.number(c.rated, FLOW_UNITS[carriers[ref].resource], (*loc, "rated"), "rated")
        self.carrier_now = None
        node.num["min_load"] = c.min_load
        if c.part_load is not None:
            if c.part_load.port not in c.inputs:
                self.bad((*loc, "part_load"), f"part_load.port: {c.part_load.port!r} is not an input")
            elif c.min_load <= 0:
                self.bad((*loc, "part_load"), "a part-load curve needs min_load above 0")
            else:
                node.text["part_load_port"] = c.part_load.port
                node.num["part_load_ratio"] = c.part_load.ratio_at_min_load
        node.text["reference"] = ref
        node.text["control"] = c.control
        if c.availability is not None:
            node.val["availability"] = self.value(c.availability, "dimensionless", (*loc, "availability"),
                                                  "availability")
        return True

    def _single(self, node: Node, c, loc: Loc, asset: str, cid: str) -> bool:
        cur = self.currency
        carrier = self.carrier(c.carrier, (*loc, "carrier"))
        flow, amount = FLOW_UNITS[carrier.resource], amount_unit(carrier.resource)
        per = f"{cur}/({amount})"
        co2 = f"kg/({amount})"
        direction = {"source": "out", "demand": "in", "disposal": "in", "storage": "both", "market": "both"}[c.type]
        backup = None
        if c.type == "demand" and c.backup is not None:
            backup = self._backup(c.backup, carrier, (*loc, "backup"))
        node.ports["port"] = PortRef(cid, f"{asset}.{c.port or cid}", direction, carrier, backup=backup)
        self.carrier_now = carrier
        try:
            getattr(self, f"_{c.type}")(node, c, loc, flow, amount, per, co2)
        finally:
            self.carrier_now = None
        return True

    def _source(self, node: Node, c, loc: Loc, flow: str, amount: str, per: str, co2: str) -> None:
        if (c.profile is None) == (c.price is None):
            self.bad(loc, "a source states a 'profile' (must-take output) or a 'price' (purchase), one of them")
        if c.profile is not None:
            node.val["profile"] = self.value(c.profile, flow, (*loc, "profile"), "profile")
            if c.surplus is None:
                self.bad((*loc, "surplus"), "a profile source says what happens to output nobody takes: "
                                            "surplus: {cost: ..., name: ...}")
            else:
                b = self._backup(c.surplus, node.ports["port"].carrier, (*loc, "surplus"))
                node.val["surplus_cost"], node.val["surplus_co2"] = b.cost, b.co2
                node.text["surplus_name"] = b.name
        else:
            node.val["price"] = self.value(c.price, per, (*loc, "price"), "price")
            node.num["max"] = self.number(c.max, flow, (*loc, "max"), "max", default=float("inf"))
            node.val["co2"] = self.value(c.co2, co2, (*loc, "co2"), "co2")

    def _demand(self, node: Node, c, loc: Loc, flow: str, amount: str, per: str, co2: str) -> None:
        node.val["profile"] = self.value(c.profile, flow, (*loc, "profile"), "profile")

    def _storage(self, node: Node, c, loc: Loc, flow: str, amount: str, per: str, co2: str) -> None:
        node.num["capacity"] = self.number(c.capacity, amount, (*loc, "capacity"), "capacity")
        cap = node.num["capacity"]
        node.num["max_charge"] = self.number(c.max_charge, flow, (*loc, "max_charge"), "max_charge", cap)
        node.num["max_discharge"] = self.number(c.max_discharge, flow, (*loc, "max_discharge"),
                                                "max_discharge", cap)
        node.num["loss"] = self.number(c.loss, "1/h", (*loc, "loss"), "loss")
        node.num["release"] = self.number(c.release, "1/h", (*loc, "release"), "release")
        node.num["initial"] = c.initial
        node.text["end"] = c.end.rule
        if c.end.rule == "valued":
            if c.end.value is None:
                self.bad((*loc, "end"), "end.rule 'valued' needs end.value (currency per unit left)")
            node.num["end_value"] = self.number(c.end.value, per, (*loc, "end"), "end.value")
        elif c.end.value is not None:
            self.bad((*loc, "end"), f"end.value is used only with rule 'valued', not {c.end.rule!r}")
        for k in ("loss", "release"):
            if not 0.0 <= node.num[k] <= 1.0:
                self.bad((*loc, k), f"{k} is a fraction of the level per hour, between 0 and 1 (got {node.num[k]:g}/h)")

    def _market(self, node: Node, c, loc: Loc, flow: str, amount: str, per: str, co2: str) -> None:
        if c.import_price is None and c.export_price is None:
            self.bad(loc, "a market states an import_price, an export_price or both")
        for k in ("import_price", "export_price"):
            if getattr(c, k) is not None:
                node.val[k] = self.value(getattr(c, k), per, (*loc, k), k)
        node.num["import_max"] = self.number(c.import_max, flow, (*loc, "import_max"), "import_max",
                                             float("inf")) if c.import_price is not None else 0.0
        node.num["export_max"] = self.number(c.export_max, flow, (*loc, "export_max"), "export_max",
                                             float("inf")) if c.export_price is not None else 0.0
        node.val["co2"] = self.value(c.co2, co2, (*loc, "co2"), "co2")
        node.text["co2_source"] = c.co2_source

    def _disposal(self, node: Node, c, loc: Loc, flow: str, amount: str, per: str, co2: str) -> None:
        node.val["cost"] = self.value(c.cost, per, (*loc, "cost"), "cost")
        node.val["co2"] = self.value(c.co2, co2, (*loc, "co2"), "co2")
        node.num["max"] = self.number(c.max, flow, (*loc, "max"), "max", float("inf"))
        node.text["control"] = c.control
        if c.control == "setpoint" and node.num["max"] == float("inf"):
            self.bad((*loc, "max"), "a disposal under setpoint control needs 'max' (its action's full scale)")


    def _backup(self, b, carrier: Carrier, loc: Loc) -> Backup:
        amount = amount_unit(carrier.resource)
        outer, self.carrier_now = self.carrier_now, carrier
        try:
            return Backup(self.value(b.cost, f"{self.currency}/({amount})", (*loc, "cost"), "backup cost"),
                          self.value(b.co2, f"kg/({amount})", (*loc, "co2"), "backup co2"), b.name)
        finally:
            self.carrier_now = outer

    # -- exchanges ---------------------------------------------------------------------------
    def links(self) -> list[Link]:
        out: list[Link] = []
        seen: set[str] = set()
        for ei, ex in enumerate(self.doc.exchanges):
            loc: Loc = ("exchanges", ei)
            if ex.id in seen:
                self.bad((*loc, "id"), f"exchange id {ex.id!r} is used twice")
                continue
            seen.add(ex.id)
            srcs = self._endpoint(ex.source, "out", (*loc, "from"), ex.resource)
            dsts = self._endpoint(ex.sink, "in", (*loc, "to"), ex.resource)
            if not srcs or not dsts:
                continue
            if len(srcs) * len(dsts) > 1:  # asset-only endpoints: the one pair whose qualities fit
                pairs = [(a, b) for a in srcs for b in dsts if serves(self.buses[a].carrier, self.buses[b].carrier) is None]
                if len(pairs) != 1:
                    self.bad((*loc, "from"), f"{ex.source} -> {ex.sink} fits {len(pairs)} pairs of ports "
                                             f"({', '.join(f'{a}->{b}' for a, b in pairs) or 'none'}): write asset.port")
                    continue
                srcs, dsts = [pairs[0][0]], [pairs[0][1]]
            src, dst = srcs[0], dsts[0]
            if src == dst or src.split(".")[0] == dst.split(".")[0]:
                self.bad((*loc, "to"), "an exchange joins two different assets (inside an asset, ports are shared by name)")
                continue
            sc, dc = self.buses[src].carrier, self.buses[dst].carrier
            why = serves(sc, dc)
            if why:
                self.bad((*loc, "to"), why)
                continue
            if ex.resource is not None and ex.resource != sc.resource.value:
                self.bad((*loc, "resource"), f"the ports carry {sc.resource.value}, not {ex.resource}")
            maker = self._converter_output(dst)
            if maker:
                self.bad((*loc, "to"), f"{dst} is the {maker} output, where only a disposal takes: an exchange "
                                       "delivers to a port that takes (a converter's input, a demand, a store, a "
                                       "market); send both flows to the taker")
                continue
            flow = FLOW_UNITS[sc.resource]
            self.carrier_now = sc
            cap = self.number(ex.capacity, flow, (*loc, "capacity"), "capacity")
            if cap <= 0:
                self.bad((*loc, "capacity"), f"capacity must be above 0 {flow} (disable the exchange with enabled: false)")
            cost = self.number(ex.transport_cost, f"{self.currency}/({amount_unit(sc.resource)})",
                               (*loc, "transport_cost"), "transport_cost")
            self.carrier_now = None
            if ex.meter_tag is not None:
                self._meter(ex.meter_tag, sc, (*loc, "meter_tag"))
            out.append(Link(ex.id, src, dst, sc.resource, cap, ex.loss, cost, ex.control == "controllable",
                            ex.priority, ex.enabled, ex.meter_tag, ex.description))
        return sorted(out, key=lambda link: link.id)

    def _converter_output(self, bus: str) -> str:
        """The converter port that gives to ``bus`` when nothing there but a disposal takes, or ''.

        Such a port is where a unit gives, not where anything arrives: an exchange into it was
        accepted once and carried 0 all year (issue 22, finding 10). A shared header, where a
        demand, a store, a market or another unit's input takes, is a real destination.
        """
        types = {n.key: n.type for n in self.nodes}
        members = self.buses[bus].members
        takers = [key for key, _, d in members if d in ("in", "both") and types.get(key) != "disposal"]
        if takers:
            return ""
        for key, port, d in members:
            if d == "out" and types.get(key) == "converter":
                return f"{key}'s {port}"
        return ""

    def _endpoint(self, text: str, direction: str, loc: Loc, resource: str | None) -> list[str]:
        """The buses ``text`` may mean: one for ``asset.port``, every fitting one for ``asset``."""
        asset, _, port = text.partition(".")
        if asset not in self.company_of:
            self.bad(loc, f"no asset {asset!r} in this park; assets: {', '.join(sorted(self.company_of))}")
            return []
        verb = "give" if direction == "out" else "take"
        candidates = [b for b in self.buses.values() if b.id.split(".")[0] == asset
                      and any(d in (direction, "both") for _, _, d in b.members)]
        if port:
            bus = self.buses.get(text)
            if bus is None:
                names = ", ".join(sorted(b.id.split(".", 1)[1] for b in self.buses.values() if b.id.startswith(asset + ".")))
                self.bad(loc, f"{asset} has no port {port!r}; its ports: {names}")
                return []
            if bus not in candidates:
                self.bad(loc, f"{text} cannot {verb} {bus.carrier.resource.value}: nothing on that port does")
                return []
            return [text]
        if resource is not None:
            if resource not in Resource.__members__:
                self.bad(loc, f"unknown resource {resource!r}; resources: {', '.join(r.value for r in Resource)}")
                return []
            candidates = [b for b in candidates if b.carrier.resource.value == resource]
        if not candidates:
            self.bad(loc, f"{asset} has no port that can {verb} {resource or 'this flow'}")
        return sorted(b.id for b in candidates)

    def _meter(self, tag_id: str, carrier: Carrier, loc: Loc) -> None:
        tag = self.tags.get(tag_id)
        if tag is None:
            self.bad(loc, f"no tag {tag_id!r}; tags are written <asset>.<tag>")
            return
        resource = carrier.resource
        unit = tag.unit if tag.unit != "1" else "dimensionless"
        self.carrier_now = carrier  # a m³/h meter on a material with a stated density converts
        try:
            self.parse(f"1 {unit}", FLOW_UNITS[resource], "meter")
        except UnitProblem:
            if not (resource in (Resource.sludge, Resource.biomass) and tag.quantity == "volume_flow"):
                hint = "" if resource == Resource.water else " (a volume meter needs the carrier's density_kg_per_m3)"
                self.bad(loc, f"{tag_id} measures {tag.quantity} in {tag.unit}: it cannot meter a {resource.value} "
                              f"flow (in {FLOW_UNITS[resource]}){hint}")
        finally:
            self.carrier_now = None

    # -- companies' stated inputs and outputs (for matchmaking) -------------------------------
    def company_flows(self) -> None:
        """Check each company's ``inputs``/``outputs``: carrier, units, profile, port, side-only fields."""
        stated = 0
        for ci, company in enumerate(self.doc.companies):
            seen: set[str] = set()
            for side in ("outputs", "inputs"):
                for fi, flow in enumerate(getattr(company, side)):
                    stated += 1
                    self._company_flow(flow, side, ("companies", ci, side, fi), seen)
        if stated:
            self.notes.append(f"{stated} stated company inputs/outputs are read by matchmaking (aisym match), "
                              "not simulated: the twin simulates assets and exchanges")
        for c in self.doc.companies:
            if not (c.assets or c.inputs or c.outputs):
                self.notes.append(f"company {c.id} is described by its sector alone (NACE {c.nace}), for matchmaking")

    def _company_flow(self, flow, side: str, loc: Loc, seen: set[str]) -> None:
        if flow.id in seen:
            self.bad((*loc, "id"), f"flow id {flow.id!r} is used twice in this company's inputs and outputs")
        seen.add(flow.id)
        carrier = self.carrier(flow.carrier, (*loc, "carrier"))
        amount = amount_unit(carrier.resource)
        self.carrier_now = carrier
        if flow.quantity is not None:
            q = self.number(flow.quantity, FLOW_UNITS[carrier.resource], (*loc, "quantity"), "quantity")
            if q < 0:
                self.bad((*loc, "quantity"), "a quantity is a mean flow, 0 or more")
        self.number(flow.cost, f"{self.currency}/({amount})", (*loc, "cost"), "cost")
        self.number(flow.co2, f"kg/({amount})", (*loc, "co2"), "co2")
        self.carrier_now = None
        if isinstance(flow.profile, str) and flow.profile not in self.series:
            self.bad((*loc, "profile"), f"no series {flow.profile!r} in this park; series: "
                                        f"{', '.join(sorted(self.series)) or 'none'}")
        elif isinstance(flow.profile, list) and (len(flow.profile) != 12 or sum(flow.profile) <= 0):
            self.bad((*loc, "profile"), f"a monthly profile has 12 factors, January first, not all 0 "
                                        f"(got {len(flow.profile)})")
        if flow.profile is not None and flow.quantity is None:
            self.bad((*loc, "profile"), "a profile shapes a quantity: state the mean 'quantity' too")
        wrong = ("accepts_hazardous", "heat_pump") if side == "outputs" else ("hazardous",)
        for k in wrong:
            if getattr(flow, k) is not None:
                self.bad((*loc, k), f"{k!r} is stated on {'inputs' if side == 'outputs' else 'outputs'} only")
        if flow.port is not None:
            bus = self.buses.get(flow.port)
            if bus is None:
                self.bad((*loc, "port"), f"no port {flow.port!r} in this park (write asset.port); ports: "
                                         f"{', '.join(sorted(self.buses)) or 'none'}")
            elif serves(bus.carrier, carrier) is not None and serves(carrier, bus.carrier) is not None:
                self.bad((*loc, "carrier"), f"port {flow.port} carries {bus.carrier.label()}, not {carrier.label()}")

    # -- whole-graph checks ------------------------------------------------------------------
    def check_graph(self, links: list[Link]) -> None:
        gives_in: dict[str, int] = {}
        takes_out: dict[str, int] = {}
        for link in links:
            gives_in[link.dst] = gives_in.get(link.dst, 0) + 1
            takes_out[link.src] = takes_out.get(link.src, 0) + 1
        nodes = {n.key: n for n in self.nodes}
        for bus in sorted(self.buses.values(), key=lambda b: b.id):
            loc = self.asset_loc[bus.id.split(".")[0]]
            givers = [m for m in bus.members if m[2] in ("out", "both")]
            takers = [m for m in bus.members if m[2] in ("in", "both")]
            unsupplied = not givers and not gives_in.get(bus.id)
            needs = [m for m in bus.members if m[2] == "in" and nodes[m[0]].type == "demand"
                     and nodes[m[0]].ports[m[1]].backup is None]
            if needs and unsupplied:
                self.bad(loc, f"{bus.id} takes {bus.carrier.label()} but nothing supplies it: "
                              "add an exchange to it, or a backup")
            idle = [m for m in bus.members if m[2] == "in" and nodes[m[0]].type == "converter"
                    and nodes[m[0]].ports[m[1]].backup is None]
            if idle and unsupplied:  # a what-if that disconnects a unit: it is simulated, and never runs
                for key, port, _ in idle:
                    self.notes.append(f"{key} never runs: nothing supplies its {port} ({bus.carrier.label()})")
            # a source's own surplus is its exit; a converter's output needs a taker or a disposal
            must_go = [m for m in bus.members if m[2] == "out" and nodes[m[0]].type != "source"]
            if must_go and not takers and not takes_out.get(bus.id):
                self.bad(loc, f"{bus.id} gives {bus.carrier.label()} but nothing takes it: "
                              "add an exchange from it, or a disposal")
            elif must_go:
                self._outlet(bus, links, nodes)
        for members, gain in impossible_loops(nodes, links):  # issue 22 item 3: other loops the twin resolves
            self.bad((*self.node_loc[members[0]], "control"),
                     f"{', '.join(members)} follow what is asked of them in a loop whose gain round it is {gain:.4g} "
                     "≥ 1 at full load: each unit delivered asks at least as much back round the loop, so it has no "
                     "solution; run one of them on a setpoint, or put a store or a market in the loop")
        for members in unstarted_loops(nodes, self.buses, links):  # said, never silent
            self.notes.append(f"{', '.join(members)} never run: each takes an input, with no backup, only from the "
                              "others, and the twin starts their loop from nothing; give one of those inputs a backup "
                              "(a start-up boiler, a grid connection) or a store")
        self._series_checks()

    def _outlet(self, bus: Bus, links: list[Link], nodes: dict[str, Node]) -> None:
        """A unit whose output has nowhere to go is held at 0 all year (:mod:`.outlets`): a must-run
        unit is refused and any other is named (issue 22, finding 6: a sugar refinery crushed no
        cane because its molasses had nowhere to go, and the what-if called that a saving)."""
        if dumped(bus, nodes):
            return  # what nothing takes is dumped there
        reached, why = outlet(bus, self.buses, links, nodes)
        makers = [(key, pname) for key, pname, d in bus.members if d == "out" and nodes[key].type == "converter"]
        for key, pname in makers:
            must_run = nodes[key].text["control"] == "must_run"
            if reached and must_run and not any(nodes[k].type in ("market", "disposal") for k in reached):
                self.notes.append(f"{key} runs only as far as {', '.join(reached)} take its {pname} "
                                  f"({bus.id} has no disposal or market)")  # said, never silent
            elif not reached and must_run:
                self.bad((*self.node_loc[key], "outputs", pname),
                         f"must-run output {bus.id} has no outlet: {why}, so {key} could never run; add a disposal "
                         f"on {bus.id} (what the plant does with {bus.carrier.label()} nothing takes) or an "
                         "exchange to a taker")
            elif not reached:
                self.notes.append(f"{key} never runs: its output {bus.id} has no outlet ({why})")

    def _series_checks(self) -> None:
        for sid, spec in sorted(self.series.items()):
            m = spec.seasonal
            written = self.doc.series.get(sid)
            if written is not None and written.campaign is not None:
                m = None  # a campaign's level is set so its clipped mean is the stated one
            if m is not None and (m.min is not None or m.max is not None):
                got = m.clipped_mean(self.doc.park.step_h)
                if abs(got - m.mean) > 1e-3 * max(abs(m.mean), 1e-9):
                    self.notes.append(f"series {sid}: clipped to [{m.min}, {m.max}], its year's mean is {got:.4g} "
                                      f"{spec.unit}, not the stated mean {m.mean:g} (noise aside): the mean is the "
                                      "cosine's centre line; scale what uses it by the figure you mean")
            for dep in spec.depends_on():
                if dep not in self.series:
                    self.bad(("series", sid), f"series {sid} is built from {dep!r}, which is not a series of this park")
            try:
                registry().Quantity(1.0, spec.unit)
            except Exception as e:
                self.bad(("series", sid, "unit"), f"unknown unit {spec.unit!r} ({e})")
        # a series built from itself, directly or not, can never be generated
        for sid in sorted(self.series):
            seen, cur = set(), sid
            while cur in self.series and self.series[cur].depends_on():
                if cur in seen:
                    self.bad(("series", sid), f"series {sid} depends on itself")
                    break
                seen.add(cur)
                cur = self.series[cur].depends_on()[0]


def build_graph(doc: ParkV2, source: str) -> tuple[ParkGraph | None, list[tuple[Loc, str]]]:
    """Resolve ``doc``; returns the graph (None if anything is wrong) and the problems found."""
    b = _Builder(doc, source)
    carbon = b.number(doc.park.carbon_price, f"{doc.park.currency}/kg", ("park", "carbon_price"), "carbon_price")
    if doc.park.currency in doc.park.exchange_rates:  # a rate that could never be used is not kept quiet
        b.bad(("park", "exchange_rates", doc.park.currency), f"{doc.park.currency} is the park's own currency; "
                                                             "exchange_rates lists the others")
    voll = {r.value: b.number(v, f"{doc.park.currency}/({amount_unit(r)})", ("park", "value_of_lost_load", r.value),
                              "value_of_lost_load") for r, v in doc.park.value_of_lost_load.items()}
    for r, v in voll.items():
        if v < 0:
            b.bad(("park", "value_of_lost_load", r), f"a value of lost load is a cost, at least 0 (got {v:g})")
    b.expand()
    links = b.links()
    b.company_flows()
    if not b.problems:
        b.check_graph(links)
    if b.problems:
        return None, b.problems
    nodes = sorted(b.nodes, key=lambda n: n.key)
    return ParkGraph(doc, source, nodes, dict(sorted(b.buses.items())), links, dict(sorted(b.series.items())),
                     dict(sorted(b.company_of.items())), dict(sorted(b.tags.items())), b.defaults, carbon,
                     sorted(b.notes), voll), []
