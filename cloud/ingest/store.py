"""The ingestor's local durable state: a SQLite (WAL) file with the spill queue and the dead letters.

- **spill**: batches of line protocol that InfluxDB could not take (down, throttled, 5xx). A batch is
  committed here *before* its MQTT messages are acknowledged, and deleted only after InfluxDB answered
  204: the "ack-before-delete" rule that ThingsBoard's gateway breaks (its writer thread commits late,
  iot_anchors §1). The queue is capped in bytes of line protocol (``spill_max_bytes``, 1 GiB by
  default, about 8 million readings at ~134 B each): past it the *oldest* batches are deleted, so an
  InfluxDB outage of days cannot fill the disk and what comes back first is the newest data (what
  the operator and the controller's restart read). The deleted batches and points are counted
  (``meta``, ``ingest_health.spill_dropped_points``) and logged with their time range.
- **dead_letters**: messages (or single points) that can never be stored, with the field and reason.
  Only a prefix of each payload is kept (1 KiB by default), with its full size and sha256, and the
  table is capped by size: past the cap the oldest letters are pruned, and counted (``meta``), so a
  flood of bad messages cannot fill the disk. A telemetry message refused for a reason that a fix
  can undo (:data:`KEPT_WHOLE`: a clock ahead, a range, tag or owner the park description does not
  grant yet) is kept *whole*: the broker acknowledged it to the node, which deleted it, so this row
  is its only copy; :mod:`cloud.ingest.replay` writes it once the cause is fixed. Past the cap the
  prefix-only letters go first, then the oldest whole ones (counted apart: ``pruned_whole``).
- **fingerprints**: per node, what its recent seqs said (conflict detection), saved with each
  health report and at stop, so a conflicting duplicate is caught after a restart too.
- **health_names**: the health counter names each node introduced, so its budget of distinct
  names (each an InfluxDB field for good) holds across restarts.
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
CREATE TABLE IF NOT EXISTS health_names (
    node TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (node, name)
) WITHOUT ROWID;
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
SPILL_MAX_BYTES = 1024 * 1024 * 1024
#: telemetry refused for these reasons is kept whole and can be replayed: the cause lies in a clock,
#: the park description or the ownership map, and fixing it makes the message good
KEPT_WHOLE = frozenset({"future_ts", "out_of_range", "park", "ownership", "unknown_node", "internal"})


def kept_whole(topic: str, code: str) -> bool:
    """Whether a letter of ``code`` on ``topic`` keeps its whole payload (replayable telemetry)."""
    return code in KEPT_WHOLE and topic.endswith("/telemetry")


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
        """A letter holding the first ``prefix_bytes`` of ``payload`` (all of it when :func:`kept_whole`),
        with the whole one's size and sha256."""
        digest = hashlib.sha256(payload).hexdigest()
        kept = payload if kept_whole(topic, code) else payload[:prefix_bytes]
        return cls(topic, field, reason, kept, received_ms, 0, code, len(payload), digest, retained)

    @property
    def truncated(self) -> bool:
        return self.size > len(self.payload)


@dataclass(frozen=True)
class SpillDrop:
    """Spilled batches deleted past the cap: how many, their points and bytes, and when they were spilled."""

    batches: int = 0
    points: int = 0
    bytes: int = 0
    first_ms: int = 0
    last_ms: int = 0


class Store:
    """The SQLite state file.

    :param path: the database file; its folder is created
    :param dead_letter_max_bytes: cap of the dead-letter table (payload prefixes, texts and
        :data:`ROW_OVERHEAD` per row); past it the oldest are pruned down to 90 % of it
    :param prefix_bytes: bytes of each payload kept in a dead letter (all of a :func:`kept_whole` one)
    :param spill_max_bytes: cap of the spill queue (bytes of line protocol); past it the oldest batches go
    """

    def __init__(
        self,
        path: Path | str,
        dead_letter_max_bytes: int = MAX_BYTES,
        prefix_bytes: int = PREFIX_BYTES,
        spill_max_bytes: int = SPILL_MAX_BYTES,
    ):
        self.path = Path(path)
        self.spill_max_bytes = spill_max_bytes
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
        self._db.execute("CREATE INDEX IF NOT EXISTS dead_letters_code ON dead_letters (code)")  # replay reads by code
        self.dead_bytes = int(self._db.execute("SELECT coalesce(sum(bytes), 0) FROM dead_letters").fetchone()[0])
        self.retained_skipped = 0  # retained dead letters seen before, not stored again (this instance)
        self.codes: Counter[str] = Counter()  # letters stored by this instance, per code
        # pruned by this instance (past the cap, at the next insert); :meth:`pruned_total` counts since the file was made
        self.pruned = 0
        self.pruned_whole = 0  # of them, letters kept whole (an acknowledged message's only copy)
        q = "SELECT count(*), coalesce(sum(length(CAST(lines AS BLOB))), 0) FROM spill"
        self.spill_batches, self.spill_bytes = (int(x) for x in self._db.execute(q).fetchone())

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
    def spill(self, lines: list[str]) -> SpillDrop:
        """Durably queue a batch, deleting the oldest ones past the cap, in one commit (fsync).

        :returns: what was deleted to make room (nothing, mostly); the new batch itself always stays
        """
        text = "\n".join(lines)
        size = len(text.encode())
        self._db.execute("BEGIN")
        try:
            cur = self._db.execute("INSERT INTO spill (created_ms, n, lines) VALUES (?, ?, ?)", (_now_ms(), len(lines), text))
            new_id = int(cur.lastrowid or 0)
            drop = self._drop_oldest_spilled(self.spill_bytes + size - self.spill_max_bytes, new_id)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.spill_batches += 1 - drop.batches
        self.spill_bytes += size - drop.bytes
        return drop

    def _drop_oldest_spilled(self, excess: int, keep_id: int) -> SpillDrop:
        if excess <= 0:
            return SpillDrop()
        q = "SELECT id, n, length(CAST(lines AS BLOB)), created_ms FROM spill WHERE id < ? ORDER BY id"
        batches = points = freed = 0
        first_ms = last_ms = 0
        last_id = 0
        for id_, n, size, created in self._db.execute(q, (keep_id,)):
            if freed >= excess:
                break
            batches, points, freed, last_id = batches + 1, points + n, freed + size, id_
            first_ms, last_ms = first_ms or created, created
        if batches:
            self._db.execute("DELETE FROM spill WHERE id <= ?", (last_id,))
            self._db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                [("spill_dropped_batches", batches), ("spill_dropped_points", points)],
            )
        return SpillDrop(batches, points, freed, first_ms, last_ms)

    def oldest_spilled(self) -> tuple[int, list[str]] | None:
        row = self._db.execute("SELECT id, lines FROM spill ORDER BY id LIMIT 1").fetchone()
        return None if row is None else (row[0], row[1].split("\n"))

    def drop_spilled(self, batch_id: int) -> None:
        row = self._db.execute("SELECT length(CAST(lines AS BLOB)) FROM spill WHERE id = ?", (batch_id,)).fetchone()
        self._db.execute("DELETE FROM spill WHERE id = ?", (batch_id,))
        if row is not None:
            self.spill_batches -= 1
            self.spill_bytes -= int(row[0])

    def spill_dropped_total(self) -> tuple[int, int]:
        """(batches, points) deleted past the spill cap since the state file was made."""
        rows = dict(self._db.execute("SELECT key, value FROM meta WHERE key LIKE 'spill_dropped_%'").fetchall())
        return int(rows.get("spill_dropped_batches", 0)), int(rows.get("spill_dropped_points", 0))

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
        stored, added, before = 0, Counter[str](), (self.pruned, self.retained_skipped, self.pruned_whole)
        self._db.execute("BEGIN")
        try:
            for d in letters:
                if d.retained and not self._first_retained(d):
                    self.retained_skipped += 1
                    continue
                whole = kept_whole(d.topic, d.code)
                payload = d.payload if whole else d.payload[: self.prefix_bytes]
                reason = d.reason[:MAX_REASON_CHARS]
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
                # another process (a replay) may have deleted letters meanwhile: count again first
                self.dead_bytes = int(self._db.execute("SELECT coalesce(sum(bytes), 0) FROM dead_letters").fetchone()[0])
            if self.dead_bytes > self.max_bytes:
                self._prune()
            self._db.execute("COMMIT")
        except BaseException:  # nothing of it happened: put the counters back
            self._db.execute("ROLLBACK")
            self.pruned, self.retained_skipped, self.pruned_whole = before
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
        """Delete the oldest letters down to 90 % of the cap (inside the caller's transaction): the
        prefix-only ones first, then the oldest kept whole (each an acknowledged message's only copy)."""
        excess = self.dead_bytes - int(self.max_bytes * 0.9)
        whole_codes = ",".join(f"'{c}'" for c in sorted(KEPT_WHOLE))
        whole_sql = f"(code IN ({whole_codes}) AND topic LIKE '%/telemetry')"
        n_all = 0
        for whole in (False, True):
            where = whole_sql if whole else f"NOT {whole_sql}"
            freed, ids = 0, []
            for id_, size in self._db.execute(f"SELECT id, bytes FROM dead_letters WHERE {where} ORDER BY id"):
                if freed >= excess:
                    break
                freed += size
                ids.append(id_)
            self._db.executemany("DELETE FROM dead_letters WHERE id = ?", [(i,) for i in ids])
            excess -= freed
            self.dead_bytes -= freed
            n_all += len(ids)
            if whole and ids:
                self.pruned_whole += len(ids)
                self._meta_add("dead_letters_pruned_whole", len(ids))
            if excess <= 0:
                break
        if n_all:
            self._meta_add("dead_letters_pruned", n_all)
            self.pruned += n_all

    def _meta_add(self, key: str, n: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
            (key, n),
        )

    # -- replay (cloud.ingest.replay) ---------------------------------------------------------
    def kept_letters(self, codes: Iterable[str] = KEPT_WHOLE, limit: int = 1000, after_id: int = 0) -> list[DeadLetter]:
        """Whole telemetry letters of ``codes``, oldest first, with ids above ``after_id``."""
        codes = sorted(set(codes) & KEPT_WHOLE)
        if not codes:
            return []
        q = (
            "SELECT id, received_ms, topic, field, reason, payload, code, size, sha256 FROM dead_letters"
            f" WHERE id > ? AND code IN ({','.join('?' * len(codes))}) AND topic LIKE '%/telemetry'"
            " AND size = length(payload) ORDER BY id LIMIT ?"
        )
        rows = self._db.execute(q, (after_id, *codes, limit)).fetchall()
        return [DeadLetter(t, f, r, bytes(p), ms, id_, c, sz, sha) for id_, ms, t, f, r, p, c, sz, sha in rows]

    def delete_dead_letters(self, ids: Iterable[int]) -> int:
        """Delete letters (replayed and stored); returns how many went."""
        ids = list(ids)
        self._db.execute("BEGIN")
        n = 0
        for i in ids:
            row = self._db.execute("SELECT bytes FROM dead_letters WHERE id = ?", (i,)).fetchone()
            if row is not None:
                self._db.execute("DELETE FROM dead_letters WHERE id = ?", (i,))
                self.dead_bytes -= int(row[0])
                n += 1
        self._db.execute("COMMIT")
        return n

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

    def save_health_names(self, names: dict[str, set[str]]) -> None:
        """Remember the health counter names each node introduced (its budget holds across restarts)."""
        rows = [(node, name) for node, new in names.items() for name in new]
        if rows:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO health_names (node, name) VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def load_health_names(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for node, name in self._db.execute("SELECT node, name FROM health_names"):
            out.setdefault(node, set()).add(name)
        return out

    def load_fingerprints(self) -> dict[str, tuple[int, bytes, bytes]]:
        rows = self._db.execute("SELECT node, slots, seqs, fps FROM fingerprints")
        return {n: (w, bytes(s), bytes(f)) for n, w, s, f in rows}

    def pruned_whole_total(self) -> int:
        """Whole (replayable) letters pruned since the state file was made: acknowledged readings lost."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'dead_letters_pruned_whole'").fetchone()
        return int(row[0]) if row else 0

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
