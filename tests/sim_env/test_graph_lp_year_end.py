"""The year optimum's end rule on a store nothing can refill (issue 22): a lossy tank.

The file's ``no_less_than_start`` asks every store to end the horizon no emptier than it began. A
tank losing 1 %/h with no inflow can only fall, so the hard bound made the year optimum
infeasible ("HiGHS found no solution (Infeasible)", the tank's level and bound in the set). The
kernel charges nothing for a store's end; the harness values a run's stored content at the
optimum's end prices (``Optimum.end_values``, ``GraphResult.stored_value``). The optimum now
states the rule as MPC states its target: soft, each unit short at the value of lost load of
the store's resource. Where anything cheaper meets the rule it is met (the same optimum as the
hard bound); where nothing does the optimum stays feasible, keeps the store as full as it can
and names it. Hand calculations beside each test (park 13 of ``physics/parks_lost.py``).
"""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pytest

from sim_env.graph.baselines import GraphOptimum
from sim_env.graph.compile import value_of_lost_load
from sim_env.graph.evaluate import evaluate
from sim_env.graph.lp import Optimum

from .physics.parks import compiled
from .physics.parks_lost import TANK_NO_REFILL

T = 24
S0 = 50.0  # kWh: initial 0.5 of 100
VOLL = 20.0  # DKK/kWh: heat's value of lost load, 10 × its dearest price (the homes' backup, 2)
HELD = S0 * 0.99 ** T  # the tank held all day: 39.2839 kWh
SHORT = S0 - HELD  # 10.7161 kWh below its start
BACKUP = T * 8 * 2.0  # the homes' 8 kW all day from backup at 2 DKK/kWh: 384 DKK
NAMED = r"tank_no_refill.yaml: store tank.heat: its end rule no_less_than_start \(50 kWh\) cannot be met"


@pytest.fixture(scope="module")
def tank():
    return compiled(TANK_NO_REFILL)


@pytest.fixture(scope="module")
def solved(tank):
    opt = Optimum(tank, tank.exogenous(seed=0), T, rules=True)
    with pytest.warns(UserWarning, match=NAMED):
        sol = opt.solve()
    return opt, sol


def test_the_year_optimum_keeps_a_tank_it_cannot_refill_as_full_as_it_can_and_names_it(tank, solved):
    # A kWh given to the homes at step t saves 2 DKK of backup but leaves the tank 0.99^(23 − t) ≥
    # 0.99^23 = 0.79 kWh emptier at the end, at 20 DKK/kWh (≥ 15.9 DKK): never worth it. So the tank
    # is held, 50 × 0.99^24 = 39.28 kWh at the end, 10.72 short of its start:
    # 384 + 20 × 10.7161 = 598.32 DKK. (Before: "HiGHS found no solution (Infeasible)".)
    assert value_of_lost_load(tank)["heat"] == pytest.approx(VOLL, rel=1e-12)
    opt, sol = solved
    assert sol.series["flow:tank_to_homes"] == pytest.approx(np.zeros(T), abs=1e-9)
    assert sol.series["level:tank.heat"][-1] == pytest.approx(HELD, rel=1e-9)
    assert sol.objective == pytest.approx(BACKUP + VOLL * SHORT, rel=1e-9)
    assert sol.end_short == pytest.approx({"tank.heat": SHORT}, rel=1e-9)
    assert sol.end_short_cost == pytest.approx(VOLL * SHORT, rel=1e-9)
    assert len(sol.notes) == 1 and "ends 10.7161 kWh short" in sol.notes[0] and "20 DKK/kWh" in sol.notes[0]
    assert opt.end_values()[tank.node_keys.index("tank.heat")] == pytest.approx(VOLL, rel=1e-9)


def test_its_schedule_replayed_in_the_kernel_costs_what_the_lp_says(tank):
    # The optimum as aisym bench runs it: the kernel charges the 384 DKK of backup and nothing for the
    # tank's end; the run's stored content, 39.28 − 50 kWh, valued at the optimum's end price (20)
    # gives back the LP's objective: 384 + 20 × 10.7161 = 598.32.
    best = GraphOptimum(end_values=True)
    with pytest.warns(UserWarning, match=NAMED):
        r = evaluate(best, tank, hours=T)
    n = tank.node_keys.index("tank.heat")
    assert r.objective == pytest.approx(BACKUP, rel=1e-9)
    assert r.objective == pytest.approx(r.extra["lp_objective"] - VOLL * SHORT, rel=1e-9)
    assert r.levels_end[n] == pytest.approx(HELD, rel=1e-9)
    assert r.objective - r.stored_value(best.end_values) == pytest.approx(r.extra["lp_objective"], rel=1e-9)
    assert re.match(NAMED, r.extra["notes"][0])  # the run's JSON names the store too


class _DrainAll:
    """Every action at full: the tank gives the homes 3 kW until it is empty."""

    name = "drain"

    def reset(self, info) -> None:
        self.n = info.cp.n_actions

    def act(self, obs, info) -> np.ndarray:
        return np.ones(self.n)


def test_no_run_of_the_kernel_is_below_it(tank, solved):
    # Draining the tank: each hour it loses 1 % of its level, then gives up to 3 kW; by hand, step by
    # step, it gives 3 kWh for 15 h and the last 1.01 kWh in the 16th, 46.01 kWh in all; the homes' backup
    # falls by 2 DKK per kWh given, and the empty tank is 50 kWh short at 20 DKK/kWh.
    level, given = S0, 0.0
    for _ in range(T):
        level -= 0.01 * level
        out = min(3.0, level)
        level -= out
        given += out
    assert level == 0.0 and given == pytest.approx(46.0102, abs=1e-4)
    r = evaluate(_DrainAll(), tank, hours=T)
    assert r.objective == pytest.approx(BACKUP - 2.0 * given, rel=1e-9)
    _, sol = solved
    values = np.zeros(tank.n_nodes)
    values[tank.node_keys.index("tank.heat")] = VOLL
    fair = r.objective - r.stored_value(values)
    assert fair == pytest.approx(BACKUP - 2.0 * given + VOLL * S0, rel=1e-9)
    assert fair > sol.objective  # 1,292.0 DKK against 598.3


def test_a_rule_that_can_be_met_is_met_and_nothing_is_said():
    # The same tank without its loss: holding it meets the rule at no cost, so the optimum is the
    # 384 DKK of backup, the tank ends at 50 kWh and no note or warning is given.
    doc = copy.deepcopy(TANK_NO_REFILL)
    doc["companies"][0]["assets"][0]["components"][0]["loss"] = 0.0
    cp = compiled(doc)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = Optimum(cp, cp.exogenous(seed=0), T, rules=True).solve()
    assert sol.objective == pytest.approx(BACKUP, rel=1e-9)
    assert sol.series["level:tank.heat"][-1] == pytest.approx(S0, rel=1e-9)
    assert sol.end_short == {} and sol.notes == [] and sol.end_short_cost == 0.0


def test_pypsa_states_the_end_rule_as_the_lp_does(tank, solved):
    pytest.importorskip("pypsa")
    from sim_env.graph.pypsa_export import solve, to_pypsa

    n = to_pypsa(tank, tank.exogenous(seed=0), T)
    assert solve(n) == pytest.approx(BACKUP + VOLL * SHORT, rel=1e-7)
    assert float(n.stores_t.e["tank.heat"].iloc[-1]) == pytest.approx(HELD, rel=1e-7)


def test_an_lp_solved_for_its_schedule_alone_is_the_same_through_the_mip_solver(tank, solved):
    # primal_only (twin run's optimum): the LP goes through HiGHS's MIP solver, whose presolve keeps
    # no duals and so removes more; the same optimum and schedule, and end_values solves the LP again
    # for its duals (heat's value of lost load, 20 DKK/kWh, as above).
    _, lp = solved
    opt = Optimum(tank, tank.exogenous(seed=0), T, rules=True, primal_only=True)
    with pytest.warns(UserWarning, match=NAMED):
        sol = opt.solve()
    assert int(opt.integer.sum()) == 1  # one integer column, fixed at 0, in no row
    assert sol.objective == pytest.approx(BACKUP + VOLL * SHORT, rel=1e-9)
    assert sol.actions == pytest.approx(lp.actions, abs=1e-9)
    assert opt.end_values()[tank.node_keys.index("tank.heat")] == pytest.approx(VOLL, rel=1e-9)
