"""MPC's end-of-plan rule on a store it cannot reach (issue 22): a lossy tank with nothing to refill it.

Each plan ends with the store no emptier than the lower of its initial and its current level. A
tank losing 1 %/h with no inflow can only fall, so that bound made every plan infeasible and MPC
stopped ("HiGHS found no solution (Infeasible)"). The target is now soft, each unit short costing
the value of lost load of the store's resource: reached wherever anything cheaper reaches it,
the store kept as full as it can be where nothing does. Hand calculations beside each test.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_env.graph.baselines import GraphMpcPerfect
from sim_env.graph.compile import value_of_lost_load
from sim_env.graph.evaluate import evaluate
from sim_env.graph.lp import Optimum

from .physics.parks import compiled
from .physics.parks_lost import TANK_NO_REFILL


@pytest.fixture(scope="module")
def tank():
    return compiled(TANK_NO_REFILL)


def test_a_plan_whose_end_target_cannot_be_reached_pays_for_it_and_keeps_the_store_full(tank):
    # 50 kWh at the start, target 50 at the end of 6 h; holding, the tank keeps 50 × 0.99^6 = 47.06 kWh.
    # The homes' 8 kW are backup at 2 DKK/kWh (96 DKK); a kWh given now saves 2 DKK but is 0.99^k kWh
    # short at the end, at heat's value of lost load (10 × the dearest heat price, 2: 20 DKK/kWh):
    # never worth it. 96 + 20 × (50 − 50 × 0.99^6) = 154.52 DKK; one more kWh of target costs 20.
    voll = value_of_lost_load(tank)["heat"]
    assert voll == pytest.approx(20.0, rel=1e-12)
    n = tank.node_keys.index("tank.heat")
    terminal = np.full(tank.n_nodes, np.nan)
    terminal[n] = 50.0
    opt = Optimum(tank, tank.exogenous(seed=0), 6, relax=True, rules=True, terminal=terminal)
    sol = opt.solve()
    assert sol.series["level:tank.heat"][-1] == pytest.approx(50 * 0.99 ** 6, rel=1e-9)
    assert sol.objective == pytest.approx(6 * 16.0 + voll * (50 - 50 * 0.99 ** 6), rel=1e-9)
    assert opt.end_values()[n] == pytest.approx(voll, rel=1e-9)


def test_mpc_plans_a_lossy_store_it_cannot_refill(tank):
    # 6 h plans every 3 h over 12 h (4 plans), each as above: the tank is held, the homes' 8 kW are
    # backup, 12 × 16 = 192 DKK; the tank ends at 50 × 0.99^12 = 44.31 kWh.
    # (Before: the first plan was infeasible, "HiGHS found no solution (Infeasible)", and MPC stopped.)
    r = evaluate(GraphMpcPerfect(horizon_hours=6, replan_hours=3, relax=True), tank, hours=12)
    assert r.extra["solves"] == 4
    assert r.objective == pytest.approx(12 * 16.0, rel=1e-9)
    assert r.levels_end[tank.node_keys.index("tank.heat")] == pytest.approx(50 * 0.99 ** 12, rel=1e-9)
