"""The demo through faults it used to lose count or processes in (issue 18, findings 10, 11, 14).

- completeness is counted against the gateway's own counter: a loss at the end (and at the start)
  shows (an aborted run once said 811/811 with 851 sent and acknowledged);
- an ingestor that crashes (SIGKILL) is started again, the run loses nothing and ends with its
  report, which names the restart; a ``broker`` fault leaves no Mosquitto behind;
- Ctrl-C stops every process the demo started;
- a wrong input (a policy of another park, a fault after the run, a device the plant lacks) is
  one line and exit 2 before any service starts.

Processes are listed with psutil before and after: this process's children, and every process
whose command line names the run folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from aisym.contract import decode_telemetry
from aisym.contract.lineprotocol import telemetry_points
from cloud.demo.run import GATEWAY_NODE, Demo, DemoConfig, Fault, run_demo
from edge.gateway.spool import Spool
from tests.conftest import INFLUX_USERS

from .helpers import PARK, telemetry

ROOT = Path(__file__).resolve().parents[2]


def _demo_on(influxdb, db: str, out: Path) -> Demo:
    """A demo object whose results are read from the test InfluxDB (nothing started)."""
    demo = Demo(DemoConfig(out=out))
    out.mkdir(parents=True, exist_ok=True)
    demo.st = {"influx_url": influxdb.url, "influx_db": db, "influx_users": {"admin": INFLUX_USERS["admin"]}}
    return demo


def _give_out(demo: Demo, n: int) -> list[int]:
    """``n`` readings through the gateway's real spool, sent and acknowledged (deleted: the counter stays)."""
    spool = Spool(demo.out / "gateway-spool.db", fsync="normal")
    try:
        tag = sorted(PARK.tags)[0]
        seqs = spool.add([(tag, 1.0, PARK.tags[tag].unit, 1_790_000_000_000 + i, "good") for i in range(n)])
        spool.ack(seqs)
        assert len(spool) == 0
    finally:
        spool.close()
    return seqs


def _store(influx, seqs: list[int]) -> None:
    """What the ingestor would have stored for these seqs of the gateway."""
    for i in range(0, len(seqs), 200):
        msg = decode_telemetry(telemetry(GATEWAY_NODE, seqs[i:i + 200]))
        influx.write(list(telemetry_points(msg, PARK)))


def test_a_loss_at_the_end_shows_against_the_gateways_counter(influxdb, influx, unique_id, tmp_path):
    demo = _demo_on(influxdb, unique_id, tmp_path / "demo")
    demo.seq0 = demo._last_seq()  # a fresh spool: 0
    seqs = _give_out(demo, 851)
    _store(influx, seqs[:811])  # the last 40 were acknowledged by the broker and never stored
    c = demo.completeness()
    assert (c["readings_sent"], c["points_in_influx"], c["missing_seqs"]) == (851, 811, 40), c
    assert c["missing_ranges"] == [[812, 851]] and c["ratio"] == pytest.approx(811 / 851)
    assert c["counted_against"] == "the gateway's counter"


def test_a_loss_at_the_start_shows_and_an_earlier_run_does_not_count(influxdb, influx, unique_id, tmp_path):
    demo = _demo_on(influxdb, unique_id, tmp_path / "demo")
    earlier = _give_out(demo, 100)  # an earlier run in the same folder: its spool and its points stay
    _store(influx, earlier)
    demo.seq0 = demo._last_seq()
    assert demo.seq0 == 100
    seqs = _give_out(demo, 300)
    _store(influx, seqs[10:])  # this run's first 10 never arrived
    c = demo.completeness()
    assert (c["first_seq"], c["last_seq"], c["readings_sent"], c["points_in_influx"]) == (101, 400, 300, 290), c
    assert c["missing_ranges"] == [[101, 110]]


# ---------------------------------------------------------------------------------------- processes
def _mine(out: Path) -> set[tuple[int, str]]:
    """Processes whose command line names the run folder (services, gateway, ingestor, socat)."""
    found = set()
    for p in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and any(str(out) in a for a in p.info["cmdline"] or []):
                found.add((p.info["pid"], p.info["name"]))
        except (psutil.Error, TypeError):
            continue
    return found


def _children() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True) if c.status() != psutil.STATUS_ZOMBIE}


@pytest.mark.timeout(420)
def test_a_crashed_ingestor_is_restarted_and_a_broker_fault_leaves_nothing_running(tmp_path):
    out = tmp_path / "demo"
    children0 = _children()
    # the ingestor SIGKILLed at step 3 (a crash: only the demo's supervision brings it back), the
    # broker stopped at step 8 and started again two steps later
    faults = [Fault(3, "ingest"), Fault(8, "broker", 2)]
    demo = run_demo(DemoConfig(out=out, hours=14.0, speed=3600.0, strategy="rule", faults=faults), progress=False)
    run = json.loads((out / "run.json").read_text())
    assert [(r["process"], r["exit_code"]) for r in run["restarts"]] == [("ingest", -9)]
    c = run["completeness"]
    assert c["readings_sent"] > 300 and c["missing_seqs"] == 0 and c["ratio"] == 1.0, c
    assert [f["what"] for f in run["faults"]] == ["ingest killed", "broker down", "broker back"]
    page = (out / "report.html").read_text()
    assert "ingest exited with -9, started again" in page
    time.sleep(0.5)
    assert _mine(out) == set(), "left running after the demo"
    assert _children() <= children0
    assert demo.left_over == []  # the named stops got every process; the last-line guard had nothing to do


@pytest.mark.timeout(300)
def test_an_error_mid_run_stops_every_process_and_keeps_what_was_written(tmp_path, monkeypatch):
    """With no restarts allowed, the ingestor's crash is an error that ends the run: one line
    naming the process and its log, every process stopped, run.json written."""
    import cloud.demo.run as demo_run

    monkeypatch.setattr(demo_run, "MAX_RESTARTS", 0)
    out = tmp_path / "demo"
    children0 = _children()
    with pytest.raises(demo_run.DemoFailed, match=r"the ingest process exited with -9 after 0 restarts: see .*ingest\.log"):
        run_demo(DemoConfig(out=out, hours=8.0, strategy="rule", faults=[Fault(2, "ingest")]), progress=False)
    time.sleep(0.5)
    assert _mine(out) == set() and _children() <= children0
    assert json.loads((out / "run.json").read_text())["faults"][0]["what"] == "ingest killed"


@pytest.mark.timeout(300)
def test_ctrl_c_stops_every_process_the_demo_started(tmp_path):
    out = tmp_path / "demo"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "aisym", "demo", "--hours", "500", "--strategy", "rule",
                             "--out", str(out)], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        end = time.monotonic() + 180
        while time.monotonic() < end and proc.poll() is None:
            names = {n for _, n in _mine(out)}
            if {"mosquitto", "influxd", "socat"} <= names and (out / "gateway-spool.db").exists():
                break
            time.sleep(0.3)
        running = _mine(out)
        assert proc.poll() is None and len(running) >= 5, (running, proc.poll())  # services, socat, gateway, ingestor
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole foreground group
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 130, output[-3000:]
    assert "Traceback" not in output
    time.sleep(0.5)
    assert _mine(out) == set(), f"left running after Ctrl-C: {_mine(out)}"
    assert (out / "run.json").exists()  # what was written is kept


@pytest.mark.parametrize(("args", "says"), [
    (["aisym/parks/kalundborg.yaml", "--strategy", "ppo=sim_env/policies/kraakoya_ppo"],
     "--strategy ppo=sim_env/policies/kraakoya_ppo: policy sim_env/policies/kraakoya_ppo was trained on park "
     "'kraakoya' and does not fit park 'kalundborg'"),
    (["--fault", "30:broker"], "--fault 30:broker:6: step 30 is not within the run's 5 steps (--hours)"),
    (["--fault", "2:device=nowhere:silent"], "--fault 2:device=nowhere:silent:6: no plant device 'nowhere'; devices: "),
    (["--fault", "2:device=chp:melt"], "--fault 2:device=chp:melt:6: mode 'melt'; use silent, exception, restart"),
    (["--strategy", "nonsense"], "--strategy nonsense: strategy 'nonsense': use one of"),
    (["--speed", "0"], "--speed 0.0: must be more than 0"),
])
def test_a_wrong_input_is_one_line_and_exit_2_before_anything_starts(tmp_path, args, says):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "aisym", "demo", *args, "--hours", "5", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2, r.stderr[-2000:]
    assert says in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()  # no services, no plant, no folder
