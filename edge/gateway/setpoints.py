"""Setpoint commands: validate against the park, write, read back, acknowledge; fall back when silent.

Each setpoint of a :class:`~aisym.contract.Command` is checked, in order:

1. the command has not expired: its age when it arrived (the gateway's timeline, see
   :mod:`edge.gateway.clock`, minus ``ts``) plus the monotonic seconds since is within ``ttl_s``,
   and, when the publisher gave it an MQTT 5 message expiry, the broker's remaining expiry at
   delivery has not run out on the monotonic clock since (no wall clock is involved there);
2. the tag is controllable (it has a ``control`` section in the park) and wired to a writer;
3. the value is within the tag's park ``min``/``max``, and within the device's own limits
   (the profile's ``min``/``max`` of the register, converted to the park unit): the tighter wins;
4. the step from the last written value is within ``control.max_rate_per_s`` x the seconds
   since that write (a controller asking for a jump is refused, not silently ramped: it must
   know what the plant does).

A passing setpoint is written (Modbus FC 5/6/16 or OPC UA), read back and acknowledged
``applied`` with the read-back value, or ``failed`` when the write or the read-back fails or
disagrees. Refusals are acknowledged ``rejected`` with the reason and counted per reason
(``rejected_bounds``, ``rejected_rate``...). When no valid command has arrived for
``setpoints.silence_s``, every wired tag is written its ``control.safe_default`` once per
silence (and again while that write fails).

A command delivered with the MQTT retain flag is never applied: a retained command would be
replayed to the gateway on every reconnection, long after the controller meant it. It is
counted (``rejected_retained``), logged, and acknowledged ``rejected`` per setpoint.

The last *accepted* value of each tag (an ``applied`` command or safe default) is remembered;
when a poll reads a different value back (a PLC restarted with its own default), it is
written again, at most once per :attr:`SetpointManager.reapply_every_s` per tag, and counted
(``reapplied``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from aisym.contract import Ack, AckResult, Command, PayloadError, decode_command, encode, now_ms
from aisym.park import ParkView

log = logging.getLogger("aisym.gateway.setpoints")

#: writes ``value`` (park units) and returns the value read back
Writer = Callable[[float], Awaitable[float]]


class SetpointManager:
    """:param park: the park description (bounds, rate limits, safe defaults)
    :param writers: park tag -> coroutine writing it and returning the read-back
    :param silence_s: seconds without a valid command before safe defaults; None disables
    :param node: node id for acks
    :param send_ack: publishes an encoded :class:`~aisym.contract.Ack`
    :param time_scale: the plant's seconds per wall second (1 on a real plant; a simulated plant
        run faster ramps that much faster, so the rate limits are per plant second)
    :param now_ms: the gateway's timeline (:meth:`~edge.gateway.clock.GatewayClock.now_ms`) that command ages are judged on
    """

    def __init__(
        self,
        park: ParkView,
        writers: dict[str, Writer],
        silence_s: float | None,
        node: str,
        send_ack: Callable[[bytes], None],
        time_scale: float = 1.0,
        now_ms: Callable[[], int] = now_ms,
    ):
        self.now_ms = now_ms
        self.park = park
        self.time_scale = time_scale
        self.writers = writers
        self.silence_s = silence_s
        self.node = node
        self.send_ack = send_ack
        self.counters: Counter[str] = Counter()
        self.last_valid = time.monotonic()
        self.last_written: dict[str, tuple[float, float]] = {}  # tag -> (value, monotonic time)
        self.accepted: dict[str, tuple[float, float]] = {}  # tag -> (applied value, when the write ended)
        self.in_fallback = False
        self.reapply_every_s = 2.0  # a device that keeps reverting is not written more often
        self._reapplying: dict[str, asyncio.Task[None]] = {}
        self._last_reapply: dict[str, float] = {}
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
        limits = getattr(self.writers[tag], "limits", None)
        if limits is not None and not limits[0] <= value <= limits[1]:
            self.counters["rejected_limits"] += 1
            return f"{value:g} {spec.unit} is outside the device limits [{limits[0]:g}, {limits[1]:g}] ({limits[2]})"
        rate = spec.control.max_rate_per_s
        last = self.last_written.get(tag)
        if rate is not None and last is not None:
            plant_s = max(now - last[1], 0.0) * self.time_scale
            allowed = rate * plant_s
            if abs(value - last[0]) > allowed + 1e-9:
                self.counters["rejected_rate"] += 1
                return (
                    f"step {value - last[0]:+g} {spec.unit} in {plant_s:.1f} s exceeds "
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
        if not math.isfinite(readback) or not self._same(tag, readback, value):
            self.counters["readback_mismatch"] += 1
            return AckResult(tag=tag, status="failed", reason=f"read back {readback:g}, wrote {value:g}", readback=None)
        self.accepted[tag] = (value, time.monotonic())
        return AckResult(tag=tag, status="applied", readback=readback)

    def _step(self, tag: str) -> float:
        return getattr(self.writers[tag], "resolution", 0.0)

    def _same(self, tag: str, a: float, b: float) -> bool:
        # Allow the quantisation of the register (an int16 x 0.1 cannot hold 13.05 exactly).
        return abs(a - b) <= max(1e-6, 1e-4 * abs(b), 0.5 * self._step(tag))

    def observe(self, tag: str, value: float, at: float) -> None:
        """A poll read ``value`` (park units) from ``tag``'s register, answered at monotonic ``at``.

        If it differs from the last accepted setpoint, written before that read, the setpoint
        is written again (a device that restarted with its own default setpoint).
        """
        acc = self.accepted.get(tag)
        if acc is None or at <= acc[1] or self._same(tag, value, acc[0]) or self._lock.locked():
            return
        if tag in self._reapplying or at - self._last_reapply.get(tag, -math.inf) < self.reapply_every_s:
            return
        self._last_reapply[tag] = at
        task = asyncio.get_running_loop().create_task(self._reapply(tag, value))
        self._reapplying[tag] = task
        task.add_done_callback(lambda _t: self._reapplying.pop(tag, None))

    async def _reapply(self, tag: str, found: float) -> None:
        async with self._lock:
            acc = self.accepted.get(tag)
            if acc is None:
                return
            res = await self._write(tag, acc[0])
        self.counters["reapplied"] += 1
        log.warning("%s read back %g, not the accepted %g: written again (%s)", tag, found, acc[0], res.status)

    async def handle(self, payload: bytes, retained: bool = False, expiry_left_s: float | None = None) -> Ack | None:
        """Process one raw command payload; returns (and publishes) the Ack, None if undecodable.

        :param payload: the MQTT payload
        :param retained: the message carried the MQTT retain flag: refused, never applied
        :param expiry_left_s: the MQTT 5 message expiry the broker had left at delivery, if any
        """
        received = time.monotonic()
        if retained and not payload:
            return None  # the deletion of a retained message, not a command
        try:
            cmd = decode_command(payload)
        except PayloadError as e:
            self.counters["rejected_retained" if retained else "rejected_invalid"] += 1
            log.warning("command refused%s: %s", " (retained)" if retained else "", e)
            return None
        if retained:
            self.counters["rejected_retained"] += 1
            log.warning("retained command %s ignored: commands must be published without retain", cmd.id)
            why = "retained command ignored: the broker replays retained messages, so commands must not be retained"
            results = [AckResult(tag=sp.tag, status="rejected", reason=why) for sp in cmd.setpoints]
            ack = Ack(v=1, id=cmd.id, node=self.node, ts=self.now_ms(), results=results)
        else:
            age_s = (self.now_ms() - cmd.ts) / 1000  # at receipt; waiting for the lock adds to it below
            async with self._lock:
                ack = await self._handle(cmd, age_s, received, expiry_left_s)
        self.send_ack(encode(ack))
        return ack

    def _expired(self, cmd: Command, age_s: float, received: float, expiry_left_s: float | None) -> str | None:
        waited = time.monotonic() - received
        if age_s + waited > cmd.ttl_s:
            return f"expired: ts + ttl_s ({cmd.ttl_s:g} s) has passed ({age_s + waited:.0f} s old)"
        if expiry_left_s is not None and waited > expiry_left_s:
            return f"expired: its MQTT message expiry ran out {waited - expiry_left_s:.1f} s ago"
        return None

    async def _handle(self, cmd: Command, age_s: float, received: float, expiry_left_s: float | None) -> Ack:
        results: list[AckResult] = []
        expired = self._expired(cmd, age_s, received, expiry_left_s)
        any_valid = False
        for sp in cmd.setpoints:
            if expired:
                self.counters["rejected_expired"] += 1
                why = expired
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
        return Ack(v=1, id=cmd.id, node=self.node, ts=self.now_ms(), results=results)

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
