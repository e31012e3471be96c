"""v1 park files to v2: each v1 kind becomes its template, the climate and market become series.

What v1 left implicit is written out, so nothing is assumed in code any more:

- every electricity consumer gets an exchange from the grid (v1 bought all power from it);
- make-up and electrolyser water come from a ``water_supply`` market at the v1 water price;
- unmet heat, oxygen and sludge disposal are backups at the v1 market prices; backup heat
  emits at the grid's intensity (an electric boiler, as v1 counted it);
- the v1 spring-melt price dip and fish-feeding season, which v1 applied to every park from
  code, are written into this park's series, where a user can see and change them;
- ``max_reuse_fraction`` of water treatment bounds the reuse exchange's capacity;
- v1 figures the twin never used (production, feed, recirculation, digester volume) are kept
  under ``info``, stated as not simulated.

The four exchanges that were actions in v1 (oxygen, store heat to the farm and the digester,
reused water) are ``controllable``; the converters' setpoints are the other actions.
"""

from __future__ import annotations

from .. import model as v1

HOURS = 8760.0
V1_CONTROLLABLE = {"oxygen_to_ras", "store_heat_to_ras", "store_heat_to_digester", "reused_water_to_ras"}
# v1 served the gas holder's outflows CHP first, then the upgrader (the flare takes what is left)
V1_PRIORITY = {"biogas_to_chp": 1, "biogas_to_upgrader": 2}
# v1's exogenous shapes that lived in sim_env/exogenous.py, now the park's own series
MELT_DIP = {"day": 140, "width_days": 12.0, "depth": 0.7, "why": "spring-melt week prices near 4 øre/kWh (eidefoss.no)"}
FEED = {"mean": 1.0, "amplitude": 0.15, "peak_day": 230, "noise_std": 0.03, "min": 0.0}


# (v1 kind, "from"/"to", resource) -> the template's port
PORTS = {
    ("fish_farm", "from", "sludge"): "sludge", ("fish_farm", "from", "water"): "wastewater",
    ("fish_farm", "to", "water"): "reused_water", ("fish_farm", "to", "heat"): "heat",
    ("fish_farm", "to", "oxygen"): "oxygen", ("fish_farm", "to", "electricity"): "electricity",
    ("water_treatment", "from", "water"): "treated", ("water_treatment", "to", "water"): "wastewater",
    ("digester", "to", "sludge"): "sludge", ("digester", "to", "heat"): "heat", ("digester", "from", "biogas"): "biogas",
    ("gas_holder", "to", "biogas"): "biogas", ("gas_holder", "from", "biogas"): "biogas",
    ("chp", "to", "biogas"): "fuel", ("chp", "from", "heat"): "heat", ("chp", "from", "electricity"): "electricity",
    ("biogas_upgrader", "to", "biogas"): "biogas", ("electrolyser", "from", "heat"): "heat",
    ("electrolyser", "from", "oxygen"): "oxygen", ("electrolyser", "to", "electricity"): "electricity",
    ("heat_pump", "from", "heat"): "heat", ("heat_pump", "to", "electricity"): "electricity",
    ("heat_store", "to", "heat"): "heat", ("heat_store", "from", "heat"): "heat",
    ("grid", "from", "electricity"): "electricity", ("grid", "to", "electricity"): "electricity",
}


def _end(park: v1.Park, asset: str, side: str, resource: str) -> str:
    port = PORTS.get((park.assets[asset].kind, side, resource))
    return f"{asset}.{port}" if port else asset


def _seasonal(s, **extra) -> dict:
    out = {"mean": s.mean, "amplitude": s.amplitude, "coldest_day": s.coldest_day}
    if s.daily_amplitude:
        out["daily_amplitude"] = s.daily_amplitude
    if s.noise_std:
        out["noise_std"] = s.noise_std
    return {**out, **extra}


def _series(park: v1.Park) -> dict:
    c, m = park.climate, park.market
    pm = m.electricity_price_eur_per_mwh
    return {
        "sea_temp": {"unit": "degC", "seasonal": _seasonal(c.sea_temp_c)},
        "freshwater_temp": {"unit": "degC", "seasonal": _seasonal(c.freshwater_temp_c, min=0.1)},
        "air_temp": {"unit": "degC", "seasonal": _seasonal(c.air_temp_c)},
        "price": {"unit": f"{m.currency}/MWh", "price": {
            "mean": pm.mean, "min": pm.min, "max": pm.max, "winter_factor": pm.winter_factor, "dips": [MELT_DIP],
            "night_discount": 0.2, "daily_peak_hours": list(pm.daily_peak_hours), "peak_boost": 0.35,
            "peak_width_h": 1.5, "volatility": pm.volatility}},
        "grid_co2": {"unit": "g/kWh", "seasonal": _seasonal(m.grid_co2_g_per_kwh, min=0.0)},
        "feed": {"unit": "dimensionless", "description": "feeding factor: sludge and O2 follow it", "seasonal": FEED},
    }


def _store_temperature(park: v1.Park, asset: str) -> float:
    temps = [e.quality.temperature_c for e in park.exchanges if e.source == asset and e.quality.temperature_c]
    return max(temps) if temps else 45.0


def _assets(park: v1.Park, a) -> tuple[dict, dict]:
    """(template params, info) for one v1 asset."""
    m = park.market
    cur = m.currency
    heat_backup = {"cost": f"{m.heat_backup_eur_per_mwh} {cur}/MWh", "co2": {"series": "grid_co2"}}
    ch4 = next((d.ch4_fraction for d in park.assets_of_kind("digester")), 0.6)
    ras = next(iter(park.assets_of_kind("fish_farm")), None)
    k = a.kind
    if k == "fish_farm":
        return {"makeup_water": f"{a.makeup_water_m3_per_h} m3/h", "setpoint_temp": f"{a.setpoint_temp_c} degC",
                "effluent_heat_recovery": a.effluent_heat_recovery, "source_temperature": "freshwater_temp",
                "sludge": a.sludge_kg_dm_per_kg_feed * a.feed_t_per_year * 1000.0 / HOURS,
                "oxygen": a.oxygen_t_per_year * 1000.0 / HOURS, "electricity": f"{a.electricity_kw} kW",
                "profile_series": "feed", "heat_backup": heat_backup,
                "oxygen_backup": {"cost": f"{m.oxygen_purchase_eur_per_kg} {cur}/kg"},
                "sludge_disposal": {"cost": f"{m.sludge_disposal_eur_per_t_dm} {cur}/t"}}, {
                "production_t_per_year": a.production_t_per_year, "feed_t_per_year": a.feed_t_per_year,
                "recirculation_fraction": a.recirculation_fraction}
    if k == "digester":
        feed = ras.sludge_kg_dm_per_kg_feed * ras.feed_t_per_year * 1000.0 / HOURS if ras else 1.0
        into = [e.capacity for e in park.exchanges if e.sink == a.id and e.resource == "sludge"]
        return {"retention": f"{a.retention_days} d", "temperature": f"{a.temperature_c} degC",
                "design_feed": min([feed, *into]),
                "feed_temp": f"{ras.setpoint_temp_c if ras else 10.0} degC",
                "feed_dry_matter": a.feed_dry_matter_fraction, "vs_per_ts": a.vs_per_ts,
                "ch4_yield": f"{a.ch4_yield_nm3_per_kg_vs} Nm3/kg", "ch4_fraction": a.ch4_fraction,
                "heat_loss": f"{a.heat_loss_kw} kW", "electricity": f"{a.electricity_kw} kW",
                "heat_backup": heat_backup}, {"volume_m3": a.volume_m3}
    if k == "gas_holder":
        into = [e.capacity for e in park.exchanges if e.sink == a.id and e.resource == "biogas"]
        return {"capacity": f"{a.capacity_nm3} Nm3", "initial": a.initial_fraction, "ch4_fraction": ch4,
                "flare_max": f"{max(into) if into else 100.0} Nm3/h"}, {}
    if k == "chp":
        temps = [e.quality.temperature_c for e in park.exchanges if e.source == a.id and e.quality.temperature_c]
        return {"rated_el": f"{a.rated_el_kw} kW", "eta_el": a.eta_el, "eta_th": a.eta_th,
                "min_load": a.min_load_fraction, "eta_el_drop_at_min_load": a.eta_el_drop_at_min_load,
                "ch4_fraction": ch4, **({"heat_temperature": f"{max(temps)} degC"} if temps else {})}, {}
    if k == "biogas_upgrader":
        return {"capacity": f"{a.capacity_nm3_per_h} Nm3/h", "ch4_slip": a.ch4_slip_fraction, "ch4_fraction": ch4,
                "electricity_per_nm3": f"{a.electricity_kwh_per_nm3} kWh/Nm3",
                "biomethane_price": a.biomethane_price_eur_per_mwh,
                **({"regeneration_heat_per_nm3": f"{a.regeneration_heat_kwh_per_nm3} kWh/Nm3",
                    "heat_temperature": "140 degC", "heat_backup": heat_backup}
                   if a.regeneration_heat_kwh_per_nm3 > 0 else {})}, {}
    if k == "electrolyser":
        return {"rated": f"{a.rated_kw} kW", "min_load": a.min_load_fraction, "kwh_per_kg_h2": a.kwh_per_kg_h2,
                "o2_per_h2": a.o2_kg_per_kg_h2, "heat_recoverable_fraction": a.heat_recoverable_fraction,
                "heat_temperature": f"{a.heat_temp_c} degC", "h2_price": f"{a.h2_price_eur_per_kg} {cur}/kg"}, {}
    if k == "heat_pump":
        return {"rated_heat": f"{a.rated_heat_kw} kW", "sink_temp": f"{a.sink_temp_c} degC",
                "carnot_efficiency": a.carnot_efficiency,
                "source_temperature": {"seawater": "sea_temp", "air": "air_temp", "freshwater": "freshwater_temp"}[
                    a.source]}, {}
    if k == "heat_store":
        return {"capacity": f"{a.capacity_kwh} kWh", "max_charge": f"{a.max_charge_kw} kW",
                "max_discharge": f"{a.max_discharge_kw} kW", "loss": a.loss_fraction_per_day / 24.0,
                "initial": a.initial_fraction, "temperature": f"{_store_temperature(park, a.id)} degC"}, {}
    if k == "water_treatment":
        return {"capacity": f"{a.capacity_m3_per_h} m3/h", "tank": f"{a.tank_m3} m3",
                "electricity_per_m3": f"{a.electricity_kwh_per_m3} kWh/m3", "initial": a.initial_fraction}, {
                "max_reuse_fraction": f"{a.max_reuse_fraction} (bounds the reuse exchange's capacity)"}
    if k == "grid":
        return {"import_max": f"{a.import_kw_max} kW", "export_max": f"{a.export_kw_max} kW",
                "import_price": {"series": "price", "offset": f"{m.grid_fee_eur_per_mwh} {cur}/MWh"},
                "export_price": {"series": "price", "scale": m.export_price_factor},
                "co2": {"series": "grid_co2"}, "co2_source": "grid mix of the v1 park"}, {}
    raise ValueError(f"v1 kind {k!r} has no v2 template")


def migrate(park: v1.Park) -> dict:
    """The v2 document (a plain dict, ready for YAML) equivalent to v1 ``park``."""
    companies = []
    for c in park.companies:
        assets = []
        for a in c.assets:
            params, info = _assets(park, a)
            spec = {"id": a.id, "name": a.name, "template": a.kind, "params": params}
            if info:
                spec["info"] = info
            if a.tags:
                spec["tags"] = [t.model_dump(exclude_defaults=True) for t in a.tags]
            assets.append(spec)
        companies.append({"id": c.id, "name": c.name, "assets": assets})
    cur = park.market.currency
    companies.append({"id": "utilities", "name": "Public utilities (written out by the v1 -> v2 migration)",
                      "assets": [_water_supply(park)]})
    return {"schema_version": 2,
            "park": {"id": park.park.id, "name": park.park.name, "location": park.park.location,
                     "timezone": park.park.timezone, "description": park.park.description, "currency": cur,
                     "carbon_price": f"{park.market.carbon_price_eur_per_t} {cur}/t"},
            "series": _series(park), "companies": companies, "exchanges": _exchanges(park)}


def _water_supply(park: v1.Park) -> dict:
    """Make-up water at the v1 price; with its electricity per m³ (desalination) when v1 states it."""
    m = park.market
    potable = {"resource": "water", "grade": "potable"}
    price = f"{m.water_price_eur_per_m3} {m.currency}/m3"
    if m.water_electricity_kwh_per_m3 <= 0:
        return {"id": "water_supply", "name": "Make-up water supply", "components": [
            {"type": "market", "id": "water", "carrier": potable, "import_price": price}]}
    return {"id": "water_supply", "name": "Desalinated make-up water", "components": [
        {"type": "source", "id": "intake", "carrier": {"resource": "water", "grade": "seawater"}, "price": price},
        {"type": "converter", "id": "desalination", "control": "follow_output", "rated": 1e6, "reference": "water",
         "inputs": {"intake": {"carrier": {"resource": "water", "grade": "seawater"}},
                    "electricity": {"carrier": {"resource": "electricity"},
                                    "ratio": f"{m.water_electricity_kwh_per_m3} kWh/m3"}},
         "outputs": {"water": {"carrier": potable}}}]}


def _exchanges(park: v1.Park) -> list[dict]:
    grids = park.assets_of_kind("grid")
    reuse_cap = {t.id: t.max_reuse_fraction for t in park.assets_of_kind("water_treatment")}
    ras = next(iter(park.assets_of_kind("fish_farm")), None)
    exchanges = []
    for e in park.exchanges:
        cap = e.capacity
        if e.id == "reused_water_to_ras" or (e.resource == "water" and e.source in reuse_cap and ras is not None):
            cap = min(cap, reuse_cap.get(e.source, 1.0) * ras.makeup_water_m3_per_h)
        r = e.resource.value
        ex = {"id": e.id, "from": _end(park, e.source, "from", r), "to": _end(park, e.sink, "to", r), "resource": r,
              "capacity": f"{cap:.12g} {e.unit}"}
        if e.id in V1_CONTROLLABLE:
            ex["control"] = "controllable"
        if e.id in V1_PRIORITY:
            ex["priority"] = V1_PRIORITY[e.id]
        if e.meter_tag:
            ex["meter_tag"] = e.meter_tag
        if not e.enabled:
            ex["enabled"] = False
        if e.description:
            ex["description"] = e.description
        exchanges.append(ex)
    have = {(e.source, e.sink) for e in park.exchanges if e.resource == "electricity"}
    takes_power = ("fish_farm", "digester", "biogas_upgrader", "water_treatment", "heat_pump")
    for g in grids:
        for a in park.assets.values():
            if a.kind in takes_power and (g.id, a.id) not in have:
                exchanges.append({"id": f"{g.id}_to_{a.id}", "from": f"{g.id}.electricity", "to": f"{a.id}.electricity",
                                  "capacity": f"{g.import_kw_max} kW"})
        if park.market.water_electricity_kwh_per_m3 > 0:
            exchanges.append({"id": f"{g.id}_to_water_supply", "from": f"{g.id}.electricity",
                              "to": "water_supply.electricity", "capacity": f"{g.import_kw_max} kW"})
    for a in park.assets.values():
        if a.kind in ("fish_farm", "electrolyser"):
            exchanges.append({"id": f"water_supply_to_{a.id}", "from": "water_supply.water", "to": f"{a.id}.water",
                              "capacity": "1000 m3/h"})
    return exchanges


def migrate_text(park: v1.Park, source: str = "") -> str:
    """:func:`migrate` as YAML text with a header saying where it came from."""
    import yaml

    head = f"# Migrated from {source or 'a v1 park file'} by `aisym park migrate`; sources are cited there.\n"
    return head + yaml.safe_dump(migrate(park), sort_keys=False, allow_unicode=True, width=110)
