"""The leaderboard of any park: scenarios resolved from what-ifs, v1 overlays and park files; gaps
measured against the optimum of the same scenario and year."""

from __future__ import annotations

import csv
import io

import pytest
from rich.console import Console

from sim_env.graph.bench import bench_any_park, default_scenarios, resolve_graph_scenario, resolve_graph_strategy

KALUNDBORG = "aisym/parks/kalundborg.yaml"


def test_kalundborg_ships_three_what_ifs_and_each_resolves():
    specs = default_scenarios(KALUNDBORG)
    assert specs[0] == "base" and len(specs) == 4
    names = {resolve_graph_scenario(s, KALUNDBORG)[0] for s in specs}
    assert names == {"base", "all_links_off", "no_biogas_plant", "no_heat_pump"}
    _, g = resolve_graph_scenario("aisym/parks/kalundborg_whatif/no_heat_pump.yaml", KALUNDBORG)
    assert "network.heat_pump" not in {n.key for n in g.nodes}


def test_a_v1_overlay_applies_to_kraakoya_and_converts():
    name, g = resolve_graph_scenario("cold_winter", "aisym/parks/kraakoya.yaml")
    assert name == "cold_winter" and g.park.id == "kraakoya"


def test_unknown_scenarios_and_strategies_are_refused_with_what_exists():
    with pytest.raises(ValueError, match=r"no scenario 'arctic'.*cold_winter"):
        resolve_graph_scenario("arctic", KALUNDBORG)
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml"):
        resolve_graph_scenario("nope.yaml", KALUNDBORG)
    with pytest.raises(ValueError, match="use one of random, rule, mpc, optimum"):
        resolve_graph_strategy("greedy")
    with pytest.raises(ValueError, match="cannot import"):
        resolve_graph_strategy("no_such_module:Thing")


def test_a_day_of_kalundborg_ranks_every_strategy_against_its_optimum(tmp_path):
    files = bench_any_park(KALUNDBORG, ["rule", "random"], ["base", "aisym/parks/kalundborg_whatif/no_heat_pump.yaml"],
                           (1001,), 24.0, tmp_path, Console(file=io.StringIO()))
    rows = list(csv.DictReader(files["runs"].open()))
    assert {(r["scenario"], r["strategy"]) for r in rows} == {
        (s, k) for s in ("base", "no_heat_pump") for k in ("optimum", "rule", "random")}
    for r in rows:
        if r["strategy"] == "optimum":
            assert float(r["gap_pct"]) == 0.0
    md = files["markdown"].read_text()
    assert "cost (DKK)" in md and "no_heat_pump" in md
    assert files["plot"].stat().st_size > 10_000


def test_twin_run_on_a_v2_park_uses_the_compiled_twin(tmp_path):
    import json

    from typer.testing import CliRunner

    from aisym.cli import app

    out = tmp_path / "kpis.json"
    r = CliRunner().invoke(app, ["twin", "run", KALUNDBORG, "--hours", "24", "--strategy", "rule", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data["kpis"]["objective"] > 0 and data["totals"]["cost"] == pytest.approx(data["kpis"]["cost"])
    r = CliRunner().invoke(app, ["twin", "run", KALUNDBORG, "--hours", "2", "--strategy", "greedy"])
    assert r.exit_code == 2 and "choose one of random, rule, mpc, optimum" in r.output
