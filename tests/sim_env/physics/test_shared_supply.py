"""Two must-run units on one limited supply share it (issue 22): what they take together never
exceeds the supply's limit, in their exchanges' ``priority`` order and then by id.

Before the fix each must-run boiler saw the whole 100 kg/h purchase (or market import limit) when
it set its load: both ran at 320 kW, 640 kW of heat from 100 kg of chips that make 380, and the
second's 65 kg/h were charged as lost load (257 DKK/h instead of 309); the first by id went first
whatever the priority; the LP with the rules (which never run a must-run unit on lost load) said
309, so kernel and LP disagreed. A silo's discharge rate was already shared (its chips are taken
at once). Hand calculations beside each test; every bus balances at every step.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_env.graph.balance import run_balanced
from sim_env.graph.kernel import Y_CARBON, Y_COST, Y_UNMET, output_names
from sim_env.graph.lp import Optimum

from .parks import col, compiled, run
from .parks_lost import SUPPLIES, shared_supply

_CP: dict[tuple, object] = {}


def _cp(kind: str, a_priority: int = 2, b_priority: int = 1):
    key = (kind, a_priority, b_priority)
    if key not in _CP:
        _CP[key] = compiled(shared_supply(kind, a_priority, b_priority))
    return _CP[key]


@pytest.mark.parametrize("kind", list(SUPPLIES))
def test_two_must_run_boilers_share_one_limited_supply_in_priority_order(kind):
    # b's line has priority 1: b runs at 320 kW on 80 kg/h, drawing 80 / 0.95 = 84.2105 kg; a gets the
    # 100 − 84.2105 = 15.7895 kg left, 15 kg after the line's loss: 15 / 0.25 = 60 kW. The town gets
    # (320 + 60) × 0.9 = 342 kW, the other 458 kW are backup: 458 × 0.5 = 229 DKK/h; chips bought
    # 100 × 0.8 = 80 DKK/h (the silo's are free: 229). Nothing lost. (Before: both at 320 kW, 65 kg lost.)
    cp = _cp(kind)
    Y = run(cp)[0]
    assert Y[col(cp, "activity:b.boiler")] == pytest.approx(320.0, rel=1e-12)
    assert Y[col(cp, "activity:a.boiler")] == pytest.approx(60.0, rel=1e-12)
    assert Y[col(cp, "flow:chips_to_a")] + Y[col(cp, "flow:chips_to_b")] == pytest.approx(100.0, rel=1e-12)
    assert Y[col(cp, "backup:town.heat")] == pytest.approx(458.0, rel=1e-12)
    assert Y[Y_COST] == pytest.approx(229.0 + (0.0 if kind == "store" else 80.0), rel=1e-12)
    assert Y[Y_UNMET] == 0.0
    names = output_names(cp)
    assert [Y[i] for i, n in enumerate(names) if n.startswith("lost:")] in ([0.0, 0.0], [])
    worst, _ = run_balanced(cp, cp.exogenous(seed=0), np.zeros((24, cp.n_actions)))
    assert worst < 1e-9


def test_the_other_priority_gives_the_other_boiler_its_chips_first():
    # the same park with a's line first: a at 320 kW, b at 60 kW, the same cost (309 DKK/h)
    cp = _cp("purchase", 1, 2)
    Y = run(cp)[0]
    assert Y[col(cp, "activity:a.boiler")] == pytest.approx(320.0, rel=1e-12)
    assert Y[col(cp, "activity:b.boiler")] == pytest.approx(60.0, rel=1e-12)
    assert Y[Y_COST] == pytest.approx(309.0, rel=1e-12)


@pytest.mark.parametrize("kind", ["purchase", "market"])
def test_the_lp_with_the_rules_costs_what_the_kernel_does(kind):
    # the rules never feed a must-run unit on lost load: 380 kW of heat from the 100 kg/h, 24 × 309 =
    # 7,416 DKK, as the kernel. Dispatched freely the LP may burn lost chips (1 DKK/kg makes 3.6 kWh at
    # the town, 0.28 DKK/kWh, cheaper than the backup): a lower bound, 24 × 257 = 6,168 DKK.
    cp = _cp(kind)
    coef = cp.exogenous(seed=0)
    kernel = float(sum(y[Y_COST] + y[Y_CARBON] for y in run(cp, 0.0, 24)))
    assert kernel == pytest.approx(24 * 309.0, rel=1e-12)
    assert Optimum(cp, coef, 24, rules=True).solve().objective == pytest.approx(kernel, rel=1e-9)
    assert Optimum(cp, coef, 24, rules=False).solve().objective == pytest.approx(24 * 257.0, rel=1e-9)
