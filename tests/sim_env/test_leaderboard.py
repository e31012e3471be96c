"""``aisym bench`` (on the compiled twin): the CLI's refusals and files, a researcher's own strategy.

The leaderboard's rows, gaps and what-ifs on any park: test_graph_bench.py.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aisym.cli import app
from sim_env.graph.bench import resolve_graph_strategy


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
    bad.write_text("aisym/Park-v1:\n  n_stepz: 5\n")
    r = CliRunner().invoke(app, ["train", "--hyperparams", str(bad), "--out", str(tmp_path / "run")])
    assert r.exit_code == 2 and "n_stepz" in r.output


def test_a_strategy_module_in_the_current_folder_imports_without_pythonpath(tmp_path, monkeypatch):
    """Issue 18, finding 16: docs/training.md's ``--strategy my_strategies:CheapHours`` needed ``PYTHONPATH=.``."""
    import sys

    (tmp_path / "h7_cwd_strategies.py").write_text(
        "class Half:\n    name = 'half'\n    def reset(self, info): pass\n    def act(self, obs, info): return [0.5] * 10\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    factory = resolve_graph_strategy("h7_cwd_strategies:Half")
    assert factory().name == "half"


def test_the_leaderboard_has_mpc_on_perfect_synthetic_and_learned_forecasts(tmp_path):
    pytest.importorskip("statsforecast")
    r = CliRunner().invoke(app, ["bench", "--strategy", "mpc", "--strategy", "mpc_perfect", "--strategy", "mpc_learned",
                                 "--scenario", "base", "--seeds", "1", "--hours", "12", "--out", str(tmp_path)],
                           terminal_width=200)
    assert r.exit_code == 0, r.output
    board = (tmp_path / "leaderboard.csv").read_text()
    for label in ("mpc", "mpc_perfect", "mpc_learned", "optimum"):
        assert f",{label}," in board, board
