"""Dead letters are bounded: a payload prefix with its size and sha256, a table capped by size.

The flood test runs the real ``python -m cloud.ingest`` against the real broker and InfluxDB and
sends 1,000 payloads just over the contract's 256 KiB (the broker's packet limit lets them
through); the store must stay under its cap, with every letter either kept or counted as pruned.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from aisym.contract import MAX_PAYLOAD_BYTES, now_ms, topics
from cloud.ingest import DeadLetter, Store
from cloud.ingest.store import ROW_OVERHEAD
from tests.conftest import INFLUX_USERS, PARK_ID, USERS
from tests.support import MqttProbe, clear_session

from .helpers import publish_all, publisher, seqs_in_influx, telemetry, wait_for

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _spawn(broker, influx_url: str, db: str, state: Path, log: Path, *extra: str) -> subprocess.Popen:
    """``python -m cloud.ingest`` as its own process; returns once it announced itself online."""
    clear_session(broker, "ingest", USERS["ingest"])
    watcher = MqttProbe("127.0.0.1", broker.port, "admin", USERS["admin"], "admin")
    watcher.connect()
    watcher.subscribe(topics.status(PARK_ID, "ingest"))
    since = now_ms()
    env = {**os.environ, "AISYM_MQTT_PASSWORD": USERS["ingest"], "PYTHONPATH": str(ROOT)}
    env |= {"AISYM_INFLUX_USER": "ingest", "AISYM_INFLUX_PASSWORD": INFLUX_USERS["ingest"]}
    argv = [sys.executable, "-m", "cloud.ingest", "--mqtt-port", str(broker.port), "--influx-url", influx_url]
    argv += ["--influx-db", db, "--group", db, "--state-dir", str(state), "--health-interval", "1", *extra]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        watcher.wait(lambda: any(json.loads(m.payload).get("ts", 0) >= since for m in watcher.messages), 20, "online")
    finally:
        watcher.close()
    return proc


class _RssSampler(threading.Thread):
    """Peak resident memory of a process, read from /proc every 50 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.start_kib, self._done = pid, 0, 0, threading.Event()

    def _rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def run(self) -> None:
        self.start_kib = self._rss()
        while not self._done.wait(0.05):
            try:
                self.peak_kib = max(self.peak_kib, self._rss())
            except OSError:
                return

    def stop(self) -> None:
        self._done.set()
        self.join(2)


def _counts(db_file: Path) -> tuple[int, int, int]:
    """(letters kept, their accounted bytes, letters pruned since the file was made), read-only."""
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        n, size = con.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM dead_letters").fetchone()
        row = con.execute("SELECT value FROM meta WHERE key = 'dead_letters_pruned'").fetchone()
        return int(n), int(size), int(row[0]) if row else 0
    finally:
        con.close()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("size", [MAX_PAYLOAD_BYTES + 1000, MAX_PAYLOAD_BYTES - 1000], ids=["oversized", "just-under"])
def test_oversized_flood_stays_under_the_cap(mosquitto, influxdb, influx, tmp_path, unique_id, size):
    """Over the limit: refused on arrival. Just under it: decoded, refused as bad JSON (its ``pad`` has no end)."""
    cap, n = 256 * 1024, 1000
    state, log = tmp_path / "state", tmp_path / "ingest.log"
    proc = _spawn(mosquitto, influxdb.url, influx.database, state, log, "--dead-letter-max-bytes", str(cap))
    rss = _RssSampler(proc.pid)
    rss.start()
    try:
        pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
        pad = b'{"v": 1, "pad": "' + b"x" * (size - 30)
        t0 = time.monotonic()
        publish_all(pub, "node-a", (pad + f' "i": {i:06d}'.encode() for i in range(n)), window=20)  # type: ignore[arg-type]
        publish_all(pub, "node-a", [telemetry("node-a", range(5))])  # a good message after the flood
        pub.close()
        db_file = state / "ingest.sqlite"
        wait_for(lambda: sum(_counts(db_file)[::2]) >= n, 60, f"{n} dead letters kept or pruned")
        wait_for(lambda: seqs_in_influx(influx, "node-a") == list(range(5)), 10, "the good message")
        took = time.monotonic() - t0
        kept, kept_bytes, pruned = _counts(db_file)
        files = {p.name: p.stat().st_size for p in state.glob("ingest.sqlite*")}

        def health_pruned() -> float | None:
            rows = influx.rows("SELECT last(dead_letters_pruned) FROM ingest_health")
            return rows[0]["last"] if rows else None

        wait_for(lambda: health_pruned() == pruned, 10, "dead_letters_pruned in the health series")
        bytes_rows = influx.rows("SELECT last(dead_letter_bytes) FROM ingest_health")
    finally:
        rss.stop()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    print(
        f"{n} messages of {len(pad) + 12} bytes ({n * len(pad) / MiB:.0f} MiB) in {took:.1f} s: {kept} letters kept "
        f"({kept_bytes} bytes accounted, cap {cap}), {pruned} pruned; files {files}; "
        f"ingestor RSS {rss.start_kib / 1024:.1f} -> peak {rss.peak_kib / 1024:.1f} MiB"
    )
    assert kept + pruned == n and pruned > 0
    assert kept_bytes <= cap and bytes_rows[0]["last"] <= cap
    assert files["ingest.sqlite"] <= cap + MiB  # freed pages are reused: the file stays near the cap
    assert files.get("ingest.sqlite-wal", 0) <= 5 * MiB  # journal_size_limit (4 MiB) after a checkpoint
    assert rss.peak_kib < 150 * 1024


def test_a_letter_keeps_a_prefix_with_size_and_sha256(tmp_path):
    payload = b"{" + b"x" * 100_000 + b"}"
    d = DeadLetter.of("aisym/kraakoya/node-a/telemetry", "", "too big", payload, prefix_bytes=1024)
    assert len(d.payload) == 1024 and d.size == len(payload) and d.truncated
    assert d.sha256 == hashlib.sha256(payload).hexdigest()
    store = Store(tmp_path / "s.sqlite", prefix_bytes=256)
    store.add_dead_letters([d, DeadLetter("influx", "line", "HTTP 400: x" * 1000, b"m v=1 1")])
    whole, cut = list(store.dead_letters())
    assert len(cut.payload) == 256 and cut.size == len(payload) and cut.sha256 == d.sha256 and cut.code == "invalid"
    assert whole.payload == b"m v=1 1" and not whole.truncated and len(whole.reason) == 1024
    store.close()


def test_cap_prunes_the_oldest_and_counts_them_across_restarts(tmp_path):
    path, cap = tmp_path / "s.sqlite", 64 * 1024
    letter = [DeadLetter.of("t", "", f"bad {i}", bytes([i % 256]) * 2000) for i in range(200)]
    per_row = ROW_OVERHEAD + 1 + len("bad 100") + 1024 + 64
    store = Store(path, dead_letter_max_bytes=cap)
    for i in range(0, 100):
        store.add_dead_letters([letter[i]])
    assert store.dead_bytes <= cap and store.pruned > 0
    kept_first = store.dead_letter_count()
    store.close()
    store = Store(path, dead_letter_max_bytes=cap)  # reopened: the size and the pruned total are remembered
    store.add_dead_letters(letter[100:])
    kept = store.dead_letter_count()
    assert store.dead_bytes <= cap and store.pruned_total() + kept == 200
    assert kept_first * per_row > cap * 0.85
    reasons = [d.reason for d in store.dead_letters(limit=1000)]
    assert reasons[0] == "bad 199" and reasons[-1] == f"bad {200 - kept}"  # the newest are kept, oldest pruned
    store.close()


def test_an_older_state_file_is_migrated_and_capped(tmp_path):
    """A state file of the previous version (whole payloads, no size columns) is accounted and pruned."""
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, received_ms INTEGER NOT NULL,"
        " topic TEXT NOT NULL, field TEXT NOT NULL, reason TEXT NOT NULL, payload BLOB NOT NULL);"
    )
    con.executemany(
        "INSERT INTO dead_letters (received_ms, topic, field, reason, payload) VALUES (1, 't', '', 'old', ?)",
        [(b"y" * 300_000,) for _ in range(10)],
    )
    con.commit()
    con.close()
    store = Store(path, dead_letter_max_bytes=1 * MiB)
    assert store.dead_bytes > 3_000_000
    store.add_dead_letters([DeadLetter.of("t", "", "new", b"{}")])
    assert store.dead_bytes <= MiB and store.pruned_total() >= 7
    assert next(store.dead_letters(1)).reason == "new"
    store.close()


def test_retained_letters_are_stored_once_per_topic_and_sha(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    a = DeadLetter.of("aisym/kraakoya/node-a/status", "state", "x", b'{"state": "asleep"}', retained=True)
    b = DeadLetter.of("aisym/kraakoya/node-a/status", "state", "x", b'{"state": "dozing"}', retained=True)
    assert store.add_dead_letters([a, a]) == 1 and store.retained_skipped == 1
    store.close()
    store = Store(tmp_path / "s.sqlite")
    assert store.add_dead_letters([a]) == 0  # across a restart
    assert store.add_dead_letters([b]) == 1  # a new message on the topic
    assert store.dead_letter_count() == 2
    store.close()
