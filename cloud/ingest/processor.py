"""From one MQTT message to line protocol, or to a dead letter with its reason.

Pure and transport-free: the ingestor, the tests (hypothesis) and the dashboard demo data all go
through :meth:`Processor.handle`. Everything is validated by the telemetry contract
(:func:`aisym.contract.decode_telemetry`, :func:`~aisym.contract.check_against_park`); on top of
it the processor checks that the payload's park and node are the topic's, so one node cannot
write another's series.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from aisym.contract import (
    PayloadError,
    check_against_park,
    decode_health,
    decode_status,
    decode_telemetry,
    health_points,
    point,
    topics,
)
from aisym.park import Park

from .fastlines import SeriesKeys
from .seqtrack import Gap, SeqTracker
from .store import DeadLetter


@dataclass
class Outcome:
    """What became of one message: ``lines`` to write, or a ``dead`` letter."""

    lines: list[str] = field(default_factory=list)
    dead: DeadLetter | None = None
    readings: int = 0
    duplicates: int = 0


@dataclass
class NodeStats:
    """Per-node figures since the last health report."""

    last_seen_ms: int = 0
    readings: int = 0
    quality: Counter = field(default_factory=Counter)
    lag_ms_sum: float = 0.0
    duplicates: int = 0
    missing: int = 0


class Processor:
    """:param park: the park description (tags, units, companies)
    :param tracker: per-node seq tracking; None turns gap/duplicate detection off
    """

    def __init__(self, park: Park, tracker: SeqTracker | None = None):
        self.park = park
        self.park_id = park.park.id
        self.tracker = tracker
        self.series = SeriesKeys(park)
        self.nodes: dict[str, NodeStats] = {}
        self.gaps: list[Gap] = []  # reported since the last health report

    def handle(self, topic: str, payload: bytes, received_ms: int | None = None, retained: bool = False) -> Outcome:
        """Validate one message. Never raises: anything wrong becomes ``Outcome.dead``.

        :param retained: the broker replayed it from its retained store (so it is not news)
        """
        received_ms = received_ms or time.time_ns() // 1_000_000
        try:
            t = topics.parse(topic)
            if t.park != self.park_id:
                raise PayloadError("topic", f"park {t.park!r} is not this ingestor's park {self.park_id!r}")
            if t.kind == "telemetry":
                return self._telemetry(t.node, payload, received_ms)
            if t.kind == "health":
                msg = decode_health(payload)
                _same_node(msg.node, t.node)
                self._stats(t.node).last_seen_ms = received_ms
                return Outcome(list(health_points(msg, self.park_id)))
            if t.kind == "status":
                st = decode_status(payload)
                _same_node(st.node, t.node)
                if st.ts is None and retained:
                    # A replayed status without a time (a last will) happened at an unknown moment:
                    # stamping it "now" would mark a live node offline. A live will has retain=0.
                    return Outcome()
                online = 1.0 if st.state == "online" else 0.0
                fields: dict[str, float | int | str | bool] = {"state": st.state, "online": online}
                tags = {"park": self.park_id, "node": st.node, "role": st.role}
                return Outcome([point("node_status", tags, fields, st.ts or received_ms)])
            raise PayloadError("topic", f"kind {t.kind!r} is not ingested (telemetry, health, status)")
        except topics.TopicError as e:
            return Outcome(dead=DeadLetter(topic, "topic", str(e), payload, received_ms))
        except PayloadError as e:
            return Outcome(dead=DeadLetter(topic, e.field, e.reason, payload, received_ms))
        except Exception as e:  # a bug of ours must not stop the park's ingest: keep the message
            return Outcome(dead=DeadLetter(topic, "", f"internal error {type(e).__name__}: {e}", payload, received_ms))

    def _telemetry(self, node: str, payload: bytes, received_ms: int) -> Outcome:
        msg = decode_telemetry(payload)
        _same_node(msg.node, node)
        for f, reason in check_against_park(msg, self.park):
            raise PayloadError(f, reason)
        st = self._stats(node)
        st.last_seen_ms = received_ms
        n = len(msg.readings)
        st.readings += n
        seqs, ts_sum, quality = [], 0, st.quality
        for r in msg.readings:
            seqs.append(r.seq)
            ts_sum += r.ts
            quality[r.quality] += 1
        st.lag_ms_sum += n * received_ms - ts_sum
        dups = 0
        if self.tracker is not None:
            dups, forced = self.tracker.observe(node, seqs, received_ms / 1000)
            st.duplicates += dups
            self._add_gaps(forced)
        return Outcome(self.series.lines(msg), readings=n, duplicates=dups)

    def expire_gaps(self, now_s: float) -> None:
        if self.tracker is not None:
            self._add_gaps(self.tracker.expired(now_s))

    def _add_gaps(self, gaps: list[Gap]) -> None:
        for g in gaps:
            self._stats(g.node).missing += g.missing
        self.gaps += gaps

    def _stats(self, node: str) -> NodeStats:
        st = self.nodes.get(node)
        if st is None:
            st = self.nodes[node] = NodeStats()
        return st


def _same_node(payload_node: str, topic_node: str) -> None:
    if payload_node != topic_node:
        raise PayloadError("node", f"payload node {payload_node!r} differs from the topic's node {topic_node!r}")
