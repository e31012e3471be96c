"""The park in the loop, end to end (issue 13): a simulated day of Kråkøya through the plant's
devices, the real gateway, Mosquitto, the ingestor, InfluxDB and the controller, with
authentication on; then the same day with the broker and the gateway killed mid-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud.demo.run import DemoConfig, Fault, run_demo

# The loop's KPIs may differ from the same strategy run directly in the twin only by the transport:
# the controller acts on levels up to one poll old, registers are float32, and a setpoint takes
# effect at the plant's next step after the gateway wrote it. Over a day this is below 2 %.
KPI_TOLERANCE = 0.02


def _run(tmp_path, **kw) -> tuple[dict, dict, Path]:
    try:
        demo = run_demo(DemoConfig(out=tmp_path / "demo", hours=24.0, speed=3600.0, strategy="rule", **kw), progress=False)
    except RuntimeError as e:
        # once in a full suite on 2 busy cores the loop did not come up (the demo now says which
        # part); that is the harness starting, not the loop losing data: say it and try once more
        if "did not come up" not in str(e):
            raise
        print(f"retrying the start-up once: {e}")
        demo = run_demo(DemoConfig(out=tmp_path / "demo2", hours=24.0, speed=3600.0, strategy="rule", **kw),
                        progress=False)
    run = json.loads((demo.out / "run.json").read_text())
    offline = json.loads((demo.out / "offline.json").read_text())
    return run, offline, demo.out


@pytest.mark.timeout(600)
def test_a_simulated_day_in_the_loop_loses_nothing_and_matches_the_offline_twin(tmp_path):
    run, offline, out = _run(tmp_path)
    c = run["completeness"]
    assert c["readings_sent"] > 1000 and c["missing_seqs"] == 0 and c["ratio"] == 1.0
    assert sum(c["by_quality"].values()) == c["points_in_influx"]
    sp = run["setpoints"]
    assert sp["rejected"] == 0 and sp["failed"] == 0 and sp["timeouts"] == 0, sp
    assert sp["applied"] == sp["sent"] == 5 * sp["commands"]  # five setpoint tags per command, every one applied
    # the controller's own count: every setpoint it decided was sent, or held back while the loop was
    # starting (the gateway not yet online); none during the run
    assert sp["commanded"] == sp["sent"] + sp["held"] and sp["held"] == sp["held_before_run"], sp
    assert sp["pending"] == 0 and sp["messages_refused"] == {} and run["restarts"] == []
    lines = (out / "plant.jsonl").read_text().splitlines()
    assert len(lines) == 24
    loop = -sum(json.loads(line)["y"][0] for line in lines)
    off = offline["runs"]["offline"]["totals"]["objective"]
    assert loop == pytest.approx(off, rel=KPI_TOLERANCE)
    assert (out / "report.html").stat().st_size > 100_000
    assert any((out / "grafana").rglob("*.json"))


@pytest.mark.timeout(600)
def test_broker_and_gateway_killed_mid_run_lose_nothing_and_the_controller_holds_while_blind(tmp_path):
    run, _, out = _run(tmp_path, faults=[Fault(5, "broker", 3), Fault(13, "gateway", 4)])
    c = run["completeness"]
    assert c["missing_seqs"] == 0 and c["ratio"] == 1.0, c
    assert [f["what"] for f in run["faults"]] == ["broker down", "broker back", "gateway down", "gateway back"]
    assert run["blind_steps"] >= 2  # levels went stale while the gateway was dead: safe defaults held
    ctl = [json.loads(line) for line in (out / "controller.jsonl").read_text().splitlines()]
    blind = [r for r in ctl if r["blind"] and r["t"] > ctl[0]["t"] + 10]
    assert blind and all(v == 0.0 for r in blind for v in r["setpoints"].values())
    assert run["setpoints"]["rejected"] == 0


def test_a_bad_park_file_is_refused_before_anything_starts(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 2\npark: {id: x, name: X}\ncompanies:\n  - id: c\n    name: C\n    bogus: 1\n")
    r = CliRunner().invoke(app, ["demo", str(bad), "--out", str(tmp_path / "out"), "--hours", "1"])
    assert r.exit_code == 2 and "bad.yaml:6:12: companies[0].bogus: unknown field" in r.output
    assert not (tmp_path / "out" / "services").exists()
