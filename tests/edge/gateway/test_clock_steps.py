"""Issue 18, finding 9 (the gateway's part): wall-clock steps through the real broker and a real device.

The gateway's wall clock is stepped from the test (``GatewayClock(wall=...)``), as ``date -s``
would step it; the kernel marks a hand-set clock unsynchronised, which the fake reports too.
"""

from __future__ import annotations

import asyncio
import time

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from aisym.contract import Command, Setpoint, encode, now_ms
from edge.gateway.clock import GatewayClock
from edge.gateway.setpoints import SetpointManager

from .harness import GatewayThread, readings_of, resolved, subscriber, wait_for, write_config
from .peers import ModbusPeer
from .test_setpoints import CMD, controller, send, setpoint_on_device

TELEMETRY = "aisym/kraakoya/gw-test/telemetry"


class SteppedWall:
    """The system clock plus ``step`` seconds; ``kernel_synced`` is what adjtimex would say."""

    def __init__(self) -> None:
        self.step = 0.0
        self.kernel_synced = True

    def __call__(self) -> float:
        return time.time() + self.step

    def synced(self) -> bool:
        return self.kernel_synced


def test_clock_steps_neither_date_readings_nor_age_commands_wrongly(fresh_mosquitto, tmp_path, unique_id):
    """Before: after +1 h fresh commands were rejected as expired and readings dated an hour ahead;
    after -1 h a 20-minute-old command (ttl 15 min) was applied. (A broker of its own: the ingest
    account's persistent session would hand what it missed to the next test's subscriber.)"""
    mosquitto = fresh_mosquitto
    wall = SteppedWall()
    with ModbusPeer([1]) as peer:
        cfg = write_config(tmp_path, mosquitto, peer.port, broker={"client_id": unique_id})
        probe = subscriber(mosquitto, "ingest-clk", [TELEMETRY])
        gw = GatewayThread(resolved(cfg), clock=GatewayClock(wall=wall, synced=wall.synced)).start()
        ctl = controller(mosquitto, unique_id + "c")
        try:
            started = now_ms()
            wait_for(lambda: len([r for r, _ in readings_of(probe) if r.ts >= started]) > 20, 10, "readings")
            wall.step, wall.kernel_synced = 3600.0, False  # date -s '+1 hour'
            stepped = now_ms()
            fresh = send(ctl, "fresh-after-plus-1h", {"chp.power_setpoint": 100.0})
            time.sleep(1.0)
            plus = gw.call(gw.gw.counters)
            wall.step = -3600.0  # date -s '-1 hour'
            old = send(ctl, "20-min-old", {"chp.power_setpoint": 101.0}, ts=now_ms() - 20 * 60_000)
            minus = gw.call(gw.gw.counters)
            wall.step, wall.kernel_synced = 0.0, True  # NTP sets it right again
            time.sleep(0.5)
            back = gw.call(gw.gw.counters)
            device = setpoint_on_device(peer)
            ended = now_ms()
            wait_for(lambda: max(r.ts for r, _ in readings_of(probe)) > ended, 10, "readings after the steps")
        finally:
            gw.stop()
            ctl.client.loop_stop()
            ctl.client.disconnect()
        stepped_readings = [r for r, _ in readings_of(probe) if r.seq and stepped <= r.ts]
        future = [r for r in stepped_readings if r.ts > ended + 2000]
        probe.client.loop_stop()
        probe.client.disconnect()
    assert fresh.results[0].status == "applied", fresh.results[0].reason
    assert old.results[0].status == "rejected" and old.results[0].reason.startswith("expired"), old.results[0].reason
    assert device == 100.0  # the expired command never reached the device
    assert len(stepped_readings) > 50 and not future, f"{len(future)} of {len(stepped_readings)} readings future-dated"
    assert plus["clock_steps"] == 1 and plus["clock_held"] == 1 and abs(plus["clock_step_s"] - 3600) < 5
    assert minus["clock_steps"] == 2 and minus["clock_held"] == 1 and abs(minus["clock_step_s"] + 3600) < 5
    assert back["clock_held"] == 0 and back["rejected_expired"] == 1


def test_an_ntp_step_is_adopted_at_once():
    """A step the kernel reports synchronised (NTP stepping a Pi's clock after boot) is the right time."""
    wall = SteppedWall()
    clock = GatewayClock(wall=wall, synced=wall.synced)
    wall.step = 86_400.0
    assert abs(clock.time() - wall()) < 0.5
    assert clock.counters() == {"clock_steps": 1, "clock_step_s": 86_400.0, "clock_held": 0.0}
    wall.step += 0.3  # NTP's slew is followed, never a step
    assert abs(clock.time() - wall()) < 0.1 and clock.steps == 1


def test_the_brokers_message_expiry_judges_a_command_without_any_wall_clock(mosquitto, tmp_path, unique_id):
    """An MQTT 5 message expiry reaches the setpoint manager as the broker counted it down, and a
    command that outlived it while waiting is refused however the wall clocks stand."""
    seen: list[float | None] = []
    with ModbusPeer([1]) as peer:
        cfg = write_config(tmp_path, mosquitto, peer.port, broker={"client_id": unique_id})
        gw = GatewayThread(resolved(cfg)).start()
        ctl = controller(mosquitto, unique_id + "c")
        try:
            handle = gw.gw.setpoints.handle

            async def spy(payload, retained=False, expiry_left_s=None):
                seen.append(expiry_left_s)
                return await handle(payload, retained, expiry_left_s)

            gw.call(lambda: setattr(gw.gw.setpoints, "handle", spy))
            time.sleep(1.0)
            cmd = Command(v=1, id="x1", ts=now_ms(), ttl_s=60, setpoints=[Setpoint(tag="chp.power_setpoint", value=10.0)])
            props = Properties(PacketTypes.PUBLISH)
            props.MessageExpiryInterval = 60
            ctl.client.publish(CMD, encode(cmd), qos=1, properties=props)
            wait_for(lambda: seen, 10, "the command")
        finally:
            gw.stop()
            ctl.client.loop_stop()
            ctl.client.disconnect()
    assert seen[0] is not None and 55 <= seen[0] <= 60

    acks: list = []
    mgr = SetpointManager(gw.resolved.park, {}, None, "gw-test", acks.append)
    payload = encode(Command(v=1, id="x2", ts=now_ms(), setpoints=[Setpoint(tag="chp.power_setpoint", value=10.0)]))

    async def late():
        async with mgr._lock:  # another command's slow write holds the line
            task = asyncio.create_task(mgr.handle(payload, False, 0.2))
            await asyncio.sleep(0.5)
        return await task

    ack = asyncio.run(late())
    assert ack.results[0].status == "rejected" and "MQTT message expiry ran out" in ack.results[0].reason
