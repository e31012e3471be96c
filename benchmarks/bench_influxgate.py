"""What the InfluxDB gate costs: the ingest account's batched writes and small queries, straight to
influxd's own HTTP port and through the gate, side by side on one server.

influxd runs here without its network namespace (``isolate=False``), so that its own port can be
reached for the comparison; the gate and everything else is as in ``services up``. Writes are the
ingestor's (batches of 5,000 points, one keep-alive session); queries are one-row ``SELECT`` s,
where the gate's parsing and second hop weigh most.

    .venv/bin/python benchmarks/bench_influxgate.py [--points 500000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aisym.influx import InfluxV1
from aisym.services import InfluxDB

BATCH = 5000


def _lines(n: int, offset: int) -> list[str]:
    return [f"heat_store,node=gateway,signal=soc value={i % 100}.5,seq={offset + i}i {1_000_000 + offset + i}"
            for i in range(n)]


def _writes(client: InfluxV1, points: int, offset: int) -> float:
    batches = [_lines(BATCH, offset + k) for k in range(0, points, BATCH)]
    t0 = time.perf_counter()
    for b in batches:
        client.write(b, precision="ms")
    return points / (time.perf_counter() - t0)


def _queries(client: InfluxV1, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        client.query('SELECT last("value") FROM "heat_store" WHERE "signal" = \'soc\'')
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=500_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, InfluxDB(Path(tmp) / "influx", isolate=False) as server:
        server.provision("bench", {"ingest": "ingest-pw"}, owners={"controller": "controller-pw"})
        direct_url = f"http://127.0.0.1:{server.backend_port}"
        rates: dict[str, list[float]] = {"direct": [], "gate": []}
        qrates: dict[str, list[float]] = {"direct": [], "gate": []}
        offset = 0
        for r in range(a.rounds):
            order = [("direct", direct_url), ("gate", server.url)]
            for name, url in order if r % 2 == 0 else order[::-1]:  # InfluxDB's compactions hit either
                w = InfluxV1(url, "bench", "ingest", "ingest-pw", timeout=60)
                rates[name].append(_writes(w, a.points, offset))
                offset += a.points
                w.close()
                q = InfluxV1(url, "bench", "controller", "controller-pw")
                qrates[name].append(_queries(q, a.queries))
                q.close()
        # the machine is shared: each round runs both back to back, and the ratio is taken per round
        wr = sorted(g / d for d, g in zip(rates["direct"], rates["gate"], strict=True))
        qr = sorted(g / d for d, g in zip(qrates["direct"], qrates["gate"], strict=True))
        print(f"writes, batches of {BATCH} ({a.rounds} rounds of {a.points} points each way)")
        print(f"  direct to influxd : {statistics.median(rates['direct']):10.0f} points/s (median)")
        print(f"  through the gate  : {statistics.median(rates['gate']):10.0f} points/s (median)")
        print(f"  ratio gate/direct per round: median {statistics.median(wr):.2f} (range {wr[0]:.2f}-{wr[-1]:.2f})")
        print(f"one-row queries ({a.rounds} rounds of {a.queries} each way)")
        print(f"  direct to influxd : {statistics.median(qrates['direct']):10.0f} queries/s (median)")
        print(f"  through the gate  : {statistics.median(qrates['gate']):10.0f} queries/s (median)")
        print(f"  ratio gate/direct per round: median {statistics.median(qr):.2f} (range {qr[0]:.2f}-{qr[-1]:.2f})")

if __name__ == "__main__":
    main()
