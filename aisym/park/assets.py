"""Asset kinds of a v1 park file and their physical parameters.

Each kind is a pydantic model discriminated by ``kind``. Parameter names carry their unit
(``rated_kw``, ``capacity_kwh``). Defaults are deliberately absent: a park file states every
number and cites where it came from (see ``benchmarks/kraakoya_yardstick/kraakoya_v1.yaml``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .tags import Tag
from .units import Resource

Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]
Frac = Annotated[float, Field(ge=0, le=1)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class _Asset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    name: str = ""
    tags: list[Tag] = Field(default_factory=list)


class FishFarm(_Asset):
    """Land-based RAS salmon/smolt farm."""

    kind: Literal["fish_farm"]
    production_t_per_year: Pos
    feed_t_per_year: Pos
    sludge_kg_dm_per_kg_feed: Frac
    setpoint_temp_c: float
    makeup_water_m3_per_h: Pos
    effluent_heat_recovery: Frac  # share of make-up ΔT recovered from effluent
    oxygen_t_per_year: Pos
    electricity_kw: NonNeg  # base load: pumps, aeration, lights
    recirculation_fraction: Frac


class Digester(_Asset):
    """Anaerobic digester fed with fish sludge."""

    kind: Literal["digester"]
    volume_m3: Pos
    temperature_c: float
    retention_days: Pos
    feed_dry_matter_fraction: Frac
    vs_per_ts: Frac
    ch4_yield_nm3_per_kg_vs: Pos
    ch4_fraction: Frac
    heat_loss_kw: NonNeg
    electricity_kw: NonNeg


class GasHolder(_Asset):
    kind: Literal["gas_holder"]
    capacity_nm3: Pos  # biogas
    initial_fraction: Frac = 0.5


class Chp(_Asset):
    """Biogas engine with generator and heat recovery."""

    kind: Literal["chp"]
    rated_el_kw: Pos
    eta_el: Frac
    eta_th: Frac
    min_load_fraction: Frac
    eta_el_drop_at_min_load: Frac  # absolute efficiency points lost at min load


class BiogasUpgrader(_Asset):
    kind: Literal["biogas_upgrader"]
    capacity_nm3_per_h: Pos  # raw biogas in
    ch4_slip_fraction: Frac
    electricity_kwh_per_nm3: NonNeg
    biomethane_price_eur_per_mwh: NonNeg
    # Solvent regeneration heat per Nm³ raw biogas (amine scrubbing ≈0.55 kWh at 120–160 °C,
    # hotter than any heat store here, so the twin buys it as backup heat); 0 for upgraders
    # that need none (membrane, PSA, water scrubbing). Older files omit it.
    regeneration_heat_kwh_per_nm3: NonNeg = 0.0


class Electrolyser(_Asset):
    """PEM electrolyser: power to H2, O2 and low-temperature waste heat."""

    kind: Literal["electrolyser"]
    rated_kw: Pos
    min_load_fraction: Frac
    kwh_per_kg_h2: Pos
    o2_kg_per_kg_h2: Pos
    heat_recoverable_fraction: Frac
    heat_temp_c: float
    h2_price_eur_per_kg: NonNeg


class HeatPump(_Asset):
    kind: Literal["heat_pump"]
    rated_heat_kw: Pos
    source: Literal["seawater", "air", "freshwater"]
    sink_temp_c: float
    carnot_efficiency: Frac


class HeatStore(_Asset):
    kind: Literal["heat_store"]
    capacity_kwh: Pos
    max_charge_kw: Pos
    max_discharge_kw: Pos
    loss_fraction_per_day: Frac
    initial_fraction: Frac = 0.5


class WaterTreatment(_Asset):
    """Treatment and reuse of farm wastewater, with a buffer tank."""

    kind: Literal["water_treatment"]
    capacity_m3_per_h: Pos
    tank_m3: Pos
    electricity_kwh_per_m3: NonNeg
    max_reuse_fraction: Frac
    initial_fraction: Frac = 0.5


class GridConnection(_Asset):
    kind: Literal["grid"]
    import_kw_max: Pos
    export_kw_max: NonNeg


Asset = Annotated[
    FishFarm
    | Digester
    | GasHolder
    | Chp
    | BiogasUpgrader
    | Electrolyser
    | HeatPump
    | HeatStore
    | WaterTreatment
    | GridConnection,
    Field(discriminator="kind"),
]

# What each kind can hand out and take in; an exchange must respect both.
PRODUCES: dict[str, set[Resource]] = {
    "fish_farm": {Resource.sludge, Resource.water, Resource.co2},
    "digester": {Resource.biogas, Resource.sludge},
    "gas_holder": {Resource.biogas},
    "chp": {Resource.heat, Resource.electricity, Resource.co2},
    "biogas_upgrader": {Resource.biogas, Resource.co2},
    "electrolyser": {Resource.heat, Resource.oxygen, Resource.hydrogen},
    "heat_pump": {Resource.heat},
    "heat_store": {Resource.heat},
    "water_treatment": {Resource.water},
    "grid": {Resource.electricity},
}
CONSUMES: dict[str, set[Resource]] = {
    "fish_farm": {Resource.heat, Resource.oxygen, Resource.water, Resource.electricity},
    "digester": {Resource.sludge, Resource.heat, Resource.electricity},
    "gas_holder": {Resource.biogas},
    "chp": {Resource.biogas},
    "biogas_upgrader": {Resource.biogas, Resource.electricity},
    "electrolyser": {Resource.electricity, Resource.water},
    "heat_pump": {Resource.electricity, Resource.heat},
    "heat_store": {Resource.heat},
    "water_treatment": {Resource.water, Resource.electricity},
    "grid": {Resource.electricity},
}
