"""The ingestor's local durable state: a SQLite (WAL) file with the spill queue and the dead letters.

- **spill**: batches of line protocol that InfluxDB could not take (down, throttled, 5xx). A batch is
  committed here *before* its MQTT messages are acknowledged, and deleted only after InfluxDB answered
  204: the "ack-before-delete" rule that ThingsBoard's gateway breaks (its writer thread commits late,
  iot_anchors §1) and Telegraf's memory buffer breaks by dropping the oldest metrics.
- **dead_letters**: messages (or single points) that can never be stored, with the field and reason.
  Only a prefix of each payload is kept (1 KiB by default), with its full size and sha256, and the
  table is capped by size: past the cap the oldest letters are pruned, and counted (``meta``), so a
  flood of bad messages cannot fill the disk.
- **fingerprints**: per node, what its recent seqs said (conflict detection), saved with each
  health report and at stop, so a conflicting duplicate is caught after a restart too.
- **retained_seen**: topic and sha256 of each retained message (or status, retained by contract)
  that was dead-lettered, so the broker's replay of it on every (re)subscription is dead-lettered
  once, across restarts too. One row per topic: a new bad message on the topic replaces it.

``synchronous=FULL``: a commit survives a power cut, not only a SIGKILL. One connection, used by one
thread (the ingestor's worker), so no locking is needed beyond SQLite's own.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import Counter
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
CREATE TABLE IF NOT EXISTS retained_seen (
    topic TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    seen_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fingerprints (
    node TEXT PRIMARY KEY,
    slots INTEGER NOT NULL,
    seqs BLOB NOT NULL,
    fps BLOB NOT NULL
) WITHOUT ROWID;
"""
# columns added after the first release: an older state file is migrated on open
_NEW_COLUMNS = {
    "code": "TEXT NOT NULL DEFAULT ''",
    "size": "INTEGER NOT NULL DEFAULT 0",
    "sha256": "TEXT NOT NULL DEFAULT ''",
    "bytes": "INTEGER NOT NULL DEFAULT 0",
}
#: bytes a dead letter's row is accounted for beyond its text and payload (ids, integers, index)
ROW_OVERHEAD = 64
MAX_REASON_CHARS = 1024
PREFIX_BYTES = 1024
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class DeadLetter:
    """A message or point refused for good.

    :param topic: MQTT topic it came on (``influx`` for a point InfluxDB refused with a 4xx)
    :param field: the field at fault (``readings[2].ts``), empty when the whole payload is
    :param reason: why, in words
    :param payload: the raw bytes, or a prefix of them (a refused point: its line protocol)
    :param code: the kind of reason (``too_large``, ``bad_json``, ``invalid``, ``conflict``...)
    :param size: the full payload's size in bytes (default ``len(payload)``)
    :param sha256: the full payload's sha256, hex (default: of ``payload``)
    :param retained: a retained message (replayed by the broker, or a status): stored once per topic and sha256
    """

    topic: str
    field: str
    reason: str
    payload: bytes
    received_ms: int = 0
    id: int = 0
    code: str = "invalid"
    size: int = -1
    sha256: str = ""
    retained: bool = False

    def __post_init__(self) -> None:
        if self.size < 0:
            object.__setattr__(self, "size", len(self.payload))
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.payload).hexdigest())

    @classmethod
    def of(
        cls,
        topic: str,
        field: str,
        reason: str,
        payload: bytes,
        received_ms: int = 0,
        code: str = "invalid",
        retained: bool = False,
        prefix_bytes: int = PREFIX_BYTES,
    ) -> DeadLetter:
        """A letter holding only the first ``prefix_bytes`` of ``payload``, with the whole one's size and sha256."""
        digest = hashlib.sha256(payload).hexdigest()
        return cls(topic, field, reason, payload[:prefix_bytes], received_ms, 0, code, len(payload), digest, retained)

    @property
    def truncated(self) -> bool:
        return self.size > len(self.payload)


class Store:
    """The SQLite state file.

    :param path: the database file; its folder is created
    :param dead_letter_max_bytes: cap of the dead-letter table (payload prefixes, texts and
        :data:`ROW_OVERHEAD` per row); past it the oldest are pruned down to 90 % of it
    :param prefix_bytes: bytes of each payload kept in a dead letter
    """

    def __init__(self, path: Path | str, dead_letter_max_bytes: int = MAX_BYTES, prefix_bytes: int = PREFIX_BYTES):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = dead_letter_max_bytes
        self.prefix_bytes = prefix_bytes
        # isolation_level=None: we open transactions ourselves, so one batch is one commit.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # the WAL file is truncated back to this after a checkpoint, so it cannot keep a flood's size
        self._db.execute("PRAGMA journal_size_limit=4194304")
        self._db.executescript(_SCHEMA)
        self._migrate()
        self.dead_bytes = int(self._db.execute("SELECT coalesce(sum(bytes), 0) FROM dead_letters").fetchone()[0])
        self.retained_skipped = 0  # retained dead letters seen before, not stored again (this instance)
        self.codes: Counter[str] = Counter()  # letters stored by this instance, per code
        # pruned by this instance (past the cap, at the next insert); :meth:`pruned_total` counts since the file was made
        self.pruned = 0

    def _migrate(self) -> None:
        have = {row[1] for row in self._db.execute("PRAGMA table_info(dead_letters)")}
        missing = [c for c in _NEW_COLUMNS if c not in have]
        for col in missing:
            self._db.execute(f"ALTER TABLE dead_letters ADD COLUMN {col} {_NEW_COLUMNS[col]}")
        if missing:  # letters of an older version: whole payloads, accounted as they are (the cap prunes them)
            self._db.execute(
                "UPDATE dead_letters SET size = length(payload), bytes = ? + length(topic) + length(field)"
                " + length(reason) + length(payload) WHERE bytes = 0",
                (ROW_OVERHEAD,),
            )

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
        """Store dead letters in one transaction (pruning the oldest past the cap); returns how many were stored.

        A retained letter whose topic and sha256 were stored before is skipped (:attr:`retained_skipped`).
        """
        letters = list(letters)
        if not letters:
            return 0
        stored, added, before = 0, Counter[str](), (self.pruned, self.retained_skipped)
        self._db.execute("BEGIN")
        try:
            for d in letters:
                if d.retained and not self._first_retained(d):
                    self.retained_skipped += 1
                    continue
                payload, reason = d.payload[: self.prefix_bytes], d.reason[:MAX_REASON_CHARS]
                size = ROW_OVERHEAD + len(d.topic) + len(d.field) + len(reason) + len(payload) + len(d.sha256)
                self._db.execute(
                    "INSERT INTO dead_letters (received_ms, topic, field, reason, payload, code, size, sha256, bytes)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (d.received_ms or _now_ms(), d.topic, d.field, reason, payload, d.code, d.size, d.sha256, size),
                )
                self.dead_bytes += size
                added[d.code] += 1
                stored += 1
            if self.dead_bytes > self.max_bytes:
                self._prune()
            self._db.execute("COMMIT")
        except BaseException:  # nothing of it happened: put the counters back
            self._db.execute("ROLLBACK")
            self.pruned, self.retained_skipped = before
            self.dead_bytes = int(self._db.execute("SELECT coalesce(sum(bytes), 0) FROM dead_letters").fetchone()[0])
            raise
        self.codes.update(added)
        return stored

    def _first_retained(self, d: DeadLetter) -> bool:
        row = self._db.execute("SELECT sha256 FROM retained_seen WHERE topic = ?", (d.topic,)).fetchone()
        if row is not None and row[0] == d.sha256:
            return False
        self._db.execute(
            "INSERT OR REPLACE INTO retained_seen (topic, sha256, seen_ms) VALUES (?, ?, ?)", (d.topic, d.sha256, _now_ms())
        )
        return True

    def _prune(self) -> None:
        """Delete the oldest letters down to 90 % of the cap (inside the caller's transaction)."""
        excess = self.dead_bytes - int(self.max_bytes * 0.9)
        cutoff, freed, n = 0, 0, 0
        while freed < excess:
            q = "SELECT id, bytes FROM dead_letters WHERE id > ? ORDER BY id LIMIT 1000"
            rows = self._db.execute(q, (cutoff,)).fetchall()
            if not rows:
                break
            for id_, size in rows:
                if freed >= excess:
                    break
                cutoff, freed, n = id_, freed + size, n + 1
        if n:
            self._db.execute("DELETE FROM dead_letters WHERE id <= ?", (cutoff,))
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('dead_letters_pruned', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                (n,),
            )
            self.dead_bytes -= freed
            self.pruned += n

    # -- conflict fingerprints (cloud.ingest.seqtrack.Fingerprints) ----------------------------
    def save_fingerprints(self, snapshot: dict[str, tuple[int, bytes, bytes]]) -> None:
        """Replace the saved fingerprints of the nodes in ``snapshot``, in one transaction."""
        if snapshot:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO fingerprints (node, slots, seqs, fps) VALUES (?, ?, ?, ?)",
                [(node, w, seqs, fps) for node, (w, seqs, fps) in snapshot.items()],
            )
            self._db.execute("COMMIT")

    def load_fingerprints(self) -> dict[str, tuple[int, bytes, bytes]]:
        rows = self._db.execute("SELECT node, slots, seqs, fps FROM fingerprints")
        return {n: (w, bytes(s), bytes(f)) for n, w, s, f in rows}

    def pruned_total(self) -> int:
        """Dead letters pruned since the state file was made."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'dead_letters_pruned'").fetchone()
        return int(row[0]) if row else 0

    def dead_letter_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])

    def dead_letters(self, limit: int = 100, offset: int = 0) -> Iterator[DeadLetter]:
        """Most recent first."""
        q = (
            "SELECT id, received_ms, topic, field, reason, payload, code, size, sha256 FROM dead_letters"
            " ORDER BY id DESC LIMIT ? OFFSET ?"
        )
        for id_, ms, topic, field, reason, payload, code, size, sha in self._db.execute(q, (limit, offset)):
            yield DeadLetter(topic, field, reason, bytes(payload), ms, id_, code, size, sha)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
