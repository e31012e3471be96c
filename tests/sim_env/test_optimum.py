"""The perfect-foresight MILP is the twin's model: its schedule replayed in the kernel gives its cost."""

from __future__ import annotations

import numpy as np
import pytest

from sim_env import params as q
from sim_env.baselines import STRATEGIES, make_strategy
from sim_env.baselines.optimum import OptimumStrategy
from sim_env.evaluate import evaluate, resource_efficiency
from sim_env.scenario import load_scenario

TWO_WEEKS = 24 * 14


@pytest.fixture(scope="module")
def optimum_two_weeks():
    strategy = OptimumStrategy()
    return strategy, evaluate(strategy, hours=TWO_WEEKS, start=24 * 20)


def test_lp_schedule_replayed_in_twin_gives_lp_cost(optimum_two_weeks):
    strategy, result = optimum_two_weeks
    plan = strategy.plan
    assert plan.status == "Optimal"
    assert result.kpis["objective_eur"] == pytest.approx(plan.objective_eur, rel=0.005)  # the bar: 0.5 %
    assert abs(result.kpis["objective_eur"] - plan.objective_eur) < 1e-6 * abs(plan.objective_eur)  # in fact exact
    assert result.totals["clip_total"] < 1e-6  # the kernel had nothing to clip


@pytest.mark.parametrize("scenario", ["no_symbiosis.yaml", "high_carbon_price.yaml", "no_upgrader.yaml"])
def test_lp_twin_agreement_holds_in_scenarios(scenario):
    park = load_scenario(f"sim_env/scenarios/{scenario}").park
    strategy = OptimumStrategy()
    result = evaluate(strategy, park, hours=24 * 7, start=24 * 200)
    assert result.kpis["objective_eur"] == pytest.approx(strategy.plan.objective_eur, rel=1e-6)


def test_min_load_binaries_matter_and_hold():
    # Without the upgrader the CHP burns all biogas, so its on/off binaries shape the schedule.
    park = load_scenario("sim_env/scenarios/no_upgrader.yaml").park
    milp, relaxed = OptimumStrategy(), OptimumStrategy(integer=False)
    r = evaluate(milp, park, hours=24 * 7, start=24 * 30)
    r_relaxed = evaluate(relaxed, park, hours=24 * 7, start=24 * 30)
    chp = r.hourly[:, q.OUT_INDEX["chp_el_kwh"]]
    assert (chp > 0).sum() > 24 and np.all((chp < 1e-6) | (chp >= 75.0 - 1e-6))
    assert relaxed.plan.objective_eur < milp.plan.objective_eur - 1.0  # the relaxation runs below min load
    assert r_relaxed.totals["clip_chp_power"] != 0.0  # ... which the twin clips
    assert r.kpis["objective_eur"] == pytest.approx(milp.plan.objective_eur, rel=1e-6)


def test_no_strategy_beats_the_optimum(optimum_two_weeks):
    _, best = optimum_two_weeks
    gaps = {}
    for name in STRATEGIES[:-1]:
        kwargs = {"replan_hours": 12.0} if name == "mpc" else {}
        r = evaluate(make_strategy(name, **kwargs), hours=TWO_WEEKS, start=24 * 20)
        gaps[name] = r.gap_to(best)
        assert 0.0 <= resource_efficiency(r.totals) <= 1.0
    assert all(g >= -1e-6 for g in gaps.values()), gaps
    assert gaps["random"] > gaps["rule"] > gaps["mpc"], gaps  # more knowledge, less cost
    assert gaps["mpc"] < 3.0, gaps


def test_lp_relaxation_is_a_lower_bound(optimum_two_weeks):
    strategy, _ = optimum_two_weeks
    relaxed = OptimumStrategy(integer=False)
    evaluate(relaxed, hours=TWO_WEEKS, start=24 * 20)
    assert relaxed.plan.objective_eur <= strategy.plan.objective_eur + 1e-6


def test_unknown_strategy_lists_the_choices():
    with pytest.raises(ValueError, match="random, rule, mpc, optimum"):
        make_strategy("greedy")


def test_sub_hourly_steps_keep_the_agreement():
    strategy = OptimumStrategy()
    result = evaluate(strategy, hours=48, dt_h=0.25, start=4 * 24 * 100)
    assert result.hourly.shape[0] == 4 * 48
    assert result.kpis["objective_eur"] == pytest.approx(strategy.plan.objective_eur, rel=1e-6)
    hourly = evaluate(make_strategy("rule"), hours=48, start=24 * 100)
    quarter = evaluate(make_strategy("rule"), hours=48, dt_h=0.25, start=4 * 24 * 100)
    # the same park over the same two days: water and O2 demand do not depend on the step length
    assert quarter.totals["water_demand_m3"] == pytest.approx(hourly.totals["water_demand_m3"], rel=1e-9)
    assert quarter.totals["o2_demand_kg"] == pytest.approx(hourly.totals["o2_demand_kg"], rel=0.05)


def test_a_park_missing_assets_still_balances_and_agrees():
    """A smaller park file (no heat pump, no electrolyser, no upgrader): zero bounds, finite physics."""
    import yaml

    from aisym.park import DEFAULT_PARK, parse_park

    doc = yaml.safe_load(DEFAULT_PARK.read_text(encoding="utf-8"))
    gone = {"heat_pump", "electrolyser", "upgrader"}
    doc["companies"] = [c for c in doc["companies"] if c["id"] != "nte_h2"]
    for c in doc["companies"]:
        c["assets"] = [a for a in c["assets"] if a["id"] not in gone]
    doc["exchanges"] = [e for e in doc["exchanges"] if e["from"] not in gone and e["to"] not in gone]
    park = parse_park(yaml.safe_dump(doc, allow_unicode=True), "small.yaml")
    p = q.park_params(park)
    assert p[q.P_HP_RATED] == p[q.P_ELY_RATED] == p[q.P_UPG_CAP] == 0
    random = evaluate(make_strategy("random"), park, hours=48)
    assert np.isfinite(random.hourly).all()
    assert random.totals["h2_kg"] == 0 and random.totals["heat_pump_heat_kwh"] == 0
    strategy = OptimumStrategy()
    best = evaluate(strategy, park, hours=24 * 7)
    assert best.kpis["objective_eur"] == pytest.approx(strategy.plan.objective_eur, rel=1e-6)
    assert evaluate(make_strategy("rule"), park, hours=24 * 7).gap_to(best) >= -1e-6
