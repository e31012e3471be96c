# Heap soak: 24 h of readings (8 channels every 10 s = 69,120 readings) through the node's own
# code path (sample -> flash buffer -> telemetry JSON -> ack) under a simulated clock, meant to
# run with `-X heapsize=64k`, precompiled as on a board (`import mp_soak`, settings from the
# environment: SOAK_DIR, SOAK_HOURS). A MemoryError anywhere fails it.
import asyncio
import gc

gc.collect()
TX = bytearray(int(__import__("os").getenv("SOAK_TX") or 2048))  # as main.py: allocated first

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import check  # noqa: E402
import clock  # noqa: E402
import config  # noqa: E402
from node import Node  # noqa: E402

DAY_MS = 24 * 3600 * 1000
hours = float(os.getenv("SOAK_HOURS") or 24)
cfg = config.load("/nonexistent.json")
cfg["buffer"]["dir"] = os.getenv("SOAK_DIR")
tags = [
    ("heat_store.temp_top", "degC"),
    ("heat_store.temp_bottom", "degC"),
    ("ras.water_temp", "degC"),
    ("ras.ph", "pH"),
    ("ras.dissolved_oxygen", "mg/L"),
    ("ras.makeup_flow", "m3/h"),
    ("digester.temp", "degC"),
    ("digester.level", "%"),
]
cfg["mqtt"]["batch"] = int(os.getenv("SOAK_BATCH") or cfg["mqtt"]["batch"])
del sys.modules["config"]  # as node.main() does
del config
cfg["channels"] = [{"tag": t, "unit": u, "kind": "fake", "value": 10.0 + i, "step": 0.01} for i, (t, u) in enumerate(tags)]


def fake(i, value):
    # the channel readers of a real node, less the driver modules (frozen on a production board)
    n = [0]

    async def read():
        n[0] += 1
        return [(i, value + 0.01 * (n[0] % 1000))]

    return read


node = Node(cfg, readers=[fake(i, 10.0 + i) for i in range(len(tags))], tx=TX)
sim = [0]
clock.uptime_ms = lambda: sim[0]
clock.anchor = 1_763_900_000_000
node.buf.set_anchor(clock.anchor)
gc.collect()
base = gc.mem_alloc()
peak = 0
scans = int(hours * 360)
sent = 0
expect = 0


async def soak():
    global peak, sent, expect
    for i in range(scans):
        sim[0] += 10000
        await node.sample_once()
        if i % 6 == 5:  # once a minute the publisher drains the buffer
            node.buf.flush()
            while True:
                batch = node.buf.peek(cfg["mqtt"]["batch"])
                if not batch:
                    break
                payload, first, last = node.telemetry(batch)
                batch = None
                peak = max(peak, gc.mem_alloc())
                if first != expect:
                    check.ok(False, "batch starts at %d, want %d" % (first, expect))
                expect = last + 1
                sent += last - first + 1
                node.buf.ack(last)
                check.ok(len(payload) > 100, "payload built")
                payload = None
        peak = max(peak, gc.mem_alloc())


asyncio.run(soak())
node.buf.flush()
check.eq(sent, scans * 8, "every reading of %s h sent once, in order" % hours)
check.eq(node.buf.discards, 0, "nothing dropped")
info = gc.mem_free() + gc.mem_alloc()
print("SOAK readings=%d heap=%d baseline_alloc=%d peak_alloc=%d" % (sent, info, base, peak))
# a payload a node sends, for the CPython side to validate against the contract
node.buf.append(0, 21.5, "good", sim[0])
node.buf.append(3, None, "comm_error", sim[0])
node.buf.flush()
print("PAYLOAD " + bytes(node.telemetry(node.buf.peek(10))[0]).decode())
json.loads(node._status("online"))
print("STATUS " + node._status("online").decode())
print("HEALTH " + json.dumps({"v": 1, "node": cfg["node"], "ts": clock.now_ms(), "counters": node.counters()}))
check.done("soak")
