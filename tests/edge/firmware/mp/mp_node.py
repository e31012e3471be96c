# Runs the real node (node.Node) on the unix port: mp_node.py CONFIG SECONDS DRAIN_MS
# Prints "NEXT_SEQ n BOOT b" at the end (what the buffer assigned) for the test to check.
import asyncio
import sys

import config
import status
from node import Node

cfg = config.load(sys.argv[1])
seconds = float(sys.argv[2])
drain_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 0
node = Node(cfg)


async def main():
    await node.run(seconds)
    await node.stop(drain_ms)


asyncio.run(main())
status.log("counters %r" % node.counters())
print("NEXT_SEQ %d BOOT %d ACKED %d" % (node.buf.next_seq, node.buf.boot, node.buf.acked))
