"""The park description flattened into one float64 parameter vector, with every derived constant.

The Numba kernel, the plain-Python reference step and the LP read the SAME vector, so a
constant derived here (the CHP fuel curve, effective bounds of disabled exchanges) cannot
drift between them. Index names are module constants (``P_CHP_RATED``): Numba treats global
ints as compile-time constants.

Parameters the park schema does not state are derived here, each with its source:

- ``REUSE_DT_K``: reused water returns 2 K below the set-point. The sheet's 2 K (effluent
  recovery cuts the make-up ΔT from ~20 K to ~2 K, docs/park_parameters.md §3) is the ΔT
  left AFTER heat recovery, so it is not discounted again by ``1 − effluent_heat_recovery``:
  that factor applies to fresh make-up water only;
- ``GWP_CH4`` 28 (IPCC AR5, 100 years) [E] for upgrader methane slip;
- the CHP fuel curve ``fuel = a·P + b·on``: a straight line through rated load at ``eta_el``
  and min load at ``eta_el − eta_el_drop_at_min_load`` (Renewable Energy 114:857, 2017);
- the flare's capacity equals the digester-to-holder exchange capacity (a flare takes all gas);
- the store's supply temperature is the highest ``quality.temperature_c`` of the exchanges
  leaving the heat store (45 °C at Kråkøya; 45 °C if none states it): a source colder than
  that (electrolyser ``heat_temp_c``, heat-pump ``sink_temp_c``) cannot charge the store.
"""

from __future__ import annotations

import numpy as np

from aisym.park import Park

# Physical constants.
CP_WATER_KWH_PER_M3K = 1.163  # [D] sheet §3: Q = 1.163 kWh/(m³·K) × V × ΔT
LHV_CH4_KWH_PER_NM3 = 9.97  # [S] CH4 ≈ 9.9–10 kWh/Nm³ (sheet §1)
LHV_H2_KWH_PER_KG = 33.3  # [S] lower heating value of hydrogen
CH4_KG_PER_NM3 = 0.717  # [S] density of methane at 0 °C, 1 atm
GWP_CH4 = 28.0  # [E] IPCC AR5 GWP100
REUSE_DT_K = 2.0  # [S/E] sheet §3: the ΔT left after recovery, not discounted again (module docstring)
COP_MAX = 8.0  # [E] a real heat pump never reaches Carnot at small lifts

# -- parameter vector layout -----------------------------------------------------------------
P_DT_H = 0
# fish farm
P_MAKEUP_M3H = 1
P_TSET_C = 2
P_RAS_HEAT_FACTOR = 3  # 1 − effluent heat recovery
P_SLUDGE_KG_DM_H = 4  # mean sludge (dry matter) at feed factor 1
P_O2_KG_H = 5  # mean O2 demand at feed factor 1
P_RAS_EL_KW = 6
# digester
P_DIG_TAU_H = 7
P_VS_PER_TS = 8
P_CH4_YIELD = 9  # Nm³ CH4 per kg VS degraded
P_CH4_FRAC = 10
P_DIG_TEMP_C = 11
P_DIG_LOSS_KW = 12
P_DIG_EL_KW = 13
P_FEED_DM_FRAC = 14
# gas holder, CHP
P_HOLDER_NM3 = 15
P_CHP_RATED = 16  # effective max el. kW (rated, limited by exchanges)
P_CHP_PMIN = 17
P_CHP_FUEL_SLOPE = 18  # kW fuel per kW el
P_CHP_FUEL_OFFSET = 19  # kW fuel while running
P_CHP_ETA_TH = 20  # heat per unit fuel
# upgrader
P_UPG_CAP = 21  # Nm³/h raw biogas
P_UPG_SLIP = 22
P_UPG_KWH_NM3 = 23  # electricity
P_BM_PRICE = 24  # EUR/MWh biomethane
# electrolyser
P_ELY_RATED = 25
P_ELY_PMIN = 26
P_ELY_KWH_KG = 27
P_ELY_O2_RATIO = 28
P_ELY_HEAT_FRAC = 29
P_H2_PRICE = 30
# heat pump
P_HP_RATED = 31
P_HP_SINK_C = 32
P_HP_CARNOT = 33
P_HP_SOURCE = 34  # exogenous column of the source temperature
# heat store
P_STORE_CAP = 35
P_STORE_MAX_CH = 36
P_STORE_MAX_DIS = 37
P_STORE_LOSS_H = 38  # fraction per hour
# water treatment
P_WT_CAP = 39  # effective treatment m³/h
P_WT_TANK = 40
P_WT_KWH_M3 = 41
P_WT_MAX_REUSE = 42  # fraction of make-up
P_REUSE_CAP = 43  # effective reuse m³/h
# grid
P_IMP_MAX = 44
P_EXP_MAX = 45
# exchange capacities that stay separate bounds in the step
P_X_SLUDGE = 46  # kg DM/h
P_X_BIOGAS_HOLDER = 47  # Nm³/h
P_X_CHP_HEAT = 48  # kW
P_X_ELY_HEAT = 49
P_X_O2 = 50  # kg/h
P_X_HEAT_RAS = 51
P_X_HEAT_DIG = 52
P_FLARE_MAX = 53  # Nm³/h
# market
P_GRID_FEE = 54  # EUR/MWh
P_EXPORT_FACTOR = 55
P_CARBON_PRICE = 56  # EUR/t
P_WATER_PRICE = 57  # EUR/m³
P_HEAT_BACKUP = 58  # EUR/MWh
P_O2_PRICE = 59  # EUR/kg
P_SLUDGE_FEE = 60  # EUR/kg DM
# initial state
P_GAS_INIT = 61
P_STORE_INIT = 62
P_TANK_INIT = 63
# added by the model corrections of issue 11 (kept at the end so older indices stay)
P_UPG_HEAT_KWH_NM3 = 64  # regeneration heat per Nm³ raw biogas, bought as backup heat
P_WATER_KWH_M3 = 65  # electricity per m³ of make-up water (desalination)
N_PARAMS = 66

# -- exogenous series columns -----------------------------------------------------------------
E_SEA_C, E_FRESH_C, E_AIR_C, E_PRICE, E_CO2, E_FEED = range(6)
N_EXO = 6
EXO_NAMES = ("sea_temp_c", "freshwater_temp_c", "air_temp_c", "price_eur_per_mwh", "co2_g_per_kwh", "feed_factor")

# -- state --------------------------------------------------------------------------------------
S_GAS, S_HEAT, S_TANK, S_VS = range(4)
N_STATE = 4
STATE_NAMES = ("gas_holder_nm3", "heat_store_kwh", "water_tank_m3", "digester_vs_kg")

# -- actions: fractions 0..1 of the bound in ACTION_BOUND ---------------------------------------
A_CHP, A_UPG, A_FLARE, A_ELY, A_O2, A_HP, A_HEAT_RAS, A_HEAT_DIG, A_TREAT, A_REUSE = range(10)
N_ACTIONS = 10
ACTION_NAMES = (
    "chp_power",
    "biogas_to_upgrader",
    "biogas_to_flare",
    "electrolyser_power",
    "oxygen_to_ras",
    "heat_pump_heat",
    "store_heat_to_ras",
    "store_heat_to_digester",
    "water_treatment",
    "water_reuse",
)
ACTION_UNITS = ("kW", "Nm3/h", "Nm3/h", "kW", "kg/h", "kW", "kW", "kW", "m3/h", "m3/h")
_ACTION_BOUND_INDEX = (P_CHP_RATED, P_UPG_CAP, P_FLARE_MAX, P_ELY_RATED, P_X_O2, P_HP_RATED, P_X_HEAT_RAS, P_X_HEAT_DIG)


def action_bounds(p: np.ndarray) -> np.ndarray:
    """Physical value of action 1.0 for each action (kW, Nm³/h, kg/h, m³/h).

    :param p: parameter vector from :func:`park_params`
    :return: array of shape ``(N_ACTIONS,)``
    """
    idx = (*_ACTION_BOUND_INDEX, P_WT_CAP, P_REUSE_CAP)
    return np.array([p[i] for i in idx], dtype=np.float64)


# The one topology the hand-written twin knows: exchange id -> (kind it leaves, kind it reaches).
V0_TOPOLOGY = {
    "sludge_to_digester": ("fish_farm", "digester"), "biogas_to_holder": ("digester", "gas_holder"),
    "biogas_to_chp": ("gas_holder", "chp"), "biogas_to_upgrader": ("gas_holder", "biogas_upgrader"),
    "chp_heat_to_store": ("chp", "heat_store"), "electrolyser_heat_to_store": ("electrolyser", "heat_store"),
    "oxygen_to_ras": ("electrolyser", "fish_farm"), "heat_pump_to_store": ("heat_pump", "heat_store"),
    "store_heat_to_ras": ("heat_store", "fish_farm"), "store_heat_to_digester": ("heat_store", "digester"),
    "wastewater_to_treatment": ("fish_farm", "water_treatment"), "reused_water_to_ras": ("water_treatment", "fish_farm"),
    "chp_power_to_grid": ("chp", "grid"), "grid_to_electrolyser": ("grid", "electrolyser"),
}


class UnsupportedByV0(ValueError):
    """The hand-written twin cannot simulate this park; the message says what, and what can."""


def check_v0(park: Park) -> None:
    """Refuse what the hand-written twin would otherwise silently ignore.

    It simulates one asset per kind and the 14 exchanges of Kråkøya between them; a second asset
    of a kind, another exchange, or a rewired one needs the compiled twin (``aisym/Park-v1``),
    which simulates whatever the park file says.
    """
    problems = []
    for kind in sorted({a.kind for a in park.assets.values()}):
        extra = park.assets_of_kind(kind)[1:]
        if extra:
            problems.append(f"a second {kind} ({', '.join(a.id for a in extra)})")
    for e in park.exchanges:
        kinds = (park.assets[e.source].kind, park.assets[e.sink].kind)
        if e.id not in V0_TOPOLOGY:
            problems.append(f"exchange {e.id!r} ({e.source} -> {e.sink})")
        elif kinds != V0_TOPOLOGY[e.id]:
            problems.append(f"exchange {e.id!r} rewired to {e.source} -> {e.sink}")
    if problems:
        raise UnsupportedByV0(
            "the hand-written twin (aisym/Park-v0) simulates only Kråkøya's topology, and this park has "
            + "; ".join(problems) + ". Use the compiled twin, which simulates every asset and exchange: "
            "gymnasium.make('aisym/Park-v1', park=...) or sim_env.graph (docs/twin.md, 'The compiled twin')."
        )


def _exchange_caps(park: Park) -> dict[str, float]:
    """Capacity of each enabled exchange by id; a missing or disabled exchange has capacity 0."""
    return {e.id: float(e.capacity) for e in park.exchanges if e.enabled}


def _first(park: Park, kind: str):
    assets = park.assets_of_kind(kind)
    return assets[0] if assets else None


def chp_fuel_curve(rated_kw: float, eta_el: float, min_load: float, drop: float) -> tuple[float, float, float]:
    """The CHP fuel line ``fuel_kw = slope·P + offset·on`` through rated and min load.

    :param rated_kw: rated electric power (kW)
    :param eta_el: electric efficiency at rated load
    :param min_load: minimum load as a fraction of rated
    :param drop: efficiency points lost at min load (0.04 = 4 pp)
    :return: ``(p_min_kw, slope, offset_kw)``
    """
    p_min = rated_kw * min_load
    fuel_rated = rated_kw / eta_el
    if p_min <= 0.0 or rated_kw - p_min <= 0.0:
        return p_min, 1.0 / eta_el, 0.0
    fuel_min = p_min / (eta_el - drop)
    slope = (fuel_rated - fuel_min) / (rated_kw - p_min)
    return p_min, slope, fuel_rated - slope * rated_kw


def park_params(park: Park, dt_h: float = 1.0) -> np.ndarray:
    """Flatten a park into the parameter vector the kernels read.

    Assets the park lacks, and exchanges that are missing or disabled, become zero bounds,
    so a what-if scenario that removes the electrolyser's O2 pipe simply vents the O2.

    :param park: validated park description
    :param dt_h: step length (hours)
    :return: float64 array of shape ``(N_PARAMS,)``
    """
    assert dt_h > 0, f"dt_h must be positive, got {dt_h}"
    check_v0(park)
    p = np.zeros(N_PARAMS, dtype=np.float64)
    x = _exchange_caps(park)
    cap = lambda eid: x.get(eid, 0.0)  # noqa: E731
    p[P_DT_H] = dt_h
    _fish_farm(p, park)
    _digester(p, park, cap)
    _chp_and_gas(p, park, cap)
    _electrolyser(p, park, cap)
    _heat(p, park, cap)
    _water(p, park, cap)
    grid = _first(park, "grid")
    if grid is not None:
        p[P_IMP_MAX], p[P_EXP_MAX] = grid.import_kw_max, grid.export_kw_max
    m = park.market
    p[P_GRID_FEE] = m.grid_fee_eur_per_mwh
    p[P_EXPORT_FACTOR] = m.export_price_factor
    p[P_CARBON_PRICE] = m.carbon_price_eur_per_t
    p[P_WATER_PRICE] = m.water_price_eur_per_m3
    p[P_WATER_KWH_M3] = m.water_electricity_kwh_per_m3
    p[P_HEAT_BACKUP] = m.heat_backup_eur_per_mwh
    p[P_O2_PRICE] = m.oxygen_purchase_eur_per_kg
    p[P_SLUDGE_FEE] = m.sludge_disposal_eur_per_t_dm / 1000.0
    return p


def _fish_farm(p: np.ndarray, park: Park) -> None:
    ras = _first(park, "fish_farm")
    if ras is None:
        return
    feed_kg_h = ras.feed_t_per_year * 1000.0 / 8760.0
    p[P_MAKEUP_M3H] = ras.makeup_water_m3_per_h
    p[P_TSET_C] = ras.setpoint_temp_c
    p[P_RAS_HEAT_FACTOR] = 1.0 - ras.effluent_heat_recovery
    p[P_SLUDGE_KG_DM_H] = feed_kg_h * ras.sludge_kg_dm_per_kg_feed
    p[P_O2_KG_H] = ras.oxygen_t_per_year * 1000.0 / 8760.0
    p[P_RAS_EL_KW] = ras.electricity_kw


def _digester(p: np.ndarray, park: Park, cap) -> None:
    dig = _first(park, "digester")
    if dig is None:
        return
    p[P_DIG_TAU_H] = dig.retention_days * 24.0
    p[P_VS_PER_TS] = dig.vs_per_ts
    p[P_CH4_YIELD] = dig.ch4_yield_nm3_per_kg_vs
    p[P_CH4_FRAC] = dig.ch4_fraction
    p[P_DIG_TEMP_C] = dig.temperature_c
    p[P_DIG_LOSS_KW] = dig.heat_loss_kw
    p[P_DIG_EL_KW] = dig.electricity_kw
    p[P_FEED_DM_FRAC] = dig.feed_dry_matter_fraction
    p[P_X_SLUDGE] = cap("sludge_to_digester")
    p[P_X_BIOGAS_HOLDER] = cap("biogas_to_holder")
    p[P_FLARE_MAX] = cap("biogas_to_holder")


def _chp_and_gas(p: np.ndarray, park: Park, cap) -> None:
    holder = _first(park, "gas_holder")
    if holder is not None:
        p[P_HOLDER_NM3] = holder.capacity_nm3
        p[P_GAS_INIT] = holder.initial_fraction
    lhv_biogas = LHV_CH4_KWH_PER_NM3 * max(p[P_CH4_FRAC], 1e-9)
    chp = _first(park, "chp")
    if chp is not None and holder is not None:
        p_min, slope, offset = chp_fuel_curve(chp.rated_el_kw, chp.eta_el, chp.min_load_fraction, chp.eta_el_drop_at_min_load)
        gas_limited = (cap("biogas_to_chp") * lhv_biogas - offset) / slope
        rated = max(0.0, min(chp.rated_el_kw, cap("chp_power_to_grid"), gas_limited))
        p[P_CHP_RATED] = rated if rated >= p_min else 0.0
        p[P_CHP_PMIN], p[P_CHP_FUEL_SLOPE], p[P_CHP_FUEL_OFFSET] = p_min, slope, offset
        p[P_CHP_ETA_TH] = chp.eta_th
        p[P_X_CHP_HEAT] = cap("chp_heat_to_store")
    upg = _first(park, "biogas_upgrader")
    if upg is not None and holder is not None:
        p[P_UPG_CAP] = min(upg.capacity_nm3_per_h, cap("biogas_to_upgrader"))
        p[P_UPG_SLIP] = upg.ch4_slip_fraction
        p[P_UPG_KWH_NM3] = upg.electricity_kwh_per_nm3
        p[P_BM_PRICE] = upg.biomethane_price_eur_per_mwh
        p[P_UPG_HEAT_KWH_NM3] = upg.regeneration_heat_kwh_per_nm3


def _electrolyser(p: np.ndarray, park: Park, cap) -> None:
    ely = _first(park, "electrolyser")
    if ely is None:
        return
    p_min = ely.rated_kw * ely.min_load_fraction
    rated = min(ely.rated_kw, cap("grid_to_electrolyser"))
    p[P_ELY_RATED] = rated if rated >= p_min else 0.0
    p[P_ELY_PMIN] = p_min
    p[P_ELY_KWH_KG] = ely.kwh_per_kg_h2
    p[P_ELY_O2_RATIO] = ely.o2_kg_per_kg_h2
    p[P_ELY_HEAT_FRAC] = ely.heat_recoverable_fraction
    p[P_H2_PRICE] = ely.h2_price_eur_per_kg
    p[P_X_ELY_HEAT] = cap("electrolyser_heat_to_store")
    p[P_X_O2] = cap("oxygen_to_ras")


DEFAULT_STORE_TEMP_C = 45.0


def store_temp_c(park: Park) -> float:
    """Supply temperature of the heat store: the hottest stream it must deliver (°C)."""
    store = _first(park, "heat_store")
    temps = [
        e.quality.temperature_c
        for e in park.exchanges
        if store is not None and e.source == store.id and e.enabled and e.quality.temperature_c is not None
    ]
    return max(temps) if temps else DEFAULT_STORE_TEMP_C


def _heat(p: np.ndarray, park: Park, cap) -> None:
    store = _first(park, "heat_store")
    if store is None:
        p[P_X_ELY_HEAT] = p[P_X_CHP_HEAT] = 0.0
        return
    ely = _first(park, "electrolyser")
    if ely is not None and ely.heat_temp_c < store_temp_c(park):
        p[P_X_ELY_HEAT] = 0.0  # too cold to charge the store without a booster
    p[P_STORE_CAP] = store.capacity_kwh
    p[P_STORE_MAX_CH] = store.max_charge_kw
    p[P_STORE_MAX_DIS] = store.max_discharge_kw
    p[P_STORE_LOSS_H] = store.loss_fraction_per_day / 24.0
    p[P_STORE_INIT] = store.initial_fraction
    p[P_X_HEAT_RAS] = min(cap("store_heat_to_ras"), store.max_discharge_kw)
    p[P_X_HEAT_DIG] = min(cap("store_heat_to_digester"), store.max_discharge_kw)
    hp = _first(park, "heat_pump")
    if hp is not None and hp.sink_temp_c >= store_temp_c(park):
        p[P_HP_RATED] = min(hp.rated_heat_kw, cap("heat_pump_to_store"))
        p[P_HP_SINK_C] = hp.sink_temp_c
        p[P_HP_CARNOT] = hp.carnot_efficiency
        p[P_HP_SOURCE] = {"seawater": E_SEA_C, "freshwater": E_FRESH_C, "air": E_AIR_C}[hp.source]


def _water(p: np.ndarray, park: Park, cap) -> None:
    wt = _first(park, "water_treatment")
    if wt is None:
        return
    p[P_WT_CAP] = min(wt.capacity_m3_per_h, cap("wastewater_to_treatment"))
    p[P_WT_TANK] = wt.tank_m3
    p[P_WT_KWH_M3] = wt.electricity_kwh_per_m3
    p[P_WT_MAX_REUSE] = wt.max_reuse_fraction
    p[P_REUSE_CAP] = min(cap("reused_water_to_ras"), wt.max_reuse_fraction * p[P_MAKEUP_M3H])
    p[P_TANK_INIT] = wt.initial_fraction


# Which output carries each exchange's flow (per step; kWh, Nm³, kg or m³), by exchange id.
EXCHANGE_FLOWS = {
    "sludge_to_digester": "vs_fed_kg",  # as volatile solids; dry matter = VS / vs_per_ts
    "biogas_to_holder": "biogas_produced_nm3",
    "biogas_to_chp": "chp_biogas_nm3",
    "biogas_to_upgrader": "upgrader_biogas_nm3",
    "chp_heat_to_store": "chp_heat_to_store_kwh",
    "electrolyser_heat_to_store": "electrolyser_heat_to_store_kwh",
    "oxygen_to_ras": "o2_to_ras_kg",
    "heat_pump_to_store": "heat_pump_heat_kwh",
    "store_heat_to_ras": "heat_to_ras_kwh",
    "store_heat_to_digester": "heat_to_digester_kwh",
    "wastewater_to_treatment": "water_treated_m3",
    "reused_water_to_ras": "water_reused_m3",
    "chp_power_to_grid": "chp_el_kwh",
    "grid_to_electrolyser": "electrolyser_el_kwh",
}


def initial_state(p: np.ndarray) -> np.ndarray:
    """State at the start of an episode: holder, store and tank at their initial fractions,
    the digester at the steady state of mean sludge (``VS = feed·τ``), so biogas starts at its mean."""
    s = np.zeros(N_STATE, dtype=np.float64)
    s[S_GAS] = p[P_GAS_INIT] * p[P_HOLDER_NM3]
    s[S_HEAT] = p[P_STORE_INIT] * p[P_STORE_CAP]
    s[S_TANK] = p[P_TANK_INIT] * p[P_WT_TANK]
    s[S_VS] = min(p[P_SLUDGE_KG_DM_H], p[P_X_SLUDGE]) * p[P_VS_PER_TS] * p[P_DIG_TAU_H]
    return s


# -- per-step outputs (KPIs, flows and clipping), one row per park ------------------------------
OUT_NAMES = (
    "reward",  # −(cost + carbon cost), EUR
    "cost_eur",  # operating cost incl. backup heat, bought O2 and water, net of H2 and biomethane sales
    "carbon_cost_eur",
    "co2_kg",
    "grid_import_kwh",
    "grid_export_kwh",
    "grid_spill_kwh",  # export above the connection limit, curtailed
    "grid_over_limit_kwh",  # import above the limit that no flexible load could shed
    "load_kwh",
    "chp_el_kwh",
    "chp_fuel_kwh",
    "chp_heat_kwh",
    "chp_heat_to_store_kwh",
    "chp_biogas_nm3",
    "upgrader_biogas_nm3",
    "upgrader_el_kwh",
    "upgrader_heat_kwh",  # regeneration heat, bought as backup heat (too hot for the store)
    "biomethane_kwh",
    "ch4_slip_kg",
    "flared_nm3",
    "biogas_produced_nm3",
    "ch4_produced_nm3",
    "sludge_kg_dm",
    "sludge_disposed_kg_dm",
    "vs_fed_kg",
    "vs_degraded_kg",
    "electrolyser_el_kwh",
    "h2_kg",
    "o2_produced_kg",
    "o2_demand_kg",
    "o2_to_ras_kg",
    "o2_purchased_kg",
    "o2_vented_kg",
    "electrolyser_water_m3",
    "electrolyser_heat_kwh",
    "electrolyser_heat_to_store_kwh",
    "heat_pump_heat_kwh",
    "heat_pump_el_kwh",
    "heat_pump_cop",
    "heat_demand_ras_kwh",
    "heat_demand_digester_kwh",
    "heat_to_ras_kwh",
    "heat_to_digester_kwh",
    "unmet_heat_kwh",
    "heat_dumped_kwh",
    "store_loss_kwh",
    "heat_recovered_kwh",  # CHP + electrolyser heat kept in the store (delivered or stored), not dumped
    "water_demand_m3",
    "fresh_water_m3",
    "water_reused_m3",
    "water_treated_m3",
    "wastewater_discharged_m3",
    "treatment_el_kwh",
    "water_el_kwh",  # electricity of the make-up water bought (desalination), fresh + electrolyser water
    "base_el_kwh",  # fish farm and digester base loads
    "cost_grid_eur",
    "cost_water_eur",  # make-up water excl. its electricity (that is in the grid cost)
    "cost_backup_heat_eur",  # unmet RAS/digester heat + upgrader regeneration heat
    "cost_o2_eur",
    "cost_sludge_eur",
    "revenue_h2_eur",
    "revenue_biomethane_eur",
    "price_eur_per_mwh",
    "co2_g_per_kwh",
    "clip_total",  # Σ |applied − requested| over the action fractions
    *(f"clip_{a}" for a in ACTION_NAMES),  # applied − requested, action fraction units
)
OUT_INDEX = {name: i for i, name in enumerate(OUT_NAMES)}
N_OUT = len(OUT_NAMES)
O_CLIP0 = OUT_INDEX["clip_total"] + 1


def obs_size(forecast_steps: int) -> int:
    """Observation length: 4 levels, price and CO2 now + ``forecast_steps`` ahead, 4 temperatures/feed, 4 time features."""
    return N_STATE + 2 * (forecast_steps + 1) + 4 + 4
