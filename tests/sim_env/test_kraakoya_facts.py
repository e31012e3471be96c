"""Kråkøya's physical facts, each against a hand calculation written beside it.

These facts were protected by the parity of the compiled twin with the hand-written Kråkøya
twin (retired in issue 22: ``test_model_corrections.py``'s year-by-hand tests, ``test_kernel.py``'s
balances). Each figure is now derived here from the park file's own numbers, so a wrong formula in
the compiler or the kernel fails whatever the other twin would have said.

One year with every action at 0: nothing is switched on, so all make-up water is desalinated,
all O2 bought, all heat of the fish farm and the digester comes from backup.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aisym.park import load_park
from aisym.park.graph import load_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import N_HEAD, Batch

YEAR = 8760.0  # h
CP = 1.163  # kWh/(m³·K), heat capacity of water


# The v1 file the shipped park was written from (kept by the speed yardstick): its named numbers are
# where the hand calculations start; tests/sim_env/test_kraakoya_v2.py keeps it the shipped park.
V1 = Path(__file__).resolve().parents[2] / "benchmarks" / "kraakoya_yardstick" / "kraakoya_v1.yaml"


@pytest.fixture(scope="module")
def v1():
    return load_park(V1)  # the numbers the hand calculations start from


@pytest.fixture(scope="module")
def year_idle():
    """Totals of one year (seed 0) with every action at 0: link flows, node activities, node backups."""
    cp = compile_park(load_graph())
    b = Batch(cp, cp.exogenous(seed=0), 1)
    total = np.zeros(b.Y.shape[1])
    a = np.zeros((1, cp.n_actions))
    for _ in range(int(YEAR)):
        total += b.step(a)[0]
    nl, nn = len(cp.link_ids), cp.n_nodes
    link = dict(zip(cp.link_ids, total[N_HEAD:N_HEAD + nl], strict=True))
    act = dict(zip(cp.node_keys, total[N_HEAD + nl:N_HEAD + nl + nn], strict=True))
    back = dict(zip(cp.node_keys, total[N_HEAD + nl + nn:N_HEAD + nl + 2 * nn], strict=True))
    return link, act, back


def test_make_up_water_and_its_desalination_power(v1, year_idle):
    link, _, _ = year_idle
    fresh = v1.assets["ras"].makeup_water_m3_per_h * YEAR  # 72 × 8760 = 630,720 m³
    assert fresh == 630_720
    assert link["water_supply_to_ras"] == pytest.approx(fresh, rel=1e-12)
    kwh = fresh * v1.market.water_electricity_kwh_per_m3  # × 3.5 kWh/m³ = 2,207,520 kWh
    assert link["grid_to_water_supply"] == pytest.approx(kwh, rel=1e-12)


def test_base_power_of_the_farm_and_the_digester(v1, year_idle):
    link, _, _ = year_idle
    base = (v1.assets["ras"].electricity_kw + v1.assets["digester"].electricity_kw) * YEAR  # 1,515 kW → 13,271,400 kWh
    assert base == pytest.approx(13_271_400)
    assert link["grid_to_ras"] + link["grid_to_digester"] == pytest.approx(base, rel=1e-12)


def test_oxygen_bought_is_the_farms_yearly_need(v1, year_idle):
    _, _, back = year_idle
    o2 = v1.assets["ras"].oxygen_t_per_year * 1000  # 4,500,000 kg, shaped by feeding (mean 1.0, noise ±3 %)
    assert back["ras.oxygen"] == pytest.approx(o2, rel=0.01)


def test_fish_farm_heat_of_a_year_without_reuse(v1, year_idle):
    # Q = 1.163 kWh/(m³·K) × (1 − recovery) × 72 m³/h × 8760 h × (13 − 3.0 °C mean freshwater) = 2,934 MWh
    ras = v1.assets["ras"]
    dt_mean = ras.setpoint_temp_c - v1.climate.freshwater_temp_c.mean
    hand = CP * (1 - ras.effluent_heat_recovery) * ras.makeup_water_m3_per_h * YEAR * dt_mean
    assert hand == pytest.approx(2_934e3, rel=1e-3)
    _, _, back = year_idle
    assert back["ras.heater"] == pytest.approx(hand, rel=0.01)


def test_sludge_biogas_and_digester_heat_of_a_year(v1, year_idle):
    ras, dig = v1.assets["ras"], v1.assets["digester"]
    link, act, back = year_idle
    sludge_kg_dm = ras.feed_t_per_year * 1000 * ras.sludge_kg_dm_per_kg_feed  # 10,000 t feed × 0.09 = 900 t DM
    assert link["sludge_to_digester"] == pytest.approx(sludge_kg_dm, rel=0.01)
    biogas = sludge_kg_dm * dig.vs_per_ts * dig.ch4_yield_nm3_per_kg_vs / dig.ch4_fraction  # 300,000 Nm³
    assert biogas == pytest.approx(300_000)
    # with every action at 0 the holder fills (350 → 700 Nm³) and the rest leaves at the digester
    assert link["biogas_to_holder"] + act["digester.biogas"] == pytest.approx(biogas, rel=0.01)
    feed_m3 = sludge_kg_dm / (dig.feed_dry_matter_fraction * 1000)  # 18,000 m³ of 5 % DM sludge
    heat = CP * feed_m3 * (dig.temperature_c - ras.setpoint_temp_c) + dig.heat_loss_kw * YEAR  # 502 + 219 MWh
    assert heat == pytest.approx(721.4e3, rel=1e-3)
    assert back["digester.feed"] + back["digester.heat_loss"] == pytest.approx(heat, rel=0.01)
    assert back["digester.heat_loss"] == pytest.approx(dig.heat_loss_kw * YEAR, rel=1e-12)


def _first_step(cp, **actions: float) -> tuple[dict, dict]:
    """Link flows and node activities of the first hour (seed 0), every action at 0 but ``actions``."""
    b = Batch(cp, cp.exogenous(seed=0), 1)
    a = np.zeros((1, cp.n_actions))
    for name, v in actions.items():
        a[0, cp.action_names.index(name)] = v
    y = b.step(a)[0]
    nl, nn = len(cp.link_ids), cp.n_nodes
    return (dict(zip(cp.link_ids, y[N_HEAD:N_HEAD + nl], strict=True)),
            dict(zip(cp.node_keys, y[N_HEAD + nl:N_HEAD + nl + nn], strict=True)))


@pytest.mark.parametrize("load", [1.0, 0.5])
def test_chp_fuel_line_and_heat_follow_the_park_efficiencies(v1, load):
    # Rated 150 kW el at η_el 0.40; at min load (50 %) η_el − 4 pp = 0.36; biogas 0.6 × 9.97 kWh/Nm³ CH4:
    # rated: 150 / (0.40 × 5.982) = 62.69 Nm³/h, heat 0.45 × 375 kW = 168.75 kW;
    # min load: 75 / (0.36 × 5.982) = 34.83 Nm³/h, heat 0.45 × 208.3 kW = 93.75 kW.
    chp = v1.assets["chp"]
    lhv = 9.97 * v1.assets["digester"].ch4_fraction  # kWh/Nm³ of biogas
    p_el = chp.rated_el_kw * load
    eta = chp.eta_el - (chp.eta_el_drop_at_min_load if load == chp.min_load_fraction else 0.0)
    link, act = _first_step(compile_park(load_graph()), **{"chp.engine": load})
    assert act["chp.engine"] == pytest.approx(p_el, rel=1e-12)
    assert link["biogas_to_chp"] == pytest.approx(p_el / (eta * lhv), rel=1e-12)
    assert link["chp_heat_to_store"] == pytest.approx(chp.eta_th * p_el / eta, rel=1e-12)


def test_digester_starts_in_the_steady_state_of_mean_sludge(v1):
    # VS stock at the start = mean VS inflow × retention: 900 t DM × 0.8 / 8760 h × 720 h = 59,178 kg VS,
    # so the first hour degrades the mean inflow: 300,000 Nm³/yr / 8760 h = 34.25 Nm³/h, whatever January's feeding.
    ras, dig = v1.assets["ras"], v1.assets["digester"]
    vs_h = ras.feed_t_per_year * 1000 * ras.sludge_kg_dm_per_kg_feed * dig.vs_per_ts / YEAR
    cp = compile_park(load_graph())
    assert Batch(cp, cp.exogenous(seed=0), 1).S[0, cp.node_keys.index("digester.solids")] == pytest.approx(
        vs_h * dig.retention_days * 24, rel=1e-12)
    link, _ = _first_step(cp)
    biogas_h = vs_h * dig.ch4_yield_nm3_per_kg_vs / dig.ch4_fraction
    assert link["biogas_to_holder"] == pytest.approx(biogas_h, rel=1e-9)


def test_reused_water_needs_its_2_k_in_full_and_regeneration_heat_is_bought(v1):
    # A day with reuse at the permit's maximum (0.95 × 72 = 68.4 m³/h) and the upgrader at 40 Nm³/h, the store idle:
    # reused water needs 1.163 × 2 K = 2.33 kWh/m³ (the ΔT left after effluent recovery, not discounted again):
    # 159.1 kW; fresh make-up 1.163 × (1 − 0.6) × (13 − T_fresh) per m³ of the 3.6 m³/h left; amine regeneration
    # 0.55 kWh/Nm³ of raw biogas: 22 kW, too hot for the store, so bought as backup heat.
    from sim_env.graph.exogenous import generate

    ras, upg = v1.assets["ras"], v1.assets["upgrader"]
    cp = compile_park(load_graph())
    b = Batch(cp, cp.exogenous(seed=0), 1)
    a = np.zeros((1, cp.n_actions))
    for name in ("reused_water_to_ras", "water_treatment.treatment", "upgrader.scrubber"):
        a[0, cp.action_names.index(name)] = 1.0
    fresh_t = generate(cp.graph, seed=0)["freshwater_temp"][0]
    nl, nn = len(cp.link_ids), cp.n_nodes
    for t in range(24):
        y = b.step(a)[0]
        link = dict(zip(cp.link_ids, y[N_HEAD:N_HEAD + nl], strict=True))
        back = dict(zip(cp.node_keys, y[N_HEAD + nl + nn:N_HEAD + nl + 2 * nn], strict=True))
        reused = link["reused_water_to_ras"]
        assert reused == pytest.approx(ras.makeup_water_m3_per_h * v1.assets["water_treatment"].max_reuse_fraction)
        assert back["ras.reheater"] == pytest.approx(CP * 2.0 * reused, rel=1e-12)
        fresh_need = CP * (1 - ras.effluent_heat_recovery) * max(ras.setpoint_temp_c - fresh_t[t], 0.0)
        assert back["ras.heater"] == pytest.approx(fresh_need * (ras.makeup_water_m3_per_h - reused), rel=1e-9)
        assert link["biogas_to_upgrader"] == pytest.approx(upg.capacity_nm3_per_h)
        assert back["upgrader.scrubber"] == pytest.approx(upg.regeneration_heat_kwh_per_nm3 * link["biogas_to_upgrader"],
                                                          rel=1e-12)
