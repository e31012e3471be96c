"""The ingestor's local durable state: a SQLite (WAL) file with the spill queue and the dead letters.

- **spill**: batches of line protocol that InfluxDB could not take (down, throttled, 5xx). A batch is
  committed here *before* its MQTT messages are acknowledged, and deleted only after InfluxDB answered
  204: the "ack-before-delete" rule that ThingsBoard's gateway breaks (its writer thread commits late,
  iot_anchors §1) and Telegraf's memory buffer breaks by dropping the oldest metrics.
- **dead_letters**: messages (or single points) that can never be stored, with the field and reason.

``synchronous=FULL``: a commit survives a power cut, not only a SIGKILL. One connection, used by one
thread (the ingestor's worker), so no locking is needed beyond SQLite's own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spill (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    lines TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms INTEGER NOT NULL,
    topic TEXT NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class DeadLetter:
    """A message or point refused for good.

    :param topic: MQTT topic it came on (``influx`` for a point InfluxDB refused with a 4xx)
    :param field: the field at fault (``readings[2].ts``), empty when the whole payload is
    :param reason: why, in words
    :param payload: the raw bytes (a refused point: its line protocol)
    """

    topic: str
    field: str
    reason: str
    payload: bytes
    received_ms: int = 0
    id: int = 0


class Store:
    """The SQLite state file.

    :param path: the database file; its folder is created
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open transactions ourselves, so one batch is one commit.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- spill queue ------------------------------------------------------------------------
    def spill(self, lines: list[str]) -> int:
        """Durably queue a batch; returns its id. Returns after the commit (fsync)."""
        cur = self._db.execute(
            "INSERT INTO spill (created_ms, n, lines) VALUES (?, ?, ?)", (_now_ms(), len(lines), "\n".join(lines))
        )
        return int(cur.lastrowid or 0)

    def oldest_spilled(self) -> tuple[int, list[str]] | None:
        row = self._db.execute("SELECT id, lines FROM spill ORDER BY id LIMIT 1").fetchone()
        return None if row is None else (row[0], row[1].split("\n"))

    def drop_spilled(self, batch_id: int) -> None:
        self._db.execute("DELETE FROM spill WHERE id = ?", (batch_id,))

    def spill_depth(self) -> tuple[int, int]:
        """(batches, points) waiting in the spill queue."""
        n, pts = self._db.execute("SELECT count(*), coalesce(sum(n), 0) FROM spill").fetchone()
        return int(n), int(pts)

    # -- dead letters -----------------------------------------------------------------------
    def add_dead_letters(self, letters: Iterable[DeadLetter]) -> int:
        """Store dead letters in one transaction; returns how many."""
        rows = [(d.received_ms or _now_ms(), d.topic, d.field, d.reason, d.payload) for d in letters]
        if rows:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO dead_letters (received_ms, topic, field, reason, payload) VALUES (?, ?, ?, ?, ?)", rows
            )
            self._db.execute("COMMIT")
        return len(rows)

    def dead_letter_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])

    def dead_letters(self, limit: int = 100, offset: int = 0) -> Iterator[DeadLetter]:
        """Most recent first."""
        q = "SELECT id, received_ms, topic, field, reason, payload FROM dead_letters ORDER BY id DESC LIMIT ? OFFSET ?"
        for id_, ms, topic, field, reason, payload in self._db.execute(q, (limit, offset)):
            yield DeadLetter(topic, field, reason, bytes(payload), ms, id_)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
