"""Issue 22, finding 7: "links between companies off" turns off exactly the exchanges between
companies that carry a company's own residue or product, whichever asset holds a market. A
market or purchase delivering to the park is a supplier, not a link; a plant that sells its
product through a market inside its own asset is still a plant, and its residue links go off.

The park: an ethanol plant (must run, 1,000 kg/h of grain) sells its ethanol through a market
inside its own asset and sends its CO2 to a greenhouse next door; the grain is bought from a
supplier. Per hour, by hand:

- base: grain 1,000 kg × 0.5 = 500 DKK; ethanol 300 kg × 6 = −1,800; CO2 280 kg made, the
  greenhouse takes its 200 by the link, 80 vented × 0.01 = 0.8; nothing bought:
  −1,299.2 DKK/h, 0 kg CO2 emitted (the vent's CO2 is biogenic, 0 kg/kg here).
- links off: the grain still comes from its supplier; the CO2 link is off, so 280 kg are
  vented (2.8 DKK) and the greenhouse buys its 200 kg at 2 DKK/kg (400 DKK, 0.2 kg CO2/kg):
  −897.2 DKK/h, 40 kg CO2/h.
  (Before the fix the plant's ethanol market made it a "supplier", its CO2 link stayed on and
  the what-if cost what the base costs: −1,299.2 DKK/h.)
"""

from __future__ import annotations

import copy

import pytest
import yaml

from sim_env.graph.compile import compile_park
from sim_env.graph.whatif import load_whatif, run_year

CO2 = {"resource": "co2"}
ETHANOL = {"resource": "material", "material": "ethanol"}

PARK = {
    "schema_version": 2, "park": {"id": "ethanol", "name": "Ethanol park", "currency": "DKK"},
    "companies": [
        {"id": "grain_trader", "name": "Grain trader", "assets": [
            {"id": "farm", "components": [{"type": "source", "id": "grain", "carrier": "biomass",
                                           "price": "0.5 DKK/kg"}]}]},
        {"id": "distiller", "name": "Distiller", "assets": [
            {"id": "plant", "components": [
                {"type": "converter", "id": "still", "control": "must_run", "reference": "grain",
                 "rated": "1000 kg/h", "inputs": {"grain": {"carrier": "biomass"}},
                 "outputs": {"ethanol": {"carrier": ETHANOL, "ratio": 0.3}, "co2": {"carrier": CO2, "ratio": 0.28}}},
                {"type": "market", "id": "ethanol", "carrier": ETHANOL, "export_price": "6 DKK/kg"},
                {"type": "disposal", "id": "vent", "port": "co2", "carrier": CO2, "cost": "0.01 DKK/kg"}]}]},
        {"id": "grower", "name": "Greenhouse", "assets": [
            {"id": "greenhouse", "components": [
                {"type": "demand", "id": "co2", "carrier": CO2, "profile": "200 kg/h",
                 "backup": {"cost": "2 DKK/kg", "co2": "0.2 kg/kg", "name": "bottled CO2"}}]}]}],
    "exchanges": [
        {"id": "grain_to_plant", "from": "farm.grain", "to": "plant.grain", "capacity": "2000 kg/h"},
        {"id": "co2_to_greenhouse", "from": "plant.co2", "to": "greenhouse.co2", "capacity": "500 kg/h"}]}


def _whatif(tmp_path, doc: dict = PARK):
    (tmp_path / "ethanol.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "off.yaml").write_text("name: All links off\npark: ethanol.yaml\nexchanges:\n  disable: between_companies\n")
    return load_whatif(tmp_path / "off.yaml")


def test_a_market_inside_a_plants_asset_keeps_none_of_its_links_on(tmp_path):
    _, base, off = _whatif(tmp_path)
    enabled = {link.id: link.enabled for link in off.links}
    assert enabled == {"grain_to_plant": True, "co2_to_greenhouse": False}
    a = run_year(compile_park(base), "base", steps=3)
    b = run_year(compile_park(off), "off", steps=3)
    assert a.cost == pytest.approx(3 * -1299.2, rel=1e-12)
    assert b.cost == pytest.approx(3 * -897.2, rel=1e-12)  # before the fix: 3 × −1,299.2, the base's
    assert b.co2_t == pytest.approx(3 * 40.0 / 1000.0, rel=1e-12)


def test_a_sale_to_a_market_of_another_company_stays_on(tmp_path):
    # the ethanol is sold through a fuel trader's market instead: the same figures by hand, since a sale is
    # trade, not a symbiosis link (before: the sale went off with the links and the plant, left with no
    # outlet for its ethanol, stopped; that what-if is now refused at validation, finding 6)
    doc = copy.deepcopy(PARK)
    plant = doc["companies"][1]["assets"][0]["components"]
    doc["companies"][1]["assets"][0]["components"] = [c for c in plant if c["type"] != "market"]
    doc["companies"].append({"id": "fuel_trader", "name": "Fuel trader", "assets": [
        {"id": "depot", "components": [{"type": "market", "id": "ethanol", "carrier": ETHANOL,
                                        "export_price": "6 DKK/kg"}]}]})
    doc["exchanges"].append({"id": "ethanol_to_depot", "from": "plant.ethanol", "to": "depot.ethanol",
                             "capacity": "1000 kg/h"})
    _, _, off = _whatif(tmp_path, doc)
    assert {link.id: link.enabled for link in off.links} == {"co2_to_greenhouse": False, "ethanol_to_depot": True,
                                                             "grain_to_plant": True}
    assert run_year(compile_park(off), "off", steps=3).cost == pytest.approx(3 * -897.2, rel=1e-12)


def test_a_product_link_from_a_port_that_also_holds_a_market_goes_off(tmp_path):
    # a bus depot next door takes 100 kg/h of the plant's ethanol from the very port its market sells on
    # (backup: 8 DKK/kg bought elsewhere). That port gives the plant's product, not only the market's, so
    # the exchange is a link. Per hour by hand: base 500 − 200 × 6 + 0.8 = −699.2 DKK; links off
    # 500 − 300 × 6 + 2.8 + 400 + 100 × 8 = −97.2 DKK
    doc = copy.deepcopy(PARK)
    doc["companies"].append({"id": "buses", "name": "Bus depot", "assets": [
        {"id": "depot", "components": [{"type": "demand", "id": "ethanol", "carrier": ETHANOL, "profile": "100 kg/h",
                                        "backup": {"cost": "8 DKK/kg"}}]}]})
    doc["exchanges"].append({"id": "ethanol_to_depot", "from": "plant.ethanol", "to": "depot.ethanol",
                             "capacity": "1000 kg/h"})
    _, base, off = _whatif(tmp_path, doc)
    assert not {link.id: link.enabled for link in off.links}["ethanol_to_depot"]
    assert run_year(compile_park(base), "base", steps=3).cost == pytest.approx(3 * -699.2, rel=1e-12)
    assert run_year(compile_park(off), "off", steps=3).cost == pytest.approx(3 * -97.2, rel=1e-12)
