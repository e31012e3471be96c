"""Modbus TCP/RTU polling: one task and one state machine per device, merged reads, quality flags.

Why one task per device: a device that does not answer costs its own task a timeout, never its
neighbours' poll period. TCP devices get their own connection each; devices on one serial line
share the line (RS485 is half duplex), and a lock serialises them, so a dead RS485 device costs
the line one ``timeout_s`` per attempt, which the backoff spreads out (1, 2, 4 ... x ``poll_s``,
capped at ``max_backoff_s``).

States: ``connecting`` -> ``online`` <-> ``backoff``. A failed read yields ``comm_error``
readings (value null) for every tag of the failed request, so a vanished device is visible at
once and an old value is never sent again as if fresh.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from edge.profiles import Block, BlockDecoder, Profile, Register, decode, encode, plan_reads

from .config import Device, SerialBus, TcpBus

log = logging.getLogger("aisym.gateway.modbus")

#: tag, value (None unless good), unit, ts ms, quality
ReadingTuple = tuple[str, float | None, str, int, str]
Sink = Callable[[list[ReadingTuple]], Awaitable[None] | None]


_READ = {1: "read_coils", 2: "read_discrete_inputs", 3: "read_holding_registers", 4: "read_input_registers"}


class DeviceError(Exception):
    """A device refused or failed a request (the message says which and why)."""


def make_client(bus: TcpBus | SerialBus) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
    """A pymodbus client that never retries or reconnects on its own: the state machine does."""
    if isinstance(bus, TcpBus):
        return AsyncModbusTcpClient(bus.host, port=bus.port, timeout=bus.timeout_s, retries=0, reconnect_delay=0)
    return AsyncModbusSerialClient(
        bus.port,
        baudrate=bus.baudrate,
        parity=bus.parity,
        stopbits=bus.stopbits,
        bytesize=bus.bytesize,
        timeout=bus.timeout_s,
        retries=0,
        reconnect_delay=0,
    )


class Link:
    """One Modbus connection (a TCP peer, or a serial line shared by several devices)."""

    def __init__(self, bus: TcpBus | SerialBus):
        self.bus = bus
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None
        self.lock = asyncio.Lock()

    @property
    def client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        # Created on first use: pymodbus binds its clients to the running event loop.
        if self._client is None:
            self._client = make_client(self.bus)
        return self._client

    async def ensure(self) -> None:
        if not self.client.connected and not await self.client.connect():
            where = f"{self.bus.host}:{self.bus.port}" if isinstance(self.bus, TcpBus) else self.bus.port
            raise DeviceError(f"cannot connect to {where}")

    def drop(self) -> None:
        # After a timeout the stream may still deliver the late answer; a fresh connection keeps
        # a late frame from being taken for the next request's answer.
        self.close()

    async def read(self, block: Block, unit_id: int) -> list[int]:
        async with self.lock:
            await self.ensure()
            fn = getattr(self.client, _READ[block.fc])
            try:
                rr = await fn(block.address, count=block.count, device_id=unit_id)
            except (TimeoutError, ModbusException, OSError) as e:
                self.drop()
                raise DeviceError(f"fc {block.fc} @{block.address}+{block.count}: {type(e).__name__}: {e}") from None
        if rr.isError():
            code = getattr(rr, "exception_code", "?")
            raise DeviceError(f"fc {block.fc} @{block.address}+{block.count}: exception code {code}")
        if block.fc in (1, 2):
            return [int(b) for b in rr.bits[: block.count]]
        if len(rr.registers) != block.count:
            raise DeviceError(f"fc {block.fc} @{block.address}: asked {block.count} registers, got {len(rr.registers)}")
        return list(rr.registers)

    async def write(self, reg: Register, words: Sequence[int], unit_id: int) -> None:
        async with self.lock:
            await self.ensure()
            c = self.client
            try:
                if reg.write_fc == 5:
                    rr = await c.write_coil(reg.address, bool(words[0]), device_id=unit_id)
                elif reg.write_fc == 6:
                    rr = await c.write_register(reg.address, words[0], device_id=unit_id)
                else:
                    rr = await c.write_registers(reg.address, list(words), device_id=unit_id)
            except (TimeoutError, ModbusException, OSError) as e:
                self.drop()
                raise DeviceError(f"write fc {reg.write_fc} @{reg.address}: {type(e).__name__}: {e}") from None
        if rr.isError():
            raise DeviceError(f"write fc {reg.write_fc} @{reg.address}: exception code {getattr(rr, 'exception_code', '?')}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@dataclass
class DeviceStats:
    state: str = "connecting"
    polls: int = 0
    errors: int = 0
    failures_in_row: int = 0
    last_error: str = ""
    last_ok_ms: int = 0
    next_poll: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class DevicePoller:
    """Polls one device with its profile and hands readings to ``sink``.

    :param device: the config entry
    :param profile: the device's profile
    :param link: the connection it uses (shared on a serial line)
    :param factors: profile value -> factor from profile unit to park unit
    :param units: profile value -> park unit
    :param sink: called with each poll's readings (the spool)
    """

    def __init__(
        self,
        device: Device,
        profile: Profile,
        link: Link,
        factors: dict[str, float],
        units: dict[str, str],
        sink: Sink,
    ):
        self.device = device
        self.profile = profile
        self.link = link
        self.factors = factors
        self.units = units
        self.sink = sink
        self.tags = {k: v.tag for k, v in device.tag_maps().items()}
        regs = [profile.register(name) for name in self.tags]
        self.blocks = plan_reads(regs, profile.max_block, profile.max_gap)
        self._decoders = [BlockDecoder(b) for b in self.blocks]
        self.stats = DeviceStats()

    async def poll_once(self) -> list[ReadingTuple]:
        """Read every block once; a failed block gives ``comm_error`` for its tags only."""
        out: list[ReadingTuple] = []
        failed = 0
        tags, units, factors = self.tags, self.units, self.factors
        for block, decoder in zip(self.blocks, self._decoders, strict=True):
            try:
                words = await self.link.read(block, self.device.unit_id)
            except DeviceError as e:
                failed += 1
                self.stats.last_error = str(e)
                ts = int(time.time() * 1000)
                out += [(tags[r.name], None, units[r.name], ts, "comm_error") for r in block.registers]
                continue
            ts = int(time.time() * 1000)
            for reg, value, error in decoder(words):
                name = reg.name
                if value is None:  # NaN/inf: the device has no valid value right now
                    self.stats.last_error = error
                    out.append((tags[name], None, units[name], ts, "comm_error"))
                else:
                    out.append((tags[name], value * factors[name], units[name], ts, "good"))
        self.stats.polls += 1
        if failed:
            self.stats.errors += 1
            self.stats.failures_in_row += 1
            self.stats.state = "backoff"
        else:
            self.stats.failures_in_row = 0
            self.stats.state = "online"
            self.stats.last_ok_ms = int(time.time() * 1000)
        return out

    def delay(self) -> float:
        """Seconds until the next poll: the poll period, or an exponential, jittered backoff."""
        n = self.stats.failures_in_row
        if n == 0:
            return self.device.poll_s
        base = min(self.device.poll_s * 2 ** (n - 1), self.device.max_backoff_s)
        return base * random.uniform(0.8, 1.0)  # jitter: devices that died together do not retry together

    async def run(self) -> None:
        """Poll forever at ``poll_s`` (drift-free), backing off while the device fails."""
        next_t = time.monotonic()
        while True:
            readings = await self.poll_once()
            res = self.sink(readings)
            if res is not None:
                await res
            d = self.delay()
            next_t = next_t + d if self.stats.failures_in_row == 0 else time.monotonic() + d
            now = time.monotonic()
            if next_t < now:  # overran (slow device): skip missed slots instead of bursting
                next_t = now
            self.stats.next_poll = next_t
            await asyncio.sleep(next_t - now)

    async def write(self, value_name: str, value: float) -> float:
        """Write ``value`` (park units) to a writable register and return the read-back value."""
        reg = self.profile.register(value_name)
        factor = self.factors.get(value_name, 1.0)
        await self.link.write(reg, encode(value / factor, reg), self.device.unit_id)
        blk = plan_reads([reg])[0]
        words = await self.link.read(blk, self.device.unit_id)
        return decode(words, reg) * factor
