"""Setpoint commands: validate against the park, write, read back, acknowledge; fall back when silent.

Each setpoint of a :class:`~aisym.contract.Command` is checked, in order:

1. the command has not expired (``ts + ttl_s`` is in the future);
2. the tag is controllable (it has a ``control`` section in the park) and wired to a writer;
3. the value is within the tag's park ``min``/``max``;
4. the step from the last written value is within ``control.max_rate_per_s`` x the seconds
   since that write (a controller asking for a jump is refused, not silently ramped: it must
   know what the plant does).

A passing setpoint is written (Modbus FC 5/6/16 or OPC UA), read back and acknowledged
``applied`` with the read-back value, or ``failed`` when the write or the read-back fails or
disagrees. Refusals are acknowledged ``rejected`` with the reason and counted per reason
(``rejected_bounds``, ``rejected_rate``...). When no valid command has arrived for
``setpoints.silence_s``, every wired tag is written its ``control.safe_default`` once per
silence (and again while that write fails).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from aisym.contract import Ack, AckResult, Command, PayloadError, decode_command, encode, now_ms
from aisym.park import Park

log = logging.getLogger("aisym.gateway.setpoints")

#: writes ``value`` (park units) and returns the value read back
Writer = Callable[[float], Awaitable[float]]


class SetpointManager:
    """:param park: the park description (bounds, rate limits, safe defaults)
    :param writers: park tag -> coroutine writing it and returning the read-back
    :param silence_s: seconds without a valid command before safe defaults; None disables
    :param node: node id for acks
    :param send_ack: publishes an encoded :class:`~aisym.contract.Ack`
    """

    def __init__(
        self,
        park: Park,
        writers: dict[str, Writer],
        silence_s: float | None,
        node: str,
        send_ack: Callable[[bytes], None],
    ):
        self.park = park
        self.writers = writers
        self.silence_s = silence_s
        self.node = node
        self.send_ack = send_ack
        self.counters: Counter[str] = Counter()
        self.last_valid = time.monotonic()
        self.last_written: dict[str, tuple[float, float]] = {}  # tag -> (value, monotonic time)
        self.in_fallback = False
        self._lock = asyncio.Lock()  # one command at a time, so rate checks see the last write

    def _check(self, tag: str, value: float, now: float) -> str | None:
        spec = self.park.tags.get(tag)
        if spec is None or spec.control is None:
            self.counters["rejected_not_controllable"] += 1
            return f"{tag} is not a controllable tag of park {self.park.park.id}"
        if tag not in self.writers:
            self.counters["rejected_not_wired"] += 1
            return f"{tag} is not wired to this gateway"
        if not spec.min <= value <= spec.max:
            self.counters["rejected_bounds"] += 1
            return f"{value} {spec.unit} is outside [{spec.min}, {spec.max}]"
        rate = spec.control.max_rate_per_s
        last = self.last_written.get(tag)
        if rate is not None and last is not None:
            allowed = rate * max(now - last[1], 0.0)
            if abs(value - last[0]) > allowed + 1e-9:
                self.counters["rejected_rate"] += 1
                return (
                    f"step {value - last[0]:+g} {spec.unit} in {now - last[1]:.1f} s exceeds "
                    f"{rate:g} {spec.unit}/s (at most {allowed:g} now)"
                )
        return None

    async def _write(self, tag: str, value: float) -> AckResult:
        try:
            readback = await self.writers[tag](value)
        except Exception as e:
            self.counters["write_failed"] += 1
            return AckResult(tag=tag, status="failed", reason=f"write failed: {e}"[:256])
        self.last_written[tag] = (value, time.monotonic())
        # Allow the quantisation of the register (an int16 x 0.1 cannot hold 13.05 exactly).
        if not math.isfinite(readback) or abs(readback - value) > max(1e-6, 1e-4 * abs(value), 0.5 * self._step(tag)):
            self.counters["readback_mismatch"] += 1
            return AckResult(tag=tag, status="failed", reason=f"read back {readback:g}, wrote {value:g}", readback=None)
        return AckResult(tag=tag, status="applied", readback=readback)

    def _step(self, tag: str) -> float:
        return getattr(self.writers[tag], "resolution", 0.0)

    async def handle(self, payload: bytes) -> Ack | None:
        """Process one raw command payload; returns (and publishes) the Ack, None if undecodable."""
        try:
            cmd = decode_command(payload)
        except PayloadError as e:
            self.counters["rejected_invalid"] += 1
            log.warning("command refused: %s", e)
            return None
        async with self._lock:
            ack = await self._handle(cmd)
        self.send_ack(encode(ack))
        return ack

    async def _handle(self, cmd: Command) -> Ack:
        results: list[AckResult] = []
        expired = cmd.ts + cmd.ttl_s * 1000 < now_ms()
        any_valid = False
        for sp in cmd.setpoints:
            if expired:
                self.counters["rejected_expired"] += 1
                why = f"expired: ts + ttl_s ({cmd.ttl_s:g} s) has passed"
                results.append(AckResult(tag=sp.tag, status="rejected", reason=why))
                continue
            reason = self._check(sp.tag, sp.value, time.monotonic())
            if reason is not None:
                results.append(AckResult(tag=sp.tag, status="rejected", reason=reason))
                continue
            any_valid = True
            res = await self._write(sp.tag, sp.value)
            self.counters["applied" if res.status == "applied" else "failed"] += 1
            results.append(res)
        if any_valid:
            self.last_valid = time.monotonic()
            self.in_fallback = False
        return Ack(v=1, id=cmd.id, node=self.node, ts=now_ms(), results=results)

    async def fallback_once(self) -> bool:
        """Write safe defaults if the silence has lasted ``silence_s``; True when it did."""
        if self.silence_s is None or self.in_fallback or time.monotonic() - self.last_valid < self.silence_s:
            return False
        ok = True
        async with self._lock:
            for tag in self.writers:
                control = self.park.tags[tag].control
                assert control is not None
                res = await self._write(tag, control.safe_default)
                ok = ok and res.status == "applied"
                log.warning("no valid command: %s -> safe default %g (%s)", tag, control.safe_default, res.status)
        self.counters["fallbacks"] += 1
        self.in_fallback = ok  # a failed fallback write is tried again on the next tick
        return True

    async def watchdog(self, tick_s: float = 1.0) -> None:
        while True:
            await self.fallback_once()
            await asyncio.sleep(tick_s)
