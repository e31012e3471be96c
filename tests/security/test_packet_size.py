"""A node sending 32 MB messages: the broker refuses the packet, the ingestor never sees it.

The ingestor runs as its own process so that its peak RSS (``VmHWM``) is its own. The attacker
speaks raw MQTT 3.1.1 on a socket, so no client library can refuse the packet on its behalf.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aisym.contract import topics
from tests.conftest import INFLUX_USERS, PARK_ID, USERS
from tests.support import MqttProbe, clear_session

ROOT = Path(__file__).resolve().parents[2]
ATTACK_BYTES = 32 * 1024 * 1024


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(s: str) -> bytes:
    return struct.pack("!H", len(s)) + s.encode()


def _connect_raw(port: int, user: str, password: str) -> socket.socket:
    body = _field("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 30) + _field(user) + _field(user) + _field(password)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"\x10" + _varint(len(body)) + body)
    connack = s.recv(4)
    assert connack[:1] == b"\x20" and connack[3:4] == b"\x00", f"CONNACK {connack!r}"
    return s


def _publish_huge(port: int, user: str, topic: str, size: int) -> tuple[int, bytes]:
    """QoS 1 PUBLISH of ``size`` payload bytes; returns (bytes the broker took, what it answered)."""
    s = _connect_raw(port, user, USERS[user])
    head = b"\x32" + _varint(2 + len(topic) + 2 + size) + _field(topic) + struct.pack("!H", 1)
    sent, chunk = 0, b"x" * 65536
    try:
        s.sendall(head)
        while sent < size:
            sent += s.send(chunk[: min(len(chunk), size - sent)])
        answer = s.recv(16)  # a PUBACK if the broker took it
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        answer = b""
    finally:
        s.close()
    return sent, answer


def _rss_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def _spawn_ingestor(broker, influx_url: str, db: str, state: Path, log: Path, cid: str) -> subprocess.Popen:
    """The real ingestor as a process; returns once it is connected and subscribed.

    It waits on the ingestor's own log, not on an MQTT watcher: client ids are bound to accounts,
    so any other admin connection left by an earlier test in this process would take over a
    watcher's session and the "online" status would be missed.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AISYM_MQTT_PASSWORD": USERS["ingest"]}
    env |= {"AISYM_INFLUX_USER": "ingest", "AISYM_INFLUX_PASSWORD": INFLUX_USERS["ingest"]}
    argv = [sys.executable, "-m", "cloud.ingest", "--mqtt-port", str(broker.port), "--influx-url", influx_url]
    argv += ["--influx-db", db, "--group", cid, "--client-id", cid, "--state-dir", str(state), "--health-interval", "1"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "connected to" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the ingestor did not connect: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    time.sleep(0.5)  # its SUBSCRIBEs follow the CONNACK
    return proc


@pytest.mark.timeout(120)
def test_32_mb_publishes_are_refused_and_the_ingestor_stays_small(mosquitto, influxdb, influx, tmp_path, unique_id):
    clear_session(mosquitto, "ingest", USERS["ingest"])
    log = tmp_path / "ingest.log"
    proc = _spawn_ingestor(mosquitto, influxdb.url, influx.database, tmp_path / "state", log, unique_id)
    listener = MqttProbe("127.0.0.1", mosquitto.port, "admin", USERS["admin"], unique_id + "-l")
    try:
        listener.connect()
        listener.subscribe(topics.telemetry(PARK_ID, "node-a"))
        before = _rss_kb(proc.pid)
        peak = before["VmRSS"]
        for attempt in range(4):
            sent, answer = _publish_huge(mosquitto.port, "node-a", topics.telemetry(PARK_ID, "node-a"), ATTACK_BYTES)
            peak = max(peak, _rss_kb(proc.pid)["VmRSS"])
            print(f"attempt {attempt + 1}: broker took {sent} of {ATTACK_BYTES} bytes, answered {answer!r}")
            assert answer == b"" and sent < ATTACK_BYTES, "the broker accepted a 32 MB packet"
        time.sleep(1.0)  # would-be deliveries
        after = _rss_kb(proc.pid)
        print(f"ingestor RSS before {before['VmRSS'] / 1024:.0f} MB, peak seen {peak / 1024:.0f} MB, "
              f"after {after['VmRSS'] / 1024:.0f} MB, high-water mark {after['VmHWM'] / 1024:.0f} MB")
        assert listener.messages == [], "a 32 MB message was delivered"
        assert after["VmHWM"] < 150 * 1024, f"ingestor peak RSS {after['VmHWM'] / 1024:.0f} MB"
        assert proc.poll() is None, log.read_text()[-2000:]
        # the node is refused only its oversized packets: its account still works
        ok = MqttProbe("127.0.0.1", mosquitto.port, "node-a", USERS["node-a"], unique_id + "-n")
        assert not ok.connect().is_failure
        ok.close()
    finally:
        listener.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        clear_session(mosquitto, "ingest", USERS["ingest"])
