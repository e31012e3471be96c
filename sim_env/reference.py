"""Plain-Python step of one park: the readable statement of the model, and the kernel's judge.

Written apart from :mod:`sim_env.kernels` on Python floats and named variables, so the
equality tests compare two implementations, and the benchmark compares Numba with Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import params as q
from .params import CH4_KG_PER_NM3, COP_MAX, CP_WATER_KWH_PER_M3K, GWP_CH4, LHV_CH4_KWH_PER_NM3, REUSE_DT_K


def _on_or_off(x: float, p_min: float, rated: float) -> float:
    if rated <= 0.0:
        return 0.0
    if x < p_min - 1e-9:
        return 0.0 if x < 0.5 * p_min else p_min
    return min(x, rated)


def _div(a: float, b: float) -> float:
    return a / b if b > 0.0 else 0.0


def step_reference(p: Sequence[float], exo: Sequence[float], state: Sequence[float], action: Sequence[float]):
    """One step of one park.

    :param p: parameter vector (:func:`sim_env.params.park_params`)
    :param exo: the exogenous row at this step (``EXO_NAMES``)
    :param state: ``[gas_holder_nm3, heat_store_kwh, water_tank_m3, digester_vs_kg]``
    :param action: ``N_ACTIONS`` fractions (clipped to [0, 1]; NaN does nothing)
    :return: ``(new_state, outputs)`` with ``outputs`` a dict keyed by ``OUT_NAMES``
    """
    p = [float(v) for v in p]
    dt = p[q.P_DT_H]
    req = [float(a) for a in action]
    frac = [0.0 if a != a else min(max(a, 0.0), 1.0) for a in req]  # a != a: NaN
    gas0, heat0, tank0, vs0 = (float(v) for v in state)
    feed, price, co2 = exo[q.E_FEED], exo[q.E_PRICE], exo[q.E_CO2]

    # digester
    sludge = p[q.P_SLUDGE_KG_DM_H] * feed * dt
    sludge_in = min(sludge, p[q.P_X_SLUDGE] * dt)
    vs_in = sludge_in * p[q.P_VS_PER_TS]
    tau = p[q.P_DIG_TAU_H]
    degraded = vs0 * min(1.0, dt / tau) if tau > 0 else vs0
    ch4 = degraded * p[q.P_CH4_YIELD]
    biogas = _div(ch4, p[q.P_CH4_FRAC])
    to_holder = min(biogas, p[q.P_X_BIOGAS_HOLDER] * dt)
    dem_dig = 0.0
    if tau > 0:
        sludge_m3 = sludge_in / (p[q.P_FEED_DM_FRAC] * 1000.0)
        dem_dig = max(0.0, CP_WATER_KWH_PER_M3K * sludge_m3 * (p[q.P_DIG_TEMP_C] - p[q.P_TSET_C]) + p[q.P_DIG_LOSS_KW] * dt)

    # biogas
    lhv = LHV_CH4_KWH_PER_NM3 * p[q.P_CH4_FRAC]
    gas = gas0 + to_holder
    slope, offset, pmin, rated = p[q.P_CHP_FUEL_SLOPE], p[q.P_CHP_FUEL_OFFSET], p[q.P_CHP_PMIN], p[q.P_CHP_RATED]
    chp_kw = _on_or_off(frac[q.A_CHP] * rated, pmin, rated)
    fuel = (slope * chp_kw + offset) * dt if chp_kw > 0 else 0.0
    chp_gas = _div(fuel, lhv)
    if chp_gas > gas + 1e-9:
        chp_kw = (gas * lhv / dt - offset) / slope
        if chp_kw < pmin - 1e-9:
            chp_kw = 0.0
        fuel = (slope * chp_kw + offset) * dt if chp_kw > 0 else 0.0
        chp_gas = min(gas, _div(fuel, lhv))
    upgraded = min(frac[q.A_UPG] * p[q.P_UPG_CAP] * dt, max(gas - chp_gas, 0.0))
    flared = min(frac[q.A_FLARE] * p[q.P_FLARE_MAX] * dt, max(gas - chp_gas - upgraded, 0.0))
    gas1 = gas - chp_gas - upgraded - flared
    overflow = max(0.0, gas1 - p[q.P_HOLDER_NM3])
    gas1 -= overflow
    methane_in = upgraded * p[q.P_CH4_FRAC]
    biomethane = methane_in * (1 - p[q.P_UPG_SLIP]) * LHV_CH4_KWH_PER_NM3
    slip = methane_in * p[q.P_UPG_SLIP] * CH4_KG_PER_NM3
    upg_el = upgraded * p[q.P_UPG_KWH_NM3]
    upg_heat = upgraded * p[q.P_UPG_HEAT_KWH_NM3]  # regeneration heat, too hot for the store: backup heat

    # electric loads and water
    ely_kw = _on_or_off(frac[q.A_ELY] * p[q.P_ELY_RATED], p[q.P_ELY_PMIN], p[q.P_ELY_RATED])
    hp_kw = frac[q.A_HP] * p[q.P_HP_RATED]
    source = exo[int(p[q.P_HP_SOURCE])]
    sink = p[q.P_HP_SINK_C]
    cop = min(max(p[q.P_HP_CARNOT] * (sink + 273.15) / max(sink - source, 1.0), 1.0), COP_MAX)
    demand_m3 = p[q.P_MAKEUP_M3H] * dt
    treated = min(frac[q.A_TREAT] * p[q.P_WT_CAP] * dt, demand_m3)
    reused = frac[q.A_REUSE] * p[q.P_REUSE_CAP] * dt
    if tank0 + treated - reused < 0:
        reused = tank0 + treated
    if tank0 + treated - reused > p[q.P_WT_TANK]:
        treated = p[q.P_WT_TANK] - tank0 + reused
    treat_el = treated * p[q.P_WT_KWH_M3]
    base_el = (p[q.P_RAS_EL_KW] + p[q.P_DIG_EL_KW]) * dt
    fresh = demand_m3 - reused
    desal_el = fresh * p[q.P_WATER_KWH_M3]  # make-up water made on site; electrolyser water not shed for
    must_run = base_el + upg_el + treat_el + desal_el - chp_kw * dt
    limit = p[q.P_IMP_MAX] * dt
    if must_run + (ely_kw + hp_kw / cop) * dt - limit > 1e-9:
        ely_kw = _on_or_off(
            max(0.0, ely_kw - (must_run + (ely_kw + hp_kw / cop) * dt - limit) / dt), p[q.P_ELY_PMIN], p[q.P_ELY_RATED]
        )
        over = must_run + (ely_kw + hp_kw / cop) * dt - limit
        if over > 1e-9:
            hp_kw = max(0.0, hp_kw - over / dt * cop)

    # electrolyser and oxygen
    h2 = _div(ely_kw * dt, p[q.P_ELY_KWH_KG])
    o2 = h2 * p[q.P_ELY_O2_RATIO]
    o2_demand = p[q.P_O2_KG_H] * feed * dt
    o2_to_ras = min(frac[q.A_O2] * p[q.P_X_O2] * dt, o2, o2_demand)
    ely_heat = p[q.P_ELY_HEAT_FRAC] * ely_kw * dt

    # heat: only fresh make-up water is discounted by the effluent heat recovery; the 2 K of
    # reused water is already the ΔT left after recovery (params.REUSE_DT_K)
    fresh_dt = max(p[q.P_TSET_C] - exo[q.E_FRESH_C], 0.0)
    dem_ras = CP_WATER_KWH_PER_M3K * (p[q.P_RAS_HEAT_FACTOR] * fresh * fresh_dt + reused * REUSE_DT_K)
    chp_heat = p[q.P_CHP_ETA_TH] * fuel
    chp_in = min(chp_heat, p[q.P_X_CHP_HEAT] * dt)
    ely_in = min(ely_heat, p[q.P_X_ELY_HEAT] * dt)
    charge_rate = p[q.P_STORE_MAX_CH] * dt
    waste = chp_in + ely_in
    dumped = max(0.0, waste - charge_rate)
    waste -= dumped
    hp_heat = min(hp_kw * dt, charge_rate - waste)  # the heat pump gets the rate waste heat leaves
    loss = heat0 * p[q.P_STORE_LOSS_H] * dt
    available = heat0 - loss + waste + hp_heat
    to_ras = min(frac[q.A_HEAT_RAS] * p[q.P_X_HEAT_RAS] * dt, dem_ras)
    to_dig = min(frac[q.A_HEAT_DIG] * p[q.P_X_HEAT_DIG] * dt, dem_dig)
    cap_out = min(p[q.P_STORE_MAX_DIS] * dt, max(available, 0.0))
    if to_ras + to_dig > cap_out:
        share = cap_out / (to_ras + to_dig)
        to_ras, to_dig = to_ras * share, to_dig * share
    # the heat pump never heats beyond the room the store has after this step's discharge
    free = p[q.P_STORE_CAP] - (heat0 - loss + waste - to_ras - to_dig)
    hp_heat = min(hp_heat, max(free, 0.0))
    hp_kw = hp_heat / dt
    heat1 = heat0 - loss + waste + hp_heat - to_ras - to_dig
    full = max(0.0, heat1 - p[q.P_STORE_CAP])
    heat1 -= full
    recovered = waste - full
    dumped += full + chp_heat - chp_in + ely_heat - ely_in
    unmet = dem_ras - to_ras + dem_dig - to_dig

    # grid and money
    ely_el, hp_el, chp_el = ely_kw * dt, hp_kw / cop * dt, chp_kw * dt
    ely_water = (h2 + o2) / 1000.0
    water_el = (fresh + ely_water) * p[q.P_WATER_KWH_M3]
    load = base_el + upg_el + treat_el + water_el + ely_el + hp_el
    imp, exp_ = max(load - chp_el, 0.0), max(chp_el - load, 0.0)
    spill = max(0.0, exp_ - p[q.P_EXP_MAX] * dt)
    exp_ -= spill
    money = {
        "cost_grid_eur": (imp * (price + p[q.P_GRID_FEE]) - exp_ * price * p[q.P_EXPORT_FACTOR]) / 1000.0,
        "cost_water_eur": (fresh + ely_water) * p[q.P_WATER_PRICE],
        "cost_backup_heat_eur": (unmet + upg_heat) * p[q.P_HEAT_BACKUP] / 1000.0,
        "cost_o2_eur": (o2_demand - o2_to_ras) * p[q.P_O2_PRICE],
        "cost_sludge_eur": (sludge - sludge_in) * p[q.P_SLUDGE_FEE],
        "revenue_h2_eur": h2 * p[q.P_H2_PRICE],
        "revenue_biomethane_eur": biomethane * p[q.P_BM_PRICE] / 1000.0,
    }
    cost = sum(v for k, v in money.items() if k.startswith("cost")) - money["revenue_h2_eur"] - money["revenue_biomethane_eur"]
    co2_kg = (imp + unmet + upg_heat) * co2 / 1000.0 + slip * GWP_CH4
    carbon = co2_kg / 1000.0 * p[q.P_CARBON_PRICE]

    applied = [
        _div(chp_kw, rated),
        _div(upgraded, p[q.P_UPG_CAP] * dt),
        _div(flared, p[q.P_FLARE_MAX] * dt),
        _div(ely_kw, p[q.P_ELY_RATED]),
        _div(o2_to_ras, p[q.P_X_O2] * dt),
        _div(hp_kw, p[q.P_HP_RATED]),
        _div(to_ras, p[q.P_X_HEAT_RAS] * dt),
        _div(to_dig, p[q.P_X_HEAT_DIG] * dt),
        _div(treated, p[q.P_WT_CAP] * dt),
        _div(reused, p[q.P_REUSE_CAP] * dt),
    ]
    clips = [ap - (0.0 if r != r else r) + (1.0 if r != r else 0.0) for ap, r in zip(applied, req, strict=True)]
    out = {
        "reward": -(cost + carbon),
        "cost_eur": cost,
        "carbon_cost_eur": carbon,
        "co2_kg": co2_kg,
        "grid_import_kwh": imp,
        "grid_export_kwh": exp_,
        "grid_spill_kwh": spill,
        "grid_over_limit_kwh": max(0.0, imp - limit),
        "load_kwh": load,
        "chp_el_kwh": chp_el,
        "chp_fuel_kwh": fuel,
        "chp_heat_kwh": chp_heat,
        "chp_heat_to_store_kwh": chp_in,
        "chp_biogas_nm3": chp_gas,
        "upgrader_biogas_nm3": upgraded,
        "upgrader_el_kwh": upg_el,
        "upgrader_heat_kwh": upg_heat,
        "biomethane_kwh": biomethane,
        "ch4_slip_kg": slip,
        "flared_nm3": flared + overflow + biogas - to_holder,
        "biogas_produced_nm3": biogas,
        "ch4_produced_nm3": ch4,
        "sludge_kg_dm": sludge,
        "sludge_disposed_kg_dm": sludge - sludge_in,
        "vs_fed_kg": vs_in,
        "vs_degraded_kg": degraded,
        "electrolyser_el_kwh": ely_el,
        "h2_kg": h2,
        "o2_produced_kg": o2,
        "o2_demand_kg": o2_demand,
        "o2_to_ras_kg": o2_to_ras,
        "o2_purchased_kg": o2_demand - o2_to_ras,
        "o2_vented_kg": o2 - o2_to_ras,
        "electrolyser_water_m3": ely_water,
        "electrolyser_heat_kwh": ely_heat,
        "electrolyser_heat_to_store_kwh": ely_in,
        "heat_pump_heat_kwh": hp_heat,
        "heat_pump_el_kwh": hp_el,
        "heat_pump_cop": cop,
        "heat_demand_ras_kwh": dem_ras,
        "heat_demand_digester_kwh": dem_dig,
        "heat_to_ras_kwh": to_ras,
        "heat_to_digester_kwh": to_dig,
        "unmet_heat_kwh": unmet,
        "heat_dumped_kwh": dumped,
        "store_loss_kwh": loss,
        "heat_recovered_kwh": recovered,
        "water_demand_m3": demand_m3,
        "fresh_water_m3": fresh,
        "water_reused_m3": reused,
        "water_treated_m3": treated,
        "wastewater_discharged_m3": demand_m3 - treated,
        "treatment_el_kwh": treat_el,
        "water_el_kwh": water_el,
        "base_el_kwh": base_el,
        **money,
        "price_eur_per_mwh": price,
        "co2_g_per_kwh": co2,
        "clip_total": sum(abs(c) for c in clips),
    }
    out.update({f"clip_{name}": c for name, c in zip(q.ACTION_NAMES, clips, strict=True)})
    return [gas1, heat1, tank0 + treated - reused, vs0 - degraded + vs_in], out
