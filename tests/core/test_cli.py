"""The command line: readable output, and a clean error (no traceback) for a bad file."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from aisym.cli import app

runner = CliRunner()


def test_park_show_prints_assets_tags_and_exchanges():
    import os

    r = subprocess.run(
        [sys.executable, "-m", "aisym", "park", "show"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "220"}
    )
    assert r.returncode == 0, r.stderr
    for word in ("Kråkøya Biopark", "electrolyser", "heat_store", "temp_top", "oxygen_to_ras", "11 assets"):
        assert word in r.stdout


def test_park_validate_in_process():
    r = runner.invoke(app, ["park", "validate"])
    assert r.exit_code == 0 and "ok" in r.output


def test_bad_park_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\npark: {id: X}\n")
    proc = subprocess.run([sys.executable, "-m", "aisym", "park", "validate", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}:2:" in proc.stderr and "park.id" in proc.stderr


def test_services_up_status_down(tmp_path):
    folder = tmp_path / "svc"
    up = subprocess.run(
        [sys.executable, "-m", "aisym", "services", "up", "--folder", str(folder)], capture_output=True, text=True, timeout=90
    )
    try:
        assert up.returncode == 0, up.stderr
        assert "mosquitto" in up.stdout and "influxdb" in up.stdout
        st = subprocess.run(
            [sys.executable, "-m", "aisym", "services", "status", "--folder", str(folder)], capture_output=True, text=True
        )
        assert st.stdout.count("running") == 3  # mosquitto, influxd and its gate
    finally:
        down = subprocess.run(
            [sys.executable, "-m", "aisym", "services", "down", "--folder", str(folder)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert "mosquitto" in down.stdout and "influx" in down.stdout


def test_a_bug_keeps_its_traceback_and_a_users_mistake_gets_one_line(tmp_path):
    from pathlib import Path

    import typer

    from aisym.usererror import UserErrorGroup

    demo = typer.Typer(cls=UserErrorGroup)

    @demo.command()
    def read(path: str) -> None:
        Path(path).read_text(encoding="utf-8")

    @demo.command()
    def bug() -> None:
        {}["key"]  # a bug, on purpose

    r = runner.invoke(demo, ["read", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 2 and r.stderr == f"{tmp_path / 'nope.yaml'}: No such file or directory\n"
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    r = runner.invoke(demo, ["read", str(tmp_path / "latin1.yaml")])
    assert r.exit_code == 2 and r.stderr.startswith(f"{tmp_path / 'latin1.yaml'}: not UTF-8 text"), r.stderr
    r = runner.invoke(demo, ["bug"])
    assert isinstance(r.exception, KeyError)  # not swallowed: a bug shows its traceback
