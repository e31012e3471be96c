"""No traceback for a user's mistake: every ``aisym`` command, walked from the app itself.

Each command gets a wrong option, and its first input file (a Path parameter that is not an
output folder) a missing file and a file that is not YAML. Each must answer with exactly one
line on stderr that names the file or the option, no traceback, and exit code 2. The list comes
from the registered commands, so a new command is tested the day it is added; a required
parameter this test has no value for fails the test ("add it to REQUIRED").
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from aisym.cli import app

ROOT = Path(__file__).resolve().parents[2]
# Path parameters that a command writes (or a run folder it reads state from), not an input file
OUTPUTS = {"out", "build_dir", "state_dir", "write_template", "report", "folder", "data_dir"}
# a valid value for each required parameter, so that only the parameter under test is wrong
REQUIRED = {
    "park": str(ROOT / "aisym" / "parks" / "kraakoya.yaml"),
    "gateway": str(ROOT / "edge" / "gateway" / "sample.yaml"),
    "config": str(ROOT / "edge" / "gateway" / "sample.yaml"),
    "node": str(ROOT / "edge" / "node" / "sample.yaml"),
    "overlay": str(ROOT / "aisym" / "parks" / "kalundborg_whatif" / "no_heat_pump.yaml"),
    "base": str(ROOT / "sim_env" / "scenarios" / "base.yaml"),
    "whatif": str(ROOT / "sim_env" / "scenarios" / "base.yaml"),
    "scenario": str(ROOT / "sim_env" / "scenarios" / "base.yaml"),
    "run": "runs/does-not-exist",
    "user": "gateway",
    "topic": "aisym/kraakoya/gateway/telemetry",
    "device": "chp",
    "mode": "ok",
    "url": "http://127.0.0.1:9",
    "profile": "eastron_sdm630",
    "out": "out",  # relative to the test's own folder
}
# options that let a command reach its input file (train reads --park only for the compiled twin)
EXTRA = {("train",): ["--env", "aisym/Park-v1"]}
ENV = {"COLUMNS": "100", "AISYM_WIFI_PASSWORD": "x", "AISYM_NODE_PASSWORD": "y", "AISYM_MQTT_PASSWORD": "z"}
# commands of other parts that still fail here, each with its reason (strict: fixed means remove it)
KNOWN: dict[tuple[str, str], str] = {}


def _commands(group, path=()):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


def _is_path(param) -> bool:
    return getattr(param.type_descriptor, "annotation", None) is Path or "Path" in str(param.type_descriptor.annotation)


def _input(cmd):
    return next((p for p in cmd.params if _is_path(p) and p.name not in OUTPUTS), None)


def _args(cmd, tmp_path: Path, tested=None, value: str = "") -> list[str]:
    """Positional arguments in order, then options: ``tested`` gets ``value``, required ones a valid value."""
    positional, options = [], []
    for p in cmd.params:
        if p is tested:
            v = value
        elif p.required:
            assert p.name in REQUIRED, f"add a valid value for {p.name!r} to REQUIRED"
            v = REQUIRED[p.name]
        else:
            continue
        if p.param_type_name == "argument":
            positional.append(v)
        else:
            options += [p.opts[0], v]
    return positional + options


def _cases():
    for path, cmd in _commands(get_command(app)):
        name = " ".join(path)
        kinds = ["option"] + (["missing", "bad"] if _input(cmd) is not None else [])
        for kind in kinds:
            marks = []
            if (name, kind) in KNOWN:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[(name, kind)]))
            yield pytest.param(path, kind, id=f"{name.replace(' ', '-')}-{kind}", marks=marks)


CASES = list(_cases())


@pytest.fixture
def keep_logging():
    # a command that configures logging must not leave a handler on this runner's closed stream
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("path", "kind"), CASES)
def test_a_users_mistake_gets_one_line_and_exit_2(path, kind, tmp_path, monkeypatch, keep_logging):
    cmd = dict(_commands(get_command(app)))[path]
    monkeypatch.chdir(tmp_path)  # whatever a command writes by default lands here
    if kind == "option":
        args, expect = [*_args(cmd, tmp_path), "--no-such-option"], "--no-such-option"
    else:
        target = tmp_path / f"{kind}.yaml"
        if kind == "bad":
            target.write_text("park: [this is not, yaml\n  : {\n")
        args, expect = _args(cmd, tmp_path, _input(cmd), str(target)), target.name
    args = [*EXTRA.get(path, []), *args]
    r = CliRunner().invoke(app, [*path, *args], env=ENV)
    where = f"aisym {' '.join(path)} {' '.join(args)}"
    assert r.exception is None or isinstance(r.exception, SystemExit), f"{where}: traceback: {r.exception!r}"
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code == 2, f"{where}: exit {r.exit_code}, stderr {r.stderr[-500:]!r}"
    assert "Traceback" not in r.stderr and len(lines) == 1, f"{where}: {len(lines)} lines: {r.stderr[-800:]!r}"
    assert expect in lines[0], f"{where}: {lines[0]!r} does not name {expect}"


def test_every_command_is_in_the_readme_table():
    table = (ROOT / "README.md").read_text(encoding="utf-8").split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [row for row in table.splitlines() if row.startswith("|")]
    for path, _ in _commands(get_command(app)):
        head = f"aisym {path[0]}"
        mine = [r for r in rows if head + " " in r or head + "`" in r]
        assert mine, f"README's command table has no row for {head}"
        if len(path) > 1:
            assert any(path[1] in r for r in mine), f"README's rows of {head} do not name {' '.join(path)}"
