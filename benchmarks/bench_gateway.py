"""Gateway polling throughput against a bare pymodbus client loop on the same server.

Run: ``.venv/bin/python benchmarks/bench_gateway.py [--seconds 3] [--rounds 3]``

A pymodbus TCP server runs in its own process (as a PLC would). In alternating rounds:

- ``bare``: an ``AsyncModbusTcpClient`` reads the same registers in a tight loop (no decoding);
- ``gateway``: a :class:`~edge.gateway.modbus.DevicePoller` polls a profile of 50 float32
  values (100 registers, merged into one request), decodes them, and hands the readings to a
  sink; ``gateway+spool`` also commits every poll to the SQLite spool (fsync ``normal``).

It prints registers/s of each and the ratio gateway / bare (target >= 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_VALUES = 50  # float32 values -> 100 registers


def serve(port: int, ready) -> None:
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    async def main():
        regs = [SimData(0, count=256, values=0x4142, datatype=DataType.REGISTERS)]
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        dev = SimDevice(id=1, simdata=(bits, bits, regs, regs))
        server = ModbusTcpServer([dev], address=("127.0.0.1", port))
        asyncio.get_running_loop().call_later(0.3, ready.set)
        await server.serve_forever()

    asyncio.run(main())


async def bare(port: int, seconds: float) -> float:
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
    await client.connect()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        rr = await client.read_holding_registers(0, count=2 * N_VALUES, device_id=1)
        n += len(rr.registers)
    rate = n / (time.perf_counter() - t0)
    client.close()
    return rate


async def gateway(port: int, seconds: float, spool_dir: Path | None) -> float:
    from edge.gateway.config import Device, TcpBus
    from edge.gateway.modbus import DevicePoller, Link
    from edge.gateway.spool import Spool
    from edge.profiles import Profile, Register

    regs = [Register(name=f"v{i}", fc=3, address=2 * i, type="float32", unit="kW") for i in range(N_VALUES)]
    profile = Profile(id="bench", manufacturer="b", model="b", registers=regs)
    tags = {r.name: f"bench.{r.name}" for r in regs}
    dev = Device(id="bench", bus="b", profile="bench", unit_id=1, poll_s=0.001, tags=tags)
    spool = Spool(spool_dir / f"spool-{time.monotonic_ns()}.db", fsync="normal") if spool_dir else None
    sink = spool.add if spool else (lambda readings: None)
    link = Link(TcpBus(type="tcp", host="127.0.0.1", port=port, timeout_s=1))
    p = DevicePoller(dev, profile, link, dict.fromkeys(tags, 1.0), dict.fromkeys(tags, "kW"), sink)
    assert len(p.blocks) == 1
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        readings = await p.poll_once()  # what DevicePoller.run does each period, without the sleep
        sink(readings)
        assert readings[0][4] == "good"
        n += 2 * N_VALUES
    rate = n / (time.perf_counter() - t0)
    link.close()
    if spool:
        spool.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from aisym.services import free_port

    port = free_port()
    ready = mp.Event()
    server = mp.Process(target=serve, args=(port, ready), daemon=True)
    server.start()
    ready.wait(10)
    results: dict[str, list[float]] = {"bare": [], "gateway": [], "gateway+spool": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits all alike
            results["bare"].append(asyncio.run(bare(port, args.seconds)))
            results["gateway"].append(asyncio.run(gateway(port, args.seconds, None)))
            results["gateway+spool"].append(asyncio.run(gateway(port, args.seconds, Path(tmp))))
    server.terminate()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"registers/s (median of {args.rounds} rounds of {args.seconds:g} s, 100 registers per request, TCP loopback)")
    for k, v in med.items():
        print(f"  {k:14s} {v:10.0f}   rounds: {', '.join(f'{x:.0f}' for x in results[k])}")
    print(f"ratio gateway/bare        {med['gateway'] / med['bare']:.2f}  (target >= 0.8)")
    print(f"ratio gateway+spool/bare  {med['gateway+spool'] / med['bare']:.2f}")


if __name__ == "__main__":
    main()
