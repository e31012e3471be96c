"""Secrets: no password on any command line, every secret and state file created 0600.

``services up`` runs for real here (Mosquitto and InfluxDB on free ports under tmp_path).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.services import Stack
from aisym.services.secretfile import mosquitto_hash, write_private
from tests.conftest import INFLUX_USERS
from tests.support import MqttProbe

SECRET_FILES = [
    "state.json",
    "mosquitto/passwd",
    "mosquitto/acl",
    "mosquitto/mosquitto.conf",
    "mosquitto/tls/server.key",
    "influxdb/influxdb.conf",
    "influxdb/gate-policy.json",  # which account may issue which statements
]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hash_is_the_one_mosquitto_passwd_writes(tmp_path):
    """Same salt and iterations: byte for byte what ``mosquitto_passwd`` makes (the real broker accepts both)."""
    pw = tmp_path / "pw"
    pw.touch()
    subprocess.run(["mosquitto_passwd", "-b", str(pw), "u", "test-only-password"], check=True)
    line = pw.read_text().strip()
    _, _, iterations, salt, _ = line.split("$")
    import base64

    assert f"u:{mosquitto_hash('test-only-password', int(iterations), base64.b64decode(salt))}" == line


class _CmdlineWatch(threading.Thread):
    """Reads every process's ``/proc/<pid>/cmdline`` in a loop, and the modes of files as they appear."""

    def __init__(self, needles: list[str], folder: Path):
        super().__init__(daemon=True)
        self.needles, self.folder = [n.encode() for n in needles], folder
        self.seen: list[str] = []
        self.modes: dict[str, set[int]] = {}
        self.scans = 0
        self.stop = threading.Event()

    def run(self) -> None:
        me = str(os.getpid())
        while not self.stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid == me:
                    continue
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                self.seen += [cmd.replace(b"\0", b" ").decode(errors="replace") for n in self.needles if n in cmd]
            for rel in SECRET_FILES:
                with contextlib.suppress(OSError):
                    self.modes.setdefault(rel, set()).add(_mode(self.folder / rel))
            self.scans += 1


def test_no_password_on_a_command_line_and_every_secret_file_0600(tmp_path, monkeypatch):
    folder = tmp_path / "services"
    # the stack's passwords are random: draw them beforehand, so the watcher knows what to look for
    import secrets

    import aisym.services.stack as stack_mod

    pool = [secrets.token_urlsafe(16) for _ in range(20)]
    made: list[str] = []
    monkeypatch.setattr(stack_mod, "_password", lambda: made.append(pool[len(made)]) or made[-1])

    def no_chmod(*args, **kwargs):
        raise AssertionError(f"chmod after creation: {args}")

    monkeypatch.setattr(os, "chmod", no_chmod)
    old_umask = os.umask(0o022)  # the usual umask: a plain open() would make 0644 files
    stack = Stack(folder)
    watch = _CmdlineWatch(pool, folder)
    watch.start()
    try:
        t0 = time.monotonic()
        st = stack.up("kraakoya", ["gateway", "sensor-node"])
        startup = time.monotonic() - t0
        time.sleep(0.2)
    finally:
        watch.stop.set()
        watch.join(5)
        os.umask(old_umask)
    try:
        passwords = [*st["users"].values(), *st["influx_users"].values()]
        assert sorted(passwords) == sorted(made)
        assert watch.scans > 5 and watch.seen == []
        # every process seen during start-up (and the running services) had no password in argv
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                assert not any(p.encode() in cmd for p in passwords), cmd
        print(f"services up in {startup:.2f} s; /proc scanned {watch.scans} times")
        assert _mode(folder) == 0o700
        for rel in SECRET_FILES:
            assert _mode(folder / rel) == 0o600, rel
            assert watch.modes.get(rel, {0o600}) == {0o600}, f"{rel} was seen with modes {watch.modes[rel]}"
        state = json.loads((folder / "state.json").read_text())
        assert set(state["influx_users"]) == {"admin", "ingest", "dashboards", "controller"}
        # the hashes written from Python work on the real broker
        p = MqttProbe("127.0.0.1", st["mqtt_port"], "gateway", st["users"]["gateway"], "x")
        assert not p.connect().is_failure
        p.close()
    finally:
        stack.down()


def test_cmdline_watch_would_see_a_password(tmp_path):
    """The watcher itself works: a process with a password in argv is caught."""
    watch = _CmdlineWatch(["visible-secret-123"], tmp_path)
    watch.start()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)", "visible-secret-123"])
    time.sleep(0.3)
    watch.stop.set()
    watch.join(5)
    proc.kill()
    proc.wait()
    assert watch.seen and "visible-secret-123" in watch.seen[0]


def test_write_private_replaces_a_loose_file_without_chmod(tmp_path):
    loose = tmp_path / "state.json"
    loose.write_text("{}")
    loose.chmod(0o644)
    write_private(loose, '{"users": {}}')
    assert _mode(loose) == 0o600 and loose.read_text() == '{"users": {}}'
    assert list(tmp_path.iterdir()) == [loose]  # no temp file left behind


def test_ingest_state_file_is_0600(tmp_path):
    from cloud.ingest import IngestConfig, Ingestor
    from tests.cloud.helpers import PARK

    cfg = IngestConfig(mqtt_password="x", state_dir=tmp_path / "ingest", influx_user="ingest")
    cfg.influx_password = INFLUX_USERS["ingest"]
    ing = Ingestor(cfg, PARK)
    try:
        files = sorted((tmp_path / "ingest").iterdir())
        assert files and {f.name for f in files} >= {"ingest.sqlite"}
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        ing.store.close()
        ing.influx.close()


def test_cli_tls_only_stack_and_acl_check(tmp_path):
    folder = tmp_path / "svc"
    run = CliRunner().invoke
    r = run(app, ["services", "up", "--folder", str(folder), "--tls-only", "--ingestors", "2"])
    try:
        assert r.exit_code == 0, r.output
        assert "(no plain listener)" in r.output and "ingest-2" in r.output
        st = json.loads((folder / "state.json").read_text())
        assert st["mqtt_port"] is None and st["tls_only"] is True
        conf = (folder / "mosquitto" / "mosquitto.conf").read_text()
        assert [x for x in conf.splitlines() if x.startswith("listener")] == [f"listener {st['mqtt_tls_port']} 127.0.0.1"]
        p = MqttProbe("localhost", st["mqtt_tls_port"], "ingest-2", st["users"]["ingest-2"], "x", ca_file=st["ca_file"])
        assert not p.connect().is_failure
        p.close()
        check = ["services", "check", "--folder", str(folder)]
        r = run(app, [*check, "gateway", "aisym/kraakoya/gateway/telemetry"])
        assert r.exit_code == 0 and "allowed" in r.output
        r = run(app, [*check, "controller", "aisym/kraakoya/ghost/cmd"])
        assert r.exit_code == 1 and "refused" in r.output
        r = run(app, [*check, "--subscribe", "gateway", "aisym/kraakoya/sensor-node/telemetry"])
        assert r.exit_code == 1 and "delivers nothing" in r.output
        r = run(app, [*check, "--subscribe", "ingest", "aisym/kraakoya/+/telemetry"])
        assert r.exit_code == 0 and "delivers every topic" in r.output
    finally:
        r = run(app, ["services", "down", "--folder", str(folder)])
    assert r.exit_code == 0 and "mosquitto" in r.output


@pytest.mark.parametrize("bad", ["", "a b", "x:y"])
def test_bad_account_names_are_refused(bad):
    from aisym.services.secretfile import password_file

    with pytest.raises(ValueError, match="broker account"):
        password_file({bad: "pw"})
