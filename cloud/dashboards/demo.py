"""Demo data for the dashboards: every tag of the park, plus the ingestor's own series.

Generated messages go through the real :class:`~cloud.ingest.Processor` and
:class:`~cloud.ingest.health.HealthReporter`, so the demo has exactly the measurements, tags and
fields that live ingest produces: every panel of every generated dashboard has data to show
(``aisym dashboards demo``, and the test that runs every panel's query).
"""

from __future__ import annotations

import json
import math

from aisym.contract import topics
from aisym.park import Park, park_view
from aisym.park.graph import ParkGraph

from ..ingest.health import HealthReporter
from ..ingest.ingestor import Counters
from ..ingest.processor import Processor
from ..ingest.seqtrack import SeqTracker


def demo_lines(park: Park | ParkGraph, end_ms: int, minutes: int = 60, step_s: int = 60) -> list[str]:
    """Line protocol for ``minutes`` of readings up to ``end_ms``: one node per company, one reading per tag and step.

    Qualities vary (every 7th reading stale, every 11th comm_error, every 13th with an unsynced
    clock), one node loses three seqs (a gap), and one message is sent twice (duplicates).
    """
    view = park_view(park)  # what the ingestor reads of it
    pid = view.park.id
    companies = park.doc.companies if isinstance(park, ParkGraph) else park.companies
    proc = Processor(view, SeqTracker(grace_s=0.0))
    health = HealthReporter(pid, "ingest-demo")
    counters = Counters()
    lines: list[str] = []
    seq: dict[str, int] = {}
    steps = max(1, minutes * 60 // step_s)
    for k in range(steps):
        ts = end_ms - (steps - 1 - k) * step_s * 1000
        for c in companies:
            node = f"gw-{c.id.replace('_', '-')}"[:40]
            readings: list[dict] = []
            for a in c.assets:
                for t in a.tags:
                    n = seq.get(node, 0)
                    seq[node] = n + 1
                    if k == steps // 2 and n % 50 == 0:  # a gap of three readings once per node
                        seq[node] = n + 4
                        n += 3
                    frac = 0.5 + 0.4 * math.sin(2 * math.pi * (k / max(steps, 2)) + len(readings))
                    # + k: a node with 11 tags would otherwise send one of them as comm_error every time
                    q = "comm_error" if (n + k) % 11 == 5 else "stale" if n % 7 == 3 else "good"
                    r = {"tag": f"{a.id}.{t.name}", "unit": t.unit, "ts": ts, "quality": q, "seq": n}
                    r["value"] = None if q == "comm_error" else round(t.min + (t.max - t.min) * frac, 3)
                    if n % 13 == 4:
                        r["ts_synced"] = False
                    readings.append(r)
            if not readings:  # a company without tags has no node
                continue
            msg = json.dumps({"v": 1, "park": pid, "node": node, "readings": readings}).encode()
            for _ in range(2 if k == steps - 2 else 1):  # the second-to-last message arrives twice
                out = proc.handle(topics.telemetry(pid, node), msg, ts + 400)
                assert out.dead is None, out.dead
                lines += out.lines
                counters.messages += 1
                counters.readings += out.readings
            hm = {
                "v": 1,
                "node": node,
                "ts": ts,
                "counters": {"queued_total": float(k * 41), "sent": float(k * 40), "dropped": 0},
            }
            lines += proc.handle(topics.health(pid, node), json.dumps(hm).encode(), ts + 400).lines
            state = "offline" if k == steps // 3 else "online"
            st = {"v": 1, "node": node, "state": state, "ts": ts, "role": "gateway"}
            lines += proc.handle(topics.status(pid, node), json.dumps(st).encode(), ts + 400).lines
        counters.points_written = counters.readings
        if k % 5 == 4 or k == steps - 1:
            proc.expire_gaps(ts / 1000 + 1)
            lines += health.lines(proc, counters, 0, 0, 0, ts_ms=ts + 500)
    if isinstance(park, ParkGraph):  # the forecasts dashboard's panels (cloud.dashboards.forecasts)
        from .forecasts import forecast_demo_lines

        lines += forecast_demo_lines(park, end_ms)
    return lines
