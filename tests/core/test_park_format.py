"""Issue 22, findings 10 and 11 and item 4: the park format's gaps, each closed with a test.

Each test builds a small v2 park of its own and reads what validation makes of it: a refused
file names the field at fault, an accepted one is checked number by number against a hand
calculation written beside it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from aisym.park import ParkError
from aisym.park.graph import parse_graph
from aisym.park.graph.template_docs import markdown

ROOT = Path(__file__).resolve().parents[2]
LHV_CH4 = 9.97  # kWh per Nm³ of CH4, the upgrader's biomethane flow unit


def park(companies: list[dict], exchanges: list[dict] = (), series: dict | None = None, **info) -> dict:
    return {"schema_version": 2, "park": {"id": "t", "name": "Test park", "currency": "SEK", **info},
            "series": series or {}, "companies": companies, "exchanges": list(exchanges)}


def company(cid: str, *assets: dict) -> dict:
    return {"id": cid, "name": cid.title(), "assets": list(assets)}


def load(doc: dict):
    return parse_graph(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), "t.yaml")


def refused(doc: dict) -> str:
    with pytest.raises(ParkError) as e:
        load(doc)
    return str(e.value)


def node(g, key: str):
    return next(n for n in g.nodes if n.key == key)


GRID = {"id": "grid", "template": "grid", "params": {
    "import_price": "0.9 SEK/kWh", "export_price": "0.4 SEK/kWh", "import_max": "5 MW", "export_max": "5 MW",
    "co2": "50 g/kWh"}}


# -- finding 10 ------------------------------------------------------------------------------

def _chp_park(to: str) -> dict:
    chp = {"id": "chp", "template": "chp", "params": {"eta_el": 0.4, "eta_th": 0.45, "ch4_fraction": 0.6,
                                                      "rated_el": "500 kW"}}
    plant = {"id": "plant", "template": "process_plant", "params": {"outputs": {"heat": {
        "carrier": {"resource": "heat", "temperature_c": 95}, "mean": "200 kW", "surplus": {"cost": 0}}}}}
    return park([company("energy", chp, GRID), company("mill", plant)],
                [{"id": "power_out", "from": "chp.electricity", "to": "grid.electricity", "capacity": "1 MW"},
                 {"id": "heat_in", "from": "plant.heat", "to": to, "capacity": "1 MW"}])


@pytest.mark.parametrize("to", ["chp.heat", "chp"])
def test_an_exchange_into_a_converter_output_is_refused(to):
    # chp.heat is where the engine gives its heat and only the heat dump takes: before, the file
    # was accepted and the exchange carried 0 all year.
    msg = refused(_chp_park(to))
    assert "exchanges[1].to" in msg and "chp.engine's heat output" in msg, msg


def test_an_exchange_into_a_shared_header_is_accepted():
    # where a demand also takes from the output port (a town's heat main fed by its heat pump and
    # by a neighbour), the exchange has a real taker and stays accepted (Kalundborg's network.heat)
    doc = _chp_park("town.heat")
    doc["companies"].append(company("town", {"id": "town", "template": "district_heating", "params": {
        "annual_heat": "2 GWh/yr", "supply_temp": "80 degC", "backup": {"cost": "0.5 SEK/kWh"}}}))
    assert {link.id for link in load(doc).links} == {"power_out", "heat_in"}


def _upgrader(price=None, **more) -> dict:
    params = {"ch4_fraction": 0.6, "capacity": "300 Nm3/h", "electricity_per_nm3": "0.25 kWh/Nm3", **more}
    if price is not None:
        params["biomethane_price"] = price
    return {"id": "upg", "template": "biogas_upgrader", "params": params}


@pytest.mark.parametrize("price, sek_per_nm3", [
    (800, 800 * LHV_CH4 / 1000),  # bare: SEK/MWh, as before
    ("800 SEK/MWh", 800 * LHV_CH4 / 1000),  # crashed validation before
    ("0.8 SEK/kWh", 800 * LHV_CH4 / 1000),
    ("70 EUR/MWh", 70 * 11.5 * LHV_CH4 / 1000),  # the park's currency table
])
def test_a_price_tag_in_any_currency_per_energy(price, sek_per_nm3):
    rates = {"exchange_rates": {"EUR": 11.5}} if "EUR" in str(price) else {}
    g = load(park([company("gas", _upgrader(price), GRID)], **rates))
    assert node(g, "upg.biomethane").val["export_price"].const == pytest.approx(sek_per_nm3, rel=1e-12)


def test_a_currency_not_in_the_table_is_refused_by_name():
    msg = refused(park([company("gas", _upgrader("70 EUR/MWh"), GRID)]))
    assert "exchange_rates" in msg and "EUR" in msg and "params" in msg, msg


def test_the_carbon_price_converts_through_the_table():
    g = load(park([company("gas", GRID)], carbon_price="80 EUR/t", exchange_rates={"EUR": 11.5}))
    assert g.carbon_price_per_kg == pytest.approx(80 * 11.5 / 1000)


def test_park_show_prints_the_tags_of_a_v2_file(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app

    doc = _chp_park("grid.electricity")
    doc["exchanges"] = doc["exchanges"][:1]
    doc["exchanges"][0]["meter_tag"] = "chp.power_out"
    doc["companies"][0]["assets"][0]["tags"] = [
        {"name": "power_out", "quantity": "power", "unit": "kW", "min": 0, "max": 600},
        {"name": "jacket_temp", "quantity": "temperature", "unit": "degC", "min": 20, "max": 110}]
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = CliRunner().invoke(app, ["park", "show", str(path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    shown = [line for line in res.output.splitlines() if "chp.power_out" in line or "chp.jacket_temp" in line]
    assert len(shown) == 2, res.output  # before: 0 of the 2 tags shown
    meter = next(line for line in shown if "chp.power_out" in line)
    assert "kW" in meter and meter.count("power_out") == 2  # the tag, and the exchange it meters


def test_the_parks_own_currency_in_its_table_is_refused():
    msg = refused(park([company("gas", GRID)], exchange_rates={"SEK": 1.0, "EUR": 11.5}))
    assert "park.exchange_rates.SEK" in msg and "own currency" in msg, msg


def test_a_gas_priced_per_kg_and_hydrogen_metered_in_nm3():
    # biomethane of 97 % CH4, the rest CO2: 0.97 × 0.717 + 0.03 × 1.977 = 0.75480 kg/Nm³ (NIST)
    gas = {"resource": "biomethane", "ch4_fraction": 0.97}
    h2 = {"resource": "hydrogen"}
    g = load(park([company("gas", {"id": "depot", "components": [
        {"type": "market", "id": "gas", "carrier": gas, "export_price": "12 SEK/kg"},
        {"type": "market", "id": "h2", "carrier": h2, "export_price": "60 SEK/kg", "export_max": "500 Nm3/h"}]})]))
    assert node(g, "depot.gas").val["export_price"].const == pytest.approx(12 * (0.97 * 0.717 + 0.03 * 1.977))
    assert node(g, "depot.h2").num["export_max"] == pytest.approx(500 * 0.0899)  # kg/h


# -- finding 11 ------------------------------------------------------------------------------

ETHANOL = {"resource": "material", "material": "ethanol", "density_kg_per_m3": 789}  # [S] 789 kg/m³ at 20 °C


def test_a_liquid_by_volume_through_its_density():
    still = {"id": "still", "tags": [{"name": "ethanol_flow", "quantity": "volume_flow", "unit": "m3/h",
                                      "min": 0, "max": 50}],
             "components": [{"type": "source", "id": "ethanol", "carrier": ETHANOL, "profile": "10 m3/h",
                             "surplus": {"cost": "200 SEK/m3", "name": "stored for sale"}}]}
    depot = {"id": "depot", "components": [{"type": "market", "id": "ethanol", "carrier": ETHANOL,
                                            "export_price": "6000 SEK/m3", "export_max": "30 m3/h"}]}
    g = load(park([company("distillery", still), company("trader", depot)],
                  [{"id": "ethanol_out", "from": "still.ethanol", "to": "depot.ethanol", "capacity": "12 m3/h",
                    "meter_tag": "still.ethanol_flow"}]))
    assert node(g, "still.ethanol").val["profile"].const == pytest.approx(7890.0)  # 10 m³/h × 789 kg/m³
    assert node(g, "still.ethanol").val["surplus_cost"].const == pytest.approx(200 / 789)
    assert node(g, "depot.ethanol").val["export_price"].const == pytest.approx(6000 / 789)
    assert node(g, "depot.ethanol").num["export_max"] == pytest.approx(30 * 789)
    assert g.links[0].capacity == pytest.approx(12 * 789)


def test_a_volume_meter_without_a_density_is_refused():
    carrier = {"resource": "material", "material": "ethanol"}
    still = {"id": "still", "tags": [{"name": "flow", "quantity": "volume_flow", "unit": "m3/h", "min": 0, "max": 9}],
             "components": [{"type": "source", "id": "ethanol", "carrier": carrier, "profile": "7 t/h",
                             "surplus": {"cost": 0}}]}
    depot = {"id": "depot", "components": [{"type": "market", "id": "ethanol", "carrier": carrier,
                                            "export_price": "8 SEK/kg"}]}
    msg = refused(park([company("d", still), company("t", depot)],
                       [{"id": "x", "from": "still.ethanol", "to": "depot.ethanol", "capacity": "9 t/h",
                         "meter_tag": "still.flow"}]))
    assert "meter_tag" in msg and "density_kg_per_m3" in msg, msg


def test_a_clipped_season_states_its_real_mean():
    # A beet campaign written as a cosine cut at 0: mean 0.2, amplitude 1, peak on day 300.
    # By hand: the mean of max(0, 0.2 + cos(2π(d - 300)/365)) over the year,
    # (1/π)·(0.2·acos(-0.2) + sqrt(1 - 0.04)) = 0.4496 for a continuous year.
    series = {"campaign": {"unit": "dimensionless", "seasonal": {"mean": 0.2, "amplitude": 1.0, "peak_day": 300,
                                                                 "min": 0.0}}}
    g = load(park([company("gas", GRID)], series=series))
    by_hand = (0.2 * math.acos(-0.2) + math.sqrt(1 - 0.04)) / math.pi
    note = next(n for n in g.notes if n.startswith("series campaign"))
    assert f"{by_hand:.4g}" in note and "not the stated mean 0.2" in note, note


@pytest.mark.parametrize("start, end, days", [(100, 199, 100), (260, 20, 126)])  # the second over the new year
def test_a_campaign_season_whose_mean_is_the_series_mean(start, end, days):
    # A sugar campaign of `days` days at a mean of 100 t/h over the year: by hand, 100 × 365 / days
    # in the campaign, 0 outside; the twin's generator reads it as the clipped seasonal it becomes.
    exo = pytest.importorskip("sim_env.graph.exogenous")
    series = {"cane": {"unit": "t/h", "campaign": {"mean": 100, "start_day": start, "end_day": end}}}
    g = load(park([company("gas", GRID)], series=series))
    assert g.series["cane"].kind == "seasonal"
    assert not [n for n in g.notes if n.startswith("series cane")]  # its mean is the stated one
    year = exo.generate(g)["cane"][0]
    on = year > 0
    assert on.sum() == days * 24
    assert year[on] == pytest.approx(100 * 365 / days, rel=1e-9)
    assert year.mean() == pytest.approx(100, rel=1e-12)
    first_hour = (start - 1) * 24
    assert on[first_hour] and not on[first_hour - 1]


def _digester_park(**extra) -> dict:
    dig = {"id": "dig", "template": "digester", "params": {
        "retention": "20 d", "design_feed": "500 kg/h", "feed_dry_matter": 0.08, "vs_per_ts": 0.7,
        "ch4_fraction": 0.62, "ch4_yield": "0.3 Nm3/kg", "temperature": "38 degC", "feed_temp": "10 degC",
        "heat_loss": "30 kW", "electricity": "20 kW", "heat_backup": {"cost": "0.6 SEK/kWh"}, **extra}}
    farm = {"id": "farm", "template": "process_plant", "params": {"inputs": {"digestate": {
        "carrier": {"resource": "sludge"}, "mean": "100 kg/h", "backup": {"cost": "0.1 SEK/kg",
                                                                       "name": "mineral fertiliser"}}}}}
    return park([company("biogas", dig, GRID), company("farm", farm)],
                [{"id": "power", "from": "grid.electricity", "to": "dig.electricity", "capacity": "1 MW"},
                 {"id": "digestate", "from": "dig.digestate", "to": "farm.digestate", "capacity": "1 t/h"}])


def test_the_digester_gives_digestate():
    g = load(_digester_park(digestate_cost="0.05 SEK/kg"))
    assert node(g, "dig.feed").ports["digestate"].ratio.const == pytest.approx(1 - 0.7)  # the non-volatile part
    assert node(g, "dig.digestate").val["cost"].const == pytest.approx(0.05)  # what no exchange takes
    assert {link.id for link in g.links} == {"power", "digestate"}


def test_the_upgrader_sells_through_any_market():
    gas_grid = {"id": "gas_grid", "components": [{"type": "market", "id": "biomethane",
                                                  "carrier": {"resource": "biomethane", "ch4_fraction": 0.95},
                                                  "export_price": "0.7 SEK/kWh"}]}
    g = load(park([company("gas", _upgrader(), GRID), company("dso", gas_grid)],
                  [{"id": "injection", "from": "upg.biomethane", "to": "gas_grid.biomethane",
                    "capacity": "200 Nm3/h"}]))
    assert not [n for n in g.nodes if n.asset == "upg" and n.type == "market"]  # no market of its own
    # 0.7 SEK/kWh × the gas grid carrier's heating value, 0.95 × 9.97 kWh/Nm³
    assert node(g, "gas_grid.biomethane").val["export_price"].const == pytest.approx(0.7 * 0.95 * LHV_CH4)


def _boiler_park(**params) -> dict:
    boiler = {"id": "boiler", "template": "boiler", "params": {
        "fuel": "biomass", "output": "heat", "temperature": "90 degC", "rated": "5 MW", "efficiency": 0.9, **params}}
    town = {"id": "town", "template": "district_heating", "params": {"annual_heat": "20 GWh/yr", "supply_temp": "80 degC",
                                                                     "backup": {"cost": "0.6 SEK/kWh"}}}
    return park([company("energy", boiler), company("town", town)],
                [{"id": "heat", "from": "boiler.heat", "to": "town.heat", "capacity": "5 MW"}])


@pytest.mark.parametrize("params, kg_dm_per_kwh", [
    ({"fuel_lhv": "3.5 kWh/kg", "fuel_lhv_basis": "wet", "fuel_dry_matter": 0.55}, 0.55 / (0.9 * 3.5)),
    ({"fuel_lhv": "18.7 MJ/kg", "fuel_lhv_basis": "dry"}, 1 / (0.9 * 18.7 / 3.6)),
    ({}, 0.75 / (0.9 * 4.2)),  # the cited defaults: 4.2 kWh per wet kg at 25 % moisture
])
def test_biomass_fuel_states_its_wet_or_dry_basis(params, kg_dm_per_kwh):
    g = load(_boiler_park(**params))
    assert node(g, "boiler.boiler").ports["fuel"].ratio.const == pytest.approx(kg_dm_per_kwh, rel=1e-12)


def test_a_dry_matter_share_with_a_dry_basis_is_refused():
    msg = refused(_boiler_park(fuel_lhv_basis="dry", fuel_dry_matter=0.5))
    assert "params.fuel_dry_matter" in msg and "wet" in msg, msg


WOOD = {"fuel_lhv": "3.5 kWh/kg", "fuel_lhv_basis": "wet", "fuel_dry_matter": 0.55}


@pytest.mark.parametrize("price, sek_per_kg_dm", [
    # by hand: one kg of dry matter short is 3.5 / 0.55 = 6.364 kWh of wood at η 0.9; gas at the
    # same η gives the same heat from 6.364 kWh of gas, i.e. 6.364 / 10.5 Nm³
    ("0.45 SEK/kWh", 0.45 * 3.5 / 0.55),
    ("5 SEK/Nm3", 5 * 3.5 / 0.55 / 10.5),
    (5, 5 * 3.5 / 0.55 / 10.5),  # bare: per Nm³
])
def test_a_boiler_with_a_fallback_fuel(price, sek_per_kg_dm):
    g = load(_boiler_park(**WOOD, fallback_fuel={"fuel": "natural_gas", "price": price}))
    backup = node(g, "boiler.boiler").ports["fuel"].backup
    assert backup.cost.const == pytest.approx(sek_per_kg_dm, rel=1e-12)
    assert backup.co2.const == pytest.approx(0.202 * 3.5 / 0.55, rel=1e-12)  # fossil CO2 of that gas


def test_the_twin_fires_the_fallback_fuel_when_no_wood_comes():
    # No chips are delivered: the town's 20 GWh/yr (2,283.1 kW) is made from gas for a day. By
    # hand: 2,283.1 kWh/h × 24 h / η 0.9 × 0.45 SEK/kWh = 27,397 SEK; 0.202 kg/kWh → 12.30 t CO2.
    pytest.importorskip("sim_env.graph.compile")
    from sim_env.graph.compile import compile_park
    from sim_env.graph.whatif import run_year

    g = load(_boiler_park(**WOOD, fallback_fuel={"fuel": "natural_gas", "price": "0.45 SEK/kWh"}))
    day = run_year(compile_park(g), "no wood", steps=24)
    heat_kwh = 20e6 / 8760 * 24
    assert day.cost == pytest.approx(heat_kwh / 0.9 * 0.45, rel=1e-9)
    assert day.co2_t == pytest.approx(heat_kwh / 0.9 * 0.202 / 1000, rel=1e-9)
    assert day.backup == {"boiler.boiler": pytest.approx(heat_kwh * 0.55 / (0.9 * 3.5), rel=1e-9)}  # kg DM


def test_a_fallback_fuel_field_is_named_when_wrong():
    msg = refused(_boiler_park(**WOOD, fallback_fuel={"fuel": "natural_gas", "prise": 5}))
    assert "params.fallback_fuel" in msg and "fallback_fuel.prise" in msg, msg


# -- item 4 ----------------------------------------------------------------------------------

def test_the_template_reference_is_generated_from_the_code():
    committed = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    assert committed == markdown(), "docs/templates.md is stale: python -m aisym.park.graph.template_docs > docs/templates.md"
    # spot checks: a unit, a cited default, a branch
    assert "| `ch4_slip` | 0–1 | 0.001 — [E] amine ≈0.1 %" in committed
    assert "| `pressure` | bar | required | ≥ 0; only with output: steam |" in committed
