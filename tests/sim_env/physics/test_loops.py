"""Loops through converters are resolved within the step, not refused (issue 22 item 3).

A loop of the rules (a digester heated by the CHP that burns its own gas, no holder between)
is one segment of the schedule that the kernel repeats, Gauss-Seidel, until its flows settle
(:func:`sim_env.graph.kernel._loop`). Hand calculations beside each test; every bus balances at
every step; the LP, which is simultaneous, is a lower bound of the rules' cost.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from aisym.park.loader import ParkError
from sim_env.graph.balance import run_balanced
from sim_env.graph.compile import CompileError
from sim_env.graph.kernel import Y_CARBON, Y_COST, Y_UNMET, Batch, LoopError
from sim_env.graph.lp import Optimum

from .parks import HEAT, asset, col, compiled, park, run
from .test_mask import masked_versus_removed

GAS = {"resource": "biogas", "ch4_fraction": 0.6}

# A digester (follows its sludge, rated 800 kg/h: the rating binds under 1000 kg/h of sludge)
# needs 0.2 kWh of heat per kg, with a backup boiler; its 0.05 Nm3/kg of gas goes, with no holder
# between, to a CHP (2 kWh power and 2.5 kWh heat per Nm3) whose heat warms the digester through a
# main that loses 10 %.
BIOGAS = park("biogas_loop", [
    ("farm", [asset("sludge", {"type": "source", "id": "sludge", "carrier": {"resource": "sludge"},
                               "profile": "1000 kg/h", "surplus": {"cost": "0.05 DKK/kg"}})]),
    ("bio", [asset("dig", {"type": "converter", "id": "digester", "control": "follow_input", "reference": "sludge",
                           "rated": "800 kg/h",
                           "inputs": {"sludge": {"carrier": {"resource": "sludge"}},
                                      "heat": {"carrier": HEAT, "ratio": 0.2, "backup": {"cost": "0.5 DKK/kWh"}}},
                           "outputs": {"gas": {"carrier": GAS, "ratio": 0.05}}},
                   {"type": "disposal", "id": "flare", "port": "gas", "carrier": GAS, "cost": "0.1 DKK/Nm3"}),
             asset("chp", {"type": "converter", "id": "engine", "control": "follow_input", "reference": "fuel",
                           "rated": "100 Nm3/h", "inputs": {"fuel": {"carrier": GAS}},
                           "outputs": {"power": {"carrier": "electricity", "ratio": 2.0},
                                       "heat": {"carrier": HEAT, "ratio": 2.5}}},
                   {"type": "disposal", "id": "cooler", "port": "heat", "carrier": HEAT, "cost": "0.01 DKK/kWh"})]),
    ("grid", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                             "export_price": "1 DKK/kWh", "export_max": "1000 kW"})])],
    [{"id": "sludge_to_dig", "from": "sludge.sludge", "to": "dig.sludge", "capacity": "2 t/h"},
     {"id": "gas_to_chp", "from": "dig.gas", "to": "chp.fuel", "capacity": "500 Nm3/h"},
     {"id": "heat_to_dig", "from": "chp.heat", "to": "dig.heat", "capacity": "500 kW", "loss": 0.1},
     {"id": "power_to_grid", "from": "chp.power", "to": "grid.electricity", "capacity": "1000 kW"}])


def _followers(gain_to_gen: float = 0.4, rated: str = "1000 kW") -> dict:
    """A heat pump and a generator, each following what is asked of it and each needing the other's
    output: the heat pump 0.5 kWh of power per kWh of heat, the generator ``gain_to_gen`` kWh of
    heat per kWh of power (its jacket warmed); mains lose 10 % (heat) and 5 % (power). Each input
    has a dear backup (3 DKK/kWh), bought only for what the other unit cannot give."""
    return park("followers", [
        ("plant", [asset("hp", {"type": "converter", "id": "unit", "control": "follow_output", "reference": "heat",
                                "rated": rated, "inputs": {"power": {"carrier": "electricity", "ratio": 0.5,
                                                     "backup": {"cost": "3 DKK/kWh"}}},
                                "outputs": {"heat": {"carrier": HEAT}}}),
                   asset("gen", {"type": "converter", "id": "unit", "control": "follow_output", "reference": "power",
                                 "rated": rated, "inputs": {"heat": {"carrier": HEAT, "ratio": gain_to_gen,
                                                     "backup": {"cost": "3 DKK/kWh"}}},
                                 "outputs": {"power": {"carrier": "electricity"}}})]),
        ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "100 kW",
                                 "backup": {"cost": "1 DKK/kWh"}}),
                  asset("mill", {"type": "demand", "id": "power", "carrier": "electricity", "profile": "20 kW",
                                 "backup": {"cost": "2 DKK/kWh"}})])],
        [{"id": "hp_to_town", "from": "hp.heat", "to": "town.heat", "capacity": rated},
         {"id": "hp_to_gen", "from": "hp.heat", "to": "gen.heat", "capacity": rated, "loss": 0.1},
         {"id": "gen_to_hp", "from": "gen.power", "to": "hp.power", "capacity": rated, "loss": 0.05},
         {"id": "gen_to_mill", "from": "gen.power", "to": "mill.power", "capacity": rated}])


def _tank(level: float, charge: str) -> dict:
    return {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh", "max_charge": charge,
            "max_discharge": "10 kW", "loss": 0.01, "release": 0.1, "initial": level, "end": {"rule": "free"}}


# Two process tanks each releasing a tenth of their level an hour into a passive main to the other
# (10 % lost on the way), each with a dump for what the other cannot take.
TWO_TANKS = park("two_tanks", [
    ("a", [asset("a", _tank(0.5, "4 kW"), {"type": "disposal", "id": "dump", "port": "heat", "carrier": HEAT,
                                           "cost": "0.01 DKK/kWh"})]),
    ("b", [asset("b", _tank(0.2, "3 kW"), {"type": "disposal", "id": "dump", "port": "heat", "carrier": HEAT,
                                           "cost": "0.01 DKK/kWh"})])],
    [{"id": "a_to_b", "from": "a.heat", "to": "b.heat", "capacity": "10 kW", "loss": 0.1},
     {"id": "b_to_a", "from": "b.heat", "to": "a.heat", "capacity": "10 kW", "loss": 0.1}])


def test_two_stores_sending_each_other_heat_are_no_loop():
    # What one tank takes in puts nothing on the bus the other takes from: no loop (refused as a
    # cycle before). Hour 1: a loses 50 × 0.01 = 0.5 and releases 50 × 0.1 = 5 kWh, b takes its
    # 3 kW charge rate of it; b loses 0.2 and releases 20 × 0.1 = 2 kWh, of which a gets
    # 2 × 0.9 = 1.8 (its 4 kW rate does not bind). Levels: a 50 − 0.5 − 5 + 1.8 = 46.3 kWh,
    # b 20 − 0.2 − 2 + 3 = 20.8 kWh.
    cp = compiled(TWO_TANKS)
    assert cp.loops == {} and "loop" not in " ".join(cp.schedule_names)
    Y = run(cp, steps=1)[0]
    assert Y[col(cp, "activity:a.heat")] == pytest.approx(46.3, rel=1e-12)
    assert Y[col(cp, "activity:b.heat")] == pytest.approx(20.8, rel=1e-12)
    worst, per_bus = run_balanced(cp, cp.exogenous(seed=0), np.zeros((24, cp.n_actions)))
    assert worst < 1e-9, dict(zip(cp.bus_ids, per_bus, strict=True))


def test_the_digester_heated_by_its_own_chp_is_resolved():
    # Digester: min(1000 kg/h of sludge, 800 rated) = 800 kg/h; 200 kg/h of sludge left at 0.05 DKK/kg
    # = 10 DKK/h. Gas 800 × 0.05 = 40 Nm3/h, all burnt (CHP rated 100): power 80 kW sold at 1 DKK/kWh
    # (−80), heat 100 kW, of which 100 × 0.9 = 90 kW reach the digester, which needs 800 × 0.2 = 160 kW:
    # 70 kW of backup at 0.5 DKK/kWh = 35 DKK/h. Cost 10 − 80 + 35 = −35 DKK/h, nothing dumped.
    # (One pass only would leave all 160 kW to the backup: +80 − 80 + 10 = +10 DKK/h.)
    cp = compiled(BIOGAS)
    assert cp.schedule_names[1] == "loop(chp.engine, dig.digester)"
    Y = run(cp, steps=3)
    assert Y[:, col(cp, "activity:dig.digester")] == pytest.approx([800.0] * 3, rel=1e-12)
    assert Y[:, col(cp, "activity:chp.engine")] == pytest.approx([40.0] * 3, rel=1e-12)
    assert Y[:, col(cp, "flow:heat_to_dig")] == pytest.approx([100.0] * 3, rel=1e-12)
    assert Y[:, col(cp, "backup:dig.digester")] == pytest.approx([70.0] * 3, rel=1e-12)
    assert Y[:, Y_COST] == pytest.approx([-35.0] * 3, rel=1e-12)
    assert Y[:, Y_UNMET].max() == 0.0
    worst, per_bus = run_balanced(cp, cp.exogenous(seed=0), np.zeros((24, cp.n_actions)))
    assert worst < 1e-9, dict(zip(cp.bus_ids, per_bus, strict=True))


def test_a_row_masking_the_loops_heat_main_runs_as_the_park_without_it():
    # Row 1 has every exchange on: the loop, −35 DKK/h as above. Row 0 masks the heat main, which
    # opens the loop: its ops run once each, in the order of the park without the main (the digester,
    # then the CHP on its gas); the two rows share a block of the kernel, each run as its own mask
    # says. By hand: 800 kg/h digested, its 160 kW of heat all from the backup at 0.5 = 80 DKK/h;
    # 200 kg/h of sludge left at 0.05 = 10; the CHP burns the 40 Nm3/h, sells 80 kW at 1 (−80) and
    # dumps its 100 kW of heat at 0.01 = 1. Cost 80 + 10 − 80 + 1 = +11 DKK/h, as the park with the
    # main removed costs; every bus of that park balances.
    cp = compiled(BIOGAS)
    mask = np.tile(cp.LE, (2, 1))
    mask[0, cp.link_ids.index("heat_to_dig")] = 0.0
    b = Batch(cp, cp.exogenous(seed=0), 2, mask=mask)
    for _ in range(3):
        Y = b.step(np.zeros((2, cp.n_actions)))
        assert Y[:, Y_COST] == pytest.approx([11.0, -35.0], rel=1e-12)
        assert Y[0, col(cp, "backup:dig.digester")] == pytest.approx(160.0, rel=1e-12)
        assert Y[0, col(cp, "activity:chp.cooler")] == pytest.approx(100.0, rel=1e-12)
    doc = copy.deepcopy(BIOGAS)
    doc["exchanges"] = [e for e in doc["exchanges"] if e["id"] != "heat_to_dig"]
    cut = compiled(doc)
    assert not cut.loops
    assert run(cut, steps=3)[:, Y_COST] == pytest.approx([11.0] * 3, rel=1e-12)
    worst, per_bus = run_balanced(cut, cut.exogenous(seed=0), np.zeros((24, cut.n_actions)))
    assert worst < 1e-9, dict(zip(cut.bus_ids, per_bus, strict=True))


@pytest.mark.parametrize("doc", [BIOGAS, _followers()], ids=["biogas", "followers"])
def test_masking_an_exchange_of_a_park_with_a_loop_equals_removing_it(doc):
    # Each exchange in turn, 48 steps: one that opens the loop runs its ops once each, one that leaves
    # it closed (the town's heat main of the followers) still settles it, in the removed park's order.
    differ, compared = masked_versus_removed(doc)
    assert compared >= 3
    assert not differ


def test_the_lp_gives_the_resolved_loops_cost():
    # The LP solves a loop simultaneously, needing no change. The rules are optimal on both parks
    # (all 800 kg/h digested, all the CHP's heat to the digester: −35 × 24 = −840 DKK; the two units
    # serve both needs, nothing bought: 0), so the LP gives the same day's cost.
    for doc, day in ((BIOGAS, -840.0), (_followers(), 0.0)):
        cp = compiled(doc)
        sol = Optimum(cp, cp.exogenous(seed=0), 24, rules=True).solve()
        Y = run(cp, steps=24)
        kernel = float((Y[:, Y_COST] + Y[:, Y_CARBON]).sum())
        assert kernel == pytest.approx(day, rel=1e-12, abs=1e-8)
        assert sol.objective == pytest.approx(kernel, rel=1e-9, abs=1e-8)


def test_two_units_needing_each_others_output_settle_on_the_geometric_series():
    # H heat made, G power made. The town takes 100 kW of heat and the mill 20 kW of power; the
    # generator needs 0.4 G of heat, sent 0.4 G / 0.9; the heat pump 0.5 H of power, sent 0.5 H / 0.95:
    #   H = 100 + 0.4 G / 0.9,  G = 20 + 0.5 H / 0.95
    #   G = 20 + (0.5 / 0.95)(100 + 0.4 G / 0.9) → G (1 − 0.2 / 0.855) = 20 + 50 / 0.95
    #   G = (20 + 52.631579) / 0.766082 = 94.809160 kW;  H = 100 + 0.4 × 94.809160 / 0.9 = 142.137405 kW.
    # Each pass round the loop adds the gain 0.2 / 0.855 = 0.2339 of the last (a geometric series):
    # about 20 passes to 1e-12. Nothing is bought: cost 0.
    cp = compiled(_followers())
    Y = run(cp, steps=2)
    G = (20 + 50 / 0.95) / (1 - 0.2 / 0.855)
    H = 100 + 0.4 * G / 0.9
    assert Y[:, col(cp, "activity:gen.unit")] == pytest.approx([G, G], rel=1e-11)
    assert Y[:, col(cp, "activity:hp.unit")] == pytest.approx([H, H], rel=1e-11)
    assert Y[:, col(cp, "flow:gen_to_hp")] == pytest.approx([0.5 * H / 0.95] * 2, rel=1e-11)
    assert Y[:, Y_COST] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert Y[:, Y_UNMET].max() < 1e-9
    worst, per_bus = run_balanced(cp, cp.exogenous(seed=0), np.zeros((24, cp.n_actions)))
    assert worst < 1e-9, dict(zip(cp.bus_ids, per_bus, strict=True))


def test_a_loop_that_does_not_settle_is_an_error_naming_its_members():
    # gain 0.5 × 1.705 / 0.855 = 0.99708: the series converges (to G = 72.63 / 0.00292 = 24,900 kW,
    # under the 100 MW ratings and mains), but by 0.3 % a pass: 9,450 passes to 1e-12, past the limit of 1,000
    cp = compiled(_followers(gain_to_gen=1.705, rated="100000 kW"))
    with pytest.raises(LoopError, match=r"loop .*conv_load\(gen.unit\).*conv_load\(hp.unit\).* did not settle"):
        Batch(cp, cp.exogenous(seed=0), 1).step(np.zeros((1, 0)))


def test_a_loop_whose_gain_is_one_or_more_is_refused_naming_its_members():
    # 0.5 × 1.8 / 0.855 = 1.0526 ≥ 1: each kWh delivered asks more than a kWh back round the loop
    doc = _followers(gain_to_gen=1.8)
    with pytest.raises(ParkError, match=r"followers.yaml:\d+:\d+: .*: gen.unit, hp.unit follow .* gain round it is 1.053"):
        compiled(copy.deepcopy(doc))


def test_the_generated_kernels_refuse_a_park_with_loops_and_the_generic_one_runs_it():
    from sim_env.graph.codegen import CodegenError, park_module

    cp = compiled(BIOGAS)
    with pytest.raises(CodegenError, match=r"biogas_loop.yaml: a park with loops \(conv_load\(chp.engine\), "
                                           r"conv_load\(dig.digester\)\) runs on the generic kernel only"):
        park_module(cp, "fold")
    with pytest.warns(UserWarning, match="specialise='fold' steps no park with loops"):
        b = Batch(cp, cp.exogenous(seed=0), 1, specialise="fold")
    assert b.step(np.zeros((1, 0)))[0, Y_COST] == pytest.approx(-35.0, rel=1e-12)


def test_a_loop_closed_only_by_an_exchange_switched_off_is_refused():
    # A mask switches the digester's heat main on per row, but the schedule is one for all rows: the
    # loop it closes could not be switched off exactly (masked = removed), so it is refused, named.
    doc = copy.deepcopy(BIOGAS)
    doc["exchanges"][2]["enabled"] = False
    with pytest.raises(CompileError, match=r"biogas_loop.yaml: .* cycle \(conv_load\(chp.engine\), "
                                           r"conv_load\(dig.digester\)\) only through exchanges switched off "
                                           r"\(heat_to_dig\)"):
        compiled(doc)


def test_a_loop_that_cannot_start_itself_is_said_and_stays_at_zero():
    # Without its backup boiler the digester's heat comes only from the CHP, whose gas comes only
    # from the digester: the loop is resolved from nothing, so neither runs (as a plant with no
    # start-up boiler would not), and the park check says so. All 1000 kg/h of sludge are left:
    # 1000 × 0.05 = 50 DKK/h.
    doc = copy.deepcopy(BIOGAS)
    del doc["companies"][1]["assets"][0]["components"][0]["inputs"]["heat"]["backup"]
    cp = compiled(doc)
    assert [n for n in cp.graph.notes if "never run" in n] == [
        "chp.engine, dig.digester never run: each takes an input, with no backup, only from the others, and the "
        "twin starts their loop from nothing; give one of those inputs a backup (a start-up boiler, a grid "
        "connection) or a store"]
    Y = run(cp, steps=2)
    assert Y[:, col(cp, "activity:dig.digester")].tolist() == [0.0, 0.0]
    assert Y[:, Y_COST] == pytest.approx([50.0, 50.0], rel=1e-12)
