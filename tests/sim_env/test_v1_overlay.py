"""Kråkøya's what-if overlays (``sim_env/scenarios``, ``sim_env/graph/v1_overlay.py``) on the compiled twin.

They change what they say, and bad files get errors naming file, line and field (the overlay
tests of the retired hand-written twin, kept for the overlays that now run on the compiled twin).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park import ParkError
from sim_env.graph.v1_overlay import ScenarioError, load_scenario

SCENARIOS = "sim_env/scenarios"


def test_shipped_scenarios_apply():
    base = load_scenario(f"{SCENARIOS}/base.yaml").park
    store = load_scenario(f"{SCENARIOS}/bigger_heat_store.yaml").park.assets["heat_store"]
    assert store.capacity_kwh == 2 * base.assets["heat_store"].capacity_kwh
    assert store.max_charge_kw == 2 * base.assets["heat_store"].max_charge_kw
    carbon = load_scenario(f"{SCENARIOS}/high_carbon_price.yaml").park
    assert carbon.market.carbon_price_eur_per_t == 150 and carbon.market.water_price_eur_per_m3 == 0.8
    assert load_scenario(f"{SCENARIOS}/bigger_electrolyser.yaml").park.assets["electrolyser"].rated_kw == 4000
    bare = load_scenario(f"{SCENARIOS}/no_symbiosis.yaml")
    assert "reused_water_to_ras" not in {e.id for e in bare.park.exchanges}
    assert not bare.park.exchange("oxygen_to_ras").enabled
    assert bare.name == "No symbiosis links"


def test_overlay_adds_an_exchange(tmp_path):
    f = tmp_path / "pipe.yaml"
    f.write_text(
        "exchanges:\n  remove: [oxygen_to_ras]\n  add:\n"
        "    - {id: oxygen_to_ras, resource: oxygen, from: electrolyser, to: ras, capacity: 50, unit: kg/h}\n"
    )
    assert load_scenario(f).park.exchange("oxygen_to_ras").capacity == 50


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: x\nmarkt: {carbon_price_eur_per_t: 1}\n", ":2: markt: unknown key"),
        ("assets:\n  heat_tank: {capacity_kwh: 5}\n", ":2: assets.heat_tank: no asset 'heat_tank'"),
        ("resize:\n  heat_store: -2\n", ":2: resize.heat_store: the factor must be a positive number"),
        ("resize:\n  ras: 2\n", "resize.ras: a fish_farm has no size to scale"),
        ("exchanges:\n  disable: [o2_pipe]\n", ":2: exchanges.disable.0: no exchange 'o2_pipe'"),
        ("exchanges:\n  drop: [oxygen_to_ras]\n", ":2: exchanges.drop: unknown operation"),
        ("exchanges:\n  add:\n    - {id: oxygen_to_ras}\n", "exchanges.add.0.id: exchange 'oxygen_to_ras' already exists"),
        ("assets:\n  chp: {kind: heat_pump}\n", ":2: assets.chp.kind: cannot change"),
        ("market: [1, 2]\n", ":1: market: must be a mapping"),
        ("name: [unclosed\n", "YAML syntax"),
    ],
)
def test_bad_overlay_names_file_line_and_field(tmp_path, text, where):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    assert str(e.value).startswith(str(f)) and where in str(e.value), str(e.value)


def test_invalid_merged_park_names_the_field(tmp_path):
    f = tmp_path / "neg.yaml"
    f.write_text("assets:\n  heat_store: {capacity_kwh: -5}\n")
    with pytest.raises(ParkError) as e:
        load_scenario(f)
    assert "capacity_kwh" in str(e.value) and "greater than 0" in str(e.value) and "neg.yaml" in str(e.value)
    f.write_text("exchanges:\n  add:\n    - {id: x1, resource: heat, from: grid, to: ras, capacity: 5, unit: kW}\n")
    with pytest.raises(ParkError, match="cannot hand out heat"):
        load_scenario(f)


def test_cli_reports_a_bad_overlay_without_traceback(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("resize:\n  heat_store: zero\n")
    result = CliRunner().invoke(app, ["twin", "run", str(f), "--hours", "24"])
    assert result.exit_code == 2 and "resize.heat_store" in result.output and "Traceback" not in result.output


def test_cli_run_of_an_overlay_with_gap(tmp_path):
    out = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["twin", "run", f"{SCENARIOS}/bigger_heat_store.yaml", "--hours", "48",
                                      "--strategy", "rule", "--gap", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["scenario"] == "bigger_heat_store" and data["gap_pct"] >= -1e-6


def test_a_v1_overlay_on_a_v2_park_is_one_line_not_245_problems():
    """Before: `bench --park kalundborg.yaml --scenario cold_winter` listed 245 "problems" of the merged file."""
    with pytest.raises(ScenarioError, match=r"v1 overlay.*does not apply to the v2 park"):
        load_scenario("sim_env/scenarios/cold_winter.yaml", "aisym/parks/kalundborg.yaml")
    res = CliRunner().invoke(app, ["bench", "--park", "aisym/parks/kalundborg.yaml", "--scenario", "cold_winter"])
    assert res.exit_code == 2 and res.stderr.count("\n") <= 1 and "twin whatif" in res.stderr, res.output
