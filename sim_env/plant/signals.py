"""What each tag of a park reads in the compiled twin, and which action each setpoint drives.

A park's tags are what its meters and PLCs report (``digester.feed_flow``); the twin's outputs
are flows per exchange, activities per component and store levels
(:func:`sim_env.graph.kernel.output_names`). :func:`park_signals` ties them together from the
park alone, with no per-park code, by these rules, first match wins (each :class:`Measure`
keeps its ``source`` so the generated device profiles say where a value comes from):

1. a tag that is an exchange's ``meter_tag`` reads that exchange's flow;
2. a ``level`` tag reads its asset's store as a fraction of its capacity (``%`` or ``m`` of a
   1 m scale are not guessed: ``%`` and ``1`` only);
3. a ``state`` tag reads 1 while its asset's setpoint converter runs;
4. a flow-like tag (its unit converts from the flow unit of some carrier) reads, in order: a
   market of the asset (net import: a grid meter), a store of the asset (net charge), the
   exchanges into or out of the asset that no tag meters (narrowed by the carrier its name
   hints at, ``h2`` hydrogen, ``el`` electricity...), the asset's own single-carrier components
   (a hydrogen market's sales);
5. an ``energy`` tag counts its asset's power tag over simulated time (positive part, kWh);
6. a temperature tag of an asset with a temperature setpoint follows that setpoint;
7. a tag whose name matches one of the asset's template parameters (``digester.temp`` and
   ``temperature: 37 degC``; ``heat_pump.source_temp`` and ``source_temperature: sea_temp``)
   holds that figure, or the series' value now;
8. anything else is not simulated: it holds the middle of its range (``source`` says so).

A controllable tag drives the action (:attr:`GraphTwin.action_names`) of its own asset whose
unit it converts to: the asset's setpoint converter or flare, or an exchange leaving it; among
several, the one whose name or meter shares a word with the tag's. Its engineering value is
scaled to the action's fraction of full scale (rated load, exchange capacity, flare maximum).
Actions no tag drives are held as a site's own automation would run them: a flare at 0 (it
burns nothing it is not told to), a controllable exchange or unit at 1 (the valve open, its
users take what they need); ``hold`` sets one fraction for all of them instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aisym.park.graph import FLOW_UNITS
from aisym.park.quantity import convertible
from sim_env.graph.compile import F_CAP, F_IMP_MAX, I_TYPE, T_MARKET, T_STORAGE, CompiledPark
from sim_env.graph.kernel import N_HEAD

from .actuators import Actuator, actuator, hold_of
from .words import asset_of, canonical, converts, to_unit, words

_SINGLE = ("market", "demand", "source", "disposal", "purchase")


@dataclass
class Measure:
    """How one measured tag is computed each step (in the tag's unit).

    :param tag: ``<asset>.<name>``
    :param unit: the tag's unit
    :param source: where the value comes from, in words (written into generated profiles)
    :param cols: ``(Y column, factor)`` pairs summed and divided by the step length (flows)
    :param store: component index of a store read as a fraction of ``capacity`` (else -1)
    :param capacity: that store's capacity
    :param running: component index whose activity > 0 reads 1 (else -1)
    :param counts: tag whose positive part is counted over simulated hours (energy meters)
    :param follows: setpoint tag this value follows
    :param series: exogenous series read now (converted from ``series_unit``)
    :param constant: the value held when nothing above applies
    """

    tag: str
    unit: str
    source: str
    cols: list[tuple[int, float]] = field(default_factory=list)
    store: int = -1
    capacity: float = 1.0
    running: int = -1
    counts: str = ""
    follows: str = ""
    series: str = ""
    series_unit: str = ""
    constant: float = 0.0


@dataclass
class Signals:
    """Every tag of a park as the twin computes it, and the setpoints' actions.

    :param measures: measured tag -> how it is computed
    :param actuators: setpoint tag -> its action (controllable tags without one are absent)
    :param unwired: controllable tags no action takes, with the reason
    :param held: action index -> the fraction it is held at (no tag drives it)
    """

    measures: dict[str, Measure]
    actuators: dict[str, Actuator]
    unwired: dict[str, str]
    held: dict[int, float]


def park_signals(cp: CompiledPark, hold: float | None = None) -> Signals:
    """Apply the module's rules to every tag of ``cp``'s park. See the module docstring."""
    g = cp.graph
    link_col = {e: N_HEAD + j for j, e in enumerate(cp.link_ids)}
    metered = {link.meter_tag: link for link in g.links if link.meter_tag}
    measures: dict[str, Measure] = {}
    actuators: dict[str, Actuator] = {}
    unwired: dict[str, str] = {}
    for tag_id, tag in g.tags.items():
        if tag.control is not None:
            act = actuator(cp, tag_id, tag)
            if isinstance(act, Actuator):
                actuators[tag_id] = act
            else:
                unwired[tag_id] = act
    for tag_id, tag in g.tags.items():
        if tag.control is None:
            measures[tag_id] = _measure(cp, tag_id, tag, metered, link_col)
    for m in measures.values():  # energy counters need their power tag, found after the first pass
        if g.tags[m.tag].quantity == "energy" and not m.cols and m.store < 0:
            power = [t for t in measures if asset_of(t) == asset_of(m.tag) and g.tags[t].quantity == "power"]
            if power:
                m.counts, m.source, m.constant = power[0], f"{power[0]} counted over simulated time (positive part)", 0.0
    driven = {a.action for a in actuators.values()}
    held = {a: hold_of(cp, a, hold) for a in range(cp.n_actions) if a not in driven}
    return Signals(measures, actuators, unwired, held)


def _measure(cp: CompiledPark, tag_id: str, tag, metered: dict, link_col: dict[str, int]) -> Measure:
    g = cp.graph
    asset, name = tag_id.split(".", 1)
    m = Measure(tag_id, tag.unit, "")
    link = metered.get(tag_id)
    if link is not None:
        f = _flow_factor(cp, link.resource.value, tag.unit, asset)
        if f is not None:
            m.cols, m.source = [(link_col[link.id], f)], f"flow of exchange {link.id}"
            return m
    nodes = [i for i, k in enumerate(cp.node_keys) if asset_of(k) == asset]
    stores = [i for i in nodes if cp.NI[i, I_TYPE] == T_STORAGE and not cp.graph.nodes[i].num.get("release")]
    if tag.quantity == "level" and tag.unit in ("%", "1") and stores:
        i = max(stores, key=lambda i: len(words(cp.node_keys[i]) & words(name)))
        m.store, m.capacity = i, float(cp.NF[i, F_CAP])
        m.source = f"level of store {cp.node_keys[i]} (of {m.capacity:g})"
        return m
    if tag.quantity == "state":
        conv = [i for i in nodes if g.nodes[i].text.get("control") == "setpoint" and g.nodes[i].type == "converter"]
        if conv:
            m.running, m.source = conv[0], f"1 while {cp.node_keys[conv[0]]} runs"
            return m
    cols = _flow_cols(cp, tag_id, tag, asset, nodes, stores, metered, link_col)
    if cols:
        m.cols, m.source = cols
        return m
    if tag.quantity == "temperature":
        sp = [t for t, v in g.tags.items() if asset_of(t) == asset and v.control is not None and v.quantity == "temperature"]
        if sp:
            m.follows, m.source = sp[0], f"follows setpoint {sp[0]}"
            return m
    if _from_params(cp, tag_id, tag, m):
        return m
    m.constant = 0.5 * (tag.min + tag.max)
    m.source = f"not simulated by the twin: held at the middle of its range ({m.constant:g} {tag.unit})"
    return m


def _flow_factor(cp: CompiledPark, resource: str, unit: str, asset: str) -> float | None:
    """Factor from the carrier's flow unit to ``unit``; sludge or biomass dry matter as a slurry
    volume uses the dry-matter fraction an asset's parameters state (density 1,000 kg/m3)."""
    flow = FLOW_UNITS[resource]
    if converts(flow, unit):
        return to_unit(1.0, flow, unit)
    if resource in ("sludge", "biomass") and convertible("m3/h", unit):
        dm = _param_number(cp, "dry_matter", asset)
        if dm:
            return to_unit(1.0 / (dm * 1000.0), "m3/h", unit)
    return None


def _flow_cols(cp, tag_id, tag, asset, nodes, stores, metered, link_col):
    """Rule 4 of the module docstring: the Y columns of a flow-like tag, with its source."""
    g = cp.graph
    resources = [r.value for r, u in FLOW_UNITS.items() if converts(u, tag.unit)]
    if not resources or tag.unit in ("1", "%"):
        return None
    hint = words(tag_id.split(".", 1)[1]) & set(resources)
    want = sorted(hint) if hint else resources
    base = N_HEAD + len(cp.link_ids)
    for i in nodes:
        n = g.nodes[i]
        if cp.NI[i, I_TYPE] == T_MARKET and n.ports["port"].carrier.resource.value in want:
            f = to_unit(1.0, FLOW_UNITS[n.ports["port"].carrier.resource], tag.unit)
            if cp.NF[i, F_IMP_MAX] <= 0.0:  # a market that only buys from the park: its sales
                return [(base + i, -f)], f"sales to market {n.key}"
            return [(base + i, f)], f"net import of market {n.key}"
    for i in stores:
        bus = g.nodes[i].ports["port"].bus
        res = g.nodes[i].ports["port"].carrier.resource
        if res.value in want:
            f = to_unit(1.0, FLOW_UNITS[res], tag.unit)
            cols = [(link_col[lk.id], f) for lk in g.links if lk.dst == bus]
            cols += [(link_col[lk.id], -f) for lk in g.links if lk.src == bus]
            return cols, f"net charge of store {g.nodes[i].key} (in minus out)"
    meters_here = {t for t in metered if asset_of(t) == asset}
    touching = [lk for lk in g.links if asset in (asset_of(lk.src), asset_of(lk.dst)) and lk.resource.value in want
                and lk.meter_tag not in meters_here]
    for pick in ([lk for lk in touching if not lk.meter_tag], touching):
        ins = [lk for lk in pick if asset_of(lk.dst) == asset]
        outs = [lk for lk in pick if asset_of(lk.src) == asset]
        side = outs if ("out" in words(tag_id) or not ins) else ins
        if side:
            f = to_unit(1.0, FLOW_UNITS[side[0].resource], tag.unit)
            what = "into" if side is ins else "out of"
            return [(link_col[lk.id], f) for lk in side], f"exchanges {what} {asset}: {', '.join(lk.id for lk in side)}"
    for i in nodes:
        n = g.nodes[i]
        if n.type in _SINGLE and n.ports["port"].carrier.resource.value in want:
            sign = -1.0 if n.type == "market" else 1.0  # a market's activity is its net import; here its sales
            f = sign * to_unit(1.0, FLOW_UNITS[n.ports["port"].carrier.resource], tag.unit)
            return [(base + i, f)], f"activity of {n.key}"
    return None


def _asset_params(cp: CompiledPark, asset: str) -> dict[str, object]:
    for c in cp.graph.doc.companies:
        for a in c.assets:
            if a.id == asset:
                return dict(a.params)
    return {}


def _param_number(cp: CompiledPark, word: str, asset: str) -> float | None:
    """A plain-number template parameter containing ``word`` of ``asset`` or of an asset next to it."""
    near = {asset} | {asset_of(lk.dst) for lk in cp.graph.links if asset_of(lk.src) == asset}
    for a in sorted(near, key=lambda x: x != asset):
        for k, v in _asset_params(cp, a).items():
            if word in k and isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 1:
                return float(v)
    return None


def _from_params(cp: CompiledPark, tag_id: str, tag, m: Measure) -> bool:
    """Rule 7: a template parameter of the asset whose words match the tag's."""
    asset, name = tag_id.split(".", 1)
    best, score = None, 0.0
    mine = canonical(name)
    for k, v in _asset_params(cp, asset).items():
        theirs = canonical(k)
        s = len(mine & theirs) / len(mine | theirs)  # the closest name wins: temp -> temperature, not feed_temp
        if s > score:
            best, score = (k, v), s
    if best is None:
        return False
    k, v = best
    if isinstance(v, str) and v in cp.graph.series:
        unit = cp.graph.series[v].unit
        if converts(unit, tag.unit):
            m.series, m.series_unit, m.source = v, unit, f"series {v} now (parameter {k})"
            return True
        return False
    try:
        if isinstance(v, int | float) and not isinstance(v, bool):
            val = to_unit(float(v), "1", tag.unit) if tag.unit in ("%", "1") else None
        elif isinstance(v, str) and " " in v:
            num, unit = v.split(" ", 1)
            val = to_unit(float(num), unit, tag.unit) if converts(unit, tag.unit) else None
        else:
            val = None
    except (ValueError, TypeError):
        val = None
    if val is None or not tag.min <= val <= tag.max:
        return False
    m.constant, m.source = val, f"held at the asset's {k} ({v})"
    return True


class SignalState:
    """Counters and the step's values of every measured tag.

    :param signals: the park's :class:`Signals`
    :param cp: the compiled park
    """

    def __init__(self, signals: Signals, cp: CompiledPark):
        self.signals = signals
        self.cp = cp
        self.counters = dict.fromkeys((m.tag for m in signals.measures.values() if m.counts), 0.0)

    def values(self, y: np.ndarray, s: np.ndarray, dt_h: float, setpoints: dict[str, float],
               series_now: dict[str, float]) -> dict[str, float]:
        """Every measured tag's value after a step (outputs ``y``, store levels ``s``), tag units."""
        out: dict[str, float] = {}
        later = []
        for tag, m in self.signals.measures.items():
            if m.cols:
                out[tag] = sum(y[c] * f for c, f in m.cols) / dt_h
            elif m.store >= 0:
                frac = s[m.store] / m.capacity if m.capacity > 0 else 0.0
                out[tag] = frac * 100.0 if m.unit == "%" else frac
            elif m.running >= 0:
                out[tag] = 1.0 if y[N_HEAD + len(self.cp.link_ids) + m.running] > 1e-9 else 0.0
            elif m.follows:
                out[tag] = setpoints.get(m.follows, m.constant)
            elif m.series:
                out[tag] = to_unit(series_now[m.series], m.series_unit, m.unit)
            elif m.counts:
                later.append(m)
            else:
                out[tag] = m.constant
        for m in later:
            power = out.get(m.counts, 0.0)
            p_unit = self.signals.measures[m.counts].unit
            self.counters[m.tag] += max(to_unit(power, p_unit, "kW"), 0.0) * dt_h
            out[m.tag] = to_unit(self.counters[m.tag], "kWh", m.unit)
        return out
