"""Cost and CO2 KPIs of the park overview, derived from the park graph.

Where the numbers come from: each KPI is one measured tag times a constant of the park file,
computed by InfluxQL at query time (``SELECT mean("value") * k``): no extra measurement, the
KPIs work on data ingested before they were defined, and changing a price is a rebuild. ``k``
is the pint conversion of the tag's unit to the resource's canonical flow unit times the mean of
the price (or CO2 intensity) the park states, in the park's currency. A price that is a series
counts at its stated mean (hourly prices are not a measured series yet; see docs/cloud.md).

The rules, every word from the park file:

- **grid import**: a market that sells (``import_price``) and has a tag of its own that meters
  its flow (named ``import...`` if it has several): cost at the mean import price, CO2 at the
  mean of its ``co2``, named by its ``co2_source``;
- **bought**: an exchange from a priced source, or from a market without such a tag: cost at its
  price, named by the seller (the asset's name);
- **avoided**: an exchange into a port with a backup (what the taker would otherwise buy): the
  backup's cost, named by the backup; else, when the same asset also takes that resource from a
  priced seller, that seller's price (reused water replaces bought water).
"""

from __future__ import annotations

from dataclasses import dataclass

from aisym.park.graph import FLOW_UNITS, Link, Node, ParkGraph, Val
from aisym.park.graph.carriers import amount_unit
from aisym.park.quantity import convert, convertible

from .flows import significant


@dataclass(frozen=True)
class Kpi:
    """``rate = mean(tag) * factor`` in ``unit``/h; over a time range, ``integral(tag, 1h) * factor`` in ``unit``.

    :param id: short name, used as the legend
    :param title: the panel's title
    :param tag: the measured tag ``<asset>.<tag>``, a rate (kW, MW, t/h, m3/h)
    :param factor: what turns one tag unit into ``unit`` per hour
    :param unit: the park's currency, or ``kg CO2``
    :param why: the derivation, shown as the panel description
    """

    id: str
    title: str
    tag: str
    factor: float
    unit: str
    why: str


def mean_of(v: Val | None, graph: ParkGraph) -> float | None:
    """The mean of a resolved value: its constant, or its series' stated mean scaled (None if unknown)."""
    if v is None:
        return None
    if not v.is_series:
        return v.const
    spec = graph.series.get(v.series or "")
    if spec is None:
        return None
    m = _series_mean(spec, graph)
    return None if m is None else v.scale * m**v.power + v.offset


def _series_mean(spec, graph: ParkGraph, depth: int = 0) -> float | None:
    if spec.constant is not None:
        return spec.constant
    for kind in (spec.seasonal, spec.price):
        if kind is not None:
            return kind.mean
    if spec.affine is not None and depth < 8 and spec.affine.of in graph.series:
        m = _series_mean(graph.series[spec.affine.of], graph, depth + 1)
        return None if m is None else spec.affine.scale * m + spec.affine.offset
    return None


def _names(graph: ParkGraph) -> dict[str, str]:
    return {a.id: a.name or a.id for c in graph.doc.companies for a in c.assets}


def _nodes_on(graph: ParkGraph, bus: str) -> list[Node]:
    return [n for n in graph.nodes if any(p.bus == bus for p in n.ports.values())]


def _price(n: Node) -> Val | None:
    return n.val.get("price") if n.type == "source" else n.val.get("import_price") if n.type == "market" else None


def _market_meter(graph: ParkGraph, n: Node) -> str | None:
    """The market asset's own tag that meters its flow (``import...`` first), if any."""
    flow = FLOW_UNITS[n.ports["port"].carrier.resource]
    own = [t for t, tag in graph.tags.items() if t.split(".")[0] == n.asset and convertible(tag.unit, flow)]
    own.sort(key=lambda t: ("import" not in t.split(".")[1], t))
    return own[0] if own else None


def _per(graph: ParkGraph, resource) -> str:
    return f"{graph.currency}/{amount_unit(resource)}"


def park_kpis(graph: ParkGraph) -> list[Kpi]:
    """Grid cost and CO2 of every metered market import; bought and avoided purchases of every metered exchange."""
    names = _names(graph)
    out: list[Kpi] = []
    metered_markets: set[str] = set()
    for n in graph.nodes:
        price = mean_of(n.val.get("import_price"), graph) if n.type == "market" else None
        tag = _market_meter(graph, n) if price is not None else None
        if tag is None or price is None:
            continue
        metered_markets.add(n.ports["port"].bus)
        res = n.ports["port"].carrier.resource
        k = convert(1.0, graph.tags[tag].unit, FLOW_UNITS[res])
        unit = graph.tags[tag].unit
        out.append(Kpi(f"{n.asset}_cost", f"{names[n.asset]}: cost", tag, significant(k * price), graph.currency,
                       f"{tag} [{unit}] x mean import price {significant(price):g} {_per(graph, res)}"))
        co2 = mean_of(n.val.get("co2"), graph)
        if co2:
            source = n.text.get("co2_source") or (graph.series[v].description if (v := n.val["co2"].series) else "")
            out.append(Kpi(f"{n.asset}_co2", f"{names[n.asset]}: CO2", tag, significant(k * co2), "kg CO2",
                           f"{tag} [{unit}] x {significant(co2 * 1000):g} g CO2/{amount_unit(res)}"
                           + (f" ({source})" if source else "")))
    for link in graph.links:
        tag = graph.tags.get(link.meter_tag or "")
        if tag is None or not link.enabled or not convertible(tag.unit, FLOW_UNITS[link.resource]):
            continue  # a volume-metered dry-matter flow has no price per m3: it is shown, not costed
        k = convert(1.0, tag.unit, FLOW_UNITS[link.resource])
        kpi = _link_kpi(graph, link, link.meter_tag or "", k, names, metered_markets)
        if kpi is not None:
            out.append(kpi)
    return out


def _link_kpi(
    graph: ParkGraph, link: Link, tag: str, k: float, names: dict[str, str], metered_markets: set[str]
) -> Kpi | None:
    per, cur = _per(graph, link.resource), graph.currency
    src_asset = link.src.split(".")[0]
    if link.src not in metered_markets:
        for n in _nodes_on(graph, link.src):
            p = mean_of(_price(n), graph)
            if p:
                return Kpi(f"{link.id}_cost", f"Bought: {link.id}", tag, significant(k * p), cur,
                           f"{tag} x {significant(p):g} {per} paid to {names[src_asset]}")
    for n in _nodes_on(graph, link.dst):
        for port in n.ports.values():
            c = mean_of(port.backup.cost, graph) if port.bus == link.dst and port.backup else None
            if c:
                return Kpi(f"{link.id}_saving", f"Avoided: {link.id}", tag, significant(k * c), cur,
                           f"{tag} x {significant(c):g} {per}, instead of {port.backup.name}")  # type: ignore[union-attr]
    dst_asset = link.dst.split(".")[0]
    for other in graph.links:  # the same taker buys this resource elsewhere: reuse avoids that purchase
        if other.id == link.id or other.dst.split(".")[0] != dst_asset or other.resource != link.resource:
            continue
        seller = other.src.split(".")[0]
        for n in graph.nodes:
            priced = n.asset == seller and _price(n) is not None and n.ports["port"].carrier.resource == link.resource
            p = mean_of(_price(n), graph) if priced else None
            if p:
                return Kpi(f"{link.id}_saving", f"Avoided: {link.id}", tag, significant(k * p), cur,
                           f"{tag} x {significant(p):g} {per}, instead of {link.resource.value} from {names[seller]}")
    return None
