"""Issue 22, finding 6: a must-run plant whose by-product has no outlet is refused at validation,
with the port named, instead of running at 0 all year; and a links-off what-if never stops a
plant by closing its sales or its by-product's only outlet.

The park: a sugar refinery (must run, 100 t/h of cane bought at 0.2 DKK/kg, 20 kWh/t from the
grid at 1 DKK/kWh and 0.1 kg CO2/kWh) sells its sugar (12 %) through a market inside its own
asset; its molasses (4 %) goes by an exchange to a distillery next door (follows its input,
ethanol 30 % of the molasses, sold at 5 DKK/kg).
"""

from __future__ import annotations

import copy

import pytest
import yaml

from aisym.park import ParkError
from aisym.park.graph import parse_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.whatif import load_whatif, run_year

from .physics.parks import asset, park

MOLASSES = {"resource": "material", "material": "molasses"}
SUGAR = {"resource": "material", "material": "sugar"}
ETHANOL = {"resource": "material", "material": "ethanol"}


def sugar_park(still: str = "follow_input", enabled: bool = True, dump: bool = False) -> dict:
    mill = asset("refinery", {"type": "converter", "id": "mill", "control": "must_run", "reference": "cane",
                              "rated": "100 t/h", "inputs": {"cane": {"carrier": "biomass"},
                                                             "power": {"carrier": "electricity", "ratio": "20 kWh/t"}},
                              "outputs": {"sugar": {"carrier": SUGAR, "ratio": 0.12},
                                          "molasses": {"carrier": MOLASSES, "ratio": 0.04}}},
                 {"type": "market", "id": "sugar", "carrier": SUGAR, "export_price": "3 DKK/kg"})
    if dump:  # what the refinery does with molasses nobody takes: sold off as cattle feed at a cost
        mill["components"].append({"type": "disposal", "id": "feed", "port": "molasses", "carrier": MOLASSES,
                                   "cost": "0.05 DKK/kg"})
    return park("sugar", [
        ("grower", [asset("farm", {"type": "source", "id": "cane", "carrier": "biomass", "price": "0.2 DKK/kg"})]),
        ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                    "import_price": "1 DKK/kWh", "co2": "0.1 kg/kWh"})]),
        ("sugar", [mill]),
        ("ethanol", [asset("distillery", {"type": "converter", "id": "still", "control": still,
                                          "reference": "molasses", "rated": "10 t/h",
                                          "inputs": {"molasses": {"carrier": MOLASSES}},
                                          "outputs": {"ethanol": {"carrier": ETHANOL, "ratio": 0.3}}},
                           {"type": "market", "id": "ethanol", "carrier": ETHANOL, "export_price": "5 DKK/kg"})])],
        [{"id": "cane_to_mill", "from": "farm.cane", "to": "refinery.cane", "capacity": "200 t/h"},
         {"id": "grid_to_mill", "from": "grid.electricity", "to": "refinery.power", "capacity": "5000 kW"},
         {"id": "molasses_to_still", "from": "refinery.molasses", "to": "distillery.molasses",
          "capacity": "10 t/h", "enabled": enabled}])


def _parse(doc: dict):
    return parse_graph(yaml.safe_dump(copy.deepcopy(doc), sort_keys=False), "sugar.yaml")


def test_a_must_run_plant_whose_by_product_link_is_off_is_refused_with_the_port_named():
    # before the fix this park validated and the refinery crushed 0 t of cane all year
    with pytest.raises(ParkError) as e:
        _parse(sugar_park(enabled=False))
    msg = str(e.value)
    assert "sugar.yaml:" in msg and "companies[2].assets[0].components[0].outputs.molasses: must-run output " \
        "refinery.molasses has no outlet: its exchanges molasses_to_still are disabled" in msg
    assert "add a disposal on refinery.molasses" in msg


def test_a_taker_the_twin_cannot_push_into_is_no_outlet():
    # a distillery on a setpoint takes only what it pulls after its own load is set: the refinery,
    # limited by what its molasses can go to, stopped at 0 and the distillery with it (before: 0 all year)
    with pytest.raises(ParkError, match=r"must-run output refinery\.molasses has no outlet: nothing it reaches takes "
                                        r"what is pushed to it: distillery\.still \(setpoint\)"):
        _parse(sugar_park(still="setpoint"))


def test_a_unit_that_is_not_must_run_and_has_no_outlet_is_named():
    doc = sugar_park(enabled=False)
    doc["companies"][2]["assets"][0]["components"][0]["control"] = "setpoint"
    notes = _parse(doc).notes
    assert any(n.startswith("refinery.mill never runs: its output refinery.molasses has no outlet") for n in notes)


def test_a_must_run_plant_held_by_a_bounded_taker_is_said():
    doc = sugar_park()
    notes = _parse(doc).notes
    assert "refinery.mill runs only as far as distillery.still take its molasses (refinery.molasses has no disposal " \
           "or market)" in notes


def _whatif(tmp_path, doc: dict):
    (tmp_path / "sugar.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "off.yaml").write_text("name: All links off\npark: sugar.yaml\nexchanges:\n  disable: between_companies\n")
    return tmp_path / "off.yaml"


def test_links_off_refuses_to_stop_the_refinery_and_runs_once_its_molasses_has_a_dump(tmp_path):
    # Before the fix "all links off" turned the molasses link off, the refinery crushed nothing and
    # the what-if reported its 200 kg/h of grid CO2 as saved by the links (0.6 t over 3 h).
    with pytest.raises(ParkError, match=r"off\.yaml \(applied to sugar\.yaml\).*must-run output refinery\.molasses "
                                        r"has no outlet: its exchanges molasses_to_still are disabled"):
        load_whatif(_whatif(tmp_path, sugar_park()))
    # With a dump on the molasses port (0.05 DKK/kg), per hour by hand:
    #  base: cane 100 t × 0.2 = 20,000; power 2,000 kWh × 1 = 2,000 (200 kg CO2); sugar 12 t × 3 = −36,000;
    #        molasses 4 t to the still: ethanol 1.2 t × 5 = −6,000; nothing dumped: −20,000 DKK/h
    #  links off: cane, power and the sugar sales stay (trade); the 4 t of molasses are dumped (200 DKK),
    #        no ethanol: −13,800 DKK/h, the same 200 kg CO2/h: the links save money, not CO2
    _, base, off = load_whatif(_whatif(tmp_path, sugar_park(dump=True)))
    a, b = run_year(compile_park(base), "base", steps=3), run_year(compile_park(off), "off", steps=3)
    assert {link.id: link.enabled for link in off.links} == {"cane_to_mill": True, "grid_to_mill": True,
                                                             "molasses_to_still": False}
    assert a.cost == pytest.approx(3 * -20000.0, rel=1e-12) and b.cost == pytest.approx(3 * -13800.0, rel=1e-12)
    assert a.co2_t == pytest.approx(0.6, rel=1e-12) and b.co2_t == pytest.approx(0.6, rel=1e-12)


def test_a_must_run_boiler_whose_turbine_only_pulls_is_refused():
    # a must-run boiler and a load-following turbine on one steam port, no dump: the turbine pulls after its
    # own load is set and the boiler pushes only into what asks, so both stayed at 0 (before: validated,
    # boiler 0 kW and turbine 0 kW, the town's 300 kW all bought as backup)
    steam = {"resource": "heat", "temperature_c": 200}
    doc = park("turbine", [
        ("waste", [asset("waste", {"type": "source", "id": "fuel", "carrier": "biomass", "profile": "200 kg/h",
                                   "surplus": {"cost": "1 DKK/kg"}})]),
        ("plant", [asset("cc", {"type": "converter", "id": "boiler", "control": "must_run", "reference": "steam",
                                "rated": "500 kW", "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.4}},
                                "outputs": {"steam": {"carrier": steam}}},
                         {"type": "converter", "id": "turbine", "control": "follow_output", "reference": "heat",
                          "rated": "1000 kW", "inputs": {"steam": {"carrier": steam}},
                          "outputs": {"heat": {"carrier": "heat"}}})]),
        ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": "heat", "profile": "300 kW",
                                 "backup": {"cost": "1 DKK/kWh"}})])],
        [{"id": "fuel", "from": "waste.fuel", "to": "cc.fuel", "capacity": "1000 kg/h"},
         {"id": "heat", "from": "cc.heat", "to": "town.heat", "capacity": "2000 kW"}])
    with pytest.raises(ParkError, match=r"must-run output cc\.steam has no outlet: nothing it reaches takes what is "
                                        r"pushed to it: cc\.turbine \(follow_output\)"):
        _parse(doc)
