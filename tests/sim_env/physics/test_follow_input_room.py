"""A unit pushing into a follow-input unit is taken only as far as that unit can hand its own
outputs on (fuzzed park 1214 of ``benchmarks/bench_fuzz_parks.py``).

A follow-input unit (a turbine running on whatever steam reaches it) counts, before it runs, as
room on its input bus for what other units push there. Counted at its rating, a boiler pushed
steam the turbine could not then use (its power had no taker), and the steam was spilled free,
where the optimum has no such spill: the kernel's schedule cost less than the optimum. The room is
now the turbine's rating within what each of its pushed outputs can hand on
(:func:`sim_env.graph.kernel._follow_in_room`). Hand calculations beside each test; every bus
balances at every step; the optimum is no dearer than the kernel's schedule.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim_env.graph.balance import run_balanced
from sim_env.graph.kernel import Y_CARBON, Y_COST, Y_SPILL
from sim_env.graph.lp import Optimum

from .parks import HEAT, asset, col, compiled, park, run

STEAM = {"resource": "heat", "temperature_c": 180}

# A wind farm's 10 kW (its surplus costs 0.1 DKK/kWh to curtail) feeds an electric boiler (setpoint,
# rated 9 kW of steam, 1.02 kWh of power per kWh of steam). Its steam goes through a main losing 10 %
# to a back-pressure turbine (follows its steam, rated 20 kW: 0.5 kWh of power and 0.3 kWh of heat
# per kWh of steam, the heat dumped at 0.01 DKK/kWh). The turbine's power is sold at 0.8 DKK/kWh
# through a 3 kW line: the line binds.
TURBINE = park("follow_in_room", [
    ("wind", [asset("farm", {"type": "source", "id": "power", "carrier": "electricity", "profile": "10 kW",
                             "surplus": {"cost": "0.1 DKK/kWh"}})]),
    ("dairy", [asset("boiler", {"type": "converter", "id": "unit", "control": "setpoint", "reference": "steam",
                                "rated": "9 kW", "inputs": {"power": {"carrier": "electricity", "ratio": 1.02}},
                                "outputs": {"steam": {"carrier": STEAM}}})]),
    ("mill", [asset("turbine", {"type": "converter", "id": "unit", "control": "follow_input", "reference": "steam",
                                "rated": "20 kW", "inputs": {"steam": {"carrier": STEAM}},
                                "outputs": {"power": {"carrier": "electricity", "ratio": 0.5},
                                            "heat": {"carrier": HEAT, "ratio": 0.3}}},
                      {"type": "disposal", "id": "cooler", "port": "heat", "carrier": HEAT, "cost": "0.01 DKK/kWh"})]),
    ("grid", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                             "export_price": "0.8 DKK/kWh"})])],
    [{"id": "wind_to_boiler", "from": "farm.power", "to": "boiler.power", "capacity": "50 kW"},
     {"id": "steam_main", "from": "boiler.steam", "to": "turbine.steam", "capacity": "50 kW", "loss": 0.1},
     {"id": "power_line", "from": "turbine.power", "to": "grid.electricity", "capacity": "3 kW"}])


def _loop() -> dict:
    """The turbine's power, instead of the grid, feeds a second electric boiler (setpoint, rated
    4 kW, 1.25 kWh of power per kWh of steam, no backup) whose steam goes back to the turbine: a loop
    that settles at rest, as that boiler states no need before it runs, nor the turbine before it."""
    doc = copy.deepcopy(TURBINE)
    doc["companies"] = [c for c in doc["companies"] if c["id"] != "grid"]
    doc["companies"].append({"id": "loop", "name": "loop", "assets": [asset("booster", {
        "type": "converter", "id": "unit", "control": "setpoint", "reference": "steam", "rated": "4 kW",
        "inputs": {"power": {"carrier": "electricity", "ratio": 1.25}}, "outputs": {"steam": {"carrier": STEAM}}})]})
    doc["exchanges"] = [
        *doc["exchanges"][:2],
        {"id": "power_to_booster", "from": "turbine.power", "to": "booster.power", "capacity": "10 kW"},
        {"id": "booster_steam", "from": "booster.steam", "to": "turbine.steam", "capacity": "10 kW"}]
    return doc


def test_a_push_into_a_follow_input_unit_stops_at_what_its_outputs_can_hand_on():
    # The turbine can sell 3 kW of power: 3 / 0.5 = 6 kW of steam. Through the main, the boiler may
    # send 6 / 0.9 = 6.667 kW (its 9 kW rating does not bind), from 6.667 × 1.02 = 6.8 kW of wind.
    # Per hour: curtailed 10 − 6.8 = 3.2 kWh × 0.1 = 0.32 DKK; heat 6 × 0.3 = 1.8 kWh dumped × 0.01 =
    # 0.018 DKK; power 3 kWh × 0.8 = 2.4 DKK earned: 0.32 + 0.018 − 2.4 = −2.062 DKK/h, nothing
    # spilled. (Counting the turbine at its rating: the boiler at 9 kW, 8.1 kW arriving, 2.1 spilled
    # free, −2.30 DKK/h.)
    cp = compiled(TURBINE)
    Y = run(cp, 1.0)
    assert Y[:, col(cp, "activity:boiler.unit")] == pytest.approx(6.0 / 0.9, rel=1e-12)
    assert Y[:, col(cp, "activity:turbine.unit")] == pytest.approx(6.0, rel=1e-12)
    assert Y[:, col(cp, "flow:power_line")] == pytest.approx(3.0, rel=1e-12)
    assert Y[:, Y_SPILL] == pytest.approx(0.0, abs=1e-12)
    assert Y[:, Y_COST] == pytest.approx(-2.062, rel=1e-12)
    worst, _ = run_balanced(cp, cp.exogenous(seed=0), np.random.default_rng(0).random((24, cp.n_actions)))
    assert worst < 1e-9
    # the optimum can do no better: sending more steam than the line lets the turbine sell only spills
    assert Optimum(cp, cp.exogenous(seed=0), 3).solve(time_limit_s=60).objective == pytest.approx(3 * -2.062, rel=1e-9)


def test_a_follow_input_unit_that_cannot_run_takes_no_push():
    # In the loop, the turbine's power has no taker before the booster runs, nor the booster steam
    # before the turbine runs: the loop rests at 0, so the turbine offers no room and the boiler,
    # asked for its full 9 kW, makes nothing. All 10 kWh of wind curtailed: 1.0 DKK/h, nothing spilled.
    # (Counting the turbine at its rating: 9 kW made, 8.1 kW spilled free, 0.082 DKK/h, cheaper than
    # the optimum, which cannot spill there.)
    cp = compiled(_loop())
    coef = cp.exogenous(seed=0)
    Y = run(cp, 1.0, steps=6)
    assert Y[:, col(cp, "activity:boiler.unit")] == pytest.approx(0.0, abs=1e-12)
    assert Y[:, Y_SPILL] == pytest.approx(0.0, abs=1e-12)
    assert Y[:, Y_COST] == pytest.approx(1.0, rel=1e-12)
    worst, _ = run_balanced(cp, coef, np.ones((6, cp.n_actions)))
    assert worst < 1e-9
    sol = Optimum(cp, coef, 6).solve(time_limit_s=60)
    assert sol.objective <= float((Y[:, Y_COST] + Y[:, Y_CARBON]).sum()) + 1e-6
