"""A user's v1 overlays (``sim_env/graph/v1_overlay.py``) on their v1 park, run on the compiled twin.

Kråkøya's own scenarios are v2 what-ifs now (``aisym/parks/kraakoya_whatif/``); these tests use
the small v1 park of ``tests/core/data/small_v1.yaml``. Overlays change what they say, and bad
files get errors naming file, line and field.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park import ParkError, load_park
from sim_env.graph.v1_overlay import ScenarioError, load_scenario
from tests.core.test_park_view import SMALL_V1

OVERLAY = """name: Bigger store, dear carbon, no O2 link
resize: {heat_store: 2.0}
market: {carbon_price_eur_per_t: 150}
exchanges:
  disable: [oxygen_to_ras]
  remove: [store_heat_to_ras]
"""


def test_an_overlay_changes_what_it_says(tmp_path):
    f = tmp_path / "what.yaml"
    f.write_text(OVERLAY, encoding="utf-8")
    base, sc = load_park(SMALL_V1), load_scenario(f, SMALL_V1)
    store = sc.park.assets["heat_store"]
    assert store.capacity_kwh == 2 * base.assets["heat_store"].capacity_kwh
    assert store.max_charge_kw == 2 * base.assets["heat_store"].max_charge_kw
    assert sc.park.market.carbon_price_eur_per_t == 150 and sc.park.market.water_price_eur_per_m3 == 0.8
    assert "store_heat_to_ras" not in {e.id for e in sc.park.exchanges}
    assert not sc.park.exchange("oxygen_to_ras").enabled
    assert sc.name == "Bigger store, dear carbon, no O2 link"


def test_overlay_adds_an_exchange(tmp_path):
    f = tmp_path / "pipe.yaml"
    f.write_text(
        "exchanges:\n  remove: [oxygen_to_ras]\n  add:\n"
        "    - {id: oxygen_to_ras, resource: oxygen, from: electrolyser, to: ras, capacity: 50, unit: kg/h}\n"
    )
    assert load_scenario(f, SMALL_V1).park.exchange("oxygen_to_ras").capacity == 50


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
        ("assets:\n  grid: {kind: heat_pump}\n", ":2: assets.grid.kind: cannot change"),
        ("market: [1, 2]\n", ":1: market: must be a mapping"),
        ("name: [unclosed\n", "YAML syntax"),
    ],
)
def test_bad_overlay_names_file_line_and_field(tmp_path, text, where):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(f, SMALL_V1)
    assert str(e.value).startswith(str(f)) and where in str(e.value), str(e.value)


def test_invalid_merged_park_names_the_field(tmp_path):
    f = tmp_path / "neg.yaml"
    f.write_text("assets:\n  heat_store: {capacity_kwh: -5}\n")
    with pytest.raises(ParkError) as e:
        load_scenario(f, SMALL_V1)
    assert "capacity_kwh" in str(e.value) and "greater than 0" in str(e.value) and "neg.yaml" in str(e.value)
    f.write_text("exchanges:\n  add:\n    - {id: x1, resource: heat, from: grid, to: ras, capacity: 5, unit: kW}\n")
    with pytest.raises(ParkError, match="cannot hand out heat"):
        load_scenario(f, SMALL_V1)


def test_cli_reports_a_bad_overlay_without_traceback(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("resize:\n  heat_store: zero\n")
    result = CliRunner().invoke(app, ["bench", "--park", str(SMALL_V1), "--scenario", str(f), "--hours", "24"])
    assert result.exit_code == 2 and "resize.heat_store" in result.output and "Traceback" not in result.output


def test_cli_run_of_a_shipped_whatif_with_gap(tmp_path):
    out = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["twin", "run", "aisym/parks/kraakoya_whatif/bigger_heat_store.yaml", "--hours", "48",
                                      "--strategy", "rule", "--gap", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["scenario"] == "bigger_heat_store" and data["gap_pct"] >= -1e-6


def test_a_v1_overlay_on_a_v2_park_is_one_line_not_245_problems(tmp_path):
    """Before: `bench --park kalundborg.yaml --scenario cold_winter` listed 245 "problems" of the merged file."""
    cold = tmp_path / "cold_winter.yaml"
    cold.write_text("name: Cold winter\nmerge:\n  climate:\n    freshwater_temp_c: {mean: 1.5, amplitude: 2.0}\n")
    for park in ("aisym/parks/kalundborg.yaml", None):  # the shipped Kråkøya is v2 too
        with pytest.raises(ScenarioError, match=r"v1 overlay applies to a v1 park.*not to the v2 park"):
            load_scenario(cold, park)
    res = CliRunner().invoke(app, ["bench", "--park", "aisym/parks/kalundborg.yaml", "--scenario", str(cold)])
    assert res.exit_code == 2 and res.stderr.count("\n") <= 1 and "twin whatif" in res.stderr, res.output
