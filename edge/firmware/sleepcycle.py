# Sending what the buffer holds, and the deep-sleep cycle of a battery node. Kept out of node.py
# so an always-on node does not carry this code in its heap (and a sleeping one loads it once).
import asyncio

import clock
import status


async def drain(node, max_ms):
    """Send what the buffer holds (flushing it first) for at most max_ms; True once empty."""
    node.buf.flush()
    t0 = clock.uptime_ms()
    while clock.uptime_ms() - t0 < max_ms:
        if not node.mqtt.up.is_set():
            await asyncio.sleep_ms(50)
            continue
        try:
            if not await node.publish_some():
                return True
        except OSError:
            node.mqtt.broken()
    return False


async def cycle(node, max_ms=30000):
    """One wake of a battery node: one scan, then send everything buffered within max_ms.

    Returns True when the buffer was emptied. Readings that could not be sent stay on flash."""
    await node.sample_once()
    node.buf.flush()  # the board is about to lose its RAM
    await node.mqtt.subscribe(node.t_cmd)
    await node.mqtt.start()
    if clock.anchor is None and await clock.sync(node.cfg["ntp"], log=status.log):
        node.buf.set_anchor(clock.anchor)
    sent_all = await drain(node, max_ms)
    node.buf.close()
    await node.mqtt.stop(clean=True)  # a clean DISCONNECT: the broker does not publish the 'offline' will
    return sent_all
