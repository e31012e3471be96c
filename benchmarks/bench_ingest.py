"""Ingest throughput and memory, measured side by side in one run on real Mosquitto and InfluxDB.

    .venv/bin/python benchmarks/bench_ingest.py [--messages 2000] [--per-msg 50] [--sustain-s 20] [--rate 200]

Prints, for the same messages (``--per-msg`` readings each):

1. **direct**: the points written straight to InfluxDB in batches of 5,000 (one process, no MQTT);
2. **mosquitto**: Mosquitto's own QoS 1 rate, publisher process -> subscriber (auto-ack), no InfluxDB;
3. **end-to-end**: publisher process -> Mosquitto -> ``python -m cloud.ingest`` -> InfluxDB, timed from
   the first publish until InfluxDB holds every point (best of 2, each with a fresh ingestor and database);

and the ratios end-to-end/direct (target >= 0.3) and end-to-end/mosquitto. Then a sustained load at
``--rate`` messages/s for ``--sustain-s`` seconds with the ingestor's RSS sampled every 0.5 s.
Everything runs on 127.0.0.1 in a temporary folder and stops at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
import psutil  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from aisym.contract import decode_telemetry, telemetry_points, topics  # noqa: E402
from aisym.influx import InfluxV1  # noqa: E402
from aisym.park import load_view  # noqa: E402
from aisym.services import InfluxDB, Mosquitto, park_acl  # noqa: E402

PARK = load_view()
PID = PARK.park.id
USERS = {"ingest": "ingest-pw", "node-a": "node-a-pw", "admin": "admin-pw"}
TAGS = sorted(PARK.tags)


def make_messages(n: int, per: int, ts0: int, first_seq: int = 0) -> list[bytes]:
    out = []
    for i in range(n):
        readings = []
        for s in range(first_seq + i * per, first_seq + (i + 1) * per):
            tag = TAGS[s % len(TAGS)]
            t = PARK.tags[tag]
            v = t.min + (t.max - t.min) * ((s * 37) % 100) / 100
            readings.append({"tag": tag, "value": v, "unit": t.unit, "ts": ts0 + s, "quality": "good", "seq": s})
        out.append(json.dumps({"v": 1, "park": PID, "node": "node-a", "readings": readings}).encode())
    return out


def _publish(port: int, payloads: list[bytes], rate: float, window: int, ready) -> None:
    """Child process: QoS 1 publisher with a sliding window of unacknowledged messages (and an optional rate)."""
    acked = threading.Semaphore(window)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}", protocol=mqtt.MQTTv5)
    c.username_pw_set("node-a", USERS["node-a"])
    c.on_publish = lambda *a: acked.release()
    c.max_inflight_messages_set(window)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    ready.wait()
    topic = topics.telemetry(PID, "node-a")
    t0 = time.monotonic()
    for i, p in enumerate(payloads):
        acked.acquire()
        if rate:
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        c.publish(topic, p, qos=1)
    for _ in range(window):
        acked.acquire()
    c.disconnect()
    c.loop_stop()


def start_publisher(port: int, payloads: list[bytes], rate: float = 0.0, window: int = 200):
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    p = ctx.Process(target=_publish, args=(port, payloads, rate, window, ready))
    p.start()
    time.sleep(0.5)  # connected
    return p, ready


def bench_direct(influx_url: str, payloads: list[bytes], repeats: int = 3) -> float:
    """Best of ``repeats`` (each into a fresh database, its shard created by a warm-up point): the ratio's
    denominator is InfluxDB at its fastest, so the ratio errs low."""
    lines = [ln for p in payloads for ln in telemetry_points(decode_telemetry(p), PARK)]
    best = 0.0
    for k in range(repeats):
        db = InfluxV1(influx_url, f"bench_direct{k}")
        db.create_database()
        db.write([lines[0]])
        t0 = time.perf_counter()
        for i in range(0, len(lines), 5000):
            db.write(lines[i : i + 5000])
        best = max(best, len(lines) / (time.perf_counter() - t0))
        db.query(f'DROP DATABASE "bench_direct{k}"', method="POST")
    return best


def bench_mosquitto(port: int, payloads: list[bytes]) -> float:
    got = threading.Event()
    count = [0]

    def on_message(client, userdata, msg):
        count[0] += 1
        if count[0] == len(payloads):
            got.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-sub", protocol=mqtt.MQTTv5)
    sub.username_pw_set("admin", USERS["admin"])
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe(topics.telemetry(PID, "node-a"), qos=1)
    sub.loop_start()
    time.sleep(0.3)
    proc, ready = start_publisher(port, payloads)
    t0 = time.perf_counter()
    ready.set()
    if not got.wait(300):
        raise TimeoutError(f"subscriber got {count[0]} of {len(payloads)}")
    dt = time.perf_counter() - t0
    proc.join()
    sub.disconnect()
    sub.loop_stop()
    return len(payloads) / dt


def spawn_ingestor(broker: Mosquitto, influx_url: str, db: str, state: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "AISYM_MQTT_PASSWORD": USERS["ingest"], "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "cloud.ingest", "--mqtt-port", str(broker.port), "--influx-url", influx_url]
    argv += ["--influx-db", db, "--group", db, "--client-id", f"bench-{db}", "--state-dir", str(state)]
    argv += ["--health-interval", "2"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while "connected to" not in log.read_text():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("ingestor did not start:\n" + log.read_text()[-2000:])
        time.sleep(0.05)
    time.sleep(0.3)  # SUBACK
    return proc


def count_points(db: InfluxV1) -> int:
    rows = db.rows("SELECT count(seq) FROM /.*/ WHERE node = 'node-a'")
    return int(sum(r["count"] for r in rows))


def bench_end_to_end(broker: Mosquitto, influx_url: str, payloads: list[bytes], n_points: int, tmp: Path, k: int = 0) -> float:
    name = f"bench_e2e{k}"
    db = InfluxV1(influx_url, name)
    db.create_database()
    proc = spawn_ingestor(broker, influx_url, name, tmp / f"state-{name}", tmp / f"{name}.log")
    ps = psutil.Process(proc.pid)
    try:
        pub, ready = start_publisher(broker.port, payloads)
        cpu0 = sum(ps.cpu_times()[:2])
        t0 = time.perf_counter()
        ready.set()
        deadline = time.monotonic() + 300
        while count_points(db) < n_points:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {count_points(db)} of {n_points} points after 300 s")
            time.sleep(0.25)
        dt = time.perf_counter() - t0
        cpu = sum(ps.cpu_times()[:2]) - cpu0
        print(f"  ingestor CPU during it: {cpu:.1f} s over {dt:.1f} s wall = {cpu / dt:.0%} of one core")
        pub.join()
        assert count_points(db) == n_points
        return n_points / dt
    finally:
        proc.terminate()
        proc.wait(20)


def bench_memory(broker: Mosquitto, influx_url: str, per: int, rate: float, seconds: float, tmp: Path) -> dict:
    db = InfluxV1(influx_url, "bench_mem")
    db.create_database()
    n = int(rate * seconds)
    payloads = make_messages(n, per, 1_795_000_000_000)
    proc = spawn_ingestor(broker, influx_url, "bench_mem", tmp / "state-mem", tmp / "mem.log")
    ps = psutil.Process(proc.pid)
    samples: list[tuple[float, float]] = []
    try:
        rss0 = ps.memory_info().rss / 2**20
        pub, ready = start_publisher(broker.port, payloads, rate=rate)
        t0 = time.monotonic()
        ready.set()
        while pub.is_alive():
            samples.append((time.monotonic() - t0, ps.memory_info().rss / 2**20))
            time.sleep(0.5)
        pub.join()
        deadline = time.monotonic() + 60
        while count_points(db) < n * per and time.monotonic() < deadline:
            time.sleep(0.2)
        stored = count_points(db)
    finally:
        proc.terminate()
        proc.wait(20)
    rss = [r for _, r in samples]
    third = max(1, len(rss) // 3)
    return {
        "readings_per_s": rate * per,
        "seconds": seconds,
        "rss_start_mib": rss0,
        "rss_peak_mib": max(rss),
        "rss_mean_first_third_mib": sum(rss[:third]) / third,
        "rss_mean_last_third_mib": sum(rss[-third:]) / third,
        "points_stored": stored,
        "points_sent": n * per,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--per-msg", type=int, default=50)
    ap.add_argument("--sustain-s", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=200.0, help="messages/s during the sustained load")
    a = ap.parse_args()
    payloads = make_messages(a.messages, a.per_msg, 1_790_000_000_000)
    n_points = a.messages * a.per_msg
    with tempfile.TemporaryDirectory(prefix="aisym-bench-") as d:
        tmp = Path(d)
        acl = park_acl(PID, ["node-a"], ingestors=["ingest"], admins=["admin"])
        # auth off: this measures throughput, comparable with earlier runs (InfluxDB's default is auth on)
        with Mosquitto(tmp / "mq", dict(USERS), acl, tls=False) as broker, InfluxDB(tmp / "influx", auth=False) as influx:
            print(f"{a.messages} messages x {a.per_msg} readings = {n_points} readings; cpus={os.cpu_count()}")
            direct = bench_direct(influx.url, payloads)
            print(f"direct batched write to InfluxDB : {direct:10.0f} points/s (best of 3, batches of 5000)")
            mq = bench_mosquitto(broker.port, payloads)
            print(f"mosquitto QoS 1 pub -> sub       : {mq:10.0f} msg/s = {mq * a.per_msg:10.0f} readings/s")
            # best of 2, as the direct write is best of 3: both sides at their fastest
            e2e = max(bench_end_to_end(broker, influx.url, payloads, n_points, tmp, k) for k in range(2))
            print(f"end-to-end pub -> ingest -> Influx: {e2e:10.0f} readings/s = {e2e / a.per_msg:10.0f} msg/s (best of 2)")
            print(f"ratio end-to-end / direct write   : {e2e / direct:6.2f}   (target >= 0.3)")
            print(f"ratio end-to-end / mosquitto QoS 1: {e2e / (mq * a.per_msg):6.2f}")
            m = bench_memory(broker, influx.url, a.per_msg, a.rate, a.sustain_s, tmp)
            print(
                f"sustained {m['readings_per_s']:.0f} readings/s for {m['seconds']:.0f} s: ingestor RSS start "
                f"{m['rss_start_mib']:.1f} MiB, peak {m['rss_peak_mib']:.1f} MiB, mean first third "
                f"{m['rss_mean_first_third_mib']:.1f} MiB, last third {m['rss_mean_last_third_mib']:.1f} MiB; "
                f"stored {m['points_stored']} of {m['points_sent']} points"
            )


if __name__ == "__main__":
    main()
