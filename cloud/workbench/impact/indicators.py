"""The impact indicators of a park's running exchanges, as industrial-symbiosis programmes report them.

Which indicators, and why these: NISP, the UK's National Industrial Symbiosis Programme, reports
every completed synergy by landfill diversion, virgin raw material saved, water saved, CO2
reduced and cost saved (Laybourn & Morrissey 2009, *National Industrial Symbiosis Programme: the
pathway to a low carbon sustainable economy*, International Synergies; international-synergies.com);
CircLean's reporting methodology for EU symbiosis keeps the same set per exchange: disposal cost,
raw-material cost, water, energy and GHG (circlean-symbiosis.eu/reporting-methodology). AISYM
reports, per exchange and month:

==========================  ======  ===================================================================
indicator                   unit    from the amount delivered and
==========================  ======  ===================================================================
disposal cost avoided       money   the supplier's present route for the residue, per unit (its private tier)
purchase cost avoided       money   what the receiver pays now for what it gets, per unit (its private tier):
                                    CircLean's raw-material cost, for water and energy too
raw material saved          t       materials, sludge, biomass (dry matter), CO2, oxygen received
water saved                 m3      water received
energy saved                MWh     heat, steam, cooling, electricity; fuel gases by their heating value
GHG avoided                 t CO2e  the supplier's disposal route's and the receiver's present route's
                                    CO2 per unit, as the park file states them (each with its source there)
==========================  ======  ===================================================================

The factors per unit are matchmaking's profiles of the park (:func:`sim_env.match.profiles.park_profiles`):
a residue's disposal (a source's ``surplus``, a ``disposal``), a need's backup (a demand's or a
converter input's ``backup``), or what a company's listing on that port states. The figures are
gross: the exchange's own transport and pumping are not deducted (the park file states no distance
for a running exchange).

A *running exchange* is an exchange of the park file between two companies; one that a market
gives or takes is a purchase or a sale, not a symbiosis, and one inside a company is its own pipe:
both are listed as left out, with why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

from aisym.park.graph.carriers import Carrier, Resource, amount_unit, equivalences

# the indicators in the order the page, the chart and the CSV show them: (key, unit or None for money)
PHYSICAL = (("raw_material_t", "t"), ("water_m3", "m3"), ("energy_mwh", "MWh"), ("ghg_t", "t CO2e"))
MONEY = ("disposal_cost", "purchase_cost")
KEYS = (*MONEY, *(k for k, _ in PHYSICAL))
DECIMALS = {"disposal_cost": 0, "purchase_cost": 0, "raw_material_t": 3, "water_m3": 1, "energy_mwh": 3, "ghg_t": 3}

MASS = {Resource.material, Resource.sludge, Resource.biomass, Resource.co2, Resource.oxygen}
ENERGY = {Resource.electricity, Resource.heat, Resource.steam, Resource.cooling}
FUEL_GAS = {Resource.biogas, Resource.biomethane, Resource.natural_gas, Resource.hydrogen}


@dataclass(frozen=True)
class Why:
    """Why an exchange is left out, put in words in the language of the request that shows it."""

    message: str  # marked with gettext_noop, translated when shown
    params: tuple = ()  # (name, value) pairs for the message's %(name)s

    def __str__(self) -> str:
        text = gettext(self.message)
        return text % dict(self.params) if self.params else text


@dataclass(frozen=True)
class Exchange:
    """One running exchange and the factors its indicators are computed with.

    Costs are in the park's currency per canonical amount (kWh, kg, m3, Nm3), CO2 in kg per amount;
    None: the park states none.
    """

    id: str
    supplier: str  # company id
    receiver: str
    carrier: Carrier
    meter_tag: str | None
    disposal_cost: float | None
    disposal_co2: float | None
    disposal_route: str
    purchase_cost: float | None
    purchase_co2: float | None
    purchase_route: str
    origin: str = "park file"  # or "pipeline" (a candidate the park runs, not yet in its file)

    @property
    def resource(self) -> Resource:
        return self.carrier.resource

    @property
    def unit(self) -> str:
        """The amount's unit (kWh, kg, m3, Nm3)."""
        return amount_unit(self.resource)

    def kwh_per_unit(self) -> float | None:
        """Energy per amount: 1 for the energy carriers, the heating value for a fuel gas, else None."""
        if self.resource in ENERGY:
            return 1.0
        if self.resource in FUEL_GAS:
            return next((v for v, u in equivalences(self.carrier) if u.startswith("kWh/")), None)
        return None


def figures(x: Exchange, amount: float) -> dict[str, float | None]:
    """The indicators of ``amount`` (canonical amount) delivered by exchange ``x``; None: not known."""
    kwh = x.kwh_per_unit()
    co2 = None if x.disposal_co2 is None and x.purchase_co2 is None else (x.disposal_co2 or 0.0) + (x.purchase_co2 or 0.0)
    return {
        "disposal_cost": None if x.disposal_cost is None else amount * x.disposal_cost,
        "purchase_cost": None if x.purchase_cost is None else amount * x.purchase_cost,
        "raw_material_t": amount / 1000.0 if x.resource in MASS else 0.0,
        "water_m3": amount if x.resource == Resource.water else 0.0,
        "energy_mwh": amount * kwh / 1000.0 if kwh is not None else 0.0,
        "ghg_t": None if co2 is None else amount * co2 / 1000.0,
    }


def _flow_at(profiles: dict, port: str, direction: str):
    for p in profiles.values():
        for f in p.flows:
            if f.port == port and f.direction == direction:
                return f
    return None


def exchange_of(link_id: str, supplier: str, receiver: str, src: str, dst: str, carrier: Carrier,
                meter_tag: str | None, profiles: dict, origin: str = "park file") -> tuple[Exchange | None, Why | None]:
    """The exchange with its factors from the profiles at its two ports, or (None, why it is left out)."""
    if supplier == receiver:
        return None, Why(gettext_noop("inside one company (its own pipe)"))
    out, into = _flow_at(profiles, src, "output"), _flow_at(profiles, dst, "input")
    if (out is not None and out.kind == "market") or (into is not None and into.kind == "market"):
        return None, Why(gettext_noop("a purchase from or a sale to a market"))
    residue = out is not None and out.kind == "residue"
    need = into is not None and into.kind == "need"
    return Exchange(link_id, supplier, receiver, carrier, meter_tag,
                    out.cost if residue else None, out.co2 if residue else None, out.route if residue else "",
                    into.cost if need else None, into.co2 if need else None, into.route if need else "",
                    origin), None


def park_exchanges(graph, profiles: dict) -> tuple[list[Exchange], list[tuple[str, Why]]]:
    """The park file's running exchanges with their factors, and (exchange id, why) of those left out."""
    running, left_out = [], []
    for lk in graph.links:
        if not lk.enabled:
            left_out.append((lk.id, Why(gettext_noop("switched off in the park file"))))
            continue
        carrier = graph.buses[lk.src].carrier
        x, why = exchange_of(lk.id, graph.company_of[lk.src.split(".", 1)[0]],
                             graph.company_of[lk.dst.split(".", 1)[0]], lk.src, lk.dst, carrier,
                             lk.meter_tag, profiles)
        if x is None:
            left_out.append((lk.id, why))
        else:
            running.append(x)
    return running, left_out
