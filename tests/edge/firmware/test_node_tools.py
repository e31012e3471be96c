"""``aisym node build`` / ``deploy``: the generated config.json drives the real firmware."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from aisym.cli import app
from aisym.contract import check_against_park, decode_telemetry
from aisym.park import load_view
from typer.testing import CliRunner

from .harness import MP_TESTS, run_mp

SAMPLE = Path(__file__).resolve().parents[3] / "edge" / "node" / "sample.yaml"
ENV = {"AISYM_WIFI_PASSWORD": "wifi-pw", "AISYM_NODE_PASSWORD": "sensor-node-pw", "COLUMNS": "400"}
runner = CliRunner()


def _sample(tmp_path: Path, ca_file: Path, edit=lambda s: s) -> Path:
    shutil.copy(ca_file, tmp_path / "ca.pem")
    node = tmp_path / "node.yaml"
    node.write_text(edit(SAMPLE.read_text()))
    return node


def test_build_drives_the_firmware(tmp_path, mosquitto):
    node = _sample(tmp_path, mosquitto.ca_file)
    res = runner.invoke(app, ["node", "build", str(node), "--out", str(tmp_path / "out")], env=ENV)
    assert res.exit_code == 0, res.output
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())
    assert cfg["mqtt"]["password"] == "sensor-node-pw" and cfg["mqtt"]["ca"] == "ca.der"
    assert (tmp_path / "out" / "ca.der").read_bytes()[:1] == b"\x30"  # DER sequence
    assert cfg["rs485"]["devices"][0]["blocks"] == [
        [3, 0, 2, [[0, "int16", "bb", 0.01, 0.0, 7], [1, "uint16", "bb", 0.01, 0.0, 6]]]
    ]
    proc = run_mp(
        MP_TESTS / "mp_built.py",
        env={
            "CONFIG": str(tmp_path / "out" / "config.json"),
            "BUF": str(tmp_path / "buf"),
            "CA": str(tmp_path / "out" / "ca.der"),
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    payload = next(ln for ln in proc.stdout.splitlines() if ln.startswith("PAYLOAD ")).split(" ", 1)[1]
    msg = decode_telemetry(payload)
    assert list(check_against_park(msg, load_view())) == []
    last = {r.tag: r.value for r in msg.readings}
    assert last["heat_store.temp_top"] == 61.25
    assert last["heat_store.temp_bottom"] == 40.5
    assert abs(last["water_treatment.tank_level"] - 50.0) < 0.01
    assert abs(last["ras.dissolved_oxygen"] - 10.0) < 0.01
    assert last["ras.ph"] == 7.12 and last["ras.water_temp"] == 21.5
    assert last["ras.makeup_flow"] == 0.0  # no pulses: zero flow (first scan's unknown rate is comm_error)
    assert msg.readings[0].ts_synced is False  # measured before the clock was synced


def _build_error(tmp_path, ca, old, new) -> str:
    node = _sample(tmp_path, ca, lambda s: s.replace(old, new))
    res = runner.invoke(app, ["node", "build", str(node), "--out", str(tmp_path / "out")], env=ENV)
    assert res.exit_code == 2, res.output
    return " ".join(res.output.split())  # rich wraps long lines


def test_build_errors_name_file_line_and_field(tmp_path, mosquitto):
    ca = mosquitto.ca_file
    out = _build_error(tmp_path, ca, "tag: heat_store.temp_top", "tag: heat_store.temp_tip")
    assert "node.yaml:25:26:" in out and "channels[0].tag" in out
    assert "no tag 'heat_store.temp_tip'" in out
    out = _build_error(tmp_path, ca, "pin: 27", "pin: 34")
    assert "pin 34 is already used" in out
    out = _build_error(tmp_path, ca, "ph: ras.ph", "acidity: ras.ph")
    assert "has no value 'acidity'" in out
    out = _build_error(tmp_path, ca, "28ff641e83160349", "28ff641e83160348")
    assert "CRC byte should be 49" in out


def test_build_needs_secrets_from_the_environment(tmp_path, mosquitto):
    node = _sample(tmp_path, mosquitto.ca_file)
    res = runner.invoke(
        app, ["node", "build", str(node), "--out", str(tmp_path / "o")], env={"AISYM_WIFI_PASSWORD": "x", "COLUMNS": "400"}
    )
    assert res.exit_code == 2 and "AISYM_NODE_PASSWORD is not set" in " ".join(res.output.split())


def test_deploy_dry_run_compiles_and_lists_mpremote_copy(tmp_path, mosquitto):
    node = _sample(tmp_path, mosquitto.ca_file)
    res = runner.invoke(
        app,
        ["node", "deploy", str(node), "--device", "/dev/ttyUSB0", "--build-dir", str(tmp_path / "b"), "--dry-run"],
        env=ENV,
    )
    assert res.exit_code == 0, res.output
    assert "mpremote connect /dev/ttyUSB0 fs cp" in res.output.replace("\n", " ") or "fs cp" in res.output
    mpys = sorted(p.name for p in (tmp_path / "b" / "fw").glob("*.mpy"))
    assert "node.mpy" in mpys and "mqtt.mpy" in mpys and "main.mpy" not in mpys
