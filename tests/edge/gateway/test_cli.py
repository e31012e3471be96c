"""``aisym gateway scan | probe | validate`` against real devices on loopback."""

from __future__ import annotations

import struct
from pathlib import Path

from typer.testing import CliRunner

from aisym.cli import app

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
    assert "2 device(s) found" in res.output
    rows = [line for line in res.output.splitlines() if "answers" in line or "present" in line]
    assert len(rows) == 2 and "│ 3 " in rows[0] and "│ 7 " in rows[1] and "exception code 4" in rows[1]
