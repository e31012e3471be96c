"""Setpoint commands through the real broker to a real Modbus device: bounds, rate, ack, fallback."""

from __future__ import annotations

import struct
import time

import pytest

from aisym.contract import Command, Setpoint, decode_ack, decode_telemetry, encode, now_ms
from tests.conftest import USERS
from tests.support import MqttProbe

from .harness import GatewayThread, readings_of, resolved, subscriber, wait_for, write_config
from .peers import ModbusPeer

CMD = "aisym/kraakoya/gw-test/cmd"
ACK = "aisym/kraakoya/gw-test/cmd/ack"


def setpoint_on_device(peer: ModbusPeer) -> float:
    return struct.unpack(">f", struct.pack(">HH", *peer.get(1, 3, 0, 2)))[0]


def controller(broker, cid: str) -> MqttProbe:
    probe = MqttProbe("127.0.0.1", broker.port, "controller", USERS["controller"], cid)
    probe.connect()
    probe.subscribe(ACK)
    return probe


def send(probe: MqttProbe, cid: str, setpoints: dict[str, float], ts: int | None = None):
    cmd = Command(v=1, id=cid, ts=ts or now_ms(), setpoints=[Setpoint(tag=t, value=v) for t, v in setpoints.items()])
    probe.publish(CMD, encode(cmd))
    probe.wait(lambda: any(decode_ack(m.payload).id == cid for m in probe.messages if m.topic == ACK), 10, f"ack {cid}")
    return next(decode_ack(m.payload) for m in probe.messages if m.topic == ACK and decode_ack(m.payload).id == cid)


def test_setpoints_are_validated_written_read_back_and_acknowledged(mosquitto, tmp_path, unique_id):
    with ModbusPeer([1]) as peer:
        cfg = write_config(tmp_path, mosquitto, peer.port, broker={"client_id": unique_id})
        gw = GatewayThread(resolved(cfg)).start()
        ctl = controller(mosquitto, unique_id + "c")
        try:
            time.sleep(1.0)  # connected and subscribed
            ack = send(ctl, "c1", {"chp.power_setpoint": 100.0})
            assert [(r.tag, r.status, r.readback) for r in ack.results] == [("chp.power_setpoint", "applied", 100.0)]
            assert setpoint_on_device(peer) == 100.0

            ack = send(ctl, "c2", {"chp.power_setpoint": 151.0})  # park max is 150 kW
            assert ack.results[0].status == "rejected" and "outside [0.0, 150.0]" in ack.results[0].reason
            ack = send(ctl, "c3", {"chp.power_setpoint": 140.0})  # +40 kW at once; park allows 5 kW/s
            assert ack.results[0].status == "rejected" and "exceeds 5 kW/s" in ack.results[0].reason
            ack = send(ctl, "c4", {"chp.power_el": 10.0, "ras.temp_setpoint": 13.0})
            assert [r.status for r in ack.results] == ["rejected", "rejected"]
            assert "not a controllable tag" in ack.results[0].reason and "not wired" in ack.results[1].reason
            ack = send(ctl, "c5", {"chp.power_setpoint": 101.0}, ts=now_ms() - 3_600_000)  # ttl 900 s long gone
            assert ack.results[0].status == "rejected" and ack.results[0].reason.startswith("expired")
            assert setpoint_on_device(peer) == 100.0  # nothing refused reached the device

            time.sleep(1.0)
            ack = send(ctl, "c6", {"chp.power_setpoint": 104.0})  # 4 kW after > 1 s: within the rate
            assert ack.results[0].status == "applied" and setpoint_on_device(peer) == 104.0

            ctl.publish(CMD, b'{"v": 1, "id": "broken"}')
            peer.mode[1] = "exception"
            time.sleep(0.5)
            ack = send(ctl, "c7", {"chp.power_setpoint": 104.0})
            assert ack.results[0].status == "failed" and "exception code 4" in ack.results[0].reason
            counters = gw.call(gw.gw.counters)
        finally:
            gw.stop()
            ctl.client.loop_stop()
            ctl.client.disconnect()
    assert counters["rejected_bounds"] == 1 and counters["rejected_rate"] == 1 and counters["rejected_expired"] == 1
    assert counters["rejected_not_controllable"] == 1 and counters["rejected_not_wired"] == 1
    assert counters["rejected_invalid"] == 1 and counters["applied"] == 2 and counters["write_failed"] == 1


def test_silence_brings_safe_defaults_back(mosquitto, tmp_path, unique_id):
    with ModbusPeer([1]) as peer:
        peer.set(1, 3, 0, list(struct.unpack(">HH", struct.pack(">f", 120.0))))  # left running at 120 kW
        cfg = write_config(tmp_path, mosquitto, peer.port, broker={"client_id": unique_id}, setpoints={"silence_s": 2.0})
        gw = GatewayThread(resolved(cfg)).start()
        ctl = controller(mosquitto, unique_id + "c")
        try:
            time.sleep(0.5)
            ack = send(ctl, "s1", {"chp.power_setpoint": 130.0})
            assert ack.results[0].status == "applied"
            time.sleep(1.0)
            assert setpoint_on_device(peer) == 130.0  # still within the silence
            wait_for(lambda: setpoint_on_device(peer) == 0.0, 5, "the park safe default (0 kW)")
            counters = gw.call(gw.gw.counters)
            assert counters["fallbacks"] == 1
            time.sleep(1.5)
            assert gw.call(gw.gw.counters)["fallbacks"] == 1  # once per silence, not every tick
            ack = send(ctl, "s2", {"chp.power_setpoint": 5.0})  # 0 -> 5 kW after > 1 s: within 5 kW/s
            assert ack.results[0].status == "applied" and setpoint_on_device(peer) == 5.0
        finally:
            gw.stop()
            ctl.client.loop_stop()
            ctl.client.disconnect()


PLC = """id: unit_plc
manufacturer: test
model: PLC with setpoints in W and K
registers:
  - {name: feedback, fc: 3, address: 2, type: float32, unit: kW}
  - {name: power_w, fc: 3, address: 10, type: float32, unit: W, write_fc: 16}
  - {name: temp_k, fc: 3, address: 12, type: float32, unit: K, write_fc: 16, min: 284.15, max: 288.15}
"""


def _readings_unlocked(probe: MqttProbe) -> list:
    """``readings_of`` for use inside ``probe.wait`` (which already holds the probe's lock)."""
    out = []
    for m in [m for m in probe.messages if m.topic.endswith("/telemetry")]:
        t = decode_telemetry(m.payload)
        out += [(r, t.sent) for r in t.readings]
    return out


def float_at(peer: ModbusPeer, address: int) -> float:
    return struct.unpack(">f", struct.pack(">HH", *peer.get(1, 3, address, 2)))[0]


def test_setpoints_are_converted_limited_by_the_device_and_reapplied_after_a_restart(mosquitto, tmp_path, unique_id):
    """Findings 8, 12, 13: kW -> W and degC -> K on the wire, the profile's own limits (11-15 degC
    inside the park's 10-16) refuse with a reason, a device that restarts with its own default
    gets the accepted setpoint again, and a reading outside its tag's range is ``out_of_range``."""
    (tmp_path / "unit_plc.yaml").write_text(PLC)
    with ModbusPeer([1]) as peer:
        peer.set(1, 3, 2, list(struct.unpack(">HH", struct.pack(">f", 250.0))))  # chp.power_el: park max 200 kW
        device = {"id": "plc", "bus": "plc", "profile": "unit_plc", "unit_id": 1, "poll_s": 0.05}
        device["tags"] = {"feedback": "chp.power_el"}
        writes = {"chp.power_setpoint": "plc.power_w", "ras.temp_setpoint": "plc.temp_k"}
        cfg = write_config(
            tmp_path,
            mosquitto,
            peer.port,
            broker={"client_id": unique_id},
            profiles_dir=str(tmp_path),
            devices=[device],
            setpoints={"writes": writes},
        )
        probe = subscriber(mosquitto, unique_id + "s", ["aisym/kraakoya/gw-test/telemetry"])
        gw = GatewayThread(resolved(cfg)).start()
        ctl = controller(mosquitto, unique_id + "c")
        try:
            # the device is connected once its reading arrives (a fixed sleep lost the race on a busy CI)
            probe.wait(lambda: any(r.tag == "chp.power_el" for r, _ in _readings_unlocked(probe)), 20, "the first poll")
            ack = send(ctl, "u1", {"chp.power_setpoint": 100.0})
            assert [(r.status, r.readback) for r in ack.results] == [("applied", 100.0)]
            assert float_at(peer, 10) == 100_000.0  # 100 kW written as 100000 W, not as 100
            ack = send(ctl, "u2", {"ras.temp_setpoint": 15.5})  # within the park's 10-16 degC
            assert ack.results[0].status == "rejected"
            assert "outside the device limits [11, 15] (unit_plc.temp_k)" in ack.results[0].reason
            assert float_at(peer, 12) == 0.0  # nothing reached the device
            ack = send(ctl, "u3", {"ras.temp_setpoint": 13.0})
            assert ack.results[0].status == "applied" and ack.results[0].readback == pytest.approx(13.0, abs=1e-4)
            assert float_at(peer, 12) == pytest.approx(286.15, abs=1e-4)  # 13 degC in K

            peer.set(1, 3, 10, [0, 0])  # the PLC restarts with its own default setpoint, 0 W
            wait_for(lambda: float_at(peer, 10) == 100_000.0, 5, "the accepted setpoint written again")
            time.sleep(0.5)
            counters = gw.call(gw.gw.counters)
            wait_for(lambda: any(r.tag == "chp.power_el" for r, _ in readings_of(probe)), 10, "telemetry")
        finally:
            gw.stop()
            ctl.client.loop_stop()
            ctl.client.disconnect()
            probe.client.loop_stop()
            probe.client.disconnect()
    assert counters["reapplied"] == 1 and counters["rejected_limits"] == 1 and counters["applied"] == 2
    power = [r for r, _ in readings_of(probe) if r.tag == "chp.power_el"]
    assert power and all(r.quality == "out_of_range" and r.value == 250.0 for r in power)


def test_retained_commands_are_ignored_counted_and_refused(mosquitto, tmp_path, unique_id):
    """Finding 4, gateway side: a retained command is replayed by the broker on every subscribe;
    the gateway must never apply it, whether it was stored before the gateway connected or
    published live with the retain flag."""
    ctl = controller(mosquitto, unique_id + "c")
    stale = Command(v=1, id="r1", ts=now_ms(), setpoints=[Setpoint(tag="chp.power_setpoint", value=50.0)])
    ctl.publish(CMD, encode(stale), retain=True)  # stored by the broker before the gateway exists
    with ModbusPeer([1]) as peer:
        cfg = write_config(tmp_path, mosquitto, peer.port, broker={"client_id": unique_id})
        try:
            gw = GatewayThread(resolved(cfg)).start()
            try:
                ctl.wait(lambda: any(m.topic == ACK for m in ctl.messages), 10, "the ack of the retained command")
                first = decode_ack(next(m.payload for m in ctl.messages if m.topic == ACK))
                live = Command(v=1, id="r2", ts=now_ms(), setpoints=[Setpoint(tag="chp.power_setpoint", value=5.0)])
                ctl.publish(CMD, encode(live), retain=True)
                ctl.wait(lambda: any(decode_ack(m.payload).id == "r2" for m in ctl.messages if m.topic == ACK), 10, "r2")
                assert setpoint_on_device(peer) == 0.0  # neither was written
                ok = send(ctl, "n1", {"chp.power_setpoint": 5.0})  # a plain command still works
                after = setpoint_on_device(peer)
                # the r2 ack the probe saw may be another gateway's on the same node topic (an earlier
                # test's, still reconnecting under load; seen once in a full run): wait for this one's count
                wait_for(lambda: gw.call(gw.gw.counters)["rejected_retained"] >= 2, 10, "both refusals counted")
                counters = gw.call(gw.gw.counters)
            finally:
                gw.stop()
        finally:
            ctl.publish(CMD, b"", retain=True)  # clear it: later tests use the same node id
            time.sleep(0.2)
            ctl.client.loop_stop()
            ctl.client.disconnect()
    second = next(decode_ack(m.payload) for m in ctl.messages if m.topic == ACK and decode_ack(m.payload).id == "r2")
    for ack in (first, second):
        assert [r.status for r in ack.results] == ["rejected"] and "retained command ignored" in ack.results[0].reason
    assert first.id == "r1" and ok.results[0].status == "applied" and after == 5.0
    assert counters["rejected_retained"] == 2 and counters["applied"] == 1
