"""``aisym bench``: files, columns, optimality gaps, a researcher's own strategy and scenario."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from typer.testing import CliRunner

from aisym.cli import app
from sim_env.rl.leaderboard import (
    BENCH_SCENARIOS,
    SCENARIO_DIR,
    resolve_scenario,
    resolve_strategy,
    run_bench,
    write_outputs,
)


class AlwaysHalf:
    """A researcher's strategy: one class against sim_env.evaluate.Strategy."""

    name = "half"

    def reset(self, env_info):
        self.n = len(env_info.action_names)

    def act(self, obs, info):
        return np.full(self.n, 0.5)


def test_shipped_bench_scenarios_load():
    for name in BENCH_SCENARIOS:
        assert (SCENARIO_DIR / f"{name}.yaml").exists()
        assert resolve_scenario(name)[0] == name
    cold = resolve_scenario("cold_winter")[1]
    assert cold.climate.freshwater_temp_c.mean < resolve_scenario("base")[1].climate.freshwater_temp_c.mean


def test_leaderboard_files_and_columns(tmp_path):
    scenario = tmp_path / "pricey_water.yaml"  # a researcher's scenario: one YAML file
    scenario.write_text("name: Pricey water\nmarket: {water_price_eur_per_m3: 6.0}\n")
    runs = run_bench(
        ["random", "rule", "tests.sim_env.test_leaderboard:AlwaysHalf"], ["base", str(scenario)], seeds=[1001, 1002], hours=48
    )
    assert {(r.scenario, r.strategy) for r in runs} >= {("base", "optimum"), ("pricey_water", "half"), ("base", "rule")}
    assert len(runs) == 2 * 2 * 4
    for r in runs:
        if r.strategy == "optimum":
            assert r.gap_pct == pytest.approx(0.0, abs=1e-9)
        else:
            assert r.gap_pct > -0.5  # nothing beats perfect foresight (beyond solver tolerance)
    files = write_outputs(runs, tmp_path / "out")
    with files["summary"].open() as f:
        rows = list(csv.DictReader(f))
    for col in (
        "scenario",
        "strategy",
        "years",
        "cost_eur",
        "cost_eur_std",
        "co2_t",
        "co2_t_std",
        "unmet_demand",
        "unmet_demand_std",
        "gap_pct",
        "gap_pct_std",
    ):
        assert col in rows[0]
    md = files["markdown"].read_text()
    assert "| optimality gap (%) |" in md and "pricey_water" in md
    assert files["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_cli_rejects_unknown_strategy_and_scenario(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["bench", "--strategy", "genius", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "strategy 'genius'" in r.output
    r = runner.invoke(app, ["bench", "--scenario", "tropical", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "no scenario 'tropical'" in r.output


def test_bench_cli_writes_the_leaderboard(tmp_path):
    r = CliRunner().invoke(
        app,
        [
            "bench",
            "--strategy",
            "rule",
            "--scenario",
            "digester_outage",
            "--seeds",
            "1",
            "--hours",
            "24",
            "--out",
            str(tmp_path),
        ],
        terminal_width=200,
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "leaderboard.md").exists() and "digester_outage" in r.output


def test_train_cli_rejects_a_bad_config(tmp_path):
    bad = tmp_path / "ppo.yml"
    bad.write_text("aisym/Park-v0:\n  n_stepz: 5\n")
    r = CliRunner().invoke(app, ["train", "--hyperparams", str(bad), "--out", str(tmp_path / "run")])
    assert r.exit_code == 2 and "n_stepz" in r.output


def test_a_strategy_module_in_the_current_folder_imports_without_pythonpath(tmp_path, monkeypatch):
    """Issue 18, finding 16: docs/training.md's ``--strategy my_strategies:CheapHours`` needed ``PYTHONPATH=.``."""
    import sys

    (tmp_path / "h7_cwd_strategies.py").write_text(
        "class Half:\n    name = 'half'\n    def reset(self, info): pass\n    def act(self, obs, info): return [0.5] * 10\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    factory = resolve_strategy("h7_cwd_strategies:Half")
    assert factory().name == "half"


def test_the_hand_written_twins_optimum_reports_highs_progress():
    """Issue 18, finding 15: the year-long optimum's bar sat at 0 % while HiGHS solved; now it hears HiGHS."""
    from sim_env.baselines import make_strategy
    from sim_env.evaluate import evaluate

    lines: list[str] = []
    opt = make_strategy("optimum")
    opt.progress = lines.append
    evaluate(opt, hours=168, exo_seed=1001)
    assert any(line.startswith("HiGHS ") and "simplex iterations" in line for line in lines), lines


def test_over_a_day_the_hand_written_optimum_ends_its_stores_where_it_started_and_values_the_others():
    """Issue 18, finding 15: the optimum emptied the stores the others leave full (mpc 2.46 %, rule 10.58 % over 24 h
    of year 1001); now it ends them no emptier and every run's stored content is valued at its shadow prices."""
    lines: list[str] = []
    runs = run_bench(["rule", "mpc"], ["base"], seeds=[1001], hours=24, note=lines.append)
    gaps = {r.strategy: r.gap_pct for r in runs}
    assert gaps["optimum"] == pytest.approx(0.0, abs=1e-9)
    assert min(gaps.values()) >= -0.01 and gaps["mpc"] < 1.0, gaps
    assert any(r.stored_value < 0 for r in runs if r.strategy != "optimum")  # they drew their stores down
    assert any("HiGHS" in line for line in lines)  # and the optimum's solve was heard
