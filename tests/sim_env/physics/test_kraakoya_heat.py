"""A Kråkøya scenario where the heat side binds (issue 22, item 5): the electrolyser out for a
winter week. In the shipped park its waste heat fills the heat store, and removing the heat pump
changed the optimum by 0.00 EUR, so no heat-side error could show in cost; with the electrolyser
off the heat pump carries the store, and an error in the heat path moves the optimum."""

from __future__ import annotations

import numpy as np
import pytest

from aisym.park.graph import load_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import Y_CARBON, Y_COST, Batch
from sim_env.graph.lp import Optimum

WEEK, WINTER = 168, 24 * 14  # the third week of January


@pytest.fixture(scope="module")
def park():
    cp = compile_park(load_graph())
    return cp, cp.exogenous(seed=0)


def _optimum(cp, coef, off: list[str], rules: bool = False):
    mask = cp.LE.copy()
    for e in off:
        mask[cp.link_ids.index(e)] = 0.0
    return Optimum(cp, coef, WEEK, start=WINTER, mask=mask, relax=True, rules=rules).solve(), mask


def test_the_heat_pump_is_worth_nothing_in_the_shipped_park_and_much_in_an_electrolyser_outage(park):
    cp, coef = park
    base = _optimum(cp, coef, [])[0].objective
    no_pump = _optimum(cp, coef, ["grid_to_heat_pump"])[0].objective
    outage = _optimum(cp, coef, ["grid_to_electrolyser"])[0].objective
    outage_no_pump = _optimum(cp, coef, ["grid_to_electrolyser", "grid_to_heat_pump"])[0].objective
    print(f"\nheat pump's worth over a winter week: {no_pump - base:.2f} EUR (shipped), "
          f"{outage_no_pump - outage:.2f} EUR (electrolyser out)")
    assert no_pump - base == pytest.approx(0.0, abs=1e-6)  # the figure: the heat side never binds
    assert outage_no_pump - outage > 1000.0  # measured 2,733 EUR


def test_the_outage_schedule_replayed_costs_what_the_lp_says(park):
    cp, coef = park
    sol, mask = _optimum(cp, coef, ["grid_to_electrolyser"], rules=True)
    b = Batch(cp, coef, 1, mask=mask[None])
    b.t[:] = WINTER
    replayed = sum(float(b.step(a[None])[0, Y_COST] + b.Y[0, Y_CARBON]) for a in sol.actions)
    assert replayed == pytest.approx(sol.objective, rel=1e-9)
    assert np.isfinite(replayed)
