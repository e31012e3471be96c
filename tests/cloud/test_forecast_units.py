"""The systemd units of the scheduled refit name a command and options the CLI really has."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

pytest.importorskip("statsforecast")

from typer.testing import CliRunner

from aisym.cli import app

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _keys(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def test_service_runs_forecast_fit_with_options_it_accepts():
    svc = _keys(SCRIPTS / "aisym-forecast.service")
    argv = shlex.split(svc["ExecStart"])
    assert argv[1:5] == ["-m", "aisym", "forecast", "fit"] and svc["Type"] == "oneshot"
    help_text = CliRunner().invoke(app, ["forecast", "fit", "--help"], terminal_width=200).output
    for opt in (a for a in argv if a.startswith("--")):
        assert opt in help_text, f"ExecStart option {opt} is not an option of aisym forecast fit"


def test_timer_starts_that_service_every_hour():
    timer = _keys(SCRIPTS / "aisym-forecast.timer")
    assert timer["Unit"] == "aisym-forecast.service" and timer["OnCalendar"] == "*-*-* *:05:00"
    assert timer["Persistent"] == "true"
