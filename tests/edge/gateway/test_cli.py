"""``aisym gateway scan | probe | validate`` against real devices on loopback."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from aisym.cli import app

from .harness import ROOT, write_config
from .peers import ModbusPeer

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[3] / "edge" / "gateway" / "sample.yaml"


def floats(*values: float) -> list[int]:
    return list(struct.unpack(f">{2 * len(values)}H", struct.pack(f">{len(values)}f", *values)))


def test_validate_sample_and_a_broken_config(tmp_path):
    res = runner.invoke(app, ["gateway", "validate", str(SAMPLE)])
    assert res.exit_code == 0, res.output
    assert "grid-meter" in res.output and "ok" in res.output
    bad = tmp_path / "gw.yaml"
    bad.write_text(SAMPLE.read_text().replace("frequency: grid.frequency", "frequency: grid.freq"))
    res = runner.invoke(app, ["gateway", "validate", str(bad)])
    assert res.exit_code == 2
    assert "no tag 'grid.freq'" in res.output and "gw.yaml:" in res.output


def test_probe_prints_decoded_values_and_quality():
    with ModbusPeer([1]) as peer:
        peer.set(1, 4, 0, floats(231.5, 229.0, 233.25))
        peer.set(1, 4, 52, floats(-1234.5))
        peer.set(1, 4, 70, floats(50.01, 17.5))
        res = runner.invoke(
            app,
            [
                "gateway",
                "probe",
                "--profile",
                "eastron_sdm630",
                "--unit",
                "1",
                "--host",
                "127.0.0.1",
                "--port",
                str(peer.port),
            ],
        )
    assert res.exit_code == 0, res.output
    lines = {line.split("│")[1].strip(): line for line in res.output.splitlines() if line.count("│") > 4}
    assert "231.5" in lines["voltage_l1"] and "good" in lines["voltage_l1"]
    power = next(line for name, line in lines.items() if name.startswith("total_active"))
    assert "-1234.5" in power and "good" in power
    assert "50.01" in res.output and "22/22 values good" in res.output


def test_probe_of_a_refusing_device_fails_with_comm_errors():
    with ModbusPeer([1]) as peer:
        peer.mode[1] = "exception"
        res = runner.invoke(
            app,
            [
                "gateway",
                "probe",
                "--profile",
                "tuf_2000m",
                "--host",
                "127.0.0.1",
                "--port",
                str(peer.port),
                "--timeout",
                "0.5",
            ],
        )
    assert res.exit_code == 1 and "comm_error" in res.output and "0/7 values good" in res.output


def test_scan_finds_the_unit_ids_that_answer():
    with ModbusPeer([3, 7]) as peer:
        peer.mode[7] = "exception"
        res = runner.invoke(
            app,
            ["gateway", "scan", "--host", "127.0.0.1", "--port", str(peer.port), "--units", "1-8", "--timeout", "0.2"],
        )
    assert res.exit_code == 0, res.output
    assert "2 of 8 unit ids answered" in res.output
    rows = [line for line in res.output.splitlines() if "answers," in line or "present" in line]
    assert len(rows) == 2 and " unit 3: " in rows[0] and " unit 7: " in rows[1] and "exception code 4" in rows[1]


def _config(folder: Path, **broker) -> Path:
    # no broker is needed: the run must stop at the secret, before connecting or creating anything
    mqtt = SimpleNamespace(tls_port=1, ca_file=folder / "ca.pem")
    return write_config(folder, mqtt, None, broker=broker)


@pytest.mark.parametrize(
    "broker,message",
    [
        ({"password_env": "AISYM_TEST_UNSET_PW"}, "broker.password_env: environment variable AISYM_TEST_UNSET_PW is not set"),
        ({"password_env": None, "password_file": "/nonexistent/aisym/pw"}, "file /nonexistent/aisym/pw does not exist"),
    ],
    ids=["unset variable", "missing file"],
)
def test_run_with_a_missing_secret_exits_2_naming_it_before_creating_anything(tmp_path, broker, message):
    """Finding 10: a traceback with exit 1, after the spool was created. Also finding 11: the
    error line is not wrapped at 80 columns when stderr is not a terminal."""
    folder = tmp_path / ("a-folder-name-long-enough-that-every-error-line-runs-past-eighty-columns" + "x" * 20)
    folder.mkdir()
    cfg = _config(folder, **broker)
    env = {k: v for k, v in os.environ.items() if k not in ("AISYM_TEST_UNSET_PW", "COLUMNS")}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "aisym", "gateway", "run", str(cfg)]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and message in res.stderr, res.stderr
    line = next(x for x in res.stderr.splitlines() if message in x)
    assert line.strip().startswith(f"{cfg}: broker.password_") and len(line) > 120  # one line, whole
    assert not (folder / "spool.db").exists() and sorted(p.name for p in folder.iterdir()) == ["gateway.yaml"]


def test_probe_prints_full_precision():
    """Finding 11: ``%.6g`` printed a counter of 12345678 as 1.23457e+07."""
    profile = Path(__file__).resolve().parents[3] / "hardware" / "devices" / "aisym_site_plc.yaml"
    with ModbusPeer([1]) as peer:
        peer.set(1, 3, 0, floats(1234.5677, 17.25))
        peer.set(1, 3, 4, [2153, 0b101, 12345])  # setpoint_x10 215.3; status word; heartbeat
        peer.set(1, 4, 0, [0x20, 0, 0, 1, 12345678 >> 16, 12345678 & 0xFFFF])  # energy 2**53 + 1 kWh; run hours
        args = ["gateway", "probe", "--profile", str(profile), "--host", "127.0.0.1", "--port", str(peer.port)]
        res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    values = {row.split("│")[1].strip(): row.split("│")[4].strip() for row in res.output.splitlines() if row.count("│") > 4}
    assert values["setpoint"] == "1234.5677" and values["feedback"] == "17.25"
    assert values["energy_counter"] == str(2**53 + 1)  # exact, although a float cannot hold it
    assert values["hours"] == "1234567.8" and values["setpoint_x10"] == "215.3"
    assert values["heartbeat"] == "12345"
    assert (values["pump_running"], values["pump_fault"], values["manual_mode"]) == ("1", "0", "1")


def test_scan_of_an_rs485_line_prints_one_line_per_unit_and_nothing_from_pymodbus(tmp_path):
    """Issue 18, finding 12: a scan of a line where absent units stay silent printed pymodbus's own
    log lines (22 'No response received' here, 24 tracebacks on the plant) and only the units found."""
    from .peers import pty_pair

    with pty_pair(tmp_path) as (plant_end, gateway_end), ModbusPeer([3, 7], serial=plant_end, absent_silent=True):
        peer_cmd = ["gateway", "scan", "--serial", gateway_end, "--baudrate", "19200", "--units", "1-24", "--timeout", "0.1"]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
        res = subprocess.run([sys.executable, "-m", "aisym", *peer_cmd], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr == "", res.stderr  # nothing from pymodbus
    lines = res.stdout.strip().splitlines()
    units = lines[:-1]
    assert len(units) == 24 and lines[-1] == "2 of 24 unit ids answered", res.stdout
    assert [u for u in units if "answers" in u] == [f"{gateway_end} unit 3: answers, register 0 = 0",
                                                    f"{gateway_end} unit 7: answers, register 0 = 0"]
    assert sum(u.endswith(": no answer") for u in units) == 22


def test_a_scan_of_an_adapter_that_cannot_be_opened_is_one_line_and_exit_2(tmp_path):
    """Before: 'cannot connect' on stdout, '0 of 0 unit ids answered' and exit 0, as if the line were silent."""
    res = runner.invoke(app, ["gateway", "scan", "--serial", str(tmp_path / "ttyUSB9"), "--units", "1-3"])
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1 and "ttyUSB9" in res.stderr and "answered" not in res.stdout


def test_a_scan_of_hosts_none_of_which_can_be_reached_exits_1():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = runner.invoke(app, ["gateway", "scan", "--host", "127.0.0.1", "--port", str(port), "--units", "1"])
    assert res.exit_code == 1, res.output
    assert "0 of 0 unit ids answered" in res.stdout
