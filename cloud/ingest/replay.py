"""Replay the telemetry kept whole in the dead letters, once what refused it is fixed.

The broker acknowledged such a message to its node, and the node deleted it from its spool: the
dead letter is its only copy (:data:`~cloud.ingest.store.KEPT_WHOLE`). Each letter goes through the
ingestor's own :class:`~cloud.ingest.processor.Processor` again, with today's clock, park and
ownership map; the readings of those that pass are written to InfluxDB and, only after its 204,
the letters are deleted. The others stay, untouched.

A gateway whose clock stepped ahead stamped its readings with the wrong time. Its letters (code
``future_ts``) are *not* stored as they are: a point an hour ahead would be every series' latest
value for that hour, for Grafana and for a controller reading levels back from InfluxDB (issue 18,
finding 2). Once the step is known (the gateway's ``clock_step_s`` health counter), replay that
node's letters with ``shift_ms`` (``aisym ingest --replay-dead-letters --replay-node gw
--replay-shift-s -3600``) to put each reading back at the time it was taken. Without a shift a
letter passes once its time is no longer ahead.

Replaying while the ingestor runs is safe: SQLite serialises the two writers, and a point written
twice overwrites itself. A replayed reading fills a seq gap the live ingestor already reported.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from aisym.contract import topics
from aisym.influx import InfluxV1
from aisym.park import ParkView

from .config import IngestConfig
from .ownership import load_ownership
from .processor import Processor
from .store import KEPT_WHOLE, Store
from .writer import Writer


@dataclass
class ReplayResult:
    """:param letters: letters looked at; :param stored: of them, written and deleted;
    :param readings: readings written; :param still_refused: code -> letters that still do not pass"""

    letters: int = 0
    stored: int = 0
    readings: int = 0
    still_refused: Counter[str] = field(default_factory=Counter)
    refused_points: int = 0

    def summary(self) -> str:
        left = ", ".join(f"{n} {code}" for code, n in sorted(self.still_refused.items())) or "none"
        return (f"replayed {self.stored} of {self.letters} kept dead letters ({self.readings} readings stored); "
                f"still refused: {left}")


def _node_of(topic: str) -> str | None:
    try:
        return topics.parse(topic).node
    except topics.TopicError:
        return None


def replay_with(cfg: IngestConfig, park: ParkView, **options) -> ReplayResult:
    """:func:`replay` with the ingestor's own state file, park, ownership map and InfluxDB account."""
    ownership = load_ownership(cfg.ownership_file, park) if cfg.ownership_file is not None else None
    services = frozenset({*cfg.service_accounts, cfg.mqtt_user})
    processor = Processor(park, None, ownership, services, int(cfg.max_ahead_s * 1000))
    store = Store(cfg.state_dir / "ingest.sqlite", cfg.dead_letter_max_bytes, cfg.dead_letter_prefix_bytes,
                  cfg.spill_max_bytes)
    influx = InfluxV1(cfg.influx_url, cfg.influx_db, cfg.influx_user, cfg.influx_password, cfg.write_timeout_s)
    try:
        return replay(store, processor, Writer(influx), **options)
    finally:
        store.close()
        influx.close()


def shift_times(payload: bytes, shift_ms: int) -> bytes:
    """The telemetry ``payload`` with every reading's ``ts`` (and ``sent``) moved by ``shift_ms``."""
    msg = json.loads(payload)
    for r in msg.get("readings", []):
        if isinstance(r, dict) and isinstance(r.get("ts"), int):
            r["ts"] += shift_ms
    if isinstance(msg.get("sent"), int):
        msg["sent"] += shift_ms
    return json.dumps(msg, separators=(",", ":")).encode()


def replay(
    store: Store,
    processor: Processor,
    writer: Writer,
    codes: Iterable[str] = KEPT_WHOLE,
    node: str | None = None,
    shift_ms: int = 0,
    now_ms: int | None = None,
    batch: int = 200,
) -> ReplayResult:
    """Replay the kept letters of ``codes`` (of ``node`` only, when given), oldest first.

    :param shift_ms: added to every reading's time first (a known clock step, negated); needs ``node``
    :param now_ms: the arrival time the checks use (default: now)
    :raises aisym.influx.InfluxError: InfluxDB did not take a batch (its letters stay)
    """
    if shift_ms and node is None:
        raise ValueError("a time shift is one gateway's clock step: name the node (--replay-node)")
    codes = set(codes)
    unknown = codes - KEPT_WHOLE
    if unknown:
        raise ValueError(f"only letters kept whole can be replayed ({', '.join(sorted(KEPT_WHOLE))}), not {sorted(unknown)}")
    res, after = ReplayResult(), 0
    while True:
        letters = store.kept_letters(codes, batch, after)
        if not letters:
            return res
        lines: list[str] = []
        done: list[int] = []
        for d in letters:
            after = d.id
            if node is not None and _node_of(d.topic) != node:
                continue
            res.letters += 1
            payload = shift_times(d.payload, shift_ms) if shift_ms else d.payload
            out = processor.handle(d.topic, payload, now_ms or time.time_ns() // 1_000_000)
            if out.dead is not None:
                res.still_refused[out.dead.code] += 1
                continue
            lines += out.lines
            res.readings += out.readings
            done.append(d.id)
        if lines:
            written = writer.write(lines)
            if written.refused:  # InfluxDB refused single points (a type conflict): they become letters of their own
                store.add_dead_letters(written.refused)
                res.refused_points += len(written.refused)
        res.stored += store.delete_dead_letters(done)
