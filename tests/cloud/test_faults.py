"""Faults against the real services: InfluxDB restart, broker restart, ingestor SIGKILLed mid-batch.

Each checks the one property that matters: every reading published is in InfluxDB exactly once
(the seqs stored are exactly 0..n-1, and the point count is n).
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
import requests

from aisym.contract import now_ms, topics
from tests.conftest import INFLUX_USERS, PARK_ID, USERS, park_database
from tests.support import MqttProbe

from .helpers import messages, publish_all, publisher, seqs_in_influx, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_influxdb_restart_spills_then_drains(mosquitto, fresh_influxdb, make_ingestor, unique_id):
    db = park_database(fresh_influxdb, unique_id)
    ing = make_ingestor(mosquitto, fresh_influxdb.url, unique_id)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    publish_all(pub, "node-a", messages("node-a", 40, 25))
    wait_for(lambda: len(seqs_in_influx(db, "node-a")) == 1000, 15, "first 1000 points")

    fresh_influxdb.stop()
    publish_all(pub, "node-a", messages("node-a", 60, 25, first_seq=1000))
    # acknowledged while InfluxDB is down: held in the durable spill queue, not in memory
    wait_for(lambda: ing.counters.acks >= 100, 15, "acks while InfluxDB is down")
    assert ing.counters.spilled_batches >= 1 and ing.spill_depth()[1] >= 1500

    fresh_influxdb.start()
    wait_for(lambda: ing.spill_depth() == (0, 0), 20, "spill queue drained")
    pub.close()
    assert seqs_in_influx(db, "node-a") == list(range(2500))
    assert ing.counters.write_errors >= 1 and ing.counters.dead_letters == 0


def test_broker_restart_loses_nothing(fresh_mosquitto, influxdb, influx, make_ingestor, unique_id):
    # a backlog waits in the ingestor's persistent session, so the restart lands mid-stream
    first = make_ingestor(fresh_mosquitto, influxdb.url, influx.database)
    wait_for(lambda: first.connected, 5, "ingestor connected")
    first.stop()
    pub = publisher(fresh_mosquitto, "node-b", f"{unique_id}-pub")
    publish_all(pub, "node-b", messages("node-b", 300, 20))
    pub.close()
    ing = make_ingestor(fresh_mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.counters.acks > 0, 10, "first acks", every=0.005)
    acked = ing.counters.acks
    # SIGTERM: Mosquitto saves its sessions on the way down. (A SIGKILLed Mosquitto loses what it
    # accepted since its last autosave: the broker's durability, not the ingestor's; docs/cloud.md.)
    fresh_mosquitto.restart()
    assert acked < 300, "the backlog was done before the broker went down"
    wait_for(lambda: ing.connected and ing.counters.connects >= 2, 15, "ingestor reconnected")
    pub = publisher(fresh_mosquitto, "node-b", f"{unique_id}-pub2")
    publish_all(pub, "node-b", messages("node-b", 100, 20, first_seq=6000))
    pub.close()
    wait_for(lambda: len(seqs_in_influx(influx, "node-b")) >= 8000, 20, "8000 points")
    time.sleep(0.5)
    assert seqs_in_influx(influx, "node-b") == list(range(8000))


def _spawn_ingestor(broker, influx_url: str, db: str, state: Path, client_id: str, log: Path) -> subprocess.Popen:
    """``python -m cloud.ingest`` as a real process; returns once it announced itself online (subscribed)."""
    import json

    watcher = MqttProbe("127.0.0.1", broker.port, "admin", USERS["admin"], client_id + "-watch")
    watcher.connect()
    watcher.subscribe(topics.status(PARK_ID, "ingest"))
    since = now_ms()
    env = {**os.environ, "AISYM_MQTT_PASSWORD": USERS["ingest"], "PYTHONPATH": str(ROOT)}
    env |= {"AISYM_INFLUX_USER": "ingest", "AISYM_INFLUX_PASSWORD": INFLUX_USERS["ingest"]}
    argv = [sys.executable, "-m", "cloud.ingest", "--mqtt-port", str(broker.port), "--influx-url", influx_url]
    argv += ["--influx-db", db, "--group", client_id, "--client-id", client_id, "--state-dir", str(state)]
    argv += ["--linger", "0.2", "--health-interval", "1", "--gap-grace", "1"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def online() -> bool:
        return any(json.loads(m.payload).get("ts", 0) >= since for m in watcher.messages)

    try:
        watcher.wait(online, 20, "ingestor online")
    finally:
        watcher.close()
    return proc


@pytest.mark.timeout(120)
def test_sigkill_mid_batch_and_with_spill_loses_nothing(mosquitto, fresh_influxdb, tmp_path, unique_id):
    db = park_database(fresh_influxdb, unique_id)
    state, log = tmp_path / "state", tmp_path / "ingest.log"
    # The first ingestor writes through a slow proxy (0.5 s a batch), so the kill surely comes mid-way
    # however fast the machine is.
    _ThrottlingProxy.target, _ThrottlingProxy.refusals, _ThrottlingProxy.delay_s = fresh_influxdb.url, 0, 0.5
    slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ThrottlingProxy)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    slow_url = f"http://127.0.0.1:{slow.server_address[1]}"
    proc = _spawn_ingestor(mosquitto, slow_url, unique_id, state, unique_id, log)
    try:
        pub = publisher(mosquitto, "gw-test", f"{unique_id}-pub")
        # 1. killed while points are flowing: some written, some received but not acked
        n1 = 20_000
        publish_all(pub, "gw-test", messages("gw-test", 800, 25))
        wait_for(lambda: len(seqs_in_influx(db, "gw-test")) > 0, 30, "first points", every=0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        at_kill = len(seqs_in_influx(db, "gw-test"))
        print(f"points in InfluxDB at the kill: {at_kill} of {n1}")
        assert at_kill < n1, "the kill came after everything was written: no mid-batch kill tested"
        slow.shutdown()
        _ThrottlingProxy.delay_s = 0.0

        # 2. killed with a backlog in the spill queue (InfluxDB down, messages acked)
        fresh_influxdb.stop()
        proc = _spawn_ingestor(mosquitto, fresh_influxdb.url, unique_id, state, unique_id, log)
        publish_all(pub, "gw-test", messages("gw-test", 200, 25, first_seq=n1))
        from cloud.ingest import Store

        spill = Store(state / "ingest.sqlite")
        wait_for(lambda: spill.spill_depth()[1] >= 5000, 60, "backlog spilled")
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)

        fresh_influxdb.start()
        proc = _spawn_ingestor(mosquitto, fresh_influxdb.url, unique_id, state, unique_id, log)
        n = n1 + 5000
        wait_for(lambda: len(seqs_in_influx(db, "gw-test")) >= n and spill.spill_depth() == (0, 0), 60, f"{n} points")
        assert seqs_in_influx(db, "gw-test") == list(range(n)), log.read_text()[-3000:]
        spill.close()
        pub.close()
        proc.send_signal(signal.SIGTERM)  # a clean stop: flush, offline status, exit 0
        assert proc.wait(15) == 0, log.read_text()[-3000:]
    finally:
        _ThrottlingProxy.delay_s = 0.0
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_unexpected_write_error_is_retried_not_dropped(mosquitto, influxdb, influx, make_ingestor, unique_id, monkeypatch):
    """A bug or a full disk in the write path: the batch is retried, its messages stay unacked meanwhile."""
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    real_write, failures = ing.writer.write, [2]

    def flaky(lines):
        if failures[0]:
            failures[0] -= 1
            raise OSError(28, "No space left on device")
        return real_write(lines)

    monkeypatch.setattr(ing.writer, "write", flaky)
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    publish_all(pub, "node-a", messages("node-a", 20, 10, ts0=1_790_200_000_000))
    pub.close()
    wait_for(lambda: len(seqs_in_influx(influx, "node-a")) == 200, 15, "200 points")
    assert seqs_in_influx(influx, "node-a") == list(range(200))
    assert ing.counters.internal_errors == 2 and ing.running


class _ThrottlingProxy(http.server.BaseHTTPRequestHandler):
    """Answers the first write with 429 + Retry-After, then forwards to the real InfluxDB."""

    target = ""
    refusals = 1
    delay_s = 0.0  # each forwarded write waits this long (a slow database)
    writes: ClassVar[list[tuple[float, int]]] = []  # (monotonic time, status)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/write") and self.delay_s:
            time.sleep(self.delay_s)
        if self.path.startswith("/write") and _ThrottlingProxy.refusals > 0:
            _ThrottlingProxy.refusals -= 1
            status, headers, data = 429, {"Retry-After": "1.5"}, b'{"error": "too many requests"}'
        else:
            auth = {"Authorization": self.headers["Authorization"]} if self.headers.get("Authorization") else {}
            r = requests.post(self.target + self.path, data=body, headers=auth, timeout=10)
            status, headers, data = r.status_code, {}, r.content
        if self.path.startswith("/write"):
            self.writes.append((time.monotonic(), status))
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_throttled_write_waits_for_retry_after(mosquitto, influxdb, influx, make_ingestor, unique_id):
    _ThrottlingProxy.target, _ThrottlingProxy.refusals, _ThrottlingProxy.writes = influxdb.url, 1, []
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ThrottlingProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        ing = make_ingestor(mosquitto, url, influx.database, backoff_initial_s=0.05, health_interval_s=60)
        wait_for(lambda: ing.connected, 5, "ingestor connected")
        pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
        publish_all(pub, "node-a", messages("node-a", 10, 10, ts0=1_790_300_000_000))
        pub.close()
        wait_for(lambda: len(seqs_in_influx(influx, "node-a")) == 100, 10, "100 points")
    finally:
        proxy.shutdown()
    (t429, s429), (t_next, s_next) = _ThrottlingProxy.writes[:2]
    assert (s429, s_next) == (429, 204)
    assert t_next - t429 >= 1.5, "retried before Retry-After although our own backoff was 0.05 s"
    assert seqs_in_influx(influx, "node-a") == list(range(100)) and ing.counters.spilled_batches >= 1
