"""A unit cut back by a full store gives its input back to the store it drew it from, even when that
store closed its step first (issue 22, item 2: "physics that conserves").

A must-run boiler burns chips from a silo and sends its heat into a small tank that nothing draws.
Stores close in component order (``silo.chips`` before ``tank.heat``): the tank's close cuts the
boiler back after the silo's level was already set. Before the fix the chips it gave back were
taken off the silo's outflow after the silo had closed, so they vanished: 87.5 kg every hour the
tank was full, reported nowhere, and the bus-balance check found it. Levels are now set once every
store has closed, and a store those chips overfill closes again (its pushers cut, its must-go
inflows sent back: ``kernel._step_park``, ``kernel._store_levels``). Hand calculations beside each
test; the LP with the park's rules agrees.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_env.graph.balance import run_balanced
from sim_env.graph.kernel import Y_CARBON, Y_COST, Y_SPILL, Batch
from sim_env.graph.lp import Optimum

from .parks import HEAT, asset, col, compiled, park, run


def _silo_tank(topped_up_by: str | None = None) -> dict:
    """A 1,000 kg silo feeding a must-run 400 kW boiler (0.25 kg/kWh) whose heat goes into a 100 kWh
    tank, half full, that nothing draws. The silo is half full, or full and topped up with 100 kg/h
    of chips: must-go from a forest (``"forest"``, 2 DKK/kg of surplus) or pushed by a must-run
    chipper, its wood bought at 0.1 DKK/kg (``"chipper"``) or drawn from a full wood bin that a
    forest tops up with must-go wood (``"bin"``)."""
    silo = [asset("silo", {"type": "storage", "id": "chips", "carrier": "biomass", "capacity": "1000 kg",
                           "max_charge": "1000 kg/h", "max_discharge": "1000 kg/h",
                           "initial": 0.5 if topped_up_by is None else 1.0, "end": {"rule": "free"}})]
    links = [{"id": "silo_to_boiler", "from": "silo.chips", "to": "boiler.fuel", "capacity": "10 t/h"},
             {"id": "boiler_to_tank", "from": "boiler.heat", "to": "tank.heat", "capacity": "2000 kW"}]
    companies = [("silo", silo)]
    if topped_up_by == "forest":
        companies.insert(0, ("forest", [asset("forest", {"type": "source", "id": "chips", "carrier": "biomass",
                                                         "profile": "100 kg/h", "surplus": {"cost": "2 DKK/kg"}})]))
        links.append({"id": "forest_to_silo", "from": "forest.chips", "to": "silo.chips", "capacity": "1 t/h"})
    elif topped_up_by in ("chipper", "bin"):
        if topped_up_by == "chipper":
            wood = asset("wood", {"type": "source", "id": "wood", "carrier": "material", "price": "0.1 DKK/kg",
                                  "max": "1000 kg/h"})
        else:  # a full wood bin topped up by 100 kg/h of must-go wood (2 DKK/kg of surplus)
            wood = asset("bin", {"type": "storage", "id": "wood", "carrier": "material", "capacity": "1000 kg",
                                 "max_charge": "1000 kg/h", "max_discharge": "1000 kg/h", "initial": 1.0,
                                 "end": {"rule": "free"}})
            companies.insert(0, ("forest", [asset("forest", {"type": "source", "id": "wood", "carrier": "material",
                                                             "profile": "100 kg/h", "surplus": {"cost": "2 DKK/kg"}})]))
            links.append({"id": "forest_to_bin", "from": "forest.wood", "to": "bin.wood", "capacity": "1 t/h"})
        companies.insert(0, ("yard", [
            wood,
            asset("chipper", {"type": "converter", "id": "chipper", "control": "must_run", "reference": "chips",
                              "rated": "100 kg/h", "inputs": {"wood": {"carrier": "material", "ratio": 1.0}},
                              "outputs": {"chips": {"carrier": "biomass"}}})]))
        links += [{"id": "wood_to_chipper", "from": f"{wood['id']}.wood", "to": "chipper.wood", "capacity": "1 t/h"},
                  {"id": "chipper_to_silo", "from": "chipper.chips", "to": "silo.chips", "capacity": "1 t/h"}]
    companies += [
        ("plant", [asset("boiler", {"type": "converter", "id": "boiler", "control": "must_run", "reference": "heat",
                                    "rated": "400 kW", "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25}},
                                    "outputs": {"heat": {"carrier": HEAT}}})]),
        ("town", [asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                                 "max_charge": "1000 kW", "max_discharge": "1000 kW", "initial": 0.5,
                                 "end": {"rule": "free"}})])]
    return park(f"silo_tank_{topped_up_by or 'alone'}", companies, links)


def _levels(cp, steps: int = 3) -> tuple[np.ndarray, np.ndarray]:
    b = Batch(cp, cp.exogenous(seed=0), 1)
    Y, S = [], []
    for _ in range(steps):
        Y.append(b.step(np.zeros((1, cp.n_actions)))[0].copy())
        S.append(b.S[0].copy())
    return np.array(Y), np.array(S)


def _assert_balanced(cp) -> None:
    worst, _ = run_balanced(cp, cp.exogenous(seed=0), np.zeros((3, cp.n_actions)))
    assert worst <= 1e-9


def test_chips_given_back_by_a_boiler_cut_by_a_full_tank_stay_in_the_silo():
    # hour 1: the boiler plans 400 kWh (100 kg); the tank has 50 kWh of room, so it is cut to 50 kWh,
    # 12.5 kg: the silo ends at 500 − 12.5 = 487.5 kg (before: 400, 87.5 kg gone). Then the tank is
    # full and the boiler makes nothing: the silo stays at 487.5 kg, the tank at 100 kWh.
    cp = compiled(_silo_tank())
    Y, S = _levels(cp)
    silo, tank = cp.node_keys.index("silo.chips"), cp.node_keys.index("tank.heat")
    assert silo < tank  # the silo closes first: the case the fix is for
    assert S[:, silo] == pytest.approx([487.5, 487.5, 487.5], abs=1e-9)
    assert S[:, tank] == pytest.approx([100.0, 100.0, 100.0], abs=1e-9)
    assert Y[:, col(cp, "flow:silo_to_boiler")] == pytest.approx([12.5, 0.0, 0.0], abs=1e-9)
    assert Y[:, col(cp, "activity:boiler.boiler")] == pytest.approx([50.0, 0.0, 0.0], abs=1e-9)
    assert Y[:, Y_SPILL] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    _assert_balanced(cp)


def test_chips_given_back_to_a_silo_its_must_go_inflow_filled_go_back_to_the_forest():
    # hour 1: the full silo (1,000 kg) takes the forest's 100 kg as the boiler draws 100 kg: 1,000 kg at
    # its close. The tank then cuts the boiler to 50 kWh (12.5 kg) and 87.5 kg come back: the silo
    # would hold 1,087.5 kg, so 87.5 kg of the forest's inflow go back to the forest, its surplus at
    # 2 DKK/kg: 175 DKK (as the LP: the silo takes only the 12.5 kg burned). Hours 2 and 3: the boiler
    # makes nothing and the forest's 100 kg stay there: 200 DKK/h. The silo stays full.
    cp = compiled(_silo_tank("forest"))
    Y, S = _levels(cp)
    assert S[:, cp.node_keys.index("silo.chips")] == pytest.approx([1000.0, 1000.0, 1000.0], abs=1e-9)
    assert Y[:, col(cp, "flow:forest_to_silo")] == pytest.approx([12.5, 0.0, 0.0], abs=1e-9)
    assert Y[:, col(cp, "backup:forest.chips")] == pytest.approx([87.5, 100.0, 100.0], abs=1e-9)  # its surplus
    assert Y[:, Y_COST] == pytest.approx([175.0, 200.0, 200.0], abs=1e-9)
    assert Y[:, Y_SPILL] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    _assert_balanced(cp)


def test_a_chipper_filling_a_silo_is_cut_when_the_boiler_gives_chips_back():
    # as above, but a must-run chipper pushes the 100 kg/h (wood at 0.1 DKK/kg). At the silo's first
    # close it is exactly full (1,000 + 100 − 100), so the chipper is not cut there; the 87.5 kg the
    # boiler gives back overfill it, so it closes again and cuts the chipper by 87.5 kg to 12.5 kg/h:
    # 1.25 DKK. Hours 2 and 3: the boiler gives all 100 kg back, the chipper makes nothing. Nothing is
    # spilled. (Before: the chips given back vanished, the chipper ran at 100 kg/h, 10 DKK/h.)
    cp = compiled(_silo_tank("chipper"))
    Y, S = _levels(cp)
    assert S[:, cp.node_keys.index("silo.chips")] == pytest.approx([1000.0, 1000.0, 1000.0], abs=1e-9)
    assert Y[:, col(cp, "activity:chipper.chipper")] == pytest.approx([12.5, 0.0, 0.0], abs=1e-9)
    assert Y[:, Y_SPILL] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert Y[:, Y_COST] == pytest.approx([1.25, 0.0, 0.0], abs=1e-9)
    _assert_balanced(cp)


def test_wood_given_back_by_a_chipper_a_full_silo_cuts_goes_back_to_the_forest():
    # a chain up the supply: the tank cuts the boiler, the chips it gives back overfill the silo, which
    # closes again and cuts the chipper to 12.5 kg/h; the 87.5 kg of wood the chipper gives back
    # overfill the bin (it closed again already: it comes first), which closes again in a second
    # pass and sends 87.5 kg of the forest's wood back: its surplus, 87.5 × 2 = 175 DKK. Hours 2 and
    # 3: nothing burns, nothing is chipped, the forest's 100 kg stay there: 200 DKK/h.
    cp = compiled(_silo_tank("bin"))
    assert cp.node_keys.index("bin.wood") < cp.node_keys.index("silo.chips")
    Y, S = _levels(cp)
    for store in ("bin.wood", "silo.chips"):
        assert S[:, cp.node_keys.index(store)] == pytest.approx([1000.0, 1000.0, 1000.0], abs=1e-9)
    assert Y[:, col(cp, "activity:chipper.chipper")] == pytest.approx([12.5, 0.0, 0.0], abs=1e-9)
    assert Y[:, col(cp, "backup:forest.wood")] == pytest.approx([87.5, 100.0, 100.0], abs=1e-9)
    assert Y[:, Y_COST] == pytest.approx([175.0, 200.0, 200.0], abs=1e-9)
    assert Y[:, Y_SPILL] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    _assert_balanced(cp)


@pytest.mark.parametrize(("topped_up_by", "objective"),
                         [(None, 0.0), ("forest", 575.0), ("chipper", 1.25), ("bin", 575.0)])
def test_the_lp_with_the_rules_costs_what_the_kernel_does(topped_up_by, objective):
    # the LP with the park's rules runs the must-run units as high as the stores allow: the sums of
    # the hand calculations above (0; 175 + 200 + 200 = 575; 1.25; 575), and its schedule replayed costs that
    cp = compiled(_silo_tank(topped_up_by))
    coef = cp.exogenous(seed=0)
    sol = Optimum(cp, coef, 3, rules=True).solve()
    assert sol.objective == pytest.approx(objective, abs=1e-9)
    Y = run(cp, sol.actions, 3)
    assert float((Y[:, Y_COST] + Y[:, Y_CARBON]).sum()) == pytest.approx(objective, abs=1e-9)
