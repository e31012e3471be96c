"""The ingestor's own series in InfluxDB, written through the same batches as the telemetry.

- ``ingest_health`` (tags park, instance): totals since start ``messages``, ``readings``,
  ``points_written``, ``dead_letters``, ``refused_points``, ``write_errors``, ``gaps``, ``missing``,
  ``duplicates``, ``conflicts`` (a seq seen before with another value or ts), ``retained_repeats``
  (retained dead letters replayed, not stored again), ``dead_letters_pruned`` (oldest dead letters
  deleted to keep the table under its cap); gauges ``rate`` (readings/s), ``lag_ms`` (mean reading
  age on arrival), ``spill_batches``, ``spill_points``, ``pending``, ``dead_letter_bytes`` (the
  dead-letter table's size as capped), ``dead_letters_pruned_whole`` (of the pruned, letters kept
  whole: acknowledged readings lost), ``spill_bytes``, ``spill_dropped_batches`` and
  ``spill_dropped_points`` (oldest spilled batches deleted past the spill cap, since start).
- ``ingest_dead_letters`` (park, instance, code): ``count``, the dead letters stored since start
  with that code (``too_large``, ``bad_encoding``, ``bad_json``, ``invalid``, ``future_ts``,
  ``conflict``, ``ownership``, ``not_a_node``, ``out_of_range``, ``counter_names``, ``influx_refused``...).
- ``node_last_seen`` (park, node): ``last_seen_ms``, ``age_s``.
- ``data_quality`` (park, node): readings in the interval per quality (``good``, ``stale``, ``comm_error``...), and
  ``stale_share``, ``comm_error_share``.
- ``ingest_seq`` (park, node): ``duplicates``, ``missing``, ``conflicts`` in the interval.
- ``seq_gap`` (park, node): one point per gap, ``first`` and ``last`` (integers), ``missing``.

All fields are floats except the seqs of ``seq_gap``, so no field type can conflict.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Protocol

from aisym.contract import QUALITIES, point

from .processor import NodeStats, Processor

if TYPE_CHECKING:
    from .ingestor import Counters


class DeadLetterStats(Protocol):
    """What the health series reads of the store (:class:`~cloud.ingest.store.Store`)."""

    dead_bytes: int
    pruned: int
    pruned_whole: int
    spill_bytes: int
    codes: Counter[str]


class HealthReporter:
    """:param park_id: the park's id (tag ``park``)
    :param instance: this ingestor's id (tag ``instance``: its MQTT client id)
    """

    def __init__(self, park_id: str, instance: str):
        self.park_id = park_id
        self.instance = instance
        self._last_s = time.monotonic()
        self._last_readings = 0

    def lines(
        self,
        proc: Processor,
        c: Counters,
        spill_batches: int,
        spill_points: int,
        pending: int,
        ts_ms: int | None = None,
        store: DeadLetterStats | None = None,
    ) -> list[str]:
        """The health points of this interval (``ts_ms``: their time, default now); resets the interval counters."""
        now_s = time.monotonic()
        ts = ts_ms or time.time_ns() // 1_000_000
        dt = max(now_s - self._last_s, 1e-3)
        readings_now = sum(st.readings for st in proc.nodes.values())
        lag_sum = sum(st.lag_ms_sum for st in proc.nodes.values())
        tracker = proc.tracker
        fields: dict[str, float | int | str | bool] = {
            "messages": float(c.messages),
            "readings": float(c.readings),
            "points_written": float(c.points_written),
            "rate": readings_now / dt,
            "lag_ms": lag_sum / readings_now if readings_now else 0.0,
            "dead_letters": float(c.dead_letters),
            "refused_points": float(c.refused_points),
            "write_errors": float(c.write_errors),
            "spill_batches": float(spill_batches),
            "spill_points": float(spill_points),
            "pending": float(pending),
            "gaps": float(tracker.gaps_total if tracker else 0),
            "missing": float(tracker.missing_total if tracker else 0),
            "duplicates": float(tracker.duplicates_total if tracker else 0),
            "conflicts": float(c.conflicts),
            "retained_repeats": float(c.retained_repeats),
            "dead_letters_pruned": float(store.pruned if store else 0),
            "dead_letter_bytes": float(store.dead_bytes if store else 0),
            "dead_letters_pruned_whole": float(store.pruned_whole if store else 0),
            "spill_bytes": float(store.spill_bytes if store else 0),
            "spill_dropped_batches": float(c.spill_dropped_batches),
            "spill_dropped_points": float(c.spill_dropped_points),
        }
        out = [point("ingest_health", {"park": self.park_id, "instance": self.instance}, fields, ts)]
        for code, n in sorted(store.codes.items()) if store else ():  # codes are a short fixed list: low cardinality
            tags = {"park": self.park_id, "instance": self.instance, "code": code}
            out.append(point("ingest_dead_letters", tags, {"count": float(n)}, ts))
        for node, st in proc.nodes.items():
            out += self._node_lines(node, st, ts)
        for g in proc.gaps:
            tags = {"park": self.park_id, "node": g.node}
            out.append(point("seq_gap", tags, {"first": g.first, "last": g.last, "missing": float(g.missing)}, ts))
        proc.gaps.clear()
        self._last_s = now_s
        return out

    def _node_lines(self, node: str, st: NodeStats, ts: int) -> list[str]:
        tags = {"park": self.park_id, "node": node}
        out = []
        if st.last_seen_ms:
            age = max(0.0, (ts - st.last_seen_ms) / 1000)
            out.append(point("node_last_seen", tags, {"last_seen_ms": float(st.last_seen_ms), "age_s": age}, ts))
        if st.readings:
            q = st.quality
            total = float(st.readings)
            # every quality of the contract (a new one, like out_of_range, gets its fields too)
            fields: dict[str, float | int | str | bool] = {name: float(q[name]) for name in QUALITIES}
            fields.update({f"{name}_share": q[name] / total for name in QUALITIES if name != "good"})
            out.append(point("data_quality", tags, fields, ts))
        if st.readings or st.duplicates or st.missing or st.conflicts:
            seq = {"duplicates": float(st.duplicates), "missing": float(st.missing), "conflicts": float(st.conflicts)}
            out.append(point("ingest_seq", tags, seq, ts))
        # interval counters start again; last_seen_ms stays
        st.readings, st.lag_ms_sum, st.duplicates, st.missing, st.conflicts = 0, 0.0, 0, 0, 0
        st.quality.clear()
        return out
