"""Running a whole gateway in tests: config files, the gateway in a thread or a process, a subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from aisym.contract import decode_telemetry
from aisym.services import Mosquitto
from edge.gateway.config import Resolved, load_config
from edge.gateway.gateway import Gateway
from tests.conftest import USERS
from tests.support import MqttProbe

NODE = "gw-test"
PW_ENV = "AISYM_TEST_GATEWAY_PW"
ROOT = Path(__file__).resolve().parents[3]


def write_config(folder: Path, mqtt: Mosquitto, port: int | None, **over) -> Path:
    """A gateway config: one TCP device (profile aisym_site_plc, unit 1) feeding chp.power_el."""
    cfg: dict = {
        "node": NODE,
        "park": "kraakoya",
        "broker": {
            "host": "127.0.0.1",
            "port": mqtt.tls_port,
            "tls": {"ca_file": str(mqtt.ca_file)},
            "username": NODE,
            "password_env": PW_ENV,
            "keepalive_s": 5,
            "window": 50,
            "batch": 50,
            "client_id": f"{NODE}-{folder.name}"[:40],
        },
        "spool": {"path": str(folder / "spool.db"), "fsync": "normal"},
        "health_period_s": 1,
        "buses": {"plc": {"type": "tcp", "host": "127.0.0.1", "port": port or 1, "timeout_s": 0.5}},
        "devices": [
            {
                "id": "chp",
                "bus": "plc",
                "profile": "aisym_site_plc",
                "unit_id": 1,
                "poll_s": 0.05,
                "max_backoff_s": 0.5,
                "tags": {
                    "feedback": {"tag": "chp.power_el", "scale": 1.0},
                    "setpoint": {"tag": "chp.power_setpoint", "scale": 1.0},
                },
            }
        ]
        if port
        else [],
        "setpoints": {"silence_s": None, "writes": {"chp.power_setpoint": "chp.setpoint"} if port else {}},
    }
    for k, v in over.items():
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class GatewayThread:
    """A gateway running in its own event loop thread (like the real process, minus signals)."""

    def __init__(self, resolved: Resolved, clock=None):
        self.resolved = resolved
        self.clock = clock
        self.error: BaseException | None = None  # what ended the run, if not a cancellation
        self.gw: Gateway | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._ready = threading.Event()

    def _main(self) -> None:
        async def main():
            self.loop = asyncio.get_running_loop()
            self.gw = Gateway(self.resolved, self.clock)
            self._task = asyncio.current_task()
            self._ready.set()
            try:
                await self.gw.run()
            except Exception as e:
                self.error = e

        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main())

    def start(self) -> GatewayThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def call(self, fn, *args):
        """Run ``fn(*args)`` (or a coroutine function) on the gateway's loop and return its result."""
        assert self.loop is not None

        async def run():
            res = fn(*args)
            return await res if asyncio.iscoroutine(res) else res

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def stop(self) -> None:
        if self.loop is not None and self._task is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(20)


def gateway_process(config: Path, log: Path) -> subprocess.Popen:
    """``aisym gateway run CONFIG`` as a real process (for SIGKILL)."""
    env = {**os.environ, PW_ENV: USERS[NODE], "PYTHONPATH": str(ROOT)}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "aisym", "gateway", "run", str(config), "--log-level", "WARNING"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def subscriber(broker: Mosquitto, client_id: str, topics: list[str]) -> MqttProbe:
    """The ingest account with a persistent session, so nothing is missed while it reconnects."""
    probe = MqttProbe("127.0.0.1", broker.port, "ingest", USERS["ingest"], client_id)
    probe.client.reconnect_delay_set(1, 2)

    def resubscribe(client, userdata, flags, rc, props=None):
        with probe._lock:
            probe.connack = rc
            probe._lock.notify_all()
        for t in topics:
            client.subscribe(t, qos=1)

    probe.client.on_connect = resubscribe
    probe.connect(clean_start=False, session_expiry=3600)
    time.sleep(0.3)
    return probe


def readings_of(probe: MqttProbe, topic_suffix: str = "/telemetry") -> list:
    with probe._lock:
        msgs = [m for m in probe.messages if m.topic.endswith(topic_suffix)]
    out = []
    for m in msgs:
        t = decode_telemetry(m.payload)
        out += [(r, t.sent) for r in t.readings]
    return out


def payloads(probe: MqttProbe, suffix: str) -> list[dict]:
    with probe._lock:
        return [json.loads(m.payload) for m in probe.messages if m.topic.endswith(suffix)]


def spool_state(path: Path) -> tuple[int, set[int]]:
    """(last seq given out, seqs still waiting) read from the spool file by another process."""
    db = sqlite3.connect(path, timeout=5)
    try:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").fetchone()
        left = {s for (s,) in db.execute("SELECT seq FROM readings")}
    finally:
        db.close()
    return (int(row[0]) if row else 0), left


def wait_for(predicate, timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def resolved(path: Path) -> Resolved:
    os.environ[PW_ENV] = USERS[NODE]
    return load_config(path)
