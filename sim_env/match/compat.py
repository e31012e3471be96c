"""Whether an output can serve an input, and through what: directly, let down, lifted, replaced.

Follows the carrier rules of the park (:func:`aisym.park.graph.carriers.serves`: a hotter or
purer supply serves a colder or less demanding use), and adds what matchmaking may propose:

- heat colder than the use: a heat pump at 0.5 x Carnot, when allowed, lift and sink in range;
- steam at a higher pressure: let down through a pressure-reducing station;
- steam for a hot-water use: a steam-to-water exchanger;
- a residue with another code than the input takes: when a known use says it replaces it;
- a hazardous output (an EWC code with ``*``): only to an input whose permit accepts it;
- sludge and biomass wetter than an input's stated dry matter: refused (it takes dewatering).
"""

from __future__ import annotations

from dataclasses import dataclass

from aisym.park.graph.carriers import Resource, serves

from . import costs
from .knowledge import Support, replaces, support
from .profiles import Flow

# how much a conversion lowers a pair's score: a direct fit is the surest
CONFIDENCE = {"direct": 1.0, "let-down": 0.95, "exchanger": 0.9, "known use": 0.85, "heat pump": 0.75,
              "new input": 0.6}


@dataclass(frozen=True)
class Conversion:
    """How an output reaches an input: ``kind``, words, and delivered per unit taken from the supplier."""

    kind: str
    text: str
    gain: float = 1.0  # delivered per unit supplied (a heat pump delivers more than its source heat)
    cop: float | None = None


def compatible(out: Flow, inp: Flow, donor_nace: str, receiver_nace: str, allow_heat_pump: bool = True,
               uses=None, min_support: float = 0.5) -> tuple[Conversion | None, str, Support | None]:
    """``(conversion, why_not, support)``: a conversion if ``out`` can serve ``inp``, else why not.

    :param out: the supplier's output
    :param inp: the receiver's input
    :param donor_nace: the supplier's sector
    :param receiver_nace: the receiver's sector
    :param allow_heat_pump: may a heat pump be proposed at all (and the input allows it)
    :param uses: knowledge-base entries (default: the shipped file)
    :param min_support: least support of a known use that lets a residue replace another input
    """
    s, d = out.carrier, inp.carrier
    known = support(s, donor_nace, receiver_nace, uses)
    if out.hazardous and not inp.accepts_hazardous:
        return None, (f"{s.label()} is hazardous waste; {inp.label()} does not state that its permit "
                      "accepts hazardous waste (accepts_hazardous)"), known
    if s.resource == d.resource == Resource.heat:
        return (*_heat(out, inp, allow_heat_pump), known)
    if s.resource == Resource.steam and d.resource == Resource.heat:
        return (*_exchanger(out, inp), known)
    solids = s.resource in costs.SOLIDS and d.resource in costs.SOLIDS
    wet = solids and None not in (s.dry_matter_fraction, d.dry_matter_fraction)
    if wet and s.dry_matter_fraction < d.dry_matter_fraction - 1e-9:
        return None, (f"{s.label()} has {s.dry_matter_fraction:.0%} dry matter; {inp.label()} needs "
                      f"{d.dry_matter_fraction:.0%} (it takes dewatering or drying)"), known
    why = serves(s, d)
    if why is None:
        if s.resource == Resource.steam and d.pressure_bar and s.pressure_bar and s.pressure_bar > d.pressure_bar:
            return Conversion("let-down", f"let down from {s.pressure_bar:g} to {d.pressure_bar:g} bar"), "", known
        return Conversion("direct", "fits directly"), "", known
    if solids and known is not None and known.weight >= min_support and (
            replaces(known.use, d) or (not d.material and not d.ewc)):
        return Conversion("known use", f"replaces {d.label()} ({known.use.id})"), "", known
    return None, why, known


def _heat(out: Flow, inp: Flow, allow: bool) -> tuple[Conversion | None, str]:
    s, d = out.carrier, inp.carrier
    if serves(s, d) is None:
        return Conversion("direct", "fits directly"), ""
    if s.temperature_c is None or d.temperature_c is None:
        return None, serves(s, d)
    lift = d.temperature_c - s.temperature_c
    if not (allow and inp.heat_pump):
        return None, (f"{s.label()} is {lift:g} K colder than the {d.temperature_c:g} °C that {inp.label()} needs, "
                      "and no heat pump is allowed")
    if lift > costs.HEAT_PUMP_MAX_LIFT_K:
        return None, f"a lift of {lift:g} K is beyond industrial heat pumps ({costs.HEAT_PUMP_MAX_LIFT_K:g} K)"
    if d.temperature_c > costs.HEAT_PUMP_MAX_SINK_C:
        return None, f"{d.temperature_c:g} °C is above what heat pumps deliver ({costs.HEAT_PUMP_MAX_SINK_C:g} °C)"
    cop = costs.heat_pump_cop(s.temperature_c, d.temperature_c)
    return Conversion("heat pump", f"heat pump {s.temperature_c:g} -> {d.temperature_c:g} °C, COP {cop:.2f} "
                                   f"(0.5 x Carnot)", 1.0 / (1.0 - 1.0 / cop), cop), ""


def _exchanger(out: Flow, inp: Flow) -> tuple[Conversion | None, str]:
    s, d = out.carrier, inp.carrier
    hot = s.temperature_c
    if d.temperature_c is not None and (hot is None or hot - costs.EXCHANGER_APPROACH_K < d.temperature_c):
        return None, f"{s.label()} cannot heat water to the {d.temperature_c:g} °C that {inp.label()} needs"
    return Conversion("exchanger", "steam-to-water exchanger", 0.99), ""  # [E] 1 % lost, as the park's exchangers
