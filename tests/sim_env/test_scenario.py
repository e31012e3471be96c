"""What-if overlays: they change what they say, and bad files get errors naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park import ParkError
from sim_env import params as q
from sim_env.scenario import ScenarioError, load_scenario

SCENARIOS = "sim_env/scenarios"


def test_shipped_scenarios_apply(p):
    store = q.park_params(load_scenario(f"{SCENARIOS}/bigger_heat_store.yaml").park)
    assert store[q.P_STORE_CAP] == 2 * p[q.P_STORE_CAP] and store[q.P_STORE_MAX_CH] == 2 * p[q.P_STORE_MAX_CH]
    carbon = load_scenario(f"{SCENARIOS}/high_carbon_price.yaml").park
    assert carbon.market.carbon_price_eur_per_t == 150 and carbon.market.water_price_eur_per_m3 == 0.8
    ely = q.park_params(load_scenario(f"{SCENARIOS}/bigger_electrolyser.yaml").park)
    assert ely[q.P_ELY_RATED] == 4000 and ely[q.P_X_O2] == 640
    bare = load_scenario(f"{SCENARIOS}/no_symbiosis.yaml")
    assert "reused_water_to_ras" not in {e.id for e in bare.park.exchanges}
    assert not bare.park.exchange("oxygen_to_ras").enabled
    assert bare.name == "No symbiosis links"


def test_heat_colder_than_the_store_cannot_charge_it(tmp_path):
    f = tmp_path / "cold.yaml"
    f.write_text("assets:\n  electrolyser: {heat_temp_c: 40}\n  heat_pump: {sink_temp_c: 40}\n")
    cold = q.park_params(load_scenario(f).park)
    assert cold[q.P_X_ELY_HEAT] == 0 and cold[q.P_HP_RATED] == 0


def test_evaluate_reports_each_exchange_flow():
    from sim_env.baselines import make_strategy
    from sim_env.evaluate import evaluate

    flows = evaluate(make_strategy("rule"), hours=24).extra["exchanges"]
    assert set(flows) == {e.id for e in load_scenario(f"{SCENARIOS}/base.yaml").park.exchanges}
    assert flows["oxygen_to_ras"] > 0 and flows["reused_water_to_ras"] > 0


def test_overlay_adds_an_exchange(tmp_path):
    f = tmp_path / "pipe.yaml"
    f.write_text(
        "exchanges:\n  remove: [oxygen_to_ras]\n  add:\n"
        "    - {id: oxygen_to_ras, resource: oxygen, from: electrolyser, to: ras, capacity: 50, unit: kg/h}\n"
    )
    assert q.park_params(load_scenario(f).park)[q.P_X_O2] == 50


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


def test_cli_compare_prints_deltas_and_saves_plot(tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        app,
        ["twin", "compare", f"{SCENARIOS}/base.yaml", f"{SCENARIOS}/no_symbiosis.yaml", "--hours", "72", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "fresh water" in result.output and "No symbiosis links" in result.output
    assert (out / "compare.png").stat().st_size > 10_000
    kpis = json.loads((out / "compare.json").read_text())["kpis"]
    assert kpis["fresh_water_m3"]["delta"] > 0 and kpis["water_reused_m3"]["whatif"] == 0


def test_cli_reports_bad_scenario_without_traceback(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("resize:\n  heat_store: zero\n")
    result = CliRunner().invoke(app, ["twin", "run", str(f), "--hours", "24"])
    assert result.exit_code == 2 and "resize.heat_store" in result.output and "Traceback" not in result.output


def test_cli_run_with_gap(tmp_path):
    out = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["twin", "run", "--hours", "48", "--strategy", "rule", "--gap", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["gap_pct"] >= -1e-6 and data["kpis"]["resource_efficiency"] > 0


@pytest.mark.parametrize("path", sorted(Path(SCENARIOS).glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_loads_and_runs(path):
    from sim_env.baselines import make_strategy
    from sim_env.evaluate import evaluate

    scenario = load_scenario(path)
    result = evaluate(make_strategy("rule"), scenario.park, hours=24)
    assert scenario.name and all(np.isfinite(v) for v in result.kpis.values())


def test_cli_series_writes_a_csv_that_run_replays(tmp_path):
    csv = tmp_path / "year.csv"
    result = CliRunner().invoke(app, ["twin", "series", str(csv), "--exo-seed", "3"])
    assert result.exit_code == 0, result.output
    assert csv.read_text().splitlines()[0].startswith("hour,sea_temp_c")
    out = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["twin", "run", "--hours", "24", "--exo", str(csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["kpis"]["cost_eur"] != 0


def test_cli_reports_a_bad_series_csv(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("hour,sea_temp_c\n0,1\n")
    result = CliRunner().invoke(app, ["twin", "run", "--hours", "24", "--exo", str(csv)])
    assert result.exit_code == 2 and "missing column(s)" in result.output and "Traceback" not in result.output
