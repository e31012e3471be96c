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

A full disk (or a failing card: SQLite's ``SQLITE_FULL``/``SQLITE_IOERR``) *pauses* the spool
instead of killing the poller that hit it (:meth:`Spool.store`): the transaction is rolled back
(SQLite may already have done so itself, which is why a blind ``ROLLBACK`` raised ``cannot
rollback`` and killed the poller), new readings are held in memory (at most ``hold_max``, the
oldest dropped and counted as ``spool_lost``), and every later store tries the disk again: the
first one that succeeds writes what was held, oldest first, and the spool runs on. Deletions
of acknowledged readings that fail are kept and retried the same way, so the backlog count
stays true.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("aisym.gateway.spool")
#: SQLite primary result codes meaning "the storage cannot take a write now"
_STORAGE_FULL = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR}

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
    :param hold_max: most readings held in memory while the disk is full
    """

    def __init__(self, path: str | Path, max_readings: int = 2_000_000, fsync: str = "full", hold_max: int = 100_000):
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
        self.hold_max = hold_max
        self.paused = False
        self.full_errors = 0  # writes refused by the storage (health: spool_full_errors)
        self.lost = 0  # readings dropped from memory while paused (health: spool_lost)
        self._held: deque[tuple[list[tuple[str, float | None, str, int, str]], bool]] = deque()
        self._held_n = 0
        self._unacked: list[tuple[list[int], str]] = []  # acknowledged, deletion not yet written

    def __len__(self) -> int:
        return self._count

    def add(self, readings: Iterable[tuple[str, float | None, str, int, str]], ts_synced: bool = True) -> list[int]:
        """Store ``(tag, value, unit, ts_ms, quality)`` tuples in one transaction; returns their seqs.

        When the spool is full the oldest readings are deleted in the same transaction.
        """
        rows = list(readings)
        if not rows:
            return []
        bumps: dict[str, int] = {}
        cur = self._db.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
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
                self._bump(cur, bumps, "dropped", cur.rowcount)
            self._bump(cur, bumps, "queued_total", len(rows))
            cur.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        self._applied(bumps)
        self._count = self._count + len(rows) - max(over, 0)
        return seqs

    def _rollback(self) -> None:
        # SQLite rolls a transaction back by itself on SQLITE_FULL and some I/O errors; a second
        # ROLLBACK would raise "cannot rollback - no transaction is active" over the real error.
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _applied(self, bumps: dict[str, int]) -> None:
        for name, n in bumps.items():
            self.counters[name] = self.counters.get(name, 0) + n

    def store(self, readings: list[tuple[str, float | None, str, int, str]], ts_synced: bool = True) -> bool:
        """:meth:`add` that survives a full disk: True when everything held so far is on disk.

        On a full disk the readings are held in memory (bounded by ``hold_max``), the spool is
        :attr:`paused` and the next call tries again; other errors are raised.
        """
        if readings:
            self._held.append((list(readings), ts_synced))
            self._held_n += len(readings)
        try:
            self._flush_unacked()
            while self._held:
                batch, synced = self._held[0]
                self.add(batch, synced)
                self._held.popleft()
                self._held_n -= len(batch)
        except sqlite3.Error as e:
            if getattr(e, "sqlite_errorcode", 0) & 0xFF not in _STORAGE_FULL:
                raise
            self.full_errors += 1
            if not self.paused:
                log.error("spool %s cannot write (%s): paused, holding readings in memory", self.path, e)
            self.paused = True
            self._trim_held()
            return False
        if self.paused:
            log.warning("spool %s writes again: resumed", self.path)
        self.paused = False
        return True

    def _trim_held(self) -> None:
        while self._held_n > self.hold_max:
            batch, synced = self._held[0]
            cut = min(len(batch), self._held_n - self.hold_max)
            self.lost += cut
            self._held_n -= cut
            if cut == len(batch):
                self._held.popleft()
            else:
                self._held[0] = (batch[cut:], synced)

    @property
    def held(self) -> int:
        """Readings held in memory while the spool is paused."""
        return self._held_n

    def _flush_unacked(self) -> None:
        while self._unacked:
            seqs, counter = self._unacked[0]
            self._delete(seqs, counter)
            self._unacked.pop(0)

    def _bump(self, cur: sqlite3.Cursor, bumps: dict[str, int], name: str, n: int) -> None:
        cur.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?", (name, n, n)
        )
        bumps[name] = bumps.get(name, 0) + n

    def pending(self, after_seq: int, limit: int) -> list[Row]:
        """Up to ``limit`` readings with seq > ``after_seq``, oldest first."""
        cur = self._db.execute(
            "SELECT seq, tag, value, unit, ts, quality, ts_synced FROM readings WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [Row(s, t, v, u, ts, q, bool(sy)) for s, t, v, u, ts, q, sy in cur.fetchall()]

    def ack(self, seqs: Sequence[int], counter: str = "sent") -> int:
        """Delete readings the broker acknowledged (or refused for good, with ``counter="dropped"``).

        On a full disk the deletion is kept and written by a later :meth:`store` (0 is returned).
        """
        if not seqs:
            return 0
        try:
            self._flush_unacked()
            return self._delete(seqs, counter)
        except sqlite3.Error as e:
            if getattr(e, "sqlite_errorcode", 0) & 0xFF not in _STORAGE_FULL:
                raise
            self.full_errors += 1
            self.paused = True
            self._unacked.append((list(seqs), counter))
            return 0

    def _delete(self, seqs: Sequence[int], counter: str) -> int:
        bumps: dict[str, int] = {}
        cur = self._db.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany("DELETE FROM readings WHERE seq = ?", [(s,) for s in seqs])
            n = cur.rowcount if cur.rowcount >= 0 else len(seqs)
            self._bump(cur, bumps, counter, n)
            cur.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        self._applied(bumps)
        self._count -= n
        return n

    def last_seq(self) -> int:
        """Highest seq ever given out (persisted by SQLite even when the table is empty)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()
