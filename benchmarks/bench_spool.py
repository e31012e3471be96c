"""Spool throughput: readings/s into SQLite and out of it (alone, and through a real broker).

Run: ``.venv/bin/python benchmarks/bench_spool.py [--readings 100000]``

- in: :meth:`Spool.add` in batches of 2, 20 and 100 readings (one transaction each, as one
  device poll is), with ``fsync=full`` and ``fsync=normal``;
- out, spool only: :meth:`Spool.pending` + :meth:`Spool.ack` in batches of 100;
- out, through Mosquitto: the gateway's :class:`~edge.gateway.mqtt.Uplink` drains a backlog
  over MQTT v5 QoS 1 with a window of 100 messages of 100 readings, deleting on PUBACK (the
  backlog is far past paho's 65k message-id range in readings, and is drained without error).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rows(n: int, start: int = 0):
    t0 = 1_763_900_000_000
    return [("heat_store.temp_top", 60.0 + (i % 100) / 10, "degC", t0 + i, "good") for i in range(start, start + n)]


def bench_in(folder: Path, n: int, batch: int, fsync: str) -> float:
    from edge.gateway.spool import Spool

    sp = Spool(folder / f"in-{batch}-{fsync}.db", max_readings=10 * n, fsync=fsync)
    data = rows(batch)
    t0 = time.perf_counter()
    for _ in range(n // batch):
        sp.add(data)
    rate = (n // batch) * batch / (time.perf_counter() - t0)
    sp.close()
    return rate


def bench_out(folder: Path, n: int) -> float:
    from edge.gateway.spool import Spool

    sp = Spool(folder / "out.db", max_readings=10 * n, fsync="normal")
    for i in range(0, n, 1000):
        sp.add(rows(1000, i))
    t0 = time.perf_counter()
    done = 0
    while True:
        batch = sp.pending(0, 100)
        if not batch:
            break
        done += sp.ack([r.seq for r in batch])
    rate = done / (time.perf_counter() - t0)
    sp.close()
    return rate


async def bench_broker(folder: Path, n: int) -> tuple[float, int]:
    from aisym.services import Mosquitto, park_acl
    from edge.gateway.config import Broker
    from edge.gateway.mqtt import Uplink
    from edge.gateway.spool import Spool

    users = {"gw": "gw-pw"}
    with Mosquitto(folder / "mqtt", users, park_acl("bench", ["gw"]), tls=False) as broker:
        sp = Spool(folder / "broker.db", max_readings=10 * n, fsync="normal")
        for i in range(0, n, 1000):
            sp.add(rows(1000, i))
        os.environ["BENCH_GW_PW"] = "gw-pw"
        cfg = Broker(host="127.0.0.1", port=broker.port, username="gw", password_env="BENCH_GW_PW", window=100, batch=100)
        up = Uplink(cfg, "bench", "gw", sp)
        await up.start()
        await asyncio.wait_for(up.connected.wait(), 10)
        t0 = time.perf_counter()
        drain = asyncio.create_task(up.drain())
        while len(sp):
            await asyncio.sleep(0.01)
        rate = n / (time.perf_counter() - t0)
        drain.cancel()
        await up.stop()
        sent = sp.counters["sent"]
        sp.close()
    return rate, sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readings", type=int, default=100_000)
    args = ap.parse_args()
    n = args.readings
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"spool readings/s ({n} readings, SQLite WAL, one transaction per batch)")
        for fsync in ("full", "normal"):
            for batch in (2, 20, 100):
                m = n if batch > 2 else n // 10
                print(f"  in   batch {batch:3d}  fsync={fsync:6s} {bench_in(folder, m, batch, fsync):10.0f}")
        print(f"  out  spool only (pending+ack, 100)   {bench_out(folder, n):10.0f}")
        rate, sent = asyncio.run(bench_broker(folder, n))
        print(f"  out  via Mosquitto, QoS 1, PUBACK    {rate:10.0f}   ({sent} acknowledged of {n})")


if __name__ == "__main__":
    main()
