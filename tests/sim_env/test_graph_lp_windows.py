"""The year's LP started from windows' bases (issue 22, item 7: ``sim_env/graph/lp_windows.py``).

The windows choose only where HiGHS's simplex starts: the answer is the year's own optimum, by
hand on the small parks, equal to a cold solve on Kråkøya, with the same end prices; on/off the
LP leaves fractional send it back to the MILP. Short horizons with short windows keep it quick.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from aisym.park.graph import load_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import Y_CARBON, Y_COST, Batch
from sim_env.graph.lp import Optimum
from sim_env.graph.lp_windows import _spans, statuses

from .physics.parks import MIN_LOAD_NEED, compiled
from .physics.parks_lost import TANK_NO_REFILL

WEEK = 24 * 7


@pytest.fixture(scope="module")
def kraakoya():
    cp = compile_park(load_graph())
    return cp, cp.exogenous(seed=0)


def _replay(cp, coef, A: np.ndarray) -> float:
    b, total = Batch(cp, coef, 1), 0.0
    for a in A:
        Y = b.step(a[None])[0]
        total += Y[Y_COST] + Y[Y_CARBON]
    return total


def test_a_tank_held_across_windows_costs_its_hand_optimum():
    # test_graph_lp_year_end's tank, by hand: held all day (a kWh to the homes saves 2 DKK of
    # backup, costs ≥ 0.99^23 × 20 DKK at the end): 24 × 8 × 2 + 20 × (50 − 50 × 0.99^24) =
    # 598.32 DKK. Four windows of 6 h: the last ends under the year's rule (50 kWh, the level the
    # year started at), not at its own start; the answer is the year's whatever the windows did.
    cp = compiled(TANK_NO_REFILL)
    opt = Optimum(cp, cp.exogenous(seed=0), 24, rules=True, windows=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tank's end rule cannot be met: named, tested elsewhere
        sol = opt.solve()
    assert opt._lp_form and sol.mip_gap == 0.0
    assert sol.objective == pytest.approx(24 * 8 * 2 + 20 * (50 - 50 * 0.99 ** 24), rel=1e-9)
    assert sol.end_short["tank.heat"] == pytest.approx(50 - 50 * 0.99 ** 24, rel=1e-9)
    assert opt.end_values()[cp.node_keys.index("tank.heat")] == pytest.approx(20.0, rel=1e-9)


def test_on_off_left_fractional_by_the_lp_are_solved_as_the_milp():
    # test_hand_parks' min-load unit serving 10 kW of heat: its LP runs it at 20 kW "half on"
    # (24 × 20 × 0.2 = 96 DKK), which no unit can; the MILP runs it at its 40 kW min load,
    # 8.1 DKK/h by hand: 194.4 DKK for the day.
    cp = compiled(MIN_LOAD_NEED)
    opt = Optimum(cp, cp.exogenous(seed=0), 24, rules=True, windows=8)
    sol = opt.solve()
    assert not opt._lp_form
    assert sol.objective == pytest.approx(24 * 8.1, rel=1e-9)


def test_a_resolve_after_the_windows_start_is_the_milp_again():
    # the same park with its heat link off: the unit stays off, the town's 10 kW from backup at
    # 1 DKK/kWh: 240 DKK by hand, the LP integral (held as the MILP's). The link back at 50 kW:
    # the re-solve is the MILP's, 194.4 by hand; its LP would say 24 × 4 = 96 (the unit "half on").
    cp = compiled(MIN_LOAD_NEED)
    mask = cp.LE.copy()
    mask[cp.link_ids.index("unit_to_town")] = 0.0
    opt = Optimum(cp, cp.exogenous(seed=0), 24, rules=True, mask=mask, windows=8)
    assert opt.solve().objective == pytest.approx(24 * 10 * 1.0, rel=1e-9)
    assert opt._lp_form
    opt.set_capacity("unit_to_town", 50.0)
    assert opt.solve().objective == pytest.approx(24 * 8.1, rel=1e-9)


def test_kraakoya_from_the_windows_basis_is_the_cold_optimum_in_fewer_iterations(kraakoya):
    cp, coef = kraakoya
    cold = Optimum(cp, coef, WEEK, rules=True, windows=0)
    a = cold.solve()
    warm = Optimum(cp, coef, WEEK, rules=True, windows=24)
    b = warm.solve()
    it_warm, it_cold = warm.h.getInfo().simplex_iteration_count, cold.h.getInfo().simplex_iteration_count
    assert warm._lp_form and b.mip_gap == 0.0
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert warm.end_values() == pytest.approx(cold.end_values(), rel=1e-6, abs=1e-9)
    assert _replay(cp, coef, b.actions) == pytest.approx(b.objective, rel=1e-9)
    # the windows' bases end to end are a basis of the week (primal feasible): 369 simplex
    # iterations where HiGHS's own start takes 3,041 (its MILP) or 5,886 (its primal simplex);
    # windows each started at the year's start levels leave 1,418, the end rows' bases left out 894
    assert it_warm < it_cold / 5, (it_warm, it_cold)
    # a re-solve starts from the windows again, built with the exchange off: a rebuild's optimum
    # (its on/off at 0 or 1 again, so the MILP's), in fewer iterations than the MILP's re-solve
    e = "electrolyser_heat_to_store"
    warm.set_capacity(e, 0.0)
    mask = cp.LE.copy()
    mask[cp.link_ids.index(e)] = 0.0
    rebuilt = Optimum(cp, coef, WEEK, rules=True, mask=mask, windows=0)
    assert warm.solve().objective == pytest.approx(rebuilt.solve().objective, rel=1e-9)
    assert warm.integer.any() and warm._lp_form
    assert warm.h.getInfo().simplex_iteration_count < rebuilt.h.getInfo().simplex_iteration_count / 5


@pytest.mark.parametrize("park", ["kraakoya", "min_load"])
def test_the_statuses_read_from_the_solution_are_highs_own(park, kraakoya):
    # statuses() reads a window's basis from its basic variables and solution (arrays), not from
    # HiGHS's lists: every status, "upper" for a fixed column or equality row included, is HiGHS's
    cp, coef = kraakoya if park == "kraakoya" else (compiled(MIN_LOAD_NEED), None)
    opt = Optimum(cp, cp.exogenous(seed=0) if coef is None else coef, 48, relax=True, rules=True)
    opt.h.run()
    col, row = statuses(opt.h, opt)
    b = opt.h.getBasis()
    assert col.tolist() == [int(s) for s in b.col_status]
    assert row.tolist() == [int(s) for s in b.row_status]
    fixed_rows = np.concatenate(opt._m.rlo) == np.concatenate(opt._m.rhi)
    assert park == "min_load" or ({0, 2} <= set(row[fixed_rows].tolist()))  # both kinds of fixed row reached


def test_windows_cover_the_horizon_and_a_one_step_tail_joins_the_last():
    assert _spans(8760, 720)[-1] == (8640, 8760)
    assert _spans(49, 24) == [(0, 24), (24, 49)]
    assert Optimum(compiled(MIN_LOAD_NEED), compiled(MIN_LOAD_NEED).exogenous(seed=0), 1440).windows == 720


def test_a_capacity_set_before_the_first_solve_is_the_windows_too():
    # the link set to 0 before the first solve: the town's 10 kW from backup, 240 DKK by hand.
    # The windows' models take the change, so their bases end to end are the year's optimal
    # basis (no store couples them): the year's simplex has nothing left to do
    cp = compiled(MIN_LOAD_NEED)
    opt = Optimum(cp, cp.exogenous(seed=0), 24, rules=True, windows=8)
    opt.set_capacity("unit_to_town", 0.0)
    assert opt.solve().objective == pytest.approx(24 * 10 * 1.0, rel=1e-9)
    assert opt._lp_form and opt.h.getInfo().simplex_iteration_count == 0


def test_the_windows_share_the_solves_time_limit(kraakoya, monkeypatch):
    import highspy

    limits, set_option = [], highspy.Highs.setOptionValue

    def spy(self, name, value):
        if name == "time_limit":
            limits.append(value)
        return set_option(self, name, value)

    monkeypatch.setattr(highspy.Highs, "setOptionValue", spy)
    cp, coef = kraakoya
    Optimum(cp, coef, 72, rules=True, windows=24).solve(time_limit_s=100.0)
    # the solve's limit, then each window's and the year's: what is left of it, less each time
    assert limits[0] == 100.0 and len(limits) == 1 + 3 + 1
    assert all(b < a for a, b in itertools.pairwise(limits))


def test_a_basis_with_wrong_counts_is_repaired_by_highs_not_used_as_it_is(monkeypatch):
    # the windows' basis goes to HiGHS as a consistent one (not "alien", so not factored twice); if
    # it ever had one basic column too many, HiGHS refuses it as such and repairs it as an alien
    # basis: the answer is still the hand optimum (the tank park, 598.32 DKK)
    import highspy

    from sim_env.graph import lp_windows

    real = lp_windows.window_basis

    def one_basic_too_many(opt, window, progress=None):
        basis = real(opt, window, progress)
        cols = list(basis.col_status)
        j = next(i for i, s in enumerate(cols) if s != highspy.HighsBasisStatus.kBasic)
        cols[j] = highspy.HighsBasisStatus.kBasic
        basis.col_status = cols
        return basis

    monkeypatch.setattr(lp_windows, "window_basis", one_basic_too_many)
    cp = compiled(TANK_NO_REFILL)
    opt = Optimum(cp, cp.exogenous(seed=0), 24, rules=True, windows=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = opt.solve()
    assert sol.objective == pytest.approx(24 * 8 * 2 + 20 * (50 - 50 * 0.99 ** 24), rel=1e-9)


def test_a_year_that_fails_unscaled_is_solved_again_scaled(kraakoya):
    # the year's simplex from the windows' basis runs unscaled (lp_windows.UNSCALED); where it ends
    # without its optimum (here made to stop after its first iteration) it runs again, scaled as HiGHS
    # would, from the same basis, to the same optimum; the options are left as they were
    import highspy

    from sim_env.graph.lp_windows import solve_from_windows

    cp, coef = kraakoya
    opt = Optimum(cp, coef, WEEK, rules=True, windows=24)
    scale = opt.h.getOptionValue("simplex_scale_strategy")[1]
    calls, said = [], []

    def run(h):
        calls.append(h.getOptionValue("simplex_scale_strategy")[1])
        h.setOptionValue("simplex_iteration_limit", 1 if len(calls) == 1 else 10**9)
        return h.run()

    opt.h.setOptionValue("time_limit", 300.0)
    solve_from_windows(opt, run, 24, said.append)
    assert calls == [0, scale]
    assert opt.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert any("solved again scaled" in line for line in said)
    assert opt.h.getOptionValue("simplex_scale_strategy")[1] == scale
    ref = Optimum(cp, coef, WEEK, rules=True, windows=24)
    ref.solve()
    assert opt.h.getInfo().objective_function_value == pytest.approx(ref.h.getInfo().objective_function_value,
                                                                      rel=1e-12)


def test_windows_started_from_their_parts_give_the_hand_optimum(monkeypatch):
    # the tank park by hand (598.32 DKK, first test) with two windows of 12 h, each started from
    # the basis of its four 3-hour parts (PARTS × MIN_PART ≤ 12), the parts' chain run on from the
    # first window into the second: the answer is the year's whatever the windows and parts did
    from sim_env.graph import lp_windows

    monkeypatch.setattr(lp_windows, "PARTS", 4)
    monkeypatch.setattr(lp_windows, "MIN_PART", 3)
    real, sizes = lp_windows.window_basis, []

    def spy(opt, window, progress=None, chain=None):
        sizes.append((opt.T, window))
        return real(opt, window, progress, chain)

    monkeypatch.setattr(lp_windows, "window_basis", spy)
    cp = compiled(TANK_NO_REFILL)
    opt = Optimum(cp, cp.exogenous(seed=0), 24, rules=True, windows=12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tank's end rule cannot be met: named, tested elsewhere
        sol = opt.solve()
    assert sizes == [(24, 12), (12, 3), (12, 3)]  # the year's windows, then each window's parts
    assert opt._lp_form and sol.mip_gap == 0.0
    assert sol.objective == pytest.approx(24 * 8 * 2 + 20 * (50 - 50 * 0.99 ** 24), rel=1e-9)
    assert opt.end_values()[cp.node_keys.index("tank.heat")] == pytest.approx(20.0, rel=1e-9)


def test_kraakoya_from_windows_of_parts_is_the_cold_optimum(kraakoya, monkeypatch):
    # a week in two windows of 84 h, each from its four 21-hour parts: the cold optimum, its end
    # prices and its replay, in fewer simplex iterations (every HiGHS run counted: parts, windows,
    # week) than the same windows without parts, the second from the first's basis: 1,665 against
    # 3,638 (the week's own 167 against 274)
    import highspy

    from sim_env.graph import lp_windows

    run, iterations = highspy.Highs.run, []

    def counted(h):
        status = run(h)
        iterations.append(h.getInfo().simplex_iteration_count)
        return status

    monkeypatch.setattr(highspy.Highs, "run", counted)
    monkeypatch.setattr(lp_windows, "PARTS", 4)
    cp, coef = kraakoya
    cold = Optimum(cp, coef, WEEK, rules=True, windows=0)
    a = cold.solve()
    totals = {}
    for min_part in (10**6, 21):  # no window long enough for parts, then windows of parts
        monkeypatch.setattr(lp_windows, "MIN_PART", min_part)
        iterations.clear()
        warm = Optimum(cp, coef, WEEK, rules=True, windows=84)
        b = warm.solve()
        totals[min_part] = sum(iterations)
    assert len(iterations) == 2 * 4 + 2 + 1  # the parts' chain, the windows, the week
    # the chain runs on into the second window: its first part from the first window's last part's
    # basis (15 iterations), not from HiGHS's own start as the very first part (345)
    assert iterations[5] < iterations[0] / 4, iterations
    # the week's last part, under the week's end rule (a target's row and shortfall column more),
    # starts from the part before it with the target's row basic: 197 iterations, where HiGHS's
    # own start takes 424 (more than the very first part's 345)
    assert iterations[8] < iterations[0], iterations
    assert warm._lp_form and b.mip_gap == 0.0
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    it_warm, it_cold = warm.h.getInfo().simplex_iteration_count, cold.h.getInfo().simplex_iteration_count
    assert it_warm < it_cold / 5, (it_warm, it_cold)
    assert totals[21] < 0.6 * totals[10**6], totals
    # the end prices: the on/off fixed where they are, the LP re-solved from its optimal basis as
    # the windows' start left it (primal, unscaled): not one iteration (HiGHS's own options lost
    # the basis: Kråkøya's year 31.8 CPU s), the cold solve's prices
    iterations.clear()
    prices = warm.end_values()
    assert iterations == [0]
    assert prices == pytest.approx(cold.end_values(), rel=1e-6, abs=1e-9)
    assert _replay(cp, coef, b.actions) == pytest.approx(b.objective, rel=1e-9)


def test_the_default_window_is_the_longest_the_horizon_holds_twice():
    cp = compiled(MIN_LOAD_NEED)
    coef = cp.exogenous(seed=0)
    assert [Optimum(cp, coef, T).windows for T in (1439, 1440, 4379, 4380)] == [0, 720, 720, 2190]
