"""Compile a park graph into flat arrays and a step schedule: what the kernel and the LP read.

The graph (:class:`aisym.park.graph.ParkGraph`) becomes:

- component tables ``NI`` (ints) and ``NF`` (floats), one row per component, columns ``I_*`` and
  ``F_*`` by type; ``NV`` gives each component's time-varying values as columns of ``COEF``;
- converter ports (``P*`` arrays, a CSR slice ``NI[n, I_P0]:NI[n, I_P1]`` per converter);
- buses (``B*``) with the store, market, purchase and surplus disposal that sit on them, and
  their incoming exchanges in priority order (CSR ``BIN_PTR``/``BIN_LINK``);
- exchanges (``L*``), and per-step coefficients ``COEF[year, t, value]`` precomputed from the
  park's series (prices, COP, profiles), so no formula of the physics is evaluated twice;
- the **schedule**: the order in which one step resolves the park, ``OPS[i] = (op, component)``.

The schedule is built by :mod:`sim_env.graph.schedule` from the rules in docs/twin.md ("Step
semantics"); a loop of the rules becomes one segment that the kernel repeats until it settles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aisym.park.graph import Node, ParkGraph, Val

from .exogenous import generate, steps_per_year

# component types
T_SOURCE, T_PURCHASE, T_DEMAND, T_CONVERTER, T_STORAGE, T_MARKET, T_DISPOSAL = range(7)
TYPE_NAMES = ("source", "purchase", "demand", "converter", "storage", "market", "disposal")
# NI columns
I_TYPE, I_BUS, I_CONTROL, I_ACTION, I_P0, I_P1, I_REF, I_PL = range(8)
N_I = 8
# converter controls (NI[:, I_CONTROL]); a disposal's control is 0 surplus / 1 setpoint
C_SETPOINT, C_FOLLOW_INPUT, C_FOLLOW_OUTPUT, C_MUST_RUN = range(4)
CONTROLS = {"setpoint": C_SETPOINT, "follow_input": C_FOLLOW_INPUT, "follow_output": C_FOLLOW_OUTPUT,
            "must_run": C_MUST_RUN}
# NF columns by type
# converter: part-load line on I_PL, per hour; F_ROOM_BOUND 1.0 where a follow-input unit offers less room
# than its rating when its availability or a pushed output binds (kernel._follow_in_room; else never asked)
F_RATED, F_MIN_LOAD, F_PL_SLOPE, F_PL_OFFSET, F_ROOM_BOUND = range(5)
F_CAP, F_MAX_CH, F_MAX_DIS, F_LOSS, F_RELEASE, F_INIT, F_END_VALUE = range(7)  # storage
F_IMP_MAX, F_EXP_MAX = range(2)  # market
F_MAX = 0  # disposal, purchase
N_F = 8
# NV columns by type (-1: none)
V_PROFILE, V_COST, V_CO2 = range(3)  # source (surplus cost/co2), demand (backup), disposal
V_PRICE = 0  # purchase (V_CO2 = 2 as above)
V_IMPORT, V_EXPORT = range(2)  # market (V_CO2 = 2)
V_AVAIL = 0  # converter availability
N_V = 3
# bus columns (B_VOLL: the COEF column of the value of lost load of the bus's resource;
# B_RESIDUE: 1 where an exchange into the bus is passive, LPASS > 0, so a need there takes residue)
# B_ROOM: 1 where a follow-input unit on the bus offers room its outputs bound (F_ROOM_BOUND)
B_STORE, B_MARKET, B_PURCHASE, B_DISPOSAL, B_PUSHED, B_VOLL, B_RESIDUE, B_ROOM = range(8)
N_B = 8
# Value of lost load, the default where the park states none for a resource (issue 22, finding 4):
# electricity 8.7 EUR/kWh, the EU's annual average (Shivakumar et al. 2017, Energy Res. Soc. Sci.
# 34:39; a park should state its country's figure, e.g. from the ACER/CEPA 2018 study), where the
# park prices in EUR or states an EUR rate. Any other resource, or electricity without an EUR rate:
# VOLL_FACTOR × the dearest price the park states for buying it (a backup, a purchase, a market's
# import; a series at its stated max, else its mean) [E]: dearer than any way of buying it, so
# the optimum sheds load only where nothing can be bought. With no price for the resource at all,
# VOLL_FACTOR × the dearest price of any resource (per its own unit), or VOLL_FLOOR if larger.
VOLL_ELECTRICITY_EUR_PER_KWH = 8.7
VOLL_FACTOR = 10.0
VOLL_FLOOR = 10.0  # park currency per canonical amount, where the park states no price at all
# exchange columns
L_CAP, L_LOSS, L_COST = range(3)
# schedule ops
(OP_SOURCE, OP_STORE_OPEN, OP_STORE_IN, OP_DEMAND_PLAN, OP_CONV_LOAD, OP_STORE_OUT, OP_DISPOSAL,
 OP_CONV_SETTLE, OP_DEMAND_SETTLE, OP_STORE_CLOSE, OP_LOOP) = range(11)
OP_NAMES = ("source", "store_open", "store_in", "demand_plan", "conv_load", "store_out", "disposal",
            "conv_settle", "demand_settle", "store_close", "loop")
# a loop segment's ops carry their code plus this, so the step's own dispatch passes over them
# and only the segment's repeats (kernel ``_loop``) run them
OP_IN_LOOP = 16


class CompileError(ValueError):
    """The park cannot be compiled into a step; the message names what is wrong."""


@dataclass
class CompiledPark:
    """Flat arrays of one park; see the module docstring for each table."""

    graph: ParkGraph
    dt_h: float
    node_keys: list[str]
    bus_ids: list[str]
    link_ids: list[str]
    NI: np.ndarray
    NF: np.ndarray
    NV: np.ndarray
    PB: np.ndarray  # port bus
    PD: np.ndarray  # 0 input, 1 output
    PV: np.ndarray  # ratio value column
    PO: np.ndarray  # the port the ratio is per unit of (global index, -1: the reference)
    PBC: np.ndarray  # backup cost value column (-1: none)
    PBO: np.ndarray  # backup co2 value column
    PDEF: np.ndarray  # 1: the input is taken when settling (backup, or an on-demand supply)
    BI: np.ndarray  # bus table (B_*)
    BIN_PTR: np.ndarray
    BIN_LINK: np.ndarray
    LS: np.ndarray
    LD: np.ndarray
    LA: np.ndarray  # action index (-1: passive)
    LF: np.ndarray  # L_CAP (per hour), L_LOSS, L_COST
    LPASS: np.ndarray  # 1: a store takes it with its inflows (must-go supply); 2: free residue to a consumer
    LE: np.ndarray  # 1.0 enabled, 0.0 ``enabled: false`` in the file (the default edge mask)
    OPS: np.ndarray  # (n_ops, 2)
    BOUT_PTR: np.ndarray  # outgoing exchanges per bus (CSR, priority order)
    BOUT_LINK: np.ndarray
    BFI_PTR: np.ndarray  # follow-input converters whose reference input is on the bus (CSR)
    BFI_NODE: np.ndarray
    STP_PTR: np.ndarray  # converters that may deliver into each store (CSR over components)
    STP_NODE: np.ndarray
    values: list[Val]
    action_names: list[str]
    action_units: list[str]
    action_kind: np.ndarray  # 0 converter, 1 exchange, 2 disposal
    action_ref: np.ndarray  # component or exchange index
    carbon_price_per_kg: float
    schedule_names: list[str] = field(default_factory=list)
    # load-following (follow-output) converters whose reference output is on the bus, in component
    # order (CSR): what may still be made there on demand is summed over these, not over every component
    BFO_PTR: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    BFO_NODE: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # the loops the schedule repeats within a step: the index in OPS of each (OP_LOOP, .) row -> its ops' names
    loops: dict[int, list[str]] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.node_keys)

    @property
    def n_actions(self) -> int:
        return len(self.action_names)

    def coefficients(self, series: dict[str, np.ndarray], n_years: int = 1) -> np.ndarray:
        """``COEF[year, t, value]``: every value of the park at every step, from ``series``
        (``n_years`` years of constants when the park has no series)."""
        if series:
            n_years, T = next(iter(series.values())).shape
        else:
            T = steps_per_year(self.dt_h)
        coef = np.empty((n_years, T, len(self.values)))
        for j, v in enumerate(self.values):
            if v.series is None:
                coef[:, :, j] = v.const
            else:
                s = series[v.series]
                coef[:, :, j] = v.scale * (s if v.power == 1.0 else 1.0 / s) + v.offset
        return coef

    def exogenous(self, seed: int = 0, n_years: int = 1, given: dict | None = None) -> np.ndarray:
        """Generate this park's series and return its ``COEF``."""
        return self.coefficients(generate(self.graph, seed, n_years, self.dt_h, given), n_years)


class _Values:
    def __init__(self) -> None:
        self.items: list[Val] = []
        self.index: dict[Val, int] = {}

    def add(self, v: Val | None) -> int:
        if v is None:
            return -1
        if v not in self.index:
            self.index[v] = len(self.items)
            self.items.append(v)
        return self.index[v]


def _type(n: Node) -> int:
    if n.type == "source":
        return T_SOURCE if "profile" in n.val else T_PURCHASE
    return {"demand": T_DEMAND, "converter": T_CONVERTER, "storage": T_STORAGE, "market": T_MARKET,
            "disposal": T_DISPOSAL}[n.type]


def compile_park(graph: ParkGraph, dt_h: float = 1.0) -> CompiledPark:
    """Compile ``graph`` for steps of ``dt_h`` hours. Raises :class:`CompileError`."""
    nodes = graph.nodes  # sorted by key
    links = [link for link in graph.links]
    bus_ids = list(graph.buses)
    bidx = {b: i for i, b in enumerate(bus_ids)}
    nidx = {n.key: i for i, n in enumerate(nodes)}
    lidx = {link.id: i for i, link in enumerate(links)}
    vals = _Values()
    nn, nb, nl = len(nodes), len(bus_ids), len(links)
    NI = np.full((nn, N_I), -1, dtype=np.int64)
    NF = np.zeros((nn, N_F))
    NV = np.full((nn, N_V), -1, dtype=np.int64)
    BI = np.full((nb, N_B), -1, dtype=np.int64)
    ports: list[tuple] = []
    actions: list[tuple[str, str, int, int]] = []  # (name, unit, kind, ref)
    for i, n in enumerate(nodes):
        t = _type(n)
        NI[i, I_TYPE] = t
        if t == T_CONVERTER:
            _converter(i, n, NI, NF, NV, ports, bidx, vals)
            if n.text["control"] == "setpoint":
                actions.append((n.key, _unit(graph, n.ports[n.text["reference"]].bus), 0, i))
            continue
        _single(i, t, n, graph, NI, NF, NV, BI, bidx, vals, actions)
    for j, link in enumerate(links):
        if link.controllable:
            actions.append((link.id, _unit(graph, link.src), 1, j))
    actions.sort(key=lambda a: a[0])  # the file's order never matters
    for a, (_, _, kind, ref) in enumerate(actions):
        if kind == 1:
            continue
        NI[ref, I_ACTION] = a
    PB, PD, PV, PO, PBC, PBO = (np.array([p[k] for p in ports], dtype=np.int64) for k in range(6))
    LS = np.array([bidx[link.src] for link in links], dtype=np.int64)
    LD = np.array([bidx[link.dst] for link in links], dtype=np.int64)
    LA = np.full(nl, -1, dtype=np.int64)
    for a, (_, _, kind, ref) in enumerate(actions):
        if kind == 1:
            LA[ref] = a
    LF = np.array([[link.capacity, link.loss, link.cost] for link in links], dtype=np.float64).reshape(nl, 3)
    order = sorted(range(nl), key=lambda j: (links[j].priority, links[j].id))
    BIN_PTR = np.zeros(nb + 1, dtype=np.int64)
    per_bus = [[j for j in order if LD[j] == b] for b in range(nb)]
    for b in range(nb):
        BIN_PTR[b + 1] = BIN_PTR[b] + len(per_bus[b])
    BIN_LINK = np.array([j for b in range(nb) for j in per_bus[b]], dtype=np.int64)
    cp = CompiledPark(
        graph, dt_h, [n.key for n in nodes], bus_ids, [link.id for link in links], NI, NF, NV, PB, PD, PV, PO, PBC,
        PBO, np.zeros(len(ports), dtype=np.int64), BI, BIN_PTR, BIN_LINK, LS, LD, LA, LF,
        np.zeros(nl, dtype=np.int64), np.array([1.0 if link.enabled else 0.0 for link in links]),
        np.zeros((0, 2), dtype=np.int64),
        *_csr([[j for j in order if LS[j] == b] for b in range(nb)]), *_csr([[] for _ in range(nb)]),
        *_csr([[] for _ in range(nn)]), vals.items,
        [a[0] for a in actions], [a[1] for a in actions], np.array([a[2] for a in actions], dtype=np.int64),
        np.array([a[3] for a in actions], dtype=np.int64), graph.carbon_price_per_kg)
    _lost_load(cp, vals)
    cp.values = vals.items
    _classify(cp, nidx, lidx)
    _adjacency(cp)
    from .schedule import schedule  # schedule.py reads this module's tables: imported once they exist

    cp.OPS, cp.schedule_names = schedule(cp)
    cp.loops = {i: _segment_names(cp, i) for i in range(len(cp.OPS)) if cp.OPS[i, 0] == OP_LOOP}
    return cp


def _segment_names(cp: CompiledPark, i: int) -> list[str]:
    """The names of the ops of the loop segment marked at ``OPS[i]``."""
    out = []
    for j in range(i + 1, len(cp.OPS)):
        if cp.OPS[j, 0] < OP_IN_LOOP:
            break
        out.append(cp.schedule_names[j])
    return out


def _stated_top(v: Val, graph: ParkGraph) -> float | None:
    """The dearest a value can be as its file states it (a series at its max, else its mean)."""
    if v.series is None:
        return v.const
    spec, top = graph.series.get(v.series), None
    for _ in range(8):  # an affine series of an affine series...
        if spec is None:
            return None
        kind = getattr(spec, spec.kind)
        if spec.kind == "constant":
            top = spec.constant
        elif spec.kind == "affine":
            inner = _stated_top(Val(series=kind.of), graph)
            top = None if inner is None else kind.scale * inner + kind.offset
            top = top if top is None or kind.max is None else min(top, kind.max)
        else:
            top = getattr(kind, "max", None)
            top = getattr(kind, "mean", None) if top is None else top
        break
    if top is None or (v.power != 1.0 and top <= 0.0):
        return None
    return v.scale * (top if v.power == 1.0 else 1.0 / top) + v.offset


def _lost_load(cp: CompiledPark, vals: _Values) -> None:
    """``BI[b, B_VOLL]``: the value of lost load of each bus's resource, stated or by default (VOLL_*)."""
    g = cp.graph
    resource = [g.buses[b].carrier.resource.value for b in cp.bus_ids]
    prices: dict[str, list[Val]] = {}  # what the park pays per unit of each resource
    for i, n in enumerate(g.nodes):
        t = cp.NI[i, I_TYPE]
        if t == T_CONVERTER:
            for port in n.ports.values():
                if port.backup is not None:
                    prices.setdefault(g.buses[port.bus].carrier.resource.value, []).append(port.backup.cost)
            continue
        port = n.ports["port"]
        got = {T_DEMAND: port.backup.cost if port.backup is not None else None, T_PURCHASE: n.val.get("price"),
               T_MARKET: n.val.get("import_price")}.get(t)
        if got is not None:
            prices.setdefault(g.buses[port.bus].carrier.resource.value, []).append(got)
    tops = {r: [x for x in (_stated_top(v, g) for v in vs) if x is not None] for r, vs in prices.items()}
    anywhere = max((x for xs in tops.values() for x in xs), default=0.0)
    rate = 1.0 if g.currency == "EUR" else g.doc.park.exchange_rates.get("EUR")
    for b, r in enumerate(resource):
        if r in g.value_of_lost_load:
            v = g.value_of_lost_load[r]
        elif r == "electricity" and rate is not None:
            v = VOLL_ELECTRICITY_EUR_PER_KWH * rate
        elif tops.get(r):
            v = VOLL_FACTOR * max(tops[r])
        else:
            v = max(VOLL_FACTOR * anywhere, VOLL_FLOOR)
        cp.BI[b, B_VOLL] = vals.add(Val(const=float(v)))


def value_of_lost_load(cp: CompiledPark) -> dict[str, float]:
    """The value of lost load the park runs with, per resource on its buses (currency per canonical amount)."""
    return {cp.graph.buses[b].carrier.resource.value: float(cp.values[cp.BI[i, B_VOLL]].const)
            for i, b in enumerate(cp.bus_ids)}


def _csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    for i, r in enumerate(rows):
        ptr[i + 1] = ptr[i] + len(r)
    return ptr, np.array([x for r in rows for x in r], dtype=np.int64)


def _adjacency(cp: CompiledPark) -> None:
    """Per-bus follow-input converters and per-store suppliers, so a step never scans every component."""
    nb, nn = len(cp.bus_ids), cp.n_nodes
    fi: list[list[int]] = [[] for _ in range(nb)]
    fo: list[list[int]] = [[] for _ in range(nb)]
    into: list[list[int]] = [[] for _ in range(nn)]
    for n in range(nn):
        if cp.NI[n, I_TYPE] != T_CONVERTER:
            continue
        r = cp.NI[n, I_REF]
        if cp.NI[n, I_CONTROL] == C_FOLLOW_INPUT and cp.PD[r] == 0 and cp.PDEF[r] == 0:
            fi[cp.PB[r]].append(n)
        if cp.NI[n, I_CONTROL] == C_FOLLOW_OUTPUT:
            fo[cp.PB[r]].append(n)
        for p in range(cp.NI[n, I_P0], cp.NI[n, I_P1]):
            b = cp.PB[p]
            if cp.PD[p] != 1 or not cp.BI[b, B_PUSHED]:
                continue
            stores = [cp.BI[b, B_STORE]] + [cp.BI[cp.LD[e], B_STORE] for e in cp.BOUT_LINK[cp.BOUT_PTR[b]:cp.BOUT_PTR[b + 1]]]
            for st in stores:
                if st >= 0 and n not in into[st]:
                    into[st].append(n)
    cp.BFI_PTR, cp.BFI_NODE = _csr(fi)
    cp.BFO_PTR, cp.BFO_NODE = _csr(fo)
    cp.STP_PTR, cp.STP_NODE = _csr(into)
    _rooms(cp)


def _rooms(cp: CompiledPark) -> None:
    """Which follow-input converters offer as room less than their rating when their availability
    or a pushed output binds (F_ROOM_BOUND), and the buses they follow (B_ROOM): the kernel computes
    that room only there (kernel._follow_in_room), the rating elsewhere."""
    NI, BI = cp.NI, cp.BI
    for n in range(cp.n_nodes):
        if NI[n, I_TYPE] == T_CONVERTER and NI[n, I_CONTROL] == C_FOLLOW_INPUT:
            pushed = any(cp.PD[p] == 1 and BI[cp.PB[p], B_PUSHED] == 1 and cp.PO[p] < 0
                         for p in range(NI[n, I_P0], NI[n, I_P1]))
            cp.NF[n, F_ROOM_BOUND] = 1.0 if pushed or cp.NV[n, V_AVAIL] >= 0 else 0.0
    for b in range(len(BI)):
        BI[b, B_ROOM] = int(any(cp.NF[cp.BFI_NODE[i], F_ROOM_BOUND] > 0.0 for i in range(cp.BFI_PTR[b], cp.BFI_PTR[b + 1])))


def _single(i: int, t: int, n: Node, graph: ParkGraph, NI, NF, NV, BI, bidx: dict, vals: _Values, actions: list) -> None:
    """Table rows of a one-carrier component (source, purchase, demand, storage, market, disposal)."""
    port = n.ports["port"]
    b = bidx[port.bus]
    NI[i, I_BUS] = b
    if t == T_SOURCE:
        NV[i, V_PROFILE], NV[i, V_COST], NV[i, V_CO2] = (vals.add(n.val["profile"]), vals.add(n.val["surplus_cost"]),
                                                         vals.add(n.val["surplus_co2"]))
    elif t == T_PURCHASE:
        NV[i, V_PRICE], NV[i, V_CO2] = vals.add(n.val["price"]), vals.add(n.val["co2"])
        NF[i, F_MAX] = n.num["max"]
        BI[b, B_PURCHASE] = i
    elif t == T_DEMAND:
        NV[i, V_PROFILE] = vals.add(n.val["profile"])
        if port.backup is not None:
            NV[i, V_COST], NV[i, V_CO2] = vals.add(port.backup.cost), vals.add(port.backup.co2)
    elif t == T_STORAGE:
        for col, key in ((F_CAP, "capacity"), (F_MAX_CH, "max_charge"), (F_MAX_DIS, "max_discharge"),
                         (F_LOSS, "loss"), (F_RELEASE, "release"), (F_INIT, "initial")):
            NF[i, col] = n.num[key]
        NF[i, F_END_VALUE] = n.num.get("end_value", 0.0)
        BI[b, B_STORE] = i
    elif t == T_MARKET:
        NV[i, V_IMPORT] = vals.add(n.val.get("import_price"))
        NV[i, V_EXPORT] = vals.add(n.val.get("export_price"))
        NV[i, V_CO2] = vals.add(n.val["co2"])
        # a market with no import price sells nothing: its import limit is 0 (kernel, LP and PyPSA alike)
        NF[i, F_IMP_MAX] = n.num["import_max"] if NV[i, V_IMPORT] >= 0 else 0.0
        NF[i, F_EXP_MAX] = n.num["export_max"]
        BI[b, B_MARKET] = i
    elif t == T_DISPOSAL:
        NV[i, V_COST], NV[i, V_CO2] = vals.add(n.val["cost"]), vals.add(n.val["co2"])
        NF[i, F_MAX] = n.num["max"]
        NI[i, I_CONTROL] = 1 if n.text["control"] == "setpoint" else 0
        if NI[i, I_CONTROL] == 1:
            actions.append((n.key, _unit(graph, port.bus), 2, i))
        elif BI[b, B_DISPOSAL] < 0:
            BI[b, B_DISPOSAL] = i


def _unit(graph: ParkGraph, bus: str) -> str:
    from aisym.park.graph import FLOW_UNITS

    return FLOW_UNITS[graph.buses[bus].carrier.resource]


def _converter(i: int, n: Node, NI, NF, NV, ports: list, bidx: dict, vals: _Values) -> None:
    NI[i, I_P0] = len(ports)
    names = list(n.ports)
    start = len(ports)
    for pname in names:
        p = n.ports[pname]
        of = start + names.index(p.of) if p.of else -1
        bc = vals.add(p.backup.cost) if p.backup else -1
        bo = vals.add(p.backup.co2) if p.backup else -1
        ports.append((bidx[p.bus], 0 if p.direction == "in" else 1, vals.add(p.ratio), of, bc, bo))
    NI[i, I_P1] = len(ports)
    NI[i, I_REF] = start + names.index(n.text["reference"])
    NI[i, I_CONTROL] = CONTROLS[n.text["control"]]
    NF[i, F_RATED] = n.num["rated"]
    NF[i, F_MIN_LOAD] = n.num["min_load"]
    NV[i, V_AVAIL] = vals.add(n.val.get("availability"))
    if "part_load_port" in n.text:
        # the port's flow is a straight line through (rated, ratio·rated) and (min, ratio_min·min)
        pl = start + names.index(n.text["part_load_port"])
        NI[i, I_PL] = pl
        ratio = vals.items[ports[pl][2]]
        assert ratio.series is None, "a part-load curve needs a constant ratio"
        rated, p_min = n.num["rated"], n.num["rated"] * n.num["min_load"]
        at_rated, at_min = ratio.const * rated, n.num["part_load_ratio"] * p_min
        slope = (at_rated - at_min) / (rated - p_min)
        NF[i, F_PL_SLOPE], NF[i, F_PL_OFFSET] = slope, at_rated - slope * rated


def _classify(cp: CompiledPark, nidx: dict, lidx: dict) -> None:
    """Which converter inputs are taken late (deferred), which buses are pushed into, which
    store inflows are pulled as must-go supply."""
    NI, BI = cp.NI, cp.BI
    nb = len(cp.bus_ids)
    # a bus whose converter outputs cannot be dumped is "pushed": the converter delivers
    # through it at once, and its load is limited by what the far side accepts
    for b in range(nb):
        outs = [p for p in range(len(cp.PB)) if cp.PB[p] == b and cp.PD[p] == 1]
        BI[b, B_PUSHED] = 1 if outs and BI[b, B_DISPOSAL] < 0 else 0
    on_demand = np.zeros(nb, dtype=bool)  # supply follows what is taken
    for b in range(nb):
        if BI[b, B_MARKET] >= 0 or BI[b, B_PURCHASE] >= 0:
            on_demand[b] = True
    for p in range(len(cp.PB)):
        if cp.PD[p] == 1:
            n = _owner(cp, p)
            if NI[n, I_CONTROL] == C_FOLLOW_OUTPUT and p == NI[n, I_REF]:
                on_demand[cp.PB[p]] = True
    for p in range(len(cp.PB)):
        if cp.PD[p] != 0:
            continue
        b = cp.PB[p]
        srcs = [cp.LS[j] for j in cp.BIN_LINK[cp.BIN_PTR[b]:cp.BIN_PTR[b + 1]]]
        fed = on_demand[b] or (srcs and all(on_demand[s] for s in srcs))
        cp.PDEF[p] = 1 if (cp.PBC[p] >= 0 or fed) else 0
    for j in range(len(cp.LS)):
        s = cp.LS[j]
        free = (not BI[s, B_PUSHED] and cp.LA[j] < 0 and BI[s, B_STORE] < 0 and BI[s, B_MARKET] < 0
                and BI[s, B_PURCHASE] < 0)
        if BI[cp.LD[j], B_STORE] >= 0:
            cp.LPASS[j] = 1 if (not BI[s, B_PUSHED] and cp.LA[j] < 0) else 0
        elif free:
            cp.LPASS[j] = 2  # free residue to a consumer: taken when the need is stated, before any store
    for b in range(len(BI)):  # read once per block by the kernel (a generated kernel drops the scan)
        BI[b, B_RESIDUE] = int(any(cp.LPASS[j] > 0 for j in cp.BIN_LINK[cp.BIN_PTR[b]:cp.BIN_PTR[b + 1]]))


def _owner(cp: CompiledPark, p: int) -> int:
    for n in range(cp.n_nodes):
        if cp.NI[n, I_TYPE] == T_CONVERTER and cp.NI[n, I_P0] <= p < cp.NI[n, I_P1]:
            return n
    raise KeyError(p)


def value_names(cp: CompiledPark) -> list[str]:
    return [f"{v.series or v.const}" for v in cp.values]


def steps(cp: CompiledPark) -> int:
    return steps_per_year(cp.dt_h)
