"""Which flow panel each metered exchange goes in, and the one unit that panel shows.

The rules (the same for any park, nothing of one park in code):

- a **row per carrier family**, in this order: electricity, heat, steam, cooling, water, gases
  (biogas, biomethane, natural gas, hydrogen, oxygen, CO2), materials (sludge, biomass, any
  material with its waste code);
- a **panel per carrier** of the giving port, titled with the carrier's own label: heat by its
  temperature level (``heat 80 °C``), steam by pressure and temperature, water by grade
  (``water (surface)``), each gas by its CH4 share or purity, each material by name and EWC code;
- the panel's **unit** is the one most of its meters report in (``MW`` if most say MW), ``t/h``
  for materials; every other meter's reading is converted to it with pint (the project's
  registry, :mod:`aisym.park.quantity`) as ``value * factor`` in the query. A meter whose unit
  does not convert (a sludge flow metered in m³/h, not kg/h) gets a panel of its own unit, so
  every metered exchange is in exactly one flow panel, whatever its unit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from aisym.park.graph import Carrier, Link, ParkGraph, Resource
from aisym.park.quantity import convert, convertible
from aisym.park.tags import Tag

FAMILY_OF: dict[Resource, str] = {
    Resource.electricity: "electricity",
    Resource.heat: "heat",
    Resource.steam: "steam",
    Resource.cooling: "cooling",
    Resource.water: "water",
    Resource.biogas: "gases",
    Resource.biomethane: "gases",
    Resource.natural_gas: "gases",
    Resource.hydrogen: "gases",
    Resource.oxygen: "gases",
    Resource.co2: "gases",
    Resource.sludge: "materials",
    Resource.biomass: "materials",
    Resource.material: "materials",
    Resource.volatile_solids: "materials",
}
FAMILIES = ("electricity", "heat", "steam", "cooling", "water", "gases", "materials")
PREFERRED_UNIT = {"materials": "t/h"}  # the "materials in t"
# flow unit -> the unit of its integral over hours (the volume panels)
AMOUNT_OF = {
    "W": "Wh", "kW": "kWh", "MW": "MWh", "m3/h": "m3", "kg/h": "kg", "t/h": "t", "Nm3/h": "Nm3",
}  # fmt: skip


def significant(x: float) -> float:
    """``x`` to 6 significant digits, so a query reads ``* 0.001`` and not ``* 0.0009999999``."""
    return float(f"{x:.6g}")


@dataclass(frozen=True)
class Flow:
    """One metered exchange as a panel shows it.

    :param link: the exchange
    :param tag_id: its meter tag ``<asset>.<tag>``
    :param tag: the meter tag's definition (unit, range)
    :param carrier: the carrier of the giving port
    :param factor: meter unit -> the panel's unit (1.0 when they are the same)
    """

    link: Link
    tag_id: str
    tag: Tag
    carrier: Carrier
    factor: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.link.src.split('.')[0]} → {self.link.dst.split('.')[0]}"


@dataclass
class FlowPanel:
    """A panel of the flows of one carrier, all in ``unit``."""

    family: str
    carrier: Carrier
    unit: str
    flows: list[Flow] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.carrier.label()} [{self.unit}]"

    @property
    def amount_unit(self) -> str | None:
        return AMOUNT_OF.get(self.unit)


def metered(graph: ParkGraph) -> list[Flow]:
    """Every exchange that names a meter tag, with the carrier of its giving port (by exchange id)."""
    out = []
    for link in graph.links:
        if link.meter_tag and link.meter_tag in graph.tags:
            out.append(Flow(link, link.meter_tag, graph.tags[link.meter_tag], graph.buses[link.src].carrier))
    return out


def _unit_for(family: str, units: list[str]) -> str:
    """The unit most of ``units`` are in (a unit with a known amount first), or the family's own."""
    pref = PREFERRED_UNIT.get(family)
    if pref and convertible(units[0], pref):
        return pref
    counts = Counter(units)
    return max(counts, key=lambda u: (u in AMOUNT_OF, counts[u], u))


def flow_panels(graph: ParkGraph) -> list[FlowPanel]:
    """The flow panels of the park, family by family, carrier by carrier (see the module rules)."""
    by_carrier: dict[Carrier, list[Flow]] = {}
    for f in metered(graph):
        by_carrier.setdefault(f.carrier, []).append(f)
    panels: list[FlowPanel] = []
    for carrier, flows in by_carrier.items():
        family = FAMILY_OF[carrier.resource]
        left = list(flows)
        while left:  # split off the meters that do not convert to the chosen unit, into a panel of their own
            unit = _unit_for(family, [f.tag.unit for f in left])
            fits = [f for f in left if f.tag.unit == unit or convertible(f.tag.unit, unit)]
            panel = FlowPanel(family, carrier, unit)
            for f in fits:
                k = 1.0 if f.tag.unit == unit else significant(convert(1.0, f.tag.unit, unit))
                panel.flows.append(Flow(f.link, f.tag_id, f.tag, carrier, k))
            panels.append(panel)
            left = [f for f in left if f not in fits]
    return sorted(panels, key=lambda p: (FAMILIES.index(p.family), p.carrier.resource.value, p.carrier.label(), p.unit))


def panel_of(panels: list[FlowPanel]) -> dict[str, FlowPanel]:
    """Exchange id -> the one flow panel it is in."""
    return {f.link.id: p for p in panels for f in p.flows}
