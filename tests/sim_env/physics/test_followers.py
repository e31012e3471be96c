"""A load-following unit counts as supply for an input taken on demand (issue 22 item 6).

A must-run turbine takes its steam on demand, with no backup, from a boiler that follows the
steam asked of it: nothing is on the steam bus before the turbine runs, so the turbine may run
only because the boiler, not yet run, can still make steam from the fuel it can reach. The
compiled park lists each bus's load-following units (``BFO``): a unit missing from that list
would leave the turbine idle. Hand calculation beside the test; the buses balance at every step.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_env.graph.balance import run_balanced
from sim_env.graph.kernel import Y_COST, Y_UNMET

from .parks import HEAT, asset, col, compiled, park, run

TURBINE = park("turbine", [
    ("fuel", [asset("chips", {"type": "source", "id": "biomass", "carrier": "biomass", "price": "0.8 DKK/kg",
                              "max": "1000 kg/h"})]),
    ("plant", [asset("boiler", {"type": "converter", "id": "boiler", "control": "follow_output", "reference": "steam",
                                "rated": "1000 kW", "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25}},
                                "outputs": {"steam": {"carrier": HEAT}}}),
               asset("turbine", {"type": "converter", "id": "turbine", "control": "must_run", "reference": "steam",
                                 "rated": "400 kW", "inputs": {"steam": {"carrier": HEAT}},
                                 "outputs": {"power": {"carrier": "electricity", "ratio": 0.25}}})]),
    ("grid", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                             "export_price": "1 DKK/kWh", "export_max": "1000 kW"})])],
    [{"id": "chips_to_boiler", "from": "chips.biomass", "to": "boiler.fuel", "capacity": "10 t/h"},
     {"id": "steam_to_turbine", "from": "boiler.steam", "to": "turbine.steam", "capacity": "2000 kW"},
     {"id": "power_to_grid", "from": "turbine.power", "to": "grid.electricity", "capacity": "1000 kW"}])


def test_a_must_run_unit_runs_on_what_a_load_following_unit_can_still_make():
    # The turbine runs at its 400 kW of steam; the boiler follows: 400 kW of steam from 400 × 0.25 =
    # 100 kg/h of chips at 0.8 DKK/kg = 80 DKK/h; 400 × 0.25 = 100 kW of power sold at 1 DKK/kWh:
    # 80 − 100 = −20 DKK/h, nothing unmet. (Without the boiler in the follower table: 0 kW, 0 DKK/h.)
    cp = compiled(TURBINE)
    Y = run(cp)[0]
    assert Y[col(cp, "activity:turbine.turbine")] == pytest.approx(400.0, rel=1e-12)
    assert Y[col(cp, "activity:boiler.boiler")] == pytest.approx(400.0, rel=1e-12)
    assert Y[col(cp, "flow:power_to_grid")] == pytest.approx(100.0, rel=1e-12)
    assert Y[Y_COST] == pytest.approx(-20.0, rel=1e-12)
    assert Y[Y_UNMET] == 0.0
    worst, _ = run_balanced(cp, cp.exogenous(seed=0), np.random.default_rng(0).random((24, cp.n_actions)))
    assert worst < 1e-9
