"""The Numba step against the plain-Python reference, and the balances every step must keep."""

from __future__ import annotations

import numpy as np
import pytest

from sim_env import kernels
from sim_env import params as q
from sim_env.params import OUT_INDEX as O
from sim_env.params import OUT_NAMES
from sim_env.reference import step_reference
from sim_env.scenario import load_scenario

SCENARIOS = "sim_env/scenarios"


def _run_kernel(p, exo, actions, start=0, state=None):
    """Step one park through ``actions``; returns the states before each step and the outputs."""
    P = p[None].copy()
    S = (q.initial_state(p) if state is None else state)[None].copy()
    Y = np.zeros((1, q.N_OUT))
    OBS = np.zeros((1, q.obs_size(4)))
    ser, t = np.zeros(1, np.int64), np.array([start], np.int64)
    states, outs = [], []
    for a in actions:
        states.append(S[0].copy())
        kernels.step_serial_numba(P, exo, ser, t, S, a[None].copy(), Y, OBS, 4)
        outs.append(Y[0].copy())
    states.append(S[0].copy())
    return np.array(states), np.array(outs)


def _random_actions(n: int, seed: int) -> np.ndarray:
    """Requests inside and outside [0, 1], plus NaN now and then, to exercise every clip."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-0.2, 1.2, size=(n, q.N_ACTIONS))
    a[rng.random(a.shape) < 0.3] = 1.0
    a[rng.random(a.shape) < 0.2] = 0.0
    a[rng.random(a.shape) < 0.01] = np.nan
    return a


@pytest.mark.parametrize("scenario", ["base.yaml", "no_symbiosis.yaml", "bigger_heat_store.yaml"])
def test_kernel_equals_reference(exo, scenario):
    p = q.park_params(load_scenario(f"{SCENARIOS}/{scenario}").park)
    actions = _random_actions(400, seed=1)
    states, outs = _run_kernel(p, exo, actions, start=1000)
    for i, a in enumerate(actions):
        new_state, ref = step_reference(p, exo[0, 1000 + i], states[i], a)
        np.testing.assert_allclose(new_state, states[i + 1], rtol=1e-9, atol=1e-9)
        got = dict(zip(OUT_NAMES, outs[i], strict=True))
        for name in OUT_NAMES:
            assert got[name] == pytest.approx(ref[name], rel=1e-9, abs=1e-9), (i, name)


def test_balances_hold_every_step(p, exo):
    actions = _random_actions(2000, seed=2)
    s, y = _run_kernel(p, exo, actions, start=3000)
    col = lambda name: y[:, O[name]]  # noqa: E731
    d = np.diff(s, axis=0)
    tol = dict(rtol=1e-9, atol=1e-7)
    # biogas / CH4 / volatile solids
    np.testing.assert_allclose(
        d[:, q.S_GAS],
        col("biogas_produced_nm3") - col("flared_nm3") - col("chp_biogas_nm3") - col("upgrader_biogas_nm3"),
        **tol,
    )
    np.testing.assert_allclose(d[:, q.S_VS], col("vs_fed_kg") - col("vs_degraded_kg"), **tol)
    np.testing.assert_allclose(col("ch4_produced_nm3"), col("vs_degraded_kg") * p[q.P_CH4_YIELD], **tol)
    np.testing.assert_allclose(col("biogas_produced_nm3") * p[q.P_CH4_FRAC], col("ch4_produced_nm3"), **tol)
    lhv_bg = q.LHV_CH4_KWH_PER_NM3 * p[q.P_CH4_FRAC]
    np.testing.assert_allclose(col("chp_fuel_kwh"), col("chp_biogas_nm3") * lhv_bg, **tol)
    # heat
    heat_in = col("chp_heat_kwh") + col("electrolyser_heat_kwh") + col("heat_pump_heat_kwh")
    heat_out = col("heat_dumped_kwh") + col("store_loss_kwh") + col("heat_to_ras_kwh") + col("heat_to_digester_kwh")
    np.testing.assert_allclose(d[:, q.S_HEAT], heat_in - heat_out, **tol)
    demand = col("heat_demand_ras_kwh") + col("heat_demand_digester_kwh")
    np.testing.assert_allclose(col("heat_to_ras_kwh") + col("heat_to_digester_kwh") + col("unmet_heat_kwh"), demand, **tol)
    # heat recovered is only what the store kept: with the heat pump, it is what was delivered, lost or kept
    delivered = col("heat_to_ras_kwh") + col("heat_to_digester_kwh")
    np.testing.assert_allclose(
        d[:, q.S_HEAT], col("heat_recovered_kwh") + col("heat_pump_heat_kwh") - delivered - col("store_loss_kwh"), **tol
    )
    waste_in = col("chp_heat_to_store_kwh") + col("electrolyser_heat_to_store_kwh")
    assert np.all(col("heat_recovered_kwh") <= waste_in + 1e-9)
    np.testing.assert_allclose(col("upgrader_heat_kwh"), col("upgrader_biogas_nm3") * p[q.P_UPG_HEAT_KWH_NM3], **tol)
    # electricity
    load = (
        col("base_el_kwh")
        + col("upgrader_el_kwh")
        + col("treatment_el_kwh")
        + col("water_el_kwh")
        + col("electrolyser_el_kwh")
        + col("heat_pump_el_kwh")
    )
    np.testing.assert_allclose(col("load_kwh"), load, **tol)
    supply = col("grid_import_kwh") - col("grid_export_kwh") - col("grid_spill_kwh") + col("chp_el_kwh")
    np.testing.assert_allclose(supply, load, **tol)
    # first law: no unit makes energy
    assert np.all(col("chp_el_kwh") + col("chp_heat_kwh") <= col("chp_fuel_kwh") + 1e-9)
    h2_energy = col("h2_kg") * q.LHV_H2_KWH_PER_KG
    assert np.all(h2_energy + col("electrolyser_heat_kwh") <= col("electrolyser_el_kwh") + 1e-9)
    np.testing.assert_allclose(col("heat_pump_heat_kwh"), col("heat_pump_el_kwh") * col("heat_pump_cop"), **tol)
    # water and oxygen
    np.testing.assert_allclose(col("fresh_water_m3") + col("water_reused_m3"), col("water_demand_m3"), **tol)
    np.testing.assert_allclose(d[:, q.S_TANK], col("water_treated_m3") - col("water_reused_m3"), **tol)
    np.testing.assert_allclose(col("water_treated_m3") + col("wastewater_discharged_m3"), col("water_demand_m3"), **tol)
    np.testing.assert_allclose(col("o2_to_ras_kg") + col("o2_vented_kg"), col("o2_produced_kg"), **tol)
    np.testing.assert_allclose(col("o2_to_ras_kg") + col("o2_purchased_kg"), col("o2_demand_kg"), **tol)
    np.testing.assert_allclose(col("electrolyser_water_m3") * 1000, col("h2_kg") + col("o2_produced_kg"), **tol)
    bought = col("fresh_water_m3") + col("electrolyser_water_m3")
    np.testing.assert_allclose(col("water_el_kwh"), bought * p[q.P_WATER_KWH_M3], **tol)
    np.testing.assert_allclose(col("cost_water_eur"), bought * p[q.P_WATER_PRICE], **tol)
    backup = (col("unmet_heat_kwh") + col("upgrader_heat_kwh")) * p[q.P_HEAT_BACKUP] / 1000
    np.testing.assert_allclose(col("cost_backup_heat_eur"), backup, **tol)
    # levels stay in their bounds, flows are not negative
    caps = np.array([p[q.P_HOLDER_NM3], p[q.P_STORE_CAP], p[q.P_WT_TANK]])
    assert np.all(s[:, :3] >= -1e-9) and np.all(s[:, :3] <= caps + 1e-9)
    intensive = {"reward", "cost_eur", "carbon_cost_eur", "cost_grid_eur", "price_eur_per_mwh"} | {
        n for n in OUT_NAMES if n.startswith("clip_") and n != "clip_total"
    }
    flows = [O[n] for n in OUT_NAMES if n not in intensive]
    assert np.all(y[:, flows] >= -1e-9)
    # money adds up
    parts = ["cost_grid_eur", "cost_water_eur", "cost_backup_heat_eur", "cost_o2_eur", "cost_sludge_eur"]
    cost = sum(col(c) for c in parts) - col("revenue_h2_eur") - col("revenue_biomethane_eur")
    np.testing.assert_allclose(col("cost_eur"), cost, **tol)
    np.testing.assert_allclose(col("reward"), -(col("cost_eur") + col("carbon_cost_eur")), **tol)


def test_clipping_is_reported(p, exo):
    a = np.zeros((3, q.N_ACTIONS))
    a[0, q.A_CHP] = 0.3  # below the 50 % min load: rounds to off
    a[1, q.A_CHP] = 0.4  # rounds up to min load
    a[2, q.A_UPG] = 1.5  # outside the box
    empty = q.initial_state(p)
    empty[q.S_GAS] = 0.0
    _, y = _run_kernel(p, exo, a, state=empty)
    assert y[0, O["chp_el_kwh"]] == 0.0 and y[0, O["clip_chp_power"]] == pytest.approx(-0.3)
    assert y[1, O["chp_el_kwh"]] == pytest.approx(p[q.P_CHP_PMIN]) and y[1, O["clip_chp_power"]] == pytest.approx(0.1)
    assert y[2, O["clip_biogas_to_upgrader"]] <= -0.5  # 1.5 asked: the box clip at least
    assert all(y[i, O["clip_total"]] > 0 for i in range(3))


def test_disabled_exchange_zeroes_its_flow(exo):
    park = load_scenario(f"{SCENARIOS}/no_symbiosis.yaml").park
    p = q.park_params(park)
    assert p[q.P_X_O2] == 0 and p[q.P_X_ELY_HEAT] == 0 and p[q.P_REUSE_CAP] == 0
    _, y = _run_kernel(p, exo, np.ones((48, q.N_ACTIONS)))
    assert y[:, O["o2_to_ras_kg"]].max() == 0 and y[:, O["water_reused_m3"]].max() == 0
    assert y[:, O["electrolyser_heat_to_store_kwh"]].max() == 0
    assert y[:, O["heat_dumped_kwh"]].sum() >= y[:, O["electrolyser_heat_kwh"]].sum()


def test_chp_fuel_curve_matches_park_efficiencies(park):
    chp = park.assets["chp"]
    p_min, slope, offset = q.chp_fuel_curve(chp.rated_el_kw, chp.eta_el, chp.min_load_fraction, chp.eta_el_drop_at_min_load)
    assert chp.rated_el_kw / (slope * chp.rated_el_kw + offset) == pytest.approx(chp.eta_el)
    assert p_min / (slope * p_min + offset) == pytest.approx(chp.eta_el - chp.eta_el_drop_at_min_load)


def test_digester_starts_in_steady_state(p, exo):
    s, y = _run_kernel(p, exo, np.zeros((24, q.N_ACTIONS)))
    fed = y[:, O["vs_fed_kg"]].mean()
    assert y[0, O["vs_degraded_kg"]] == pytest.approx(p[q.P_SLUDGE_KG_DM_H] * p[q.P_VS_PER_TS], rel=1e-9)
    assert abs(s[-1, q.S_VS] / s[0, q.S_VS] - 1) < 0.05 and fed > 0
