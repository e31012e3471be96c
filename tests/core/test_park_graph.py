"""Park description v2: the graph resolved from any park, units, quality rules, and bad files."""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path

import pytest
import yaml

from aisym.park import ParkError, load_park
from aisym.park.graph import Carrier, load_graph, migrate, parse_graph, serves
from aisym.park.quantity import UnitProblem, parse_quantity

# A small park of another kind than Kråkøya: a biomass CHP giving steam at two levels, a
# let-down to hot water for the town, FGD gypsum to a plasterboard plant, surface water.
# The v1 file the shipped park was written from (kept by the speed yardstick): what the migration reads.
V1 = Path(__file__).resolve().parents[2] / "benchmarks" / "kraakoya_yardstick" / "kraakoya_v1.yaml"

SMALL = {
    "schema_version": 2,
    "park": {"id": "small", "name": "Small test park", "currency": "DKK", "carbon_price": "600 DKK/t"},
    "series": {
        "price": {"unit": "DKK/MWh", "price": {"mean": 400, "min": 0, "max": 2000}},
        "town_heat": {"unit": "dimensionless", "seasonal": {"mean": 1.0, "amplitude": 0.5, "coldest_day": 20}},
        "co2": {"unit": "g/kWh", "constant": 120},
    },
    "companies": [
        {"id": "power", "name": "Power station", "assets": [
            {"id": "boiler", "template": "boiler", "params": {
                "fuel": "biomass", "output": "steam", "temperature": "400 degC", "pressure": "40 bar",
                "rated": "60 MW"}},
            {"id": "fgd", "components": [
                {"type": "source", "id": "gypsum", "carrier": {"resource": "material", "ewc": "10 01 05",
                                                               "material": "gypsum"},
                 "profile": "170000 t/yr", "surplus": {"cost": "300 DKK/t", "name": "landfill"}}]},
            {"id": "grid", "template": "grid", "params": {
                "import_max": "50 MW", "export_max": "50 MW", "import_price": {"series": "price"},
                "export_price": {"series": "price"}, "co2": {"series": "co2"}}},
        ]},
        {"id": "fuel", "name": "Fuel supplier", "assets": [
            {"id": "chips", "components": [{"type": "market", "id": "biomass", "carrier": "biomass",
                                            "import_price": "0.8 DKK/kg"}]}]},
        {"id": "refinery", "name": "Refinery", "assets": [
            {"id": "process", "template": "process_plant", "params": {"inputs": {
                "steam": {"carrier": {"resource": "steam", "pressure_bar": 12, "temperature_c": 190},
                          "mean": "20 MW", "backup": {"cost": "500 DKK/MWh", "name": "own gas boiler"}}}}}]},
        {"id": "town", "name": "Town", "assets": [
            {"id": "letdown", "template": "steam_letdown", "params": {
                "output": "heat", "out_temperature": "90 degC", "rated": "30 MW", "in_pressure": "12 bar",
                "in_temperature": "190 degC"}},
            {"id": "district_heat", "template": "district_heating", "params": {
                "annual_heat": "100 GWh/yr", "supply_temp": "80 degC", "profile_series": "town_heat",
                "backup": {"cost": "450 DKK/MWh"}}}]},
        {"id": "gyproc", "name": "Plasterboard plant", "assets": [
            {"id": "plant", "template": "process_plant", "params": {"inputs": {
                "gypsum": {"carrier": {"resource": "material", "ewc": "10 01 05", "material": "gypsum"},
                           "mean": "20 t/h", "backup": {"cost": "400 DKK/t", "name": "mined gypsum"}}}}}]},
    ],
    "exchanges": [
        {"id": "fuel_to_boiler", "from": "chips", "to": "boiler", "capacity": "30 t/h"},
        {"id": "steam_to_refinery", "from": "boiler", "to": "process", "capacity": "30 MW"},
        {"id": "steam_to_letdown", "from": "boiler", "to": "letdown", "capacity": "30 MW"},
        {"id": "town_heat", "from": "letdown.out", "to": "district_heat", "capacity": "30 MW"},
        {"id": "gypsum_to_plasterboard", "from": "fgd.gypsum", "to": "plant.gypsum", "capacity": "30 t/h",
         "transport_cost": "20 DKK/t"},
    ],
}


def _text(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def test_shipped_park_resolves_as_a_graph():
    g = load_graph()
    assert g.id == "kraakoya"
    assert len(g.company_of) == 11  # 10 assets + the water supply the migration writes out
    assert {link.id for link in g.links} >= {e.id for e in load_park(V1).exchanges}
    # every v1 exchange joins the same two assets in v2
    for e in load_park(V1).exchanges:
        link = next(link for link in g.links if link.id == e.id)
        assert (link.src.split(".")[0], link.dst.split(".")[0]) == (e.source, e.sink)
    store = next(n for n in g.nodes if n.key == "heat_store.heat")
    assert store.num["capacity"] == 13300.0
    assert store.num["loss"] == pytest.approx(0.01 / 24)


def test_migrated_text_loads_back_to_the_same_graph():
    g1 = load_graph()
    g2 = parse_graph(yaml.safe_dump(migrate(load_park(V1))), "again.yaml")
    assert [(n.key, n.num, n.val) for n in g1.nodes] == [(n.key, n.num, n.val) for n in g2.nodes]
    assert g1.links == g2.links


def test_another_park_steam_gypsum_and_currency():
    g = parse_graph(_text(SMALL), "small.yaml")
    assert g.currency == "DKK"
    assert g.carbon_price_per_kg == pytest.approx(0.6)
    links = {link.id: link for link in g.links}
    assert links["steam_to_refinery"].capacity == 30000.0  # MW -> kW
    assert links["gypsum_to_plasterboard"].capacity == 30000.0  # t/h -> kg/h
    assert links["gypsum_to_plasterboard"].cost == pytest.approx(0.02)  # DKK/t -> DKK/kg
    assert links["steam_to_letdown"].dst == "letdown.steam"
    gypsum = next(n for n in g.nodes if n.key == "fgd.gypsum")
    assert gypsum.val["profile"].const == pytest.approx(170000e3 / 8760)  # t/yr over the 8,760 h year
    dh = next(n for n in g.nodes if n.key == "district_heat.heat")
    assert dh.val["profile"].series == "town_heat"
    assert dh.val["profile"].scale == pytest.approx(100e6 / 8760)


def _permuted(doc: dict, seed: int) -> dict:
    rng = random.Random(seed)
    d = copy.deepcopy(doc)
    rng.shuffle(d["companies"])
    for c in d["companies"]:
        rng.shuffle(c["assets"])
    rng.shuffle(d["exchanges"])
    d["series"] = dict(rng.sample(list(d["series"].items()), len(d["series"])))
    return d


@pytest.mark.parametrize("doc", [SMALL, None], ids=["small", "kraakoya"])
def test_order_in_the_file_changes_nothing(doc):
    doc = doc or migrate(load_park(V1))
    base = parse_graph(_text(doc), "a.yaml")
    for seed in range(3):
        g = parse_graph(_text(_permuted(doc, seed)), "b.yaml")
        assert [(n.key, n.ports, n.num, n.val, n.text) for n in g.nodes] == [
            (n.key, n.ports, n.num, n.val, n.text) for n in base.nodes]
        assert g.links == base.links
        assert list(g.buses) == list(base.buses)
        assert list(g.series) == list(base.series)


def test_quality_rules():
    heat = lambda t: Carrier(resource="heat", temperature_c=t)  # noqa: E731
    assert serves(heat(90), heat(60)) is None
    assert "colder" in serves(heat(45), heat(60))
    steam = Carrier(resource="steam", pressure_bar=10, temperature_c=180)
    assert "converter" in serves(steam, heat(60))
    assert "bar" in serves(Carrier(resource="steam", pressure_bar=3), Carrier(resource="steam", pressure_bar=12))
    water = lambda g: Carrier(resource="water", grade=g)  # noqa: E731
    assert serves(water("potable"), water("cooling")) is None
    assert serves(water("wastewater"), water("cooling")) is not None
    assert serves(water("treated"), water("potable")) is not None
    gyp = Carrier(resource="material", ewc="100105")
    assert gyp.ewc == "10 01 05"
    assert serves(gyp, Carrier(resource="material", ewc="10 01 02")) is not None


def test_units_through_pint():
    assert parse_quantity("2 MW", "kW") == 2000.0
    assert parse_quantity("6e6 m3/yr", "m3/h") == pytest.approx(6e6 / 8760)
    assert parse_quantity("8e6 Nm3/yr", "Nm3/h") == pytest.approx(8e6 / 8760)
    assert parse_quantity("150 g CO2/kWh", "kg/MWh") == pytest.approx(150.0)
    assert parse_quantity("1 %/d", "1/h") == pytest.approx(0.01 / 24)
    with pytest.raises(UnitProblem, match="a power"):
        parse_quantity("2 MW", "m3/h")
    with pytest.raises(UnitProblem):
        parse_quantity("5 DKK/MWh", "EUR/MWh")


_DELETE = object()


def _set(doc: dict, path: str, value) -> dict:
    d = copy.deepcopy(doc)
    parts = path.split(".")
    cur = d
    for p in parts[:-1]:
        cur = cur[int(p)] if p.isdigit() else cur[p]
    last = parts[-1]
    if value is _DELETE:
        del cur[int(last) if last.isdigit() else last]
    elif last.isdigit():
        cur[int(last)] = value
    else:
        cur[last] = value
    return d


_FGD = "companies.0.assets.1.components.0"

BAD = [
    # (name, path, value, expected message fragment)
    ("incompatible quality", "exchanges.3.to", "process", "cannot serve"),
    ("colder heat", "companies.3.assets.0.params.out_temperature", "60 degC", "colder"),
    ("unknown resource", "exchanges.0.resource", "plasma", "unknown resource"),
    ("unit that cannot convert", "exchanges.1.capacity", "30 degC", "a temperature"),
    ("different resources", "exchanges.4.to", "process.steam", "cannot serve"),
    ("dangling port", "exchanges.3", _DELETE, "nothing takes it"),
    ("duplicate exchange id", "exchanges.1.id", "fuel_to_boiler", "used twice"),
    ("duplicate asset id", "companies.1.assets.0.id", "boiler", "already used"),
    ("duplicate company id", "companies.1.id", "power", "used twice"),
    ("unknown template", "companies.0.assets.0.template", "nuclear_plant", "no template"),
    ("unknown template parameter", "companies.0.assets.0.params.colour", "red", "no parameter 'colour'"),
    ("missing template parameter", "companies.0.assets.0.params.rated", _DELETE, "needs 'rated'"),
    ("unknown asset", "exchanges.1.to", "refinery_x", "no asset 'refinery_x'"),
    ("unknown port", "exchanges.3.from", "letdown.nowhere", "no port 'nowhere'"),
    ("bad EWC code", f"{_FGD}.carrier.ewc", "10 01", "six digits"),
    ("unknown series", "companies.3.assets.1.params.profile_series", "weather", "no series 'weather'"),
    ("series unit mismatch", "series.price.unit", "kg", "does not give"),
    ("quality the resource has not", f"{_FGD}.carrier.temperature_c", 20, "has no quality"),
    ("reserved id", "companies.2.assets.0.id", "data_quality", "platform uses"),
    ("currency of another country", "exchanges.4.transport_cost", "3 EUR/t", "currency_eur"),
    ("neither profile nor price", f"{_FGD}.profile", _DELETE, "'profile'"),
    ("template and components", "companies.0.assets.0.components", [], "not both"),
    ("exchange inside one asset", "exchanges.3.to", "letdown.steam", "two different assets"),
    ("capacity not above zero", "exchanges.1.capacity", 0, "above 0"),
    ("unknown field", "exchanges.1.colour", "red", "unknown field"),
    ("bad currency", "park.currency", "XYZ", "park.currency"),
    ("surplus missing on a must-take source", f"{_FGD}.surplus", _DELETE, "surplus"),
    ("series of two kinds", "series.co2.seasonal", {"mean": 1}, "exactly one"),
]


@pytest.mark.parametrize("name,path,value,fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_files_get_a_located_error(name, path, value, fragment):
    text = _text(_set(SMALL, path, value))
    with pytest.raises(ParkError) as info:
        parse_graph(text, "bad.yaml")
    msg = str(info.value)
    assert fragment in msg, msg
    assert re.search(r"bad\.yaml:\d+:\d+: ", msg), msg


def test_at_least_twenty_kinds_of_bad_file():
    assert len(BAD) >= 20


def test_meter_tag_must_measure_the_flow():
    doc = copy.deepcopy(SMALL)
    doc["companies"][3]["assets"][0]["tags"] = [{"name": "temp", "quantity": "temperature", "unit": "degC",
                                                 "min": 0, "max": 200}]
    doc["exchanges"][3]["meter_tag"] = "letdown.temp"
    with pytest.raises(ParkError, match="cannot meter a heat flow"):
        parse_graph(_text(doc), "m.yaml")
    doc["companies"][3]["assets"][0]["tags"].append({"name": "heat", "quantity": "power", "unit": "MW",
                                                     "min": 0, "max": 40})
    doc["exchanges"][3]["meter_tag"] = "letdown.heat"
    links = {link.id: link for link in parse_graph(_text(doc), "m.yaml").links}
    assert links["town_heat"].meter_tag == "letdown.heat"


def test_a_disconnected_unit_is_simulated_and_said_to_never_run():
    doc = copy.deepcopy(SMALL)
    doc["exchanges"] = [e for e in doc["exchanges"] if e["id"] != "fuel_to_boiler"]
    g = parse_graph(_text(doc), "what_if.yaml")
    assert g.notes == ["boiler.boiler never runs: nothing supplies its fuel (biomass)"]


def test_cli_shows_and_validates_a_v2_park(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app

    path = tmp_path / "small.yaml"
    path.write_text(_text(SMALL))
    r = CliRunner().invoke(app, ["park", "show", str(path)])
    assert r.exit_code == 0 and "Small test park (small, DKK; UTC): 8 assets, 5 exchanges" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(_text(_set(SMALL, "exchanges.1.capacity", "30 degC")))
    r = CliRunner().invoke(app, ["park", "validate", str(bad)])
    assert r.exit_code == 2 and "bad.yaml:" in r.output and "Traceback" not in r.output
    out = tmp_path / "k2.yaml"
    r = CliRunner().invoke(app, ["park", "migrate", str(V1), "-o", str(out)])
    assert r.exit_code == 0 and parse_graph(out.read_text(), str(out)).id == "kraakoya"
    r = CliRunner().invoke(app, ["park", "migrate"])  # the shipped park is v2 already
    assert r.exit_code == 2 and "already a v2 park file" in r.output and "Traceback" not in r.output


def test_a_number_written_as_text_is_a_bare_number():
    assert parse_quantity("1.0e9", "kg/h") == 1e9


def test_a_v1_file_gets_its_own_line_for_a_meter_that_cannot_measure_the_flow(tmp_path):
    text = V1.read_text()
    text = text.replace("meter_tag: chp.heat_out}", "meter_tag: heat_store.temp_top}")
    with pytest.raises(ParkError) as info:
        parse_graph(text, "mine.yaml")
    msg = str(info.value)
    assert "migrated" not in msg and re.search(r"mine\.yaml:\d+:\d+: exchanges\[4\]\.meter_tag: heat_store\.temp_top "
                                               r"measures temperature in degC: it cannot meter a heat flow", msg), msg
