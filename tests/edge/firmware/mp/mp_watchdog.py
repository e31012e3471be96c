# Device-side test: in the running node, the supervisor feeds the watchdog through a broker
# outage (the publisher waits but keeps checking in), and stops feeding when the sampler hangs.
import asyncio
import os

import check
import config
import machine
from node import Node

cfg = config.load("/nonexistent.json")
cfg.update(sample_s=0.05, watchdog_ms=1000)
cfg["mqtt"].update(port=9, backoff_ms=[100, 200])  # nobody listens: a broker outage from the start
cfg["buffer"]["dir"] = os.getenv("BUF")
cfg["channels"] = [{"tag": "ras.ph", "unit": "pH", "kind": "fake"}]
hang = [False]


async def reader():
    if hang[0]:
        await asyncio.sleep(3600)  # a driver stuck on a dead bus
    return [(0, 7.0)]


wdt = machine.WDT(timeout=1000)
node = Node(cfg, readers=[reader], wdt=wdt)


async def main():
    task = asyncio.create_task(node.run(30))
    await asyncio.sleep_ms(1500)
    healthy = wdt.fed
    check.ok(healthy >= 4, "fed while every task is alive, broker or not (%d feeds)" % healthy)
    hang[0] = True
    await asyncio.sleep_ms(5500)  # longer than the sampler's allowance (3 periods + 5 s)
    before = wdt.fed
    await asyncio.sleep_ms(1000)
    check.eq(wdt.fed, before, "no feeding once the sampler hangs: the board will reset")
    check.eq(node.sup.starved, "sampler", "the late task is named in the log")
    task.cancel()


asyncio.run(main())
check.done("watchdog")
