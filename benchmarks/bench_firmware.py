"""Sensor-node firmware figures, measured side by side in one run on this machine.

- publish rate: the firmware's own MQTT client on the MicroPython unix port draining its flash
  buffer to the real Mosquitto (QoS 1, one message in flight), batch 10 and 50, next to paho-mqtt
  (CPython) sending the same payload sizes the same way (one QoS 1 message in flight);
- buffer capacity and flash wear on a real littlefs of 1 MiB (tests/edge/firmware/mp/mp_ringbuf.py);
- RAM: the smallest ``-X heapsize`` the 24 h soak passes with, and its live baseline.

Run: ``.venv/bin/python benchmarks/bench_firmware.py`` (about 1-2 minutes).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import USERS, make_broker  # noqa: E402
from tests.edge.firmware.harness import FAKES, FIRMWARE, MP_TESTS, compile_all, run_mp  # noqa: E402

N = 20_000


def firmware_publish(broker, tmp: Path, batch: int) -> tuple[float, float, int]:
    cfg = {
        "node": "sensor-node",
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker.port,
            "user": "sensor-node",
            "password": USERS["sensor-node"],
            "batch": batch,
        },
        "buffer": {"dir": str(tmp / f"buf{batch}"), "segments": 100, "flush_n": 40},
        "channels": [
            {"tag": "heat_store.temp_top", "unit": "degC", "kind": "fake"},
            {"tag": "ras.ph", "unit": "pH", "kind": "fake"},
        ],
    }
    path = tmp / f"cfg{batch}.json"
    path.write_text(json.dumps(cfg))
    out = run_mp(MP_TESTS / "mp_bench_publish.py", str(path), str(N), timeout=300).stdout
    m = re.search(r"PUBLISH readings=(\d+) messages=(\d+) ms=(\d+)", out)
    assert m, out
    readings, messages, ms = map(int, m.groups())
    return readings / ms * 1000, messages / ms * 1000, readings


def paho_publish(broker, batch: int, messages: int) -> float:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    reading = {"tag": "heat_store.temp_top", "value": 21.3, "unit": "degC", "ts": 1763900000000, "quality": "good", "seq": 1}
    payload = json.dumps({"v": 1, "park": "kraakoya", "node": "sensor-node", "readings": [reading] * batch}).encode()
    done = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-paho")
    c.username_pw_set("sensor-node", USERS["sensor-node"])
    c.on_publish = lambda *a: done.set()
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    t0 = time.perf_counter()
    for _ in range(messages):
        done.clear()
        c.publish("aisym/kraakoya/sensor-node/telemetry", payload, qos=1)
        done.wait(5)
    dt = time.perf_counter() - t0
    c.loop_stop()
    c.disconnect()
    return messages / dt


def min_heap(tmp: Path) -> tuple[str, str]:
    mpy = tmp / "mpy"
    compile_all(mpy, [f for f in FIRMWARE.glob("*.py") if f.stem != "main"] + [MP_TESTS / "check.py", MP_TESTS / "mp_soak.py"])
    passed, base = "none", ""
    for heap in ("52k", "56k", "60k", "64k", "72k"):
        env = {"SOAK_DIR": str(tmp / f"soak{heap}"), "SOAK_HOURS": "24"}
        proc = run_mp("-c", "import mp_soak", heap=heap, env=env, path=f".frozen:.:{FAKES}", cwd=mpy, timeout=300)
        if proc.returncode == 0:
            passed = heap
            base = re.search(r"baseline_alloc=(\d+)", proc.stdout).group(1)
            break
    return passed, base


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = make_broker(tmp / "mqtt", tls=False)
        with broker:
            print(f"publish rate, {N} readings drained from flash to Mosquitto, QoS 1, one message in flight:")
            for batch in (10, 50):
                rps, mps, _ = firmware_publish(broker, tmp, batch)
                ref = paho_publish(broker, batch, 2000)
                print(
                    f"  batch {batch:3d}: firmware (MicroPython unix) {rps:8.0f} readings/s = {mps:6.0f} msg/s | "
                    f"paho (CPython) {ref:6.0f} msg/s | firmware/paho {mps / ref:5.2f}"
                )
        out = run_mp(MP_TESTS / "mp_ringbuf.py", "80000", heap="8m", timeout=300).stdout
        for line in out.splitlines():
            if line.startswith(("CAPACITY", "WEAR")):
                print("littlefs 1 MiB:", line)
        heap, base = min_heap(tmp)
        print(f"RAM: 24 h soak (69,120 readings) passes with -X heapsize={heap} (tried 52k..72k); live after boot {base} B")


if __name__ == "__main__":
    main()
