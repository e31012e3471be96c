"""Setpoint commands through the real broker to a real Modbus device: bounds, rate, ack, fallback."""

from __future__ import annotations

import struct
import time

from aisym.contract import Command, Setpoint, decode_ack, encode, now_ms
from tests.conftest import USERS
from tests.support import MqttProbe

from .harness import GatewayThread, resolved, wait_for, write_config
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
