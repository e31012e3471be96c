"""A converter's input taken on demand that falls short is lost load, in the kernel and the LP alike
(issue 22, item 2: "every limit means the same thing in the kernel and the LP").

The kernel buys what such an input (no backup) lacks when it settles at the value of lost load of
its resource (``kernel._shortfall``); the LP has the same slack at the same price, up to the input,
and PyPSA's export a generator on the port's own bus. Hand calculations beside each test.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_env.graph.balance import bus_imbalance, pulled_only, run_balanced, unexplained
from sim_env.graph.kernel import Y_CARBON, Y_COST, Y_SPILL, Y_UNMET, Batch, initial_state, output_names
from sim_env.graph.lp import Optimum

from .parks import col, compiled, run
from .parks_lost import FUEL_SHARED_TANK, LOST

_CP: dict[str, object] = {}


def _cp(name: str):
    if name not in _CP:
        _CP[name] = compiled(LOST[name])
    return _CP[name]


def test_two_boilers_on_one_purchase_lose_what_the_second_cannot_get():
    # each boiler sees the purchase's 100 kg/h free when it decides its load, so both run at 240 kW
    # (60 kg/h each). Settled in turn: a gets 60 kg, b the 40 left, 20 kg short at 2 DKK/kg.
    # 100 kg × 0.8 + 20 kg × 2 = 120 DKK/h; the town's 480 kW are all met.
    cp = _cp("fuel_shared")
    Y = run(cp, 1.0)[0]
    assert Y[Y_UNMET] == pytest.approx(20.0, rel=1e-12)
    assert Y[Y_COST] == pytest.approx(100 * 0.8 + 20 * 2.0, rel=1e-12)
    assert Y[col(cp, "backup:town.heat")] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("rules", [False, True])
def test_the_lp_charges_lost_input_as_the_kernel_does(rules):
    # heat from chips costs 0.25 kg/kWh × 0.8 = 0.2 DKK/kWh for the first 400 kW (100 kg/h); the other
    # 80 kW either from 20 kg of lost chips (0.25 × 2 = 0.5 DKK/kWh) or the town's backup (1 DKK/kWh):
    # lost chips. 24 h × (80 + 40) = 2,880 DKK. (Before: no slack on converter inputs, 80 kW of backup,
    # 24 × (80 + 80) = 3,840 DKK, above the kernel's 2,880 for both boilers at rated: no lower bound.)
    cp = _cp("fuel_shared")
    coef = cp.exogenous(seed=0)
    sol = Optimum(cp, coef, 24, rules=rules).solve()
    assert sol.objective == pytest.approx(24 * 120.0, rel=1e-9)
    lost = sol.series["lost:a.boiler:0"] + sol.series["lost:b.boiler:0"]
    assert lost == pytest.approx(np.full(24, 20.0), rel=1e-9)
    Y = run(cp, sol.actions, 24)
    assert float((Y[:, Y_COST] + Y[:, Y_CARBON]).sum()) == pytest.approx(sol.objective, rel=1e-9, abs=1e-9)
    # the kernel's lost-input columns bear the LP's names and, replayed, its amounts
    names = output_names(cp)
    lost_cols = [i for i, n in enumerate(names) if n.startswith("lost:")]
    assert [names[i] for i in lost_cols] == ["lost:a.boiler:0", "lost:b.boiler:0"]
    assert Y[:, lost_cols].sum(axis=1) == pytest.approx(lost, rel=1e-9)


def test_a_must_run_unit_is_not_run_on_lost_load_by_the_lps_rules():
    # the kernel runs the must-run boiler as high as its chips allow: 100 kg/h / 0.25 = 400 kW; the
    # town's other 400 kW are backup: 100 × 0.8 + 400 × 0.5 = 280 DKK/h. Its lost chips (1 DKK/kg,
    # 0.25 DKK/kWh) would be cheaper than the backup; the rules still run it at 400 kW, as the kernel:
    # 24 × 280 = 6,720. Dispatched freely (rules=False) the LP takes the cheaper lost chips, a lower
    # bound: 80 + 100 × 1 = 180 DKK/h, 4,320.
    cp = _cp("must_run_short")
    coef = cp.exogenous(seed=0)
    assert run(cp)[0][Y_COST] == pytest.approx(280.0, rel=1e-12)
    sol = Optimum(cp, coef, 24, rules=True).solve()
    assert sol.objective == pytest.approx(24 * 280.0, rel=1e-9)
    Y = run(cp, sol.actions, 24)
    assert float((Y[:, Y_COST] + Y[:, Y_CARBON]).sum()) == pytest.approx(sol.objective, rel=1e-9)
    assert Optimum(cp, coef, 24, rules=False).solve().objective == pytest.approx(24 * 180.0, rel=1e-9)


@pytest.mark.parametrize("name", list(LOST))
def test_every_bus_balances_at_every_step_with_the_lost_input_the_kernel_reports(name):
    # a converter's lost input is its own output column, ``lost:<converter>:<port>``, counted on its
    # input's bus (balance.py): every bus balances at every step. By hand, on the setpoint park: a
    # settles first and gets all it asks; b lacks what the two ask beyond the 100 kg/h purchase,
    # 0.25 kg/kWh × 240 kW × (a's + b's fraction) − 100 kg, when positive (20 kg at rated). The
    # must-run boiler is never run on lost load: 0. (Before: the column did not exist; b.fuel was
    # short of balance by the unmet amount, 20 kg/h at rated.)
    cp = _cp(name)
    coef = cp.exogenous(seed=0)
    A = np.random.default_rng(3).random((24, cp.n_actions))
    A[:4] = 1.0  # both boilers at rated: 20 kg short
    b = Batch(cp, coef, 1)
    S = initial_state(cp, 1)[0]
    names = output_names(cp)
    lost_a = names.index("lost:a.boiler:0") if name == "fuel_shared" else None
    for t, a in enumerate(A):
        Y = b.step(a[None])[0]
        bal = bus_imbalance(cp, coef[0, t], Y, S)
        S = b.S[0].copy()
        assert unexplained(bal, Y[Y_SPILL], pulled_only(cp)) < 1e-9, (t, dict(zip(cp.bus_ids, bal, strict=True)))
        if lost_a is None:
            assert Y[Y_UNMET] == 0.0 and names.index("lost:boiler.boiler:0") == len(names) - 1
            assert Y[-1] == 0.0
            continue
        frac = dict(zip(cp.action_names, a, strict=True))
        want = max(0.25 * 240 * (frac["a.boiler"] + frac["b.boiler"]) - 100.0, 0.0)
        assert Y[lost_a] == 0.0
        assert Y[lost_a + 1] == pytest.approx(want, rel=1e-12, abs=1e-12)
        assert Y[Y_UNMET] == pytest.approx(want, rel=1e-12, abs=1e-12)
    if lost_a is not None:
        assert run(cp, 1.0)[0][lost_a + 1] == pytest.approx(20.0, rel=1e-12)


def test_a_boiler_cut_back_by_a_full_tank_lacks_only_what_its_lower_load_needs():
    # Both boilers at rated: a settles first and takes 60 kg, b gets the other 40 and lacks 20 (lost
    # load, 2 DKK/kg). Then the tank, 50 kWh of room in the first hour, cuts b to 50 kW: 12.5 kg,
    # which the 40 it got cover, so it lacks nothing and gives 27.5 kg back to the purchase. By hand:
    #   hour 1: chips (60 + 12.5) × 0.8 = 58 + the town's other 240 kWh of backup at 1 = 298 DKK;
    #   hour 2 on: the tank full, b at 0: 60 × 0.8 + 240 = 288 DKK, no chips through b's line.
    # (Before: b's 20 kg stayed lost, 328 DKK every hour, and _return_input handed the 20 kg it never
    # got back to b's fuel bus, where they were counted as spilled: biomass from nothing.)
    cp = compiled(FUEL_SHARED_TANK)
    coef = cp.exogenous(seed=0)
    b, S = Batch(cp, coef, 1), initial_state(cp, 1)[0]
    lost_b = output_names(cp).index("lost:b.boiler:0")
    for t, cost in enumerate([298.0, 288.0, 288.0]):
        Y = b.step(np.ones((1, cp.n_actions)))[0]
        bal = bus_imbalance(cp, coef[0, t], Y, S)
        S = b.S[0].copy()
        assert Y[Y_COST] == pytest.approx(cost, rel=1e-12)
        assert Y[lost_b] == 0.0 and Y[Y_UNMET] == 0.0 and Y[Y_SPILL] == 0.0
        assert Y[col(cp, "flow:chips_to_b")] == pytest.approx(12.5 if t == 0 else 0.0, abs=1e-12)
        assert Y[col(cp, "activity:b.boiler")] == pytest.approx(50.0 if t == 0 else 0.0, abs=1e-12)
        assert S[cp.node_keys.index("tank.heat")] == pytest.approx(100.0, rel=1e-12)
        assert np.abs(bal).max() < 1e-9, (t, dict(zip(cp.bus_ids, bal, strict=True)))
    assert run_balanced(cp, coef, np.random.default_rng(5).random((48, cp.n_actions)))[0] < 1e-9
    # the LP keeps b off (its heat has nowhere to go): 24 × 288 = 6,912 DKK, and so does its replay
    sol = Optimum(cp, coef, 24, rules=True).solve()
    assert sol.objective == pytest.approx(24 * 288.0, rel=1e-9)
    Y = run(cp, sol.actions, 24)
    assert float((Y[:, Y_COST] + Y[:, Y_CARBON]).sum()) == pytest.approx(sol.objective, rel=1e-9)


def test_a_surplus_on_a_bus_nothing_offers_onto_is_never_a_spill():
    # the boilers' fuel buses get chips only by pulling them through their lines: the 20 kg that the
    # cut-back boiler handed back there before (test above) balanced as a 20 kg spill; it is made
    # from nothing, whatever the spilled total says. The town's heat bus can hold a surplus (the
    # boilers push onto it), so a surplus there is a spill if Y says so.
    cp = compiled(FUEL_SHARED_TANK)
    pulled = pulled_only(cp)
    assert [b for b, ok in zip(cp.bus_ids, pulled, strict=True) if ok] == ["a.fuel", "b.fuel"]
    bal = np.zeros(len(cp.bus_ids))
    bal[cp.bus_ids.index("b.fuel")] = 20.0
    assert unexplained(bal, 20.0) == 0.0 and unexplained(bal, 20.0, pulled) == 20.0
    bal[:] = 0.0
    bal[cp.bus_ids.index("town.heat")] = 5.0
    assert unexplained(bal, 5.0, pulled) == 0.0


def test_pypsa_charges_lost_input_as_the_lp_does():
    pytest.importorskip("pypsa")
    from sim_env.graph.pypsa_export import solve, to_pypsa

    cp = _cp("fuel_shared")
    coef = cp.exogenous(seed=0)
    n = to_pypsa(cp, coef, 24)
    assert {"a.boiler:fuel:lost", "b.boiler:fuel:lost"} <= set(n.generators.index)
    assert solve(n) == pytest.approx(24 * 120.0, rel=1e-7)
    # its generators carry the kernel's ``lost:a.boiler:0`` and ``lost:b.boiler:0`` (port 0 is "fuel"): 20 kg/h
    lost = n.generators_t.p[["a.boiler:fuel:lost", "b.boiler:fuel:lost"]].sum(axis=1).to_numpy()
    assert lost == pytest.approx(np.full(24, 20.0), rel=1e-6)

