"""Modbus TCP/RTU polling: one task and one state machine per device, merged reads, quality flags.

Why one task per device: a device that does not answer costs its own task a timeout, never its
neighbours' poll period. TCP devices get their own connection each; devices on one serial line
share the line (RS485 is half duplex), and a lock serialises them, so a dead RS485 device costs
the line one ``timeout_s`` per attempt, which the backoff spreads out (1, 2, 4 ... x ``poll_s``,
capped at ``max_backoff_s``).

States: ``connecting`` -> ``online`` <-> ``backoff``. A failed read yields ``comm_error``
readings (value null) for every tag of the failed request, so a vanished device is visible at
once and an old value is never sent again as if fresh.

Fault state is kept per request block as well: a device that answers some blocks and refuses
another (a firmware without one register answers exception 2) stays ``online``; only the
refused block backs off on its own (1, 2, 4 ... x ``poll_s``), its tags ``comm_error``. The
device backs off only when no block answered.

Identity: a device whose config gives ``identity`` is asked who it is (Read Device Identification,
0x2B/0x0E) on every new connection before anything it answers is used, and again before a
setpoint is written over a new connection. A device that says otherwise (two simulated devices
on one port, a meter swapped on the line) is ``refused``: no reading of it is stored, setpoints
to it fail, health counts ``dev_<id>_identity_refused`` and one log line says what it said; it is
asked again at the backoff's pace, so the right device is taken back when it returns.

Quality of an answered value: ``stale`` when the profile's ``stale_after_s`` says an unchanged
value is a fault and it has not changed for that long; ``out_of_range`` (with its value) when
it lies outside the park tag's ``min``/``max``; else ``good``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from edge.profiles import Block, BlockDecoder, Profile, Register, decode, encode, plan_reads

from .config import Device, ModbusIdentity, SerialBus, TcpBus
from .units import MAX_DECIMALS, Conversion, decimals_of

log = logging.getLogger("aisym.gateway.modbus")

#: tag, value (None unless good), unit, ts ms, quality
ReadingTuple = tuple[str, float | None, str, int, str]
Sink = Callable[[list[ReadingTuple]], Awaitable[None] | None]
#: called with (value in park units, monotonic time of the answer) for each read of a watched value
Watcher = Callable[[float, float], None]


_READ = {1: "read_coils", 2: "read_discrete_inputs", 3: "read_holding_registers", 4: "read_input_registers"}
#: identity field -> Read Device Identification object id (serial: the first private object)
IDENTITY_OBJECTS = {"vendor": 0x00, "product_code": 0x01, "serial": 0x80}


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
        self.connects = 0  # connections made: a device is identified again on each new one

    @property
    def client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        # Created on first use: pymodbus binds its clients to the running event loop.
        if self._client is None:
            self._client = make_client(self.bus)
        return self._client

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def ensure(self) -> None:
        if not self.client.connected:
            if not await self.client.connect():
                where = f"{self.bus.host}:{self.bus.port}" if isinstance(self.bus, TcpBus) else self.bus.port
                raise DeviceError(f"cannot connect to {where}")
            self.connects += 1

    async def identify(self, unit_id: int, objects: list[int]) -> tuple[int, dict[int, str]]:
        """Read Device Identification objects of one unit: (the connection's number, object id -> text).

        The basic objects (0x00-0x02) come in one stream request, any other one by one; an object
        the device does not have is left out.
        """
        out: dict[int, str] = {}
        async with self.lock:
            await self.ensure()
            connection = self.connects
            try:
                if any(o <= 0x02 for o in objects):
                    out.update(self._objects(await self.client.read_device_information(read_code=1, device_id=unit_id)))
                for o in objects:
                    if o > 0x02:
                        rr = await self.client.read_device_information(read_code=4, object_id=o, device_id=unit_id)
                        if not rr.isError() or getattr(rr, "exception_code", 0) != 2:  # 2: no such object
                            out.update(self._objects(rr))
            except (TimeoutError, ModbusException, OSError) as e:
                self.drop()
                raise DeviceError(f"read device identification: {type(e).__name__}: {e}") from None
        return connection, out

    @staticmethod
    def _objects(rr: Any) -> dict[int, str]:
        if rr.isError():
            raise DeviceError(f"read device identification: exception code {getattr(rr, 'exception_code', '?')}")
        return {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) for k, v in rr.information.items()}

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
    blocks_down: int = 0  # blocks failing while the device answers others
    identity_refused: bool = False  # the device says it is another one
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class BlockState:
    """Fault state of one request block: its own failures and when it is tried again."""

    failures_in_row: int = 0
    next_due: float = 0.0  # monotonic; 0 = every poll
    last_error: str = ""


@dataclass
class _Value:
    """How one decoded value becomes a reading (precomputed per block for the hot loop)."""

    tag: str | None  # None: read for a watcher only, not published
    unit: str
    factor: float
    offset: float
    lo: float
    hi: float
    special: bool  # stale tracking or a watcher: the slow path
    stale_after_s: float | None = None
    decimals: int | None = None  # a scaled integer is rounded to these (62.3, not 62.300000000000004)
    watcher: Watcher | None = None
    last: float | None = None
    since: float = 0.0


class DevicePoller:
    """Polls one device with its profile and hands readings to ``sink``.

    :param device: the config entry
    :param profile: the device's profile
    :param link: the connection it uses (shared on a serial line)
    :param factors: profile value -> factor from profile unit to park unit
    :param units: profile value -> park unit
    :param sink: called with each poll's readings (the spool)
    :param offsets: profile value -> offset added after the factor (K -> degC); default 0
    :param bounds: profile value -> the park tag's (min, max); outside is ``out_of_range``
    :param watch: profile value -> called with each value read (setpoint read-back); a value
        not in the device's tags is then read without being published
    :param now_ms: the readings' clock (:meth:`~edge.gateway.clock.GatewayClock.now_ms`); default the system clock
    """

    def __init__(
        self,
        device: Device,
        profile: Profile,
        link: Link,
        factors: dict[str, float],
        units: dict[str, str],
        sink: Sink,
        *,
        offsets: dict[str, float] | None = None,
        bounds: dict[str, tuple[float, float]] | None = None,
        watch: dict[str, Watcher] | None = None,
        now_ms: Callable[[], int] | None = None,
    ):
        self.device = device
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))  # the gateway's timeline (clock.py)
        self.profile = profile
        self.link = link
        self.factors = factors
        self.offsets = dict(offsets or {})
        self.units = units
        self.sink = sink
        self.tags = {k: v.tag for k, v in device.tag_maps().items()}
        self.bounds = dict(bounds or {})
        self.watch = dict(watch or {})
        names = list(self.tags) + [n for n in self.watch if n not in self.tags]
        regs = [profile.register(name) for name in names]
        self.blocks = plan_reads(regs, profile.max_block, profile.max_gap)
        self._decoders = [BlockDecoder(b) for b in self.blocks]
        self._plans = [[self._value(r) for r in b.registers] for b in self.blocks]
        self.block_states = [BlockState() for _ in self.blocks]
        self.stats = DeviceStats()
        self._identified_on = -1  # the link connection on which the identity was last confirmed
        self._refusal = ""  # what the refused device said (logged once per change)

    def _value(self, reg: Register) -> _Value:
        lo, hi = self.bounds.get(reg.name, (-math.inf, math.inf))
        slack = 1e-9 * max(1.0, abs(lo), abs(hi)) if math.isfinite(lo) and math.isfinite(hi) else 0.0
        watcher = self.watch.get(reg.name)
        return _Value(
            tag=self.tags.get(reg.name),
            unit=self.units.get(reg.name, reg.unit),
            factor=self.factors.get(reg.name, 1.0),
            offset=self.offsets.get(reg.name, 0.0),
            lo=lo - slack,
            hi=hi + slack,
            special=reg.stale_after_s is not None or watcher is not None or reg.name not in self.tags,
            stale_after_s=reg.stale_after_s,
            decimals=self._decimals(reg),
            watcher=watcher,
        )

    def _decimals(self, reg: Register) -> int | None:
        """How many decimals ``raw * scale + offset`` (then the unit's factor and offset) can carry
        exactly, for an integer register; None for a float (its digits are the device's)."""
        if reg.type.startswith("float"):
            return None
        d = [decimals_of(x) for x in (reg.scale, reg.offset, self.factors.get(reg.name, 1.0), self.offsets.get(reg.name, 0.0))]
        if any(x is None for x in d):
            return None
        scale, offset, factor, conv_offset = d
        n = max(max(scale, offset) + factor, conv_offset)  # type: ignore[type-var,operator]
        return n if n <= MAX_DECIMALS else None

    def _failed(self, plan: list[_Value], ts: int) -> list[ReadingTuple]:
        for v in plan:
            v.last = None  # not seen: an unchanged value is judged from the next answer on
        return [(v.tag, None, v.unit, ts, "comm_error") for v in plan if v.tag is not None]

    def _slow(self, v: _Value, value: float, now: float) -> str:
        """Stale tracking and watchers; returns the quality of an answered value."""
        if v.watcher is not None:
            v.watcher(value, now)
        if v.stale_after_s is not None:
            if v.last is None or value != v.last:
                v.last, v.since = value, now
            elif now - v.since > v.stale_after_s:
                return "stale"
        return "good" if v.lo <= value <= v.hi else "out_of_range"

    def _needs_identity(self) -> bool:
        return self.device.identity is not None and (not self.link.connected or self.link.connects != self._identified_on)

    async def check_identity(self) -> str | None:
        """Ask the device who it is (when a new connection needs it): None when it is the one
        configured, else why it is refused. Raises :class:`DeviceError` when it does not answer."""
        want: ModbusIdentity | None = self.device.identity
        if want is None or not self._needs_identity():
            return None if not self.stats.identity_refused else self._refusal
        fields = want.fields()
        connection, got = await self.link.identify(self.device.unit_id, [IDENTITY_OBJECTS[k] for k in fields])
        said = {k: got.get(IDENTITY_OBJECTS[k]) for k in fields}
        wrong = {k: v for k, v in said.items() if v != fields[k]}
        if not wrong:
            if self.stats.identity_refused:
                log.warning("device %s: identity %s confirmed, polling again", self.device.id, fields)
            self._identified_on, self.stats.identity_refused, self._refusal = connection, False, ""
            return None
        why = "; ".join(f"{k} is {v!r}, not {fields[k]!r}" if v is not None else f"no {k}" for k, v in wrong.items())
        if why != self._refusal:
            dev = self.device
            log.error("device %s (unit %d) refused, it is not the configured device: %s", dev.id, dev.unit_id, why)
        self._identified_on, self.stats.identity_refused, self._refusal = -1, True, why
        return why

    async def poll_once(self) -> list[ReadingTuple]:
        """Read every due block once; a failed block gives ``comm_error`` for its tags only.

        A device refused for its identity gives no readings at all (see the module docstring).
        """
        if self.device.identity is not None:
            try:
                refused = await self.check_identity()
            except DeviceError as e:
                self.stats.last_error = str(e)
                ts = self.now_ms()
                out = [r for plan in self._plans for r in self._failed(plan, ts)]
                self._account(0, list(self.block_states))
                return out
            if refused is not None:
                self.stats.polls += 1
                self.stats.errors += 1
                self.stats.failures_in_row += 1  # asked again at the backoff's pace
                self.stats.state = "refused"
                self.stats.last_error = f"wrong identity: {refused}"
                return []
        out: list[ReadingTuple] = []
        answered, failed = 0, []
        start = time.monotonic()
        for block, decoder, plan, bs in zip(self.blocks, self._decoders, self._plans, self.block_states, strict=True):
            if bs.next_due > start:
                continue  # a refused block backing off on its own
            try:
                words = await self.link.read(block, self.device.unit_id)
            except DeviceError as e:
                failed.append(bs)
                bs.failures_in_row += 1
                bs.last_error = self.stats.last_error = str(e)
                out += self._failed(plan, self.now_ms())
                continue
            answered += 1
            bs.failures_in_row, bs.next_due = 0, 0.0
            ts = self.now_ms()
            now = time.monotonic()
            for (_reg, value, error), v in zip(decoder(words), plan, strict=True):
                if value is None:  # NaN/inf: the device has no valid value right now
                    self.stats.last_error = error
                    v.last = None
                    if v.tag is not None:
                        out.append((v.tag, None, v.unit, ts, "comm_error"))
                    continue
                value = value * v.factor + v.offset
                if v.decimals is not None:
                    value = round(value, v.decimals)
                if v.special:
                    q = self._slow(v, value, now)
                    if v.tag is None:
                        continue
                else:
                    q = "good" if v.lo <= value <= v.hi else "out_of_range"
                out.append((v.tag, value, v.unit, ts, q))
        self._account(answered, failed)
        return out

    def _account(self, answered: int, failed: list[BlockState]) -> None:
        self.stats.polls += 1
        if failed:
            self.stats.errors += 1
        if failed and not answered:  # nothing answered: the device (or its line) is down
            self.stats.failures_in_row += 1
            self.stats.state = "backoff"
            for bs in self.block_states:
                bs.next_due = 0.0  # all tried again when the device is
        else:
            self.stats.failures_in_row = 0
            self.stats.state = "online"
            self.stats.last_ok_ms = self.now_ms()
            now = time.monotonic()
            for bs in failed:  # the device answers others: only this block backs off
                bs.next_due = now + self._backoff(bs.failures_in_row)
        self.stats.blocks_down = sum(1 for bs in self.block_states if bs.failures_in_row) if answered else 0

    def delay(self) -> float:
        """Seconds until the next poll: the poll period, or an exponential, jittered backoff."""
        n = self.stats.failures_in_row
        if n == 0:
            return self.device.poll_s
        return self._backoff(n)

    def _backoff(self, n: int) -> float:
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

    async def write(self, value_name: str, value: float, conv: Conversion | None = None) -> float:
        """Write ``value`` (park units) to a writable register and return the read-back value.

        :param value_name: the profile value
        :param value: the setpoint in park units
        :param conv: device unit -> park unit (default: the value's reading conversion)
        """
        reg = self.profile.register(value_name)
        if await self.check_identity() is not None:  # never write to a device that is not the configured one
            raise DeviceError(f"device {self.device.id} refused: {self._refusal}")
        if conv is None:
            conv = Conversion(self.factors.get(value_name, 1.0), self.offsets.get(value_name, 0.0))
        await self.link.write(reg, encode(conv.to_device(value), reg), self.device.unit_id)
        blk = plan_reads([reg])[0]
        words = await self.link.read(blk, self.device.unit_id)
        return conv.to_park(decode(words, reg))
