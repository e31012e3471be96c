"""Per-node sequence tracking: gaps (readings that never arrived) and duplicates (readings seen twice).

Every reading carries a per-node ``seq`` that increases by one and survives restarts (contract).
A missing range is first held as a *hole*: QoS 1 redelivery after a reconnect may still fill it.
A hole still open after ``grace_s`` is reported as a gap. A seq seen before is a duplicate: it is
counted, and still written, since a replayed reading overwrites itself in InfluxDB.

With several ingestors in one shared-subscription group, each sees only its share of a node's
messages, so holes are normal there: run gap detection in one instance per park (``--no-gaps`` on
the others), see docs/cloud.md.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Gap:
    """Readings ``first``..``last`` (inclusive) of ``node`` never arrived."""

    node: str
    first: int
    last: int

    @property
    def missing(self) -> int:
        return self.last - self.first + 1


@dataclass
class _Node:
    high: int
    holes: list[list] = field(default_factory=list)  # [first, last, opened_at_s], ascending
    duplicates: int = 0


class SeqTracker:
    """:param grace_s: how long a hole may wait for late readings before it is a gap (s)
    :param max_holes: open holes kept per node; beyond it the oldest is reported at once (bounds memory)
    """

    def __init__(self, grace_s: float = 30.0, max_holes: int = 256):
        self.grace_s = grace_s
        self.max_holes = max_holes
        self._nodes: dict[str, _Node] = {}
        self.duplicates_total = 0
        self.missing_total = 0
        self.gaps_total = 0

    def observe(self, node: str, seqs: list[int], now_s: float) -> tuple[int, list[Gap]]:
        """Record a message's seqs (ascending). Returns (duplicates in it, gaps forced out by ``max_holes``)."""
        st = self._nodes.get(node)
        forced: list[Gap] = []
        dups = 0
        for s in seqs:
            if st is None:  # first reading seen from this node since start: the baseline
                st = self._nodes[node] = _Node(high=s)
            elif s == st.high + 1:  # the common case, O(1)
                st.high = s
            elif s > st.high:
                st.holes.append([st.high + 1, s - 1, now_s])
                st.high = s
                if len(st.holes) > self.max_holes:
                    first, last, _ = st.holes.pop(0)
                    forced.append(self._count(Gap(node, first, last)))
            elif not self._fill(st, s):
                dups += 1
        if dups:
            self.duplicates_total += dups
            if st is not None:
                st.duplicates += dups
        return dups, forced

    def expired(self, now_s: float) -> list[Gap]:
        """Holes older than the grace time, now reported (and forgotten) as gaps."""
        gaps = []
        for node, st in self._nodes.items():
            keep = []
            for h in st.holes:
                if now_s - h[2] >= self.grace_s:
                    gaps.append(self._count(Gap(node, h[0], h[1])))
                else:
                    keep.append(h)
            st.holes = keep
        return gaps

    def open_holes(self, node: str) -> list[tuple[int, int]]:
        st = self._nodes.get(node)
        return [(h[0], h[1]) for h in st.holes] if st else []

    def _count(self, gap: Gap) -> Gap:
        self.gaps_total += 1
        self.missing_total += gap.missing
        return gap

    @staticmethod
    def _fill(st: _Node, s: int) -> bool:
        """Take ``s`` out of a hole (a late reading); False when no hole holds it (a duplicate)."""
        for i, h in enumerate(st.holes):
            first, last, t = h
            if first <= s <= last:
                parts = [[a, b, t] for a, b in ((first, s - 1), (s + 1, last)) if a <= b]
                st.holes[i : i + 1] = parts
                return True
        return False


class Fingerprints:
    """What each recent (node, seq) said, to tell a harmless replay from a conflicting duplicate.

    A replayed reading (QoS 1 redelivery, a gateway's spool resending) says exactly what it said
    the first time and overwrites itself in InfluxDB. A reading with a seq already seen but another
    tag, ts, value or quality is a *conflict*: writing it would replace the stored point (same ts)
    or add a second point with the same seq. Each node keeps the last ``window`` seqs in two flat
    arrays (16 bytes a seq, allocated when the node is first seen); an older seq cannot be checked.
    A fingerprint is the hash of numbers only, the same in every process, so :meth:`snapshot` can
    be saved and :meth:`restore` d after a restart.

    :param window: seqs remembered per node
    :param max_nodes: nodes remembered; past it the first-seen node is forgotten (bounds memory)
    """

    def __init__(self, window: int = 16384, max_nodes: int = 4096):
        self.window = window
        self.max_nodes = max_nodes
        self._nodes: dict[str, tuple[array, array]] = {}
        self._dirty: set[str] = set()
        self.conflicts_total = 0

    def arrays(self, node: str) -> tuple[array, array]:
        """``node``'s (seqs, fingerprints), slot ``seq % window``; the caller may inline :meth:`check` over them."""
        arrays = self._nodes.get(node)
        if arrays is None:
            if len(self._nodes) >= self.max_nodes:
                self._nodes.pop(next(iter(self._nodes)))
            arrays = self._nodes[node] = (array("q", [-1]) * self.window, array("q", [0]) * self.window)
        self._dirty.add(node)
        return arrays

    def snapshot(self) -> dict[str, tuple[int, bytes, bytes]]:
        """node -> (window, seqs, fingerprints) of the nodes changed since the last snapshot."""
        nodes = self._nodes
        out = {n: (self.window, nodes[n][0].tobytes(), nodes[n][1].tobytes()) for n in self._dirty if n in nodes}
        self._dirty.clear()
        return out

    def restore(self, saved: dict[str, tuple[int, bytes, bytes]]) -> int:
        """Take back a :meth:`snapshot` (nodes saved with another window are skipped); returns the nodes restored."""
        n = 0
        for node, (window, seqs, fps) in saved.items():
            if window == self.window and len(seqs) == len(fps) == 8 * window and len(self._nodes) < self.max_nodes:
                self._nodes[node] = (array("q", seqs), array("q", fps))
                n += 1
        return n

    def check(self, node: str, seq: int, fp: int) -> bool:
        """True when ``seq`` of ``node`` was seen with another fingerprint; else remembers it and returns False."""
        seqs, fps = self.arrays(node)
        slot = seq % self.window
        held = seqs[slot]
        if held == seq:
            if fps[slot] != fp:
                self.conflicts_total += 1
                return True
            return False
        if held < seq:  # a newer seq takes the slot; an older one than the slot's is past the window
            seqs[slot] = seq
            fps[slot] = fp
        return False
