"""``services up``/``down`` for real (Mosquitto, InfluxDB and its gate on free ports): issue 18,
findings 7 (folder permissions) and 11 (a half-dead stack).

- Every process ``up`` starts is stopped by ``down``, also after InfluxDB died under a running broker.
- A stack folder that already existed as 0755 is made 0700: checked as user ``nobody``, who must not
  read InfluxDB's password hashes (root ignores permissions, so a mode check alone proves little).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from aisym.services import Stack, port_open
from aisym.services._proc import pid_alive
from aisym.services.secretfile import write_private

NODES = ["gateway"]


def _pids(st: dict) -> dict[str, int]:
    return {k: v for k, v in st.items() if k.endswith("_pid") and v}


def _ports(st: dict) -> list[int]:
    return [p for p in (st.get("mqtt_port"), st.get("mqtt_tls_port"), st.get("influx_port")) if p]


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < end:  # a zombie counts as gone
        time.sleep(0.05)


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path / "services")
    yield s
    s.down()


def test_up_after_influxdb_died_restarts_it_and_down_stops_everything(stack):
    first = stack.up("kraakoya", NODES)
    os.kill(first["influx_pid"], signal.SIGKILL)
    _wait_gone(first["influx_pid"])
    second = stack.up("kraakoya", NODES)
    # every PID recorded is a live process of this stack, and the broker on the port is the one recorded
    dead = [k for k, pid in _pids(second).items() if not pid_alive(pid)]
    print(f"state.json records dead processes: {dead}; repaired: {second.get('repaired')}")
    stopped = stack.down()
    every_pid = {**{f"old {k}": v for k, v in _pids(first).items()}, **_pids(second)}
    left = [f"{k} (pid {pid})" for k, pid in every_pid.items() if pid_alive(pid)]
    listening = [p for p in _ports(second) if port_open(p)]
    print(f"down stopped {stopped}; left running: {left}; ports still answering: {listening}")
    assert dead == [] and left == [] and listening == []
    assert second.get("repaired"), "the half-dead stack was not reported"


def test_down_stops_the_gate_and_influxd(stack):
    st = stack.up("kraakoya", NODES)
    assert {"mosquitto_pid", "influx_pid", "influx_gate_pid"} <= set(_pids(st))
    stopped = stack.down()
    assert len(stopped) == 3, stopped
    assert not any(pid_alive(pid) for pid in _pids(st).values())


def test_a_recorded_pid_that_is_now_another_process_is_left_alone(stack):
    """After a reboot a recorded PID may belong to anything: ``down`` kills only its own processes."""
    st = stack.up("kraakoya", NODES)
    stack.down()
    other = subprocess.Popen(["sleep", "30"])
    try:
        state = stack.state()
        state["mosquitto_pid"] = other.pid
        write_private(stack.state_file, json.dumps(state))
        assert stack.down() == []
        assert other.poll() is None, "down killed a process that was not the stack's"
    finally:
        other.kill()
        other.wait()
    del st


def test_a_port_taken_by_another_process_is_an_error_not_a_dead_pid(stack, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"{port}"):
            stack.up("kraakoya", NODES, mqtt_port=port)
    assert not any(pid_alive(p) for p in _pids(stack.state() or {}).values())


def _readable_by_nobody(path: Path) -> bool:
    r = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(path)], capture_output=True, timeout=10)
    return r.returncode == 0 and len(r.stdout) > 0


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to act as user nobody")
def test_a_folder_that_was_0755_is_made_private():
    """Finding 7b: ``mkdir(mode=0o700, exist_ok=True)`` leaves an existing 0755 folder as it was."""
    base = Path(tempfile.mkdtemp(prefix="aisym-perm-"))  # a folder other users can traverse
    os.chmod(base, 0o755)
    folder = base / "services"
    for sub in ("", "influxdb", "influxdb/meta", "influxdb/data", "influxdb/wal", "mosquitto"):
        (folder / sub).mkdir(mode=0o755, exist_ok=True)
        os.chmod(folder / sub, 0o755)
    stack = Stack(folder)
    try:
        stack.up("kraakoya", NODES)
        meta = folder / "influxdb" / "meta" / "meta.db"
        assert meta.exists()
        modes = {str(p.relative_to(base)): oct(stat.S_IMODE(p.stat().st_mode))
                 for p in [folder, *(folder / s for s in ("influxdb", "influxdb/meta"))]}
        readable = [str(p.relative_to(base)) for p in (meta, folder / "state.json") if _readable_by_nobody(p)]
        print(f"modes {modes}; readable by nobody: {readable}")
        assert readable == []
        assert modes[str(folder.relative_to(base))] == "0o700"
    finally:
        stack.down()
        shutil.rmtree(base, ignore_errors=True)


def test_the_cli_names_every_process_and_the_isolation(tmp_path):
    """`services up` and `status` name the gate and whether influxd is isolated (was: only mosquitto and influxd)."""
    from typer.testing import CliRunner

    from aisym.cli import app

    runner, folder = CliRunner(), str(tmp_path / "svc")
    try:
        up = runner.invoke(app, ["services", "up", "--folder", folder])
        assert up.exit_code == 0, up.output
        said = " ".join(up.stdout.split())  # rich wraps at the terminal's width, wherever the paths end
        assert "behind the gate pid" in said and "private network" in said
        st = runner.invoke(app, ["services", "status", "--folder", folder])
        assert st.exit_code == 0
        assert all(f"{name}" in st.stdout for name in ("influxdb gate", "influxd", "mosquitto"))
        assert st.stdout.count(" running") == 3
    finally:
        down = runner.invoke(app, ["services", "down", "--folder", folder])
    assert down.exit_code == 0 and "influxdb gate" in down.stdout
