"""The leaderboard of any park: scenarios resolved from what-ifs (by name beside the park, or by path),
a user's v1 overlays and park files; gaps
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


def test_a_whatif_of_a_park_resolves_by_name():
    name, g = resolve_graph_scenario("no_heat_pump", KALUNDBORG)
    assert name == "no_heat_pump" and "network.heat_pump" not in {n.key for n in g.nodes}


def test_unknown_scenarios_and_strategies_are_refused_with_what_exists():
    with pytest.raises(ValueError, match=r"no scenario 'arctic'.*all_links_off"):
        resolve_graph_scenario("arctic", KALUNDBORG)
    with pytest.raises(ValueError, match=r"no scenario 'arctic'.*cold_winter"):
        resolve_graph_scenario("arctic", None)
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml"):
        resolve_graph_scenario("nope.yaml", KALUNDBORG)
    with pytest.raises(ValueError, match="use one of random, rule, mpc, mpc_perfect, mpc_learned, optimum"):
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
    assert r.exit_code == 2 and "choose one of random, rule, mpc, mpc_perfect, mpc_learned, optimum" in r.output


# -- issue 18, finding 15 -------------------------------------------------------------------------
def _bench(tmp_path, strategies, scenarios, park=KALUNDBORG, hours=24.0):
    out = io.StringIO()
    files = bench_any_park(park, strategies, scenarios, (1001,), hours, tmp_path, Console(file=out, width=200))
    return files, list(csv.DictReader(files["runs"].open())), out.getvalue()


def test_leaderboard_csvs_name_money_by_the_parks_currency(tmp_path):
    files, rows, _ = _bench(tmp_path, ["rule"], ["base"])
    assert {"cost_dkk", "objective_dkk", "stored_value_dkk"} <= set(rows[0]) and "cost_eur" not in rows[0]
    summary = next(csv.reader(files["summary"].open()))
    assert "cost_dkk" in summary and "cost_dkk_std" in summary and not any("eur" in c for c in summary)


def test_over_a_day_no_strategy_beats_the_optimum_and_the_output_says_what_is_compared(tmp_path):
    """Over 24 h random emptied Kalundborg's gas holder and ranked 0.42 % above the optimum, which must end
    its stores at their start levels; its stored content is now valued at the optimum's end prices."""
    files, rows, printed = _bench(tmp_path, ["random", "rule", "mpc"], ["base"])
    gaps = {r["strategy"]: float(r["gap_pct"]) for r in rows}
    assert gaps["optimum"] == 0.0
    assert min(gaps.values()) >= -0.01, gaps  # the MIP gap (1e-4) is all the optimum may lose by
    rand = next(r for r in rows if r["strategy"] == "random")
    assert float(rand["stored_value_dkk"]) < 0  # random left the stores emptier than it found them
    for text in (printed, files["markdown"].read_text()):
        assert "stored content gained" in text and "shadow prices" in text


def test_a_policy_for_another_park_is_an_n_a_row_with_its_reason(tmp_path):
    """The shipped Kråkøya policy on Kråkøya runs; on a Kalundborg scenario it is n/a and says why."""
    files, rows, printed = _bench(tmp_path, ["ppo=kraakoya_ppo"], ["base", KALUNDBORG], park="aisym/parks/kraakoya.yaml",
                                  hours=6.0)
    ppo = {r["scenario"]: r for r in rows if r["strategy"] == "ppo"}
    assert set(ppo) == {"base", "kalundborg"}
    assert ppo["base"]["note"] == "" and float(ppo["base"]["cost_eur"]) > 0
    assert ppo["kalundborg"]["cost_eur"] == "n/a" and "does not fit park 'kalundborg'" in ppo["kalundborg"]["note"]
    assert "does not fit park 'kalundborg'" in printed and "does not fit" in files["markdown"].read_text()


def test_a_policy_that_fits_no_scenario_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match=r"fits none of the scenarios.*does not fit park 'kalundborg'"):
        _bench(tmp_path, ["ppo=kraakoya_ppo"], ["base"])
    assert not (tmp_path / "leaderboard.csv").exists()


def test_the_optimum_reports_highs_progress_while_it_solves():
    from sim_env.graph.baselines import make_graph_strategy
    from sim_env.graph.evaluate import evaluate

    lines: list[str] = []
    opt = make_graph_strategy("optimum", progress=lines.append)
    evaluate(opt, KALUNDBORG, hours=168, exo_seed=1001)
    assert lines and lines[0].startswith("LP built")
    assert any(line.startswith("HiGHS ") and " s, " in line and "simplex iterations" in line for line in lines), lines
