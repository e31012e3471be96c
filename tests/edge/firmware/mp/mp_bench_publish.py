# Publish-rate measurement: N readings already on flash, then the node drains them to the broker
# (QoS 1, one message in flight, PUBACK before ack). mp_bench_publish.py CONFIG N
import asyncio
import sys
import time

import clock
import config
from node import Node
from sleepcycle import drain

cfg = config.load(sys.argv[1])
n = int(sys.argv[2])
node = Node(cfg)
clock.set_epoch_ms(1_763_900_000_000)
node.buf.set_anchor(clock.anchor)
for i in range(n):
    node.buf.append(i % len(cfg["channels"]), 20.0 + (i % 100) * 0.1, "good", clock.uptime_ms())
node.buf.flush()


async def main():
    await node.mqtt.start()
    await node.mqtt.up.wait()
    t0 = time.ticks_ms()
    ok = await drain(node, 120000)
    dt = time.ticks_diff(time.ticks_ms(), t0)
    print("PUBLISH readings=%d messages=%d ms=%d emptied=%s" % (node.sent, node.messages, dt, ok))
    await node.mqtt.stop()


asyncio.run(main())
