"""Carriers: a resource at a quality level, the thing that flows along an exchange.

A carrier is a resource (heat, steam, a water grade, biogas...) plus the quality that decides
what it can serve: heat by temperature, steam by pressure and temperature, biogas by its CH4
fraction, water by grade, a material by its EWC waste code. Flows are held in one canonical
unit per resource (``FLOW_UNITS``); the park file may state them in any unit pint converts.

Quality compatibility (:func:`serves`) follows the bus rule of multi-carrier models (PyPSA-Eur
heat buses by temperature, oemof buses): a hotter or purer supply may serve a colder or less
demanding use, never the reverse; changing resource (steam to hot water, raw to treated water)
takes a converter asset.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Frac = Annotated[float, Field(ge=0, le=1)]
Pos = Annotated[float, Field(gt=0)]

LHV_CH4_KWH_PER_NM3 = 9.97  # [S] CH4 ≈ 9.9–10 kWh/Nm³ (sheet §1)
LHV_H2_KWH_PER_KG = 33.3  # [S] hydrogen's lower heating value, 120 MJ/kg
# [S] densities at 0 °C, 1 atm (NIST): what a gas's Nm³ weighs, so a price per kg converts
KG_PER_NM3 = {"ch4": 0.717, "co2": 1.977, "h2": 0.0899}


class Resource(StrEnum):
    electricity = "electricity"
    heat = "heat"
    cooling = "cooling"
    steam = "steam"
    biogas = "biogas"
    biomethane = "biomethane"
    natural_gas = "natural_gas"
    hydrogen = "hydrogen"
    oxygen = "oxygen"
    co2 = "co2"
    water = "water"
    sludge = "sludge"
    biomass = "biomass"
    material = "material"
    volatile_solids = "volatile_solids"  # a digester's inventory (kg VS), internal to a template


# Canonical flow unit per resource: the twin, the LP and the KPIs hold every flow in these.
FLOW_UNITS: dict[Resource, str] = {
    Resource.electricity: "kW",
    Resource.heat: "kW",
    Resource.cooling: "kW",
    Resource.steam: "kW",
    Resource.biogas: "Nm3/h",
    Resource.biomethane: "Nm3/h",
    Resource.natural_gas: "Nm3/h",
    Resource.hydrogen: "kg/h",
    Resource.oxygen: "kg/h",
    Resource.co2: "kg/h",
    Resource.water: "m3/h",
    Resource.sludge: "kg/h",  # dry matter
    Resource.biomass: "kg/h",  # dry matter
    Resource.material: "kg/h",
    Resource.volatile_solids: "kg/h",
}


def amount_unit(resource: Resource) -> str:
    """The unit of an amount (a store's level, an annual total): the flow unit times an hour."""
    flow = FLOW_UNITS[resource]
    return {"kW": "kWh", "Nm3/h": "Nm3", "kg/h": "kg", "m3/h": "m3"}[flow]


class WaterGrade(StrEnum):
    """Water grades, best first. A grade serves any use of its own grade or below it."""

    potable = "potable"  # drinking-water quality (groundwater, municipal)
    demineralised = "demineralised"  # boiler feed
    process = "process"
    treated = "treated"  # reclaimed, fit for reuse
    surface = "surface"  # raw lake/river water
    cooling = "cooling"
    seawater = "seawater"
    wastewater = "wastewater"


_GRADE_RANK = {
    WaterGrade.potable: 7,
    WaterGrade.demineralised: 7,
    WaterGrade.process: 5,
    WaterGrade.treated: 4,
    WaterGrade.surface: 3,
    WaterGrade.cooling: 2,
    WaterGrade.seawater: 1,
    WaterGrade.wastewater: 0,
}

# Quality fields each resource may state; anything else is refused, never ignored.
QUALITY_FIELDS: dict[Resource, frozenset[str]] = {
    Resource.electricity: frozenset(),
    Resource.heat: frozenset({"temperature_c"}),
    Resource.cooling: frozenset({"temperature_c"}),
    Resource.steam: frozenset({"pressure_bar", "temperature_c"}),
    Resource.biogas: frozenset({"ch4_fraction", "heating_value_kwh"}),
    Resource.biomethane: frozenset({"ch4_fraction", "heating_value_kwh"}),
    Resource.natural_gas: frozenset({"ch4_fraction", "heating_value_kwh"}),
    Resource.hydrogen: frozenset({"purity_fraction", "pressure_bar", "heating_value_kwh"}),
    Resource.oxygen: frozenset({"purity_fraction"}),
    Resource.co2: frozenset({"purity_fraction", "density_kg_per_m3"}),
    Resource.water: frozenset({"grade", "temperature_c"}),
    Resource.sludge: frozenset({"dry_matter_fraction", "density_kg_per_m3", "heating_value_kwh"}),
    Resource.biomass: frozenset({"dry_matter_fraction", "ewc", "density_kg_per_m3", "heating_value_kwh"}),
    Resource.material: frozenset({"ewc", "material", "density_kg_per_m3", "heating_value_kwh"}),
    Resource.volatile_solids: frozenset(),
}


class Carrier(BaseModel):
    """A resource at a quality level. Unstated qualities are unconstrained."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resource: Resource
    temperature_c: float | None = None
    pressure_bar: Annotated[float, Field(gt=0)] | None = None
    ch4_fraction: Frac | None = None
    purity_fraction: Frac | None = None
    dry_matter_fraction: Frac | None = None
    grade: WaterGrade | None = None
    ewc: str | None = None  # European Waste Catalogue code, "10 01 05"
    material: str | None = None  # a plain name: gypsum, fly ash, sulphur
    # Not qualities a use asks for: what lets a flow or a price be written in other units. A liquid
    # held by mass (ethanol, molasses) is metered and traded in m³ through its density; a fuel's
    # price per MWh becomes one per its canonical amount through its heating value.
    density_kg_per_m3: Pos | None = None  # kg per m³ of the material as it flows (wet, as delivered)
    heating_value_kwh: Pos | None = None  # lower heating value, kWh per canonical amount (Nm³, kg DM)

    @field_validator("ewc")
    @classmethod
    def _ewc(cls, v: str | None) -> str | None:
        if v is None:
            return v
        digits = v.replace(" ", "").rstrip("*")
        if len(digits) != 6 or not digits.isdigit():
            raise ValueError(f"an EWC code has six digits in three pairs, like '10 01 05' (got {v!r})")
        return f"{digits[:2]} {digits[2:4]} {digits[4:]}" + ("*" if v.endswith("*") else "")

    def stated(self) -> dict[str, object]:
        """The quality fields this carrier states."""
        return {k: v for k, v in self.model_dump(exclude={"resource"}).items() if v is not None}

    def label(self) -> str:
        """Short text for people: ``heat 85 °C``, ``steam 10 bar``, ``water (treated)``."""
        parts = [self.resource.value]
        if self.pressure_bar is not None:
            parts.append(f"{self.pressure_bar:g} bar")
        if self.temperature_c is not None:
            parts.append(f"{self.temperature_c:g} °C")
        if self.grade is not None:
            parts.append(f"({self.grade.value})")
        if self.ch4_fraction is not None:
            parts.append(f"{self.ch4_fraction * 100:g} % CH4")
        if self.purity_fraction is not None:
            parts.append(f"{self.purity_fraction * 100:g} % pure")
        if self.material:
            parts.append(self.material)
        if self.ewc:
            parts.append(f"EWC {self.ewc}")
        return " ".join(parts)


def equivalences(c: Carrier) -> list[tuple[float, str]]:
    """The carrier's own ``1 = value unit`` factors a quantity may be converted through.

    A stated density gives ``kg/m³`` (wet: with a dry-matter fraction on a dry-matter carrier,
    kg DM per m³ is density × dry matter); biogas and biomethane of a stated CH4 fraction, and
    hydrogen, weigh what their Nm³ weighs; a heating value gives kWh per canonical amount, by
    default the CH4 share of a gas's heating value or hydrogen's.
    """
    out: list[tuple[float, str]] = []
    amount = amount_unit(c.resource)
    if c.density_kg_per_m3 is not None:
        dm = c.dry_matter_fraction if c.resource in (Resource.biomass, Resource.sludge) else None
        out.append((c.density_kg_per_m3 * (dm if dm is not None else 1.0), "kg/m**3"))
    if c.resource in (Resource.biogas, Resource.biomethane) and c.ch4_fraction is not None:
        # [E] the rest of biogas or biomethane taken as CO2
        x = c.ch4_fraction
        out.append((x * KG_PER_NM3["ch4"] + (1.0 - x) * KG_PER_NM3["co2"], "kg/Nm3"))
    if c.resource == Resource.hydrogen:
        out.append((KG_PER_NM3["h2"], "kg/Nm3"))
    hv = c.heating_value_kwh
    if hv is None and c.resource in (Resource.biogas, Resource.biomethane, Resource.natural_gas):
        hv = LHV_CH4_KWH_PER_NM3 * c.ch4_fraction if c.ch4_fraction else None
    if hv is None and c.resource == Resource.hydrogen:
        hv = LHV_H2_KWH_PER_KG
    if hv is not None:
        out.append((hv, f"kWh/({amount})"))
    return out


def quality_problems(c: Carrier) -> list[str]:
    """Quality fields a carrier states that its resource has no use for."""
    allowed = QUALITY_FIELDS[c.resource]
    return [f"{c.resource.value} has no quality {k!r} (it may state: {', '.join(sorted(allowed)) or 'none'})"
            for k in c.stated() if k not in allowed]


def serves(supply: Carrier, demand: Carrier) -> str | None:
    """``None`` if ``supply`` may serve ``demand``, else why not, in words.

    :param supply: the carrier at the giving port
    :param demand: the carrier the taking port asks for
    """
    if supply.resource != demand.resource:
        return f"{supply.label()} cannot serve {demand.label()}: another resource needs a converter asset between them"
    why = _thermal(supply, demand)
    if why:
        return why
    for q in ("ch4_fraction", "purity_fraction"):
        want = getattr(demand, q)
        if want is not None:
            got = getattr(supply, q)
            if got is None or got < want - 1e-9:
                return f"{supply.label()} does not meet the {q.replace('_', ' ')} of {want:g} that {demand.label()} needs"
    if demand.grade is not None:
        if supply.grade is None:
            return f"{demand.label()} needs a stated water grade; the supply states none"
        if supply.grade != demand.grade:
            worse = _GRADE_RANK[supply.grade] < _GRADE_RANK[demand.grade]
            if worse or supply.grade in (WaterGrade.wastewater, WaterGrade.seawater):
                return f"{supply.label()} water cannot serve a {demand.grade.value} use (it takes a treatment asset)"
    if demand.ewc is not None and supply.ewc is not None and supply.ewc.rstrip("*") != demand.ewc.rstrip("*"):
        return f"{supply.label()} is not the waste code {demand.ewc} that {demand.label()} takes"
    if demand.material is not None and supply.material is not None and supply.material != demand.material:
        return f"{supply.label()} is not the {demand.material} that {demand.label()} takes"
    return None


def _thermal(supply: Carrier, demand: Carrier) -> str | None:
    """Temperature and pressure: a hotter supply serves a colder use, cooling the reverse."""
    if demand.temperature_c is not None and supply.resource in (Resource.heat, Resource.steam):
        if supply.temperature_c is None:
            return f"{demand.label()} needs a stated supply temperature; the supply states none"
        if supply.temperature_c < demand.temperature_c - 1e-9:
            return f"{supply.label()} is colder than the {demand.temperature_c:g} °C it must serve (only a heat pump lifts it)"
    cold = demand.temperature_c is not None and supply.resource == Resource.cooling
    if cold and (supply.temperature_c is None or supply.temperature_c > demand.temperature_c + 1e-9):
        return f"{supply.label()} is warmer than the {demand.temperature_c:g} °C cooling it must serve"
    low = demand.pressure_bar is not None and supply.resource == Resource.steam
    if low and (supply.pressure_bar is None or supply.pressure_bar < demand.pressure_bar - 1e-9):
        return f"{supply.label()} is below the {demand.pressure_bar:g} bar it must serve (let down from higher, never up)"
    return None
