"""Named templates: the asset kinds of a park, each expanded into generic components.

A template reads its ``params`` (units converted, defaults cited, unknown keys refused) and
writes out components of :mod:`aisym.park.graph.components` and any series it derives (a heat
pump's COP from its source temperature). Physical constants and defaults carry their source
tag ([S] sourced, [D] derived, [E] estimate) as in docs/park_parameters.md.

Asset ports are the keys of converter ports, or the ids of single-carrier components; two
components naming the same port share it (the fish farm's heater and reheater share ``heat``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .carriers import LHV_CH4_KWH_PER_NM3, LHV_H2_KWH_PER_KG
from .params import Params

CP_WATER_KWH_PER_M3K = 1.163  # [D] Q = 1.163 kWh/(m³·K) × V × ΔT (sheet §3)
CH4_KG_PER_NM3 = 0.717  # [S] density of methane at 0 °C, 1 atm
GWP_CH4 = 28.0  # [E] IPCC AR5 GWP100
STEAM_KWH_PER_T = 640.0  # [D] condensing 10 bar saturated steam to ~95 °C condensate ≈ 2.3 GJ/t (IAPWS-IF97 tables)


@dataclass
class Expansion:
    components: list[dict] = field(default_factory=list)
    series: dict[str, dict] = field(default_factory=dict)


def _backup(p: Params, key: str, name: str) -> dict | None:
    """A ``{cost, co2}`` backup read from ``key`` (a mapping), or None when absent."""
    v = p.raw(key, doc=f"{{cost, co2, name}}: what covers a shortfall ({name}), cost in currency and co2 in "
                       "kg per unit; absent: none")
    if v is None:
        return None
    if not isinstance(v, dict) or "cost" not in v:
        from .params import ParamProblem

        raise ParamProblem(key, f"{key} is a mapping with 'cost' (and optionally 'co2', 'name')")
    return {"name": name, **v}


def _value(p: Params, key: str, default: object = None, doc: str = "") -> object:
    """A constant or ``{series: ...}`` value, passed through for the component's own check."""
    v = p.raw(key, default, doc, required=default is None)
    if v is None:
        from .params import ParamProblem

        raise ParamProblem(key, f"the {p.template} template needs {key!r}")
    return v


def _profile(p: Params, mean: float, unit_series: str = "profile_series") -> object:
    """``mean`` times the asset's profile series (``profile_series``), or a constant."""
    s = p.raw(unit_series, doc="id of a series of mean 1 that shapes the flow over the year; absent: constant")
    return {"series": s, "scale": mean} if s else mean


def fish_farm(asset: str, p: Params) -> Expansion:
    """Land-based RAS farm: make-up water heated to the set-point, reused water reheated,
    oxygen, base electricity; gives sludge (dry matter) and wastewater. Feeding (hence sludge
    and O2) follows ``profile_series`` when given."""
    makeup = p.number("makeup_water", "m3/h", lo=0)
    tset = p.number("setpoint_temp", "degC")
    recovery = p.fraction("effluent_heat_recovery", 0.0)
    reuse_dt = p.number("reuse_temp_drop", "K", 2.0, "[S/E] recovery cuts ΔT ~20 K -> ~2 K (sheet §3)", lo=0)
    source = p.text("source_temperature", doc="id of the source water's temperature series (degC)")
    heat_temp = p.number("heat_temperature", "degC", tset + 10.0, "[E] a 10 K approach above the set-point")
    sludge = p.number("sludge", "kg/h", lo=0)  # dry matter, at profile factor 1
    oxygen = p.number("oxygen", "kg/h", lo=0)
    el = p.number("electricity", "kW", lo=0)
    heat_backup = _backup(p, "heat_backup", "backup heat")
    o2_backup = _backup(p, "oxygen_backup", "bought liquid oxygen")
    sludge_disposal = _backup(p, "sludge_disposal", "sludge removal")
    factor = 1.0 - recovery
    heat_carrier = {"resource": "heat", "temperature_c": heat_temp}
    sid = f"{asset}__heat_per_m3"
    out = Expansion()
    # ΔT of cold make-up water, less what effluent heat recovery returns (never below 0 K).
    out.series[sid] = {"unit": "kWh/m3", "affine": {"of": source, "scale": -CP_WATER_KWH_PER_M3K * factor,
                                                   "offset": CP_WATER_KWH_PER_M3K * factor * tset, "min": 0.0}}
    out.components += [
        {"type": "converter", "id": "heater", "control": "follow_output", "rated": makeup, "reference": "makeup",
         "inputs": {"water": {"carrier": {"resource": "water", "grade": "potable"}},
                    "heat": {"carrier": heat_carrier, "ratio": {"series": sid}, "backup": heat_backup}},
         "outputs": {"makeup": {"carrier": {"resource": "water", "grade": "process"}}}},
        # Reused water returns only ``reuse_temp_drop`` below the set-point: that ΔT already is the
        # recovered case, so effluent recovery is not applied to it again.
        {"type": "converter", "id": "reheater", "control": "follow_input", "rated": makeup, "reference": "reused_water",
         "inputs": {"reused_water": {"carrier": {"resource": "water", "grade": "treated"}},
                    "heat": {"carrier": heat_carrier, "ratio": CP_WATER_KWH_PER_M3K * reuse_dt,
                             "backup": heat_backup}},
         "outputs": {"makeup": {"carrier": {"resource": "water", "grade": "process"}}}},
        {"type": "demand", "id": "makeup", "carrier": {"resource": "water", "grade": "process"}, "profile": makeup},
        {"type": "demand", "id": "oxygen", "carrier": {"resource": "oxygen"}, "profile": _profile(p, oxygen),
         "backup": o2_backup},
        {"type": "demand", "id": "electricity", "carrier": {"resource": "electricity"}, "profile": el},
        {"type": "source", "id": "sludge", "carrier": {"resource": "sludge"}, "profile": _profile(p, sludge),
         "surplus": sludge_disposal or {"cost": 0.0, "name": "sludge removal"}},
        {"type": "source", "id": "wastewater", "carrier": {"resource": "water", "grade": "wastewater"},
         "profile": makeup, "surplus": {"cost": 0.0, "name": "discharge"}},
    ]
    return out


def water_treatment(asset: str, p: Params) -> Expansion:
    """Wastewater treatment into a buffer tank of treated water, at an electricity cost per m³."""
    cap = p.number("capacity", "m3/h", lo=0)
    out = Expansion()
    out.components += [
        {"type": "converter", "id": "treatment", "rated": cap, "reference": "treated",
         "inputs": {"wastewater": {"carrier": {"resource": "water", "grade": "wastewater"}},
                    "electricity": {"carrier": {"resource": "electricity"},
                                    "ratio": p.number("electricity_per_m3", "kWh/m3", lo=0)}},
         "outputs": {"treated": {"carrier": {"resource": "water", "grade": "treated"}}}},
        {"type": "storage", "id": "treated", "carrier": {"resource": "water", "grade": "treated"},
         "capacity": p.number("tank", "m3", lo=0), "max_charge": cap, "max_discharge": cap * 10,
         "initial": p.fraction("initial", 0.5)},
    ]
    return out


def electrolyser(asset: str, p: Params) -> Expansion:
    """PEM electrolyser: electricity and water to H2 (sold), O2 and low-temperature heat."""
    kwh_kg = p.number("kwh_per_kg_h2", "kWh/kg", lo=1)
    o2 = p.number("o2_per_h2", "dimensionless", 7.94, "[D] stoichiometry")
    out = Expansion()
    out.components += [
        {"type": "converter", "id": "stack", "rated": p.number("rated", "kW", lo=0), "reference": "electricity",
         "min_load": p.fraction("min_load", 0.0),
         "inputs": {"electricity": {"carrier": {"resource": "electricity"}},
                    # stoichiometric: water in = H2 + O2 out (kg -> m³)
                    "water": {"carrier": {"resource": "water", "grade": "potable"},
                              "ratio": (1.0 + o2) / kwh_kg / 1000.0}},
         "outputs": {"hydrogen": {"carrier": {"resource": "hydrogen"}, "ratio": 1.0 / kwh_kg},
                     "oxygen": {"carrier": {"resource": "oxygen", "purity_fraction": 0.995}, "ratio": o2 / kwh_kg},
                     "heat": {"carrier": {"resource": "heat", "temperature_c": p.number("heat_temperature", "degC")},
                              "ratio": p.fraction("heat_recoverable_fraction")}}},
        {"type": "market", "id": "hydrogen", "carrier": {"resource": "hydrogen"},
         "export_price": _value(p, "h2_price", doc="currency per kg H2 sold (a unit converts), or {series: ...}")},
        {"type": "disposal", "id": "oxygen", "carrier": {"resource": "oxygen", "purity_fraction": 0.995},
         "name": "vented O2"},
        {"type": "disposal", "id": "heat", "name": "stack cooling to air",
         "carrier": {"resource": "heat", "temperature_c": p.number("heat_temperature", "degC")}},
    ]
    return out


def digester(asset: str, p: Params) -> Expansion:
    """Anaerobic digester: sludge's volatile solids degrade first-order over the retention time
    into biogas; the feed is warmed from ``feed_temp`` and the tank's heat loss made up."""
    tau_h = p.number("retention", "h", lo=1e-6)
    design = p.number("design_feed", "kg/h", lo=1e-9)  # dry matter fed at design load
    dm = p.fraction("feed_dry_matter")
    vs_ts = p.fraction("vs_per_ts")
    ch4 = p.fraction("ch4_fraction")
    yield_ = p.number("ch4_yield", "Nm3/kg", lo=0)  # Nm³ CH4 per kg VS degraded
    warm = CP_WATER_KWH_PER_M3K * (p.number("temperature", "degC") - p.number("feed_temp", "degC")) / (dm * 1000.0)
    heat_backup = _backup(p, "heat_backup", "backup heat")
    heat_carrier = {"resource": "heat", "temperature_c": p.number("heat_temperature", "degC", 45.0,
                                                                  "[E] mesophilic tank heating loop")}
    biogas = {"resource": "biogas", "ch4_fraction": ch4}
    digestate = {"resource": "sludge"}
    digestate_cost = _value(p, "digestate_cost", 0.0, "currency per kg of digestate dry matter left for "
                                                           "the disposal; [E] 0: spread on farmland")
    out = Expansion()
    out.components += [
        {"type": "converter", "id": "feed", "control": "follow_input", "rated": 1e9, "reference": "sludge",
         "inputs": {"sludge": {"carrier": {"resource": "sludge"}},
                    "heat": {"carrier": heat_carrier, "ratio": max(warm, 0.0), "backup": heat_backup}},
         # what is not volatile leaves as digestate (dry matter), to a taker by exchange or its disposal
         "outputs": {"solids": {"carrier": {"resource": "volatile_solids"}, "ratio": vs_ts},
                     "digestate": {"carrier": digestate, "ratio": 1.0 - vs_ts}}},
        # Starts at the steady state of its design feed (VS = feed × τ), room for four times that.
        {"type": "storage", "id": "solids", "carrier": {"resource": "volatile_solids"},
         "capacity": 4.0 * design * vs_ts * tau_h, "max_charge": 1e12, "max_discharge": 1e12,
         "release": 1.0 / tau_h, "initial": 0.25, "end": {"rule": "free"}},
        {"type": "converter", "id": "digestion", "control": "follow_input", "rated": 1e9, "reference": "solids",
         "inputs": {"solids": {"carrier": {"resource": "volatile_solids"}}},
         "outputs": {"biogas": {"carrier": biogas, "ratio": yield_ / ch4 if ch4 > 0 else 0.0}}},
        {"type": "demand", "id": "heat_loss", "port": "heat", "carrier": heat_carrier,
         "profile": p.number("heat_loss", "kW", lo=0), "backup": heat_backup},
        {"type": "demand", "id": "electricity", "carrier": {"resource": "electricity"},
         "profile": p.number("electricity", "kW", lo=0)},
        {"type": "disposal", "id": "biogas", "carrier": biogas, "name": "flare (digester overflow)"},
        {"type": "disposal", "id": "digestate", "carrier": digestate, "cost": digestate_cost,
         "name": "digestate spread or hauled away"},
    ]
    return out


def gas_holder(asset: str, p: Params) -> Expansion:
    """Biogas holder with a flare that burns on demand and whatever overflows."""
    ch4 = p.fraction("ch4_fraction")
    biogas = {"resource": "biogas", "ch4_fraction": ch4}
    return Expansion(components=[
        {"type": "storage", "id": "biogas", "carrier": biogas, "capacity": p.number("capacity", "Nm3", lo=0),
         "initial": p.fraction("initial", 0.5)},
        {"type": "disposal", "id": "flare", "port": "biogas", "carrier": biogas, "control": "setpoint", "name": "flare",
         "max": p.number("flare_max", "Nm3/h", lo=0)},
    ])


def chp(asset: str, p: Params) -> Expansion:
    """Gas engine with generator and heat recovery; electrical efficiency falls at part load
    (fuel = a·P + b while running, Renewable Energy 114:857, 2017); heat is η_th of the fuel."""
    eta_el = p.fraction("eta_el")
    drop = p.fraction("eta_el_drop_at_min_load", 0.0)
    lhv = LHV_CH4_KWH_PER_NM3 * p.fraction("ch4_fraction")
    fuel_carrier = {"resource": p.text("fuel", "biogas", ("biogas", "biomethane", "natural_gas")),
                    "ch4_fraction": p.fraction("ch4_fraction")}
    min_load = p.fraction("min_load", 0.0)
    part = {"port": "fuel", "ratio_at_min_load": 1.0 / ((eta_el - drop) * lhv)} if drop > 0 and min_load > 0 else None
    return Expansion(components=[
        {"type": "converter", "id": "engine", "rated": p.number("rated_el", "kW", lo=0), "reference": "electricity",
         "min_load": min_load, "part_load": part,
         "inputs": {"fuel": {"carrier": fuel_carrier, "ratio": 1.0 / (eta_el * lhv)}},
         "outputs": {"electricity": {"carrier": {"resource": "electricity"}},
                     "heat": {"carrier": {"resource": "heat", "temperature_c": p.number("heat_temperature", "degC",
                                                                                        85.0, "[E] engine jacket")},
                              "ratio": p.fraction("eta_th") * lhv, "of": "fuel"}}},
        {"type": "disposal", "id": "heat", "name": "engine heat to air",
         "carrier": {"resource": "heat", "temperature_c": p.number("heat_temperature", "degC", 85.0)}},
    ])


def biogas_upgrader(asset: str, p: Params) -> Expansion:
    """Amine scrubber: raw biogas to biomethane, with CH4 slip, electricity and the heat that
    regenerates the amine. With ``biomethane_price`` it sells to its own market; without it the
    biomethane leaves by an exchange from ``<asset>.biomethane`` (a gas grid, a fuel station)."""
    ch4 = p.fraction("ch4_fraction")
    slip = p.fraction("ch4_slip", 0.001, "[E] amine ≈0.1 % (Bauer et al. 2013, BBB 7:499)")
    lhv = LHV_CH4_KWH_PER_NM3
    # The biomethane flow is in Nm³ of CH4 (ratio ch4 × (1 - slip)): its heating value is CH4's,
    # so a price per MWh in any currency converts to one per Nm³ through the carrier.
    product = {"resource": "biomethane", "ch4_fraction": 0.97, "heating_value_kwh": lhv}
    price = p.raw("biomethane_price", doc="currency per MWh (bare) or with a unit in any currency per energy, "
                                    "mass or volume, or {series: ...}; absent: no own market, sold by exchange")
    if isinstance(price, dict):
        price_nm3 = {**price, "scale": float(price.get("scale", 1.0)) * lhv / 1000.0}
    elif isinstance(price, bool) or not isinstance(price, int | float | str | None):
        from .params import ParamProblem

        raise ParamProblem("biomethane_price", "biomethane_price is a price ('800 SEK/MWh', a bare number in "
                                               "currency/MWh) or {series: ...}")
    elif isinstance(price, str):
        price_nm3 = price  # with its unit: the market converts it by the carrier's heating value
    else:
        price_nm3 = None if price is None else float(price) * lhv / 1000.0
    regen = p.number("regeneration_heat_per_nm3", "kWh/Nm3", 0.0, "", lo=0)
    inputs = {"biogas": {"carrier": {"resource": "biogas", "ch4_fraction": ch4}},
              "electricity": {"carrier": {"resource": "electricity"},
                              "ratio": p.number("electricity_per_nm3", "kWh/Nm3", lo=0)}}
    if regen > 0:
        inputs["heat"] = {"carrier": {"resource": "heat", "temperature_c": p.number("heat_temperature", "degC",
                                                                                    45.0)},
                          "ratio": regen, "backup": _backup(p, "heat_backup", "backup heat")}
    comps = [
        {"type": "converter", "id": "scrubber", "rated": p.number("capacity", "Nm3/h", lo=0), "reference": "biogas",
         "inputs": inputs,
         "outputs": {"biomethane": {"carrier": product, "ratio": ch4 * (1.0 - slip)},
                     "slip": {"carrier": {"resource": "natural_gas", "ch4_fraction": 1.0}, "ratio": ch4 * slip}}},
        {"type": "disposal", "id": "slip", "carrier": {"resource": "natural_gas", "ch4_fraction": 1.0},
         "name": "CH4 slip", "co2": GWP_CH4 * CH4_KG_PER_NM3},
    ]
    if price_nm3 is not None:
        comps.insert(1, {"type": "market", "id": "biomethane", "carrier": product, "export_price": price_nm3})
    return Expansion(components=comps)


def heat_pump(asset: str, p: Params) -> Expansion:
    """Electric heat pump: COP = Carnot × efficiency from a source-temperature series, in [1, 8]."""
    sink = p.number("sink_temp", "degC")
    sid = f"{asset}__cop"
    out = Expansion(series={sid: {"unit": "dimensionless", "carnot": {
        "source": p.text("source_temperature", doc="id of the heat source's temperature series (degC)"),
        "sink_c": sink, "efficiency": p.fraction("carnot_efficiency")}}})
    out.components.append(
        {"type": "converter", "id": "compressor", "rated": p.number("rated_heat", "kW", lo=0), "reference": "heat",
         "inputs": {"electricity": {"carrier": {"resource": "electricity"},
                                    "ratio": {"series": sid, "power": -1.0}}},  # 1/COP
         "outputs": {"heat": {"carrier": {"resource": "heat", "temperature_c": sink}}}})
    return out


def heat_store(asset: str, p: Params) -> Expansion:
    """Hot-water tank: capacity, charge and discharge rates, a standing loss per hour."""
    return Expansion(components=[
        {"type": "storage", "id": "heat",
         "carrier": {"resource": "heat", "temperature_c": p.number("temperature", "degC")},
         "capacity": p.number("capacity", "kWh", lo=0), "max_charge": p.number("max_charge", "kW", lo=0),
         "max_discharge": p.number("max_discharge", "kW", lo=0), "loss": p.number("loss", "1/h", 0.0, lo=0),
         "initial": p.fraction("initial", 0.5)},
    ])


def grid(asset: str, p: Params) -> Expansion:
    """Electricity grid connection: import at a price plus fee, export at a factor of it."""
    return Expansion(components=[
        {"type": "market", "id": "electricity", "carrier": {"resource": "electricity"},
         "import_price": _value(p, "import_price", doc="currency per kWh bought, or {series: ..., offset: fee}"),
         "export_price": _value(p, "export_price", doc="currency per kWh sold, or {series: ..., scale: factor}"),
         "import_max": p.number("import_max", "kW", lo=0), "export_max": p.number("export_max", "kW", lo=0),
         "co2": _value(p, "co2", doc="kg CO2 per kWh bought, or {series: ...}"),
         "co2_source": p.text("co2_source", "", doc="where the CO2 intensity comes from, for reports")},
    ])


def boiler(asset: str, p: Params) -> Expansion:
    """Fuel-fired boiler making hot water or steam at an efficiency on the fuel's LHV."""
    fuel = p.text("fuel", "natural_gas", ("natural_gas", "biogas", "biomethane", "biomass", "hydrogen"))
    lhv = p.number("fuel_lhv", "kWh/Nm3" if fuel not in ("biomass", "hydrogen") else "kWh/kg",
                   {"natural_gas": 10.5, "biomethane": 9.67, "biogas": 5.98, "biomass": 4.2,
                    "hydrogen": LHV_H2_KWH_PER_KG}[fuel],
                   "[S] LHV: natural gas ≈10.5 kWh/Nm3, H2 33.3 kWh/kg; [E] biomass at 25 % moisture, per wet kg")
    fuel_carrier: dict = {"resource": fuel}
    # Biomass flows are kg of dry matter, while a heating value is usually quoted per kg as
    # delivered (wet): the basis is stated, and a wet one is turned into kWh per kg DM.
    kg_dm_per_kg_fuel = 1.0
    if fuel == "biomass":
        basis = p.text("fuel_lhv_basis", "wet", ("wet", "dry"))
        if basis == "wet":
            kg_dm_per_kg_fuel = p.fraction("fuel_dry_matter", 0.75, "[E] 25 % moisture, as the default fuel_lhv")
            fuel_carrier["dry_matter_fraction"] = kg_dm_per_kg_fuel
        elif p.has("fuel_dry_matter"):
            from .params import ParamProblem

            raise ParamProblem("fuel_dry_matter", "fuel_dry_matter goes with fuel_lhv_basis: wet (a dry-basis "
                                                  "heating value is already per kg of dry matter)")
    out_res = p.text("output", "heat", ("heat", "steam"))
    carrier = {"resource": out_res, "temperature_c": p.number("temperature", "degC")}
    if out_res == "steam":
        carrier["pressure_bar"] = p.number("pressure", "bar", lo=0)
    # A boiler usually follows the steam or heat its takers ask for; "setpoint" makes it an action.
    control = p.text("control", "follow_output", ("follow_output", "setpoint"))
    eta = p.fraction("efficiency", 0.9, "[E] condensing gas boiler")
    ratio = kg_dm_per_kg_fuel / (eta * lhv)  # kg DM per kWh out = DM share / (η × LHV per wet kg)
    fuel_port = {"carrier": fuel_carrier, "ratio": ratio}
    fallback = p.raw("fallback_fuel", doc="{fuel, price, fuel_lhv, efficiency, co2}: a second fuel bought for what "
                                          "the first lacks (price per kWh of fuel or per its unit; co2 in kg per kWh "
                                          "of fuel, natural gas 0.202 by default); absent: none")
    if fallback is not None:
        fuel_port["backup"] = _fallback_fuel(fallback, ratio, fuel, eta)
    return Expansion(components=[
        {"type": "converter", "id": "boiler", "rated": p.number("rated", "kW", lo=0), "reference": out_res,
         "min_load": p.fraction("min_load", 0.0), "control": control,
         "inputs": {"fuel": fuel_port},
         "outputs": {out_res: {"carrier": carrier}}},
    ])


_FALLBACK_LHV = {"natural_gas": 10.5, "biomethane": 9.67, "biogas": 5.98, "hydrogen": LHV_H2_KWH_PER_KG}
_FALLBACK_CO2 = {"natural_gas": 0.202}  # [S] kg CO2 per kWh of fuel: IPCC 2006 56.1 t/TJ; biogenic or H2: 0


def _fallback_fuel(spec: object, ratio: float, first: str, eta_first: float) -> dict:
    """The backup of a boiler's fuel input that is a second fuel: what burning it for one unit of
    the first fuel short costs and emits, so the boiler fires the first fuel as far as it is
    delivered and the second for the rest (a fuel choice by priority)."""
    from ..quantity import registry
    from .params import ParamProblem

    if not isinstance(spec, dict):
        raise ParamProblem("fallback_fuel", "fallback_fuel is a mapping {fuel, price, fuel_lhv, efficiency, co2}")
    q = Params(dict(spec), "boiler fallback_fuel")
    try:
        fuel = q.text("fuel", None, tuple(_FALLBACK_LHV))
        if fuel == first:
            raise ParamProblem("fuel", f"the fallback fuel is another fuel than the boiler's own ({first})")
        lhv = q.number("fuel_lhv", "kWh/kg" if fuel == "hydrogen" else "kWh/Nm3", _FALLBACK_LHV[fuel],
                       "[S] as the boiler's fuel_lhv")
        eta = q.fraction("efficiency", eta_first, "the boiler's")
        co2 = q.number("co2", "kg/kWh", _FALLBACK_CO2.get(fuel, 0.0), "[S] IPCC 2006", lo=0)
        price = q.raw("price")
        q.finish()
    except ParamProblem as e:
        raise ParamProblem("fallback_fuel", f"fallback_fuel.{e.key}: {e}") from None
    if price is None or isinstance(price, bool) or not isinstance(price, int | float | str):
        raise ParamProblem("fallback_fuel", "fallback_fuel.price: a price per kWh of fuel or per its unit "
                                            "('0.45 SEK/kWh', '5 SEK/Nm3'; a bare number is per Nm3 or kg)")
    unit = "kg" if fuel == "hydrogen" else "Nm3"
    first_unit = "kg" if first in ("biomass", "hydrogen") else "Nm3"
    kwh_per_first = 1.0 / (eta * ratio)  # kWh of fallback fuel that stand in for one unit of the first
    amount_per_first = kwh_per_first / lhv
    co2_per_first = co2 * kwh_per_first
    if not isinstance(price, str):
        return {"cost": float(price) * amount_per_first, "co2": co2_per_first, "name": f"{fuel} (fallback fuel)"}
    per_energy = (registry().Quantity(1.0, "kWh") * registry().Quantity(price)).dimensionality
    energy = not any(k in per_energy for k in ("[length]", "[mass]", "[time]", "[normal_volume]"))
    cost = (f"({price}) * {kwh_per_first!r} kWh/{first_unit}" if energy
            else f"({price}) * {amount_per_first!r} {unit}/{first_unit}")
    return {"cost": cost, "co2": co2_per_first, "name": f"{fuel} (fallback fuel)"}


def steam_letdown(asset: str, p: Params) -> Expansion:
    """A pressure-reducing station or steam-to-water heat exchanger: follows what its output takes."""
    out_res = p.text("output", "steam", ("steam", "heat"))
    low = {"resource": out_res, "temperature_c": p.number("out_temperature", "degC")}
    if out_res == "steam":
        low["pressure_bar"] = p.number("out_pressure", "bar", lo=0)
    return Expansion(components=[
        {"type": "converter", "id": "letdown", "control": "follow_output", "rated": p.number("rated", "kW", lo=0),
         "reference": "out",
         "inputs": {"steam": {"carrier": {"resource": "steam", "pressure_bar": p.number("in_pressure", "bar", lo=0),
                                          "temperature_c": p.number("in_temperature", "degC")},
                              "ratio": 1.0 / p.fraction("efficiency", 0.98, "[E] insulated station")}},
         "outputs": {"out": {"carrier": low}}},
    ])


def district_heating(asset: str, p: Params) -> Expansion:
    """A town's district-heating network: a heat demand (annual total shaped by a series) with
    peak boilers as backup."""
    mean = p.number("annual_heat", "kWh/h", lo=0)  # kWh/yr read as its mean kW
    return Expansion(components=[
        {"type": "demand", "id": "heat", "carrier": {"resource": "heat",
                                                     "temperature_c": p.number("supply_temp", "degC")},
         "profile": _profile(p, mean), "backup": _backup(p, "backup", "peak boilers")},
    ])


def process_plant(asset: str, p: Params) -> Expansion:
    """A generic plant: each stated input is a demand (with its backup), each output a source
    (with what happens to surplus). ``inputs``/``outputs`` map port -> {carrier, mean, profile
    series, backup/surplus}."""
    from .params import ParamProblem

    out = Expansion()
    for side in ("inputs", "outputs"):
        ports = p.raw(side, {}, f"port -> {{carrier, mean, series, {'backup' if side == 'inputs' else 'surplus'}}}: "
                      f"a {'demand' if side == 'inputs' else 'source'} per port")
        if not isinstance(ports, dict):
            raise ParamProblem(side, f"{side} maps a port name to {{carrier, mean, series, ...}}")
        for port, spec in ports.items():
            if not isinstance(spec, dict) or "carrier" not in spec or "mean" not in spec:
                raise ParamProblem(side, f"{side}.{port} needs 'carrier' and 'mean' (a flow, e.g. '20 t/h')")
            extra = set(spec) - {"carrier", "mean", "series", "backup", "surplus", "price", "max"}
            if extra:
                raise ParamProblem(side, f"{side}.{port} has no field {sorted(extra)[0]!r}")
            prof = {"series": spec["series"], "scale": spec["mean"]} if spec.get("series") else spec["mean"]
            if side == "inputs":
                out.components.append({"type": "demand", "id": port, "carrier": spec["carrier"], "profile": prof,
                                       **({"backup": spec["backup"]} if spec.get("backup") else {})})
            else:
                out.components.append({"type": "source", "id": port, "carrier": spec["carrier"], "profile": prof,
                                       **({"surplus": spec["surplus"]} if spec.get("surplus") else {})})
    if not out.components:
        raise ParamProblem("inputs", "a process plant states at least one input or output")
    return out


TEMPLATES: dict[str, Callable[[str, Params], Expansion]] = {
    f.__name__: f
    for f in (fish_farm, water_treatment, electrolyser, digester, gas_holder, chp, biogas_upgrader, heat_pump,
              heat_store, grid, boiler, steam_letdown, district_heating, process_plant)
}
