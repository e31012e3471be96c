"""Data completeness of a demo run, counted against the gateway's own counter (issue 18, finding 10).

The gateway's spool numbers every reading (``seq``, SQLite AUTOINCREMENT: it never goes back,
even when acknowledged rows are deleted). Counting from the lowest to the highest seq found in
InfluxDB cannot see a loss at either end: an aborted run said 811/811 while 851 readings had been
sent and acknowledged. So the count runs from the first seq of this run (the counter before the
gateway started, plus one) to the last seq the gateway gave out, and every seq of that range not
stored is missing, at the end and at the start too.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_RANGES = 20  # missing ranges listed in run.json (the count covers all)


def count_readings(rows: Iterable[dict], first: int, last: int | None) -> dict:
    """Completeness of seqs ``first..last`` in ``rows`` (InfluxDB rows with ``seq`` and ``quality``).

    :param rows: the gateway's stored points (``seq`` field, ``quality`` tag); seqs outside the
        range (an earlier run's, in a reused folder) are not counted
    :param first: the first seq of the run
    :param last: the last seq the gateway gave out; None when its counter could not be read (then
        the highest stored seq, and ``counted_against`` says so)
    """
    stored: dict[int, str] = {}
    for r in rows:
        if r.get("seq") is not None:
            stored[int(r["seq"])] = str(r.get("quality"))
    against = "the gateway's counter"
    if last is None:
        last, against = max((q for q in stored if q >= first), default=first - 1), "the highest stored seq"
    seqs = sorted(q for q in stored if first <= q <= last)
    sent = max(0, last - first + 1)
    by_q: dict[str, int] = {}
    for q in seqs:
        by_q[stored[q]] = by_q.get(stored[q], 0) + 1
    gaps, prev = [], first - 1
    for q in [*seqs, last + 1]:
        if q > prev + 1 and len(gaps) < MAX_RANGES:
            gaps.append([prev + 1, q - 1])
        prev = q
    return {"readings_sent": sent, "points_in_influx": len(seqs), "by_quality": by_q,
            "ratio": len(seqs) / sent if sent else 0.0, "missing_seqs": sent - len(seqs), "missing_ranges": gaps,
            "first_seq": first, "last_seq": last, "counted_against": against}
