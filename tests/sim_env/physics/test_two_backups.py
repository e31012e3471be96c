"""A converter with two inputs bought as backup, in two units: each input's backup has its own
column (``backup:<converter>:<port>``, the LP's series of the same name), in its own unit.

Before: the kernel kept one backup figure per converter, the sum of kg of chips and kWh of
electricity; the bus-balance check could not tell which bus the bought amounts came onto and
refused such a park (5 of 240 fuzzed parks went unchecked), and a unit cut back by a full store
gave back its chips' backup out of the electricity's. Hand calculations beside each test.

The park, per hour (dt = 1 h), DKK: a kiln of 400 kW heat on a setpoint burns 0.25 kg of chips and
0.05 kWh of electricity per kWh; chips from a purchase of at most 50 kg/h at 0.8 DKK/kg, else bought
as backup at 1.2 DKK/kg; electricity from a market of at most 5 kW at 0.5 DKK/kWh, else bought as
backup at 2 DKK/kWh. Its heat goes to a town of 400 kW (backup 1 DKK/kWh), or into a tank.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_env.graph.balance import run_balanced
from sim_env.graph.kernel import Y_COST, Y_SPILL, Y_UNMET, Batch, output_names
from sim_env.graph.lp import Optimum
from sim_env.graph.units import by_unit

from .parks import HEAT, asset, col, compiled, park, run


def _kiln_park(pid: str, tank: bool) -> dict:
    town = asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "400 kW",
                          "backup": {"cost": "1 DKK/kWh"}})
    sink = asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                          "max_charge": "1000 kW", "max_discharge": "1000 kW", "initial": 0.5,
                          "end": {"rule": "free"}}) if tank else town
    return park(pid, [
        ("fuel", [asset("chips", {"type": "source", "id": "biomass", "carrier": "biomass", "price": "0.8 DKK/kg",
                                  "max": "50 kg/h"})]),
        ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                    "import_price": "0.5 DKK/kWh", "import_max": "5 kW"})]),
        ("plant", [asset("kiln", {"type": "converter", "id": "kiln", "control": "setpoint", "reference": "heat",
                                  "rated": "400 kW",
                                  "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25,
                                                      "backup": {"cost": "1.2 DKK/kg"}},
                                             "power": {"carrier": "electricity", "ratio": 0.05,
                                                       "backup": {"cost": "2 DKK/kWh"}}},
                                  "outputs": {"heat": {"carrier": HEAT}}})]),
        ("town", [sink])],
        [{"id": "chips_to_kiln", "from": "chips.biomass", "to": "kiln.fuel", "capacity": "10 t/h"},
         {"id": "grid_to_kiln", "from": "grid.electricity", "to": "kiln.power", "capacity": "100 kW"},
         {"id": "kiln_to_town", "from": "kiln.heat", "to": f"{'tank' if tank else 'town'}.heat",
          "capacity": "2000 kW"}])


KILN = _kiln_park("kiln", tank=False)
KILN_TANK = _kiln_park("kiln_tank", tank=True)


def _cols(cp) -> tuple[int, int]:
    names = output_names(cp)
    return names.index("backup:kiln.kiln:0"), names.index("backup:kiln.kiln:1")


@pytest.mark.parametrize(("frac", "chips", "power", "cost"), [
    # at rated: 100 kg of chips, 50 bought as backup; 20 kWh of power, 15 as backup:
    # 50 × 0.8 + 50 × 1.2 + 5 × 0.5 + 15 × 2 = 132.5 DKK
    (1.0, 50.0, 15.0, 132.5),
    # at 200 kW: 50 kg, all from the purchase; 10 kWh, 5 as backup; the town buys its other 200 kWh:
    # 40 + 2.5 + 5 × 2 + 200 × 1 = 252.5 DKK
    (0.5, 0.0, 5.0, 252.5),
])
def test_each_input_buys_its_own_backup_in_its_own_unit(frac, chips, power, cost):
    cp = compiled(KILN)
    j0, j1 = _cols(cp)
    Y = run(cp, frac)
    for y in Y:
        assert y[j0] == pytest.approx(chips, rel=1e-12, abs=1e-12)
        assert y[j1] == pytest.approx(power, rel=1e-12, abs=1e-12)
        assert y[col(cp, "backup:kiln.kiln")] == pytest.approx(chips + power, rel=1e-12)  # the sum, kept
        assert y[Y_COST] == pytest.approx(cost, rel=1e-12)
        assert y[Y_UNMET] == 0.0
    _, backup = by_unit(cp, Y.sum(axis=0), None)
    assert backup == pytest.approx({k: v for k, v in {"kg": 3 * chips, "kWh": 3 * (power + 400 * (1 - frac))}.items()
                                    if v > 0}, rel=1e-12)


def test_every_bus_balances_with_two_backed_inputs():
    # before: balance.py raised "a backup over 2 backed inputs cannot be split from the outputs alone"
    for doc in (KILN, KILN_TANK):
        cp = compiled(doc)
        A = np.random.default_rng(5).random((24, cp.n_actions))
        A[:3] = 1.0
        worst, _ = run_balanced(cp, cp.exogenous(seed=0), A)
        assert worst < 1e-9, doc["park"]["id"]


def test_a_kiln_cut_back_by_a_full_tank_gives_back_each_inputs_own_backup():
    # hour 1 at rated: the tank (100 kWh, half full) takes 50 kWh, so the kiln is cut to 50 kW:
    # 12.5 kg of chips and 2.5 kWh of power, which the purchase and the market cover. Each input's
    # cut goes first to its own backup (chips: 87.5 kg less, 50 of them backup; power: 17.5 less,
    # 15 of them backup), the rest back to its supplier: 12.5 × 0.8 + 2.5 × 0.5 = 11.25 DKK, no backup.
    # Hour 2: the tank full, the kiln at 0: 0 DKK.
    # (Before, run: the chips' 87.5 kg came first off the kiln's summed backup of 65, kWh included,
    # so only 22.5 kg went back: 27.5 kg came through the chips' line for the 12.5 burnt, and the
    # 2.5 kWh of power came from nowhere, no import and no backup: 34 DKK.)
    cp = compiled(KILN_TANK)
    j0, j1 = _cols(cp)
    b = Batch(cp, cp.exogenous(seed=0), 1)
    for cost, flow in [(11.25, 12.5), (0.0, 0.0)]:
        Y = b.step(np.ones((1, cp.n_actions)))[0]
        assert Y[Y_COST] == pytest.approx(cost, rel=1e-12, abs=1e-12)
        assert Y[j0] == 0.0 and Y[j1] == 0.0 and Y[col(cp, "backup:kiln.kiln")] == 0.0
        assert Y[col(cp, "flow:chips_to_kiln")] == pytest.approx(flow, rel=1e-12, abs=1e-12)
        assert Y[col(cp, "flow:grid_to_kiln")] == pytest.approx(flow / 5, rel=1e-12, abs=1e-12)
        assert Y[Y_SPILL] == 0.0


def test_the_lp_buys_the_same_backups_under_the_same_names():
    # the kiln's heat costs 132.5 / 400 = 0.33 DKK/kWh at rated against the town's backup at 1: the
    # optimum runs it at rated, 24 × 132.5 = 3,180 DKK, and its backups are the kernel's columns
    cp = compiled(KILN)
    sol = Optimum(cp, cp.exogenous(seed=0), 24).solve()
    assert sol.objective == pytest.approx(24 * 132.5, rel=1e-9)
    Y = run(cp, sol.actions, 24)
    j0, j1 = _cols(cp)
    assert sol.series["backup:kiln.kiln:0"] == pytest.approx(Y[:, j0], rel=1e-9, abs=1e-9)
    assert sol.series["backup:kiln.kiln:1"] == pytest.approx(Y[:, j1], rel=1e-9, abs=1e-9)
    assert float(Y[:, Y_COST].sum()) == pytest.approx(sol.objective, rel=1e-9)
