"""Durable store-and-forward spool: every reading goes to SQLite before it goes to the broker.

Why SQLite in WAL mode: a commit is atomic and survives the process being SIGKILLed at any
instant; readers never block the writer; the file is one ordinary file a technician can copy.

fsync policy (``spool.fsync`` in the config):

- ``full`` (default): ``PRAGMA synchronous=FULL``; each :meth:`Spool.add` commit is fsynced, so
  a reading acknowledged by ``add`` survives power loss. The gateway commits once per device
  poll (a handful of commits a second), which an SD card sustains.
- ``normal``: ``PRAGMA synchronous=NORMAL``; commits survive a process crash or SIGKILL but the
  last commits before a power cut may be rolled back (never corrupted). Less SD-card wear.

Sequence numbers are the table's ``AUTOINCREMENT`` row id: SQLite never reuses one, even after
rows are deleted, so seq keeps increasing across restarts and replays carry the seq (and the
timestamp) the reading was stored with. A reading is deleted only after the broker's PUBACK
(:meth:`Spool.ack`). The spool is bounded: past ``max_readings`` the oldest rows are dropped
and counted, because a gateway that fills its disk stops logging everything else too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tag TEXT NOT NULL,
    value REAL,
    unit TEXT NOT NULL,
    ts INTEGER NOT NULL,
    quality TEXT NOT NULL,
    ts_synced INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Row:
    """One spooled reading (what a telemetry message carries)."""

    seq: int
    tag: str
    value: float | None
    unit: str
    ts: int
    quality: str
    ts_synced: bool = True


class Spool:
    """A bounded SQLite queue of readings, deleted only once acknowledged.

    :param path: database file; created with its folder if missing
    :param max_readings: most readings kept; the oldest are dropped (and counted) beyond it
    :param fsync: ``full`` or ``normal``, see the module docstring
    """

    def __init__(self, path: str | Path, max_readings: int = 2_000_000, fsync: str = "full"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_readings = max_readings
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so one poll is one transaction.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if fsync == 'full' else 'NORMAL'}")
        self._db.executescript(_SCHEMA)
        self._count = self._db.execute("SELECT COUNT(*) FROM readings").fetchone()[0]
        self.counters: dict[str, int] = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        for name in ("queued_total", "sent", "dropped"):
            self.counters.setdefault(name, 0)

    def __len__(self) -> int:
        return self._count

    def add(self, readings: Iterable[tuple[str, float | None, str, int, str]], ts_synced: bool = True) -> list[int]:
        """Store ``(tag, value, unit, ts_ms, quality)`` tuples in one transaction; returns their seqs.

        When the spool is full the oldest readings are deleted in the same transaction.
        """
        rows = list(readings)
        if not rows:
            return []
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            seqs = []
            for tag, value, unit, ts, quality in rows:
                cur.execute(
                    "INSERT INTO readings (tag, value, unit, ts, quality, ts_synced) VALUES (?, ?, ?, ?, ?, ?)",
                    (tag, value, unit, ts, quality, int(ts_synced)),
                )
                seqs.append(int(cur.lastrowid or 0))
            over = self._count + len(rows) - self.max_readings
            if over > 0:
                cur.execute("DELETE FROM readings WHERE seq IN (SELECT seq FROM readings ORDER BY seq LIMIT ?)", (over,))
                self._bump(cur, "dropped", cur.rowcount)
            self._bump(cur, "queued_total", len(rows))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        self._count = self._count + len(rows) - max(over, 0)
        return seqs

    def _bump(self, cur: sqlite3.Cursor, name: str, n: int) -> None:
        cur.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?", (name, n, n)
        )
        self.counters[name] = self.counters.get(name, 0) + n

    def pending(self, after_seq: int, limit: int) -> list[Row]:
        """Up to ``limit`` readings with seq > ``after_seq``, oldest first."""
        cur = self._db.execute(
            "SELECT seq, tag, value, unit, ts, quality, ts_synced FROM readings WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [Row(s, t, v, u, ts, q, bool(sy)) for s, t, v, u, ts, q, sy in cur.fetchall()]

    def ack(self, seqs: Sequence[int], counter: str = "sent") -> int:
        """Delete readings the broker acknowledged (or refused for good, with ``counter="dropped"``)."""
        if not seqs:
            return 0
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.executemany("DELETE FROM readings WHERE seq = ?", [(s,) for s in seqs])
            n = cur.rowcount if cur.rowcount >= 0 else len(seqs)
            self._bump(cur, counter, n)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        self._count -= n
        return n

    def last_seq(self) -> int:
        """Highest seq ever given out (persisted by SQLite even when the table is empty)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()
