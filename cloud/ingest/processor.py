"""From one MQTT message to line protocol, or to a dead letter with its reason.

Pure and transport-free: the ingestor, the tests (hypothesis) and the dashboard demo data all go
through :meth:`Processor.handle`. Everything is validated by the telemetry contract
(:func:`aisym.contract.decode_telemetry`, :func:`~aisym.contract.check_against_park`,
:func:`~aisym.contract.check_times`); on top of it the processor checks

- that the payload's park and node are the topic's, so one node cannot write another's series;
- that telemetry and health come from nodes, not from service accounts (``ingest``, ``controller``);
- with an :class:`~cloud.ingest.ownership.Ownership`, that a node reports only its own tags;
- that a seq seen before says what it said then (:class:`~cloud.ingest.seqtrack.Fingerprints`):
  a conflicting reading is dead-lettered (code ``conflict``), the message's other readings are written;
- that a ``good`` value lies within its tag's min/max (:func:`~aisym.contract.check_ranges`): else the
  whole message is refused (code ``out_of_range``), as for an unknown tag or a foreign one. The
  gateway marks such a value ``out_of_range`` itself, so a ``good`` 1e308 on a 0-95 degC tag comes
  from a wrong device or converter (issue 18: one device's registers read as another's), and the
  message's other readings are as suspect. It is kept whole and can be replayed once its cause is
  fixed (:mod:`cloud.ingest.replay`); the controller refuses the same message, so its view stays
  InfluxDB's;
- that a node introduces at most ``max_health_names`` distinct health counter names (each one is an
  InfluxDB field for good): a health message with new names past that is refused (``counter_names``).
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from dataclasses import dataclass, field

from aisym.contract import (
    MAX_AHEAD_MS,
    PayloadError,
    Reading,
    check_against_park,
    check_ranges,
    check_times,
    decode_health,
    decode_status,
    decode_telemetry,
    health_points,
    point,
    topics,
)
from aisym.park import ParkView

from .fastlines import SeriesKeys
from .ownership import Ownership
from .seqtrack import Fingerprints, Gap, SeqTracker
from .store import PREFIX_BYTES, DeadLetter

#: distinct health counter names one node may introduce (a gateway of 50 devices uses about 230)
MAX_HEALTH_NAMES = 512

SERVICE_ROLES = ("ingestor", "controller")
_NO_VALUE = float("inf")  # stands for null in a fingerprint: values are finite, and hash(None) differs per process


@dataclass
class Outcome:
    """What became of one message: ``lines`` to write, and/or a ``dead`` letter (a conflict: both)."""

    lines: list[str] = field(default_factory=list)
    dead: DeadLetter | None = None
    readings: int = 0
    duplicates: int = 0
    conflicts: int = 0


@dataclass
class NodeStats:
    """Per-node figures since the last health report."""

    last_seen_ms: int = 0
    readings: int = 0
    quality: Counter = field(default_factory=Counter)
    lag_ms_sum: float = 0.0
    duplicates: int = 0
    missing: int = 0
    conflicts: int = 0


class Processor:
    """:param park: the park description (tags, units, companies)
    :param tracker: per-node seq tracking; None turns gap/duplicate detection off
    :param ownership: node -> tags it may report; None: any node, any park tag
    :param services: accounts that are not nodes (they may publish only a status with a service role)
    :param max_ahead_ms: how far ahead of its arrival a timestamp may be
    :param fingerprints: conflict detection; None turns it off
    :param prefix_bytes: payload bytes kept in a dead letter (of a message that no fix can make good)
    :param max_health_names: distinct health counter names a node may report over the ingestor's life
    """

    def __init__(
        self,
        park: ParkView,
        tracker: SeqTracker | None = None,
        ownership: Ownership | None = None,
        services: frozenset[str] = frozenset({"ingest", "controller"}),
        max_ahead_ms: int = MAX_AHEAD_MS,
        fingerprints: Fingerprints | None = None,
        prefix_bytes: int = PREFIX_BYTES,
        max_health_names: int = MAX_HEALTH_NAMES,
    ):
        self.park = park
        self.park_id = park.park.id
        self.tracker = tracker
        self.ownership = ownership
        self.services = services
        self.max_ahead_ms = max_ahead_ms
        self.fingerprints = Fingerprints() if fingerprints is None else fingerprints
        self.prefix_bytes = prefix_bytes
        self.max_health_names = max_health_names
        self.health_names: dict[str, set[str]] = {}  # node -> counter names accepted so far
        self.new_health_names: dict[str, set[str]] = {}  # ... of which not yet saved (the write thread saves them)
        self.series = SeriesKeys(park)
        self.nodes: dict[str, NodeStats] = {}
        self.gaps: list[Gap] = []  # reported since the last health report
        self._ids: dict[str, int] = {}  # tag or quality -> crc32, for fingerprints

    def dead(self, topic: str, e: PayloadError, payload: bytes, received_ms: int, retained: bool = False) -> DeadLetter:
        # A status is retained by contract: its live copy (retain=0 on delivery) and every replay of it
        # to a (re)subscribing ingestor are one message, dead-lettered once (topic + sha256).
        once = retained or topic.endswith("/status")
        return DeadLetter.of(topic, e.field, e.reason, payload, received_ms, e.code, once, self.prefix_bytes)

    def handle(self, topic: str, payload: bytes, received_ms: int | None = None, retained: bool = False) -> Outcome:
        """Validate one message. Never raises: anything wrong becomes ``Outcome.dead``.

        :param retained: the broker replayed it from its retained store (so it is not news)
        """
        received_ms = received_ms or time.time_ns() // 1_000_000
        try:
            t = topics.parse(topic)
            if t.park != self.park_id:
                raise PayloadError("topic", f"park {t.park!r} is not this ingestor's park {self.park_id!r}", "park")
            self._check_sender(t.node, t.kind)
            if t.kind == "telemetry":
                return self._telemetry(topic, t.node, payload, received_ms, retained)
            if t.kind == "health":
                msg = decode_health(payload)
                _same_node(msg.node, t.node)
                check_times(msg, received_ms, self.max_ahead_ms)
                self._check_health_names(t.node, msg.counters)
                self._stats(t.node).last_seen_ms = received_ms
                return Outcome(list(health_points(msg, self.park_id)))
            if t.kind == "status":
                return self._status(t.node, payload, received_ms, retained)
            raise PayloadError("topic", f"kind {t.kind!r} is not ingested (telemetry, health, status)", "topic")
        except topics.TopicError as e:
            return Outcome(dead=self.dead(topic, PayloadError("topic", str(e), "topic"), payload, received_ms, retained))
        except PayloadError as e:
            return Outcome(dead=self.dead(topic, e, payload, received_ms, retained))
        except Exception as e:  # a bug of ours must not stop the park's ingest: keep the message
            err = PayloadError("", f"internal error {type(e).__name__}: {e}", "internal")
            return Outcome(dead=self.dead(topic, err, payload, received_ms, retained))

    def _check_health_names(self, node: str, counters: dict) -> None:
        known = self.health_names.setdefault(node, set())
        new = counters.keys() - known
        if not new:
            return
        if len(known) + len(new) > self.max_health_names:
            some = ", ".join(sorted(new)[:5]) + (f" (+{len(new) - 5} more)" if len(new) > 5 else "")
            why = (f"{len(new)} new counter names ({some}) past the {self.max_health_names} distinct names "
                   f"a node may report ({len(known)} so far): each name is an InfluxDB field for good")
            raise PayloadError("counters", why, "counter_names")
        known |= new
        self.new_health_names.setdefault(node, set()).update(new)

    def _check_sender(self, node: str, kind: str) -> None:
        if node in self.services:
            if kind != "status":
                why = f"{node!r} is a service account, not a node: it may not publish {kind}"
                raise PayloadError("topic", why, "not_a_node")
        elif self.ownership is not None and node not in self.ownership and kind != "status":
            raise PayloadError("topic", f"{node!r} is not a node of {self.ownership.source}", "unknown_node")

    def _status(self, node: str, payload: bytes, received_ms: int, retained: bool) -> Outcome:
        st = decode_status(payload)
        _same_node(st.node, node)
        if node in self.services and st.role not in SERVICE_ROLES:
            raise PayloadError("role", f"{node!r} is a service account and may not report role {st.role!r}", "not_a_node")
        # another ingestor instance (its own account) or a controller may announce itself
        known = self.ownership is None or node in self.ownership or node in self.services or st.role in SERVICE_ROLES
        if not known:
            raise PayloadError("topic", f"{node!r} is not a node of {self.ownership.source}", "unknown_node")
        check_times(st, received_ms, self.max_ahead_ms)
        if st.ts is None and retained:
            # A replayed status without a time (a last will) happened at an unknown moment:
            # stamping it "now" would mark a live node offline. A live will has retain=0.
            return Outcome()
        online = 1.0 if st.state == "online" else 0.0
        fields: dict[str, float | int | str | bool] = {"state": st.state, "online": online}
        tags = {"park": self.park_id, "node": st.node, "role": st.role}
        return Outcome([point("node_status", tags, fields, st.ts or received_ms)])

    def _telemetry(self, topic: str, node: str, payload: bytes, received_ms: int, retained: bool) -> Outcome:
        msg = decode_telemetry(payload)
        _same_node(msg.node, node)
        for f, reason in check_against_park(msg, self.park):
            raise PayloadError(f, reason, "park")
        check_times(msg, received_ms, self.max_ahead_ms)
        if self.ownership is not None:
            for i, r in enumerate(msg.readings):
                why = self.ownership.problem(node, r.tag)
                if why:
                    raise PayloadError(f"readings[{i}].tag", why, "ownership")
        for f, reason in check_ranges(msg, self.park):
            raise PayloadError(f, reason, "out_of_range")
        readings, conflicts = self._split_conflicts(node, msg.readings)
        st = self._stats(node)
        st.last_seen_ms = received_ms
        n = len(readings)
        st.readings += n
        seqs, ts_sum, quality = [], 0, st.quality
        for r in readings:
            seqs.append(r.seq)
            ts_sum += r.ts
            quality[r.quality] += 1
        st.lag_ms_sum += n * received_ms - ts_sum
        dups = 0
        if self.tracker is not None and seqs:
            dups, forced = self.tracker.observe(node, seqs, received_ms / 1000)
            st.duplicates += dups
            self._add_gaps(forced)
        out = Outcome(self.series.lines(msg, readings), readings=n, duplicates=dups, conflicts=len(conflicts))
        if conflicts:
            st.conflicts += len(conflicts)
            i, r = conflicts[0]
            more = f" ({len(conflicts)} conflicting readings: seqs {', '.join(str(c[1].seq) for c in conflicts[:10])})"
            reason = f"seq {r.seq} was seen before with another tag, ts, value or quality; the stored point is kept" + more
            out.dead = self.dead(topic, PayloadError(f"readings[{i}]", reason, "conflict"), payload, received_ms, retained)
        return out

    def _split_conflicts(self, node: str, readings: list[Reading]) -> tuple[list[Reading], list[tuple[int, Reading]]]:
        """(readings to write, (index, reading) of each conflicting duplicate).

        :meth:`Fingerprints.check` inlined: it runs for every reading, and a call each cost 20 % of the decode.
        """
        fpr = self.fingerprints
        seqs, fps = fpr.arrays(node)
        window = fpr.window
        conflicts: list[tuple[int, Reading]] = []
        ids = self._ids
        for i, r in enumerate(readings):
            if not r.ts_synced:  # its ts is the node's estimate, and a resend after the clock sync may correct it
                continue
            t, q, v = ids.get(r.tag), ids.get(r.quality), r.value
            if t is None:
                t = ids[r.tag] = zlib.crc32(r.tag.encode())
            if q is None:
                q = ids[r.quality] = zlib.crc32(r.quality.encode())
            # numbers only (str hashes are salted per process): the fingerprints survive a restart
            fp = hash((t, r.ts, q, _NO_VALUE if v is None else v))
            s = r.seq
            slot = s % window
            held = seqs[slot]
            if held == s:
                if fps[slot] != fp:
                    conflicts.append((i, r))
            elif held < s:  # a newer seq takes the slot; an older one than the slot's is past the window
                seqs[slot] = s
                fps[slot] = fp
        if not conflicts:
            return readings, conflicts
        fpr.conflicts_total += len(conflicts)
        bad = {i for i, _ in conflicts}
        return [r for i, r in enumerate(readings) if i not in bad], conflicts

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
