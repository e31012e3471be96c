"""The controller through the real broker: levels in, the rules' setpoints out per node, acks
tracked; stale levels make it hold every setpoint's safe default; after a restart it takes the
levels from InfluxDB."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from aisym.contract import Ack, AckResult, Status, decode_command, encode, now_ms, topics
from cloud.controller.controller import Controller, MqttSettings, gateway_writes
from sim_env.graph.baselines import GraphRules
from tests.conftest import PARK_ID, USERS
from tests.support import MqttProbe

LEVELS = {"gas_holder.level": 70.0, "heat_store.soc": 30.0, "water_treatment.tank_level": 55.0}  # %


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t: int | None = None

    def __call__(self) -> int | None:
        return self.t


def _writes(tmp_path) -> dict[str, str]:
    cfg = tmp_path / "gw.yaml"
    cfg.write_text("node: gateway\npark: kraakoya\nsetpoints:\n  writes:\n"
                   + "".join(f"    {t}: plc.{t.split('.')[1]}\n" for t in (
                       "chp.power_setpoint", "electrolyser.power_setpoint", "heat_pump.heat_setpoint",
                       "upgrader.flow_setpoint", "water_treatment.reuse_setpoint")))
    return gateway_writes([cfg])


def _levels(gw: MqttProbe, seq0: int, ts: int | None = None) -> None:
    ts = now_ms() if ts is None else ts
    readings = [{"tag": t, "value": v, "unit": "%", "ts": ts, "quality": "good", "seq": seq0 + i}
                for i, (t, v) in enumerate(LEVELS.items())]
    gw.publish(topics.telemetry(PARK_ID, "gateway"), json.dumps({"v": 1, "park": PARK_ID, "node": "gateway",
                                                                  "readings": readings}).encode())


def _wait(pred, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(what)
        time.sleep(0.02)


@pytest.fixture
def loop(mosquitto, tmp_path):
    gw = MqttProbe("127.0.0.1", mosquitto.port, "gateway", USERS["gateway"], "gateway")
    assert not gw.connect().is_failure
    gw.subscribe(topics.command(PARK_ID, "gateway"))
    gw.publish(topics.status(PARK_ID, "gateway"), encode(Status(v=1, node="gateway", state="online", ts=now_ms())),
               retain=True)
    clock = StepClock()
    ctl = Controller("aisym/parks/kraakoya.yaml", _writes(tmp_path), GraphRules(),
                     MqttSettings("127.0.0.1", mosquitto.port, "controller", USERS["controller"]), clock,
                     stale_after_s=1.0, ack_timeout_s=2.0)
    th = threading.Thread(target=ctl.run, daemon=True)
    th.start()
    _wait(ctl.client.is_connected, 10, "controller connected")
    time.sleep(0.3)  # its SUBACK
    yield ctl, gw, clock
    ctl.stop()
    th.join(10)
    gw.publish(topics.status(PARK_ID, "gateway"), b"", retain=True)  # clear the retained status for other tests
    time.sleep(0.1)
    gw.close()


def _commands(gw: MqttProbe) -> list:
    return [decode_command(m.payload) for m in gw.messages if m.topic.endswith("/cmd")]


def test_levels_in_setpoints_out_and_every_ack_counted(loop):
    ctl, gw, clock = loop
    _levels(gw, 0)
    _wait(lambda: ctl.state.fresh("heat_store.soc", now_ms(), 5000) is not None, 5, "levels received")
    clock.t = 4000
    _wait(lambda: len(_commands(gw)) == 1 and ctl.history, 5, "first command")
    cmd = _commands(gw)[0]
    sp = {s.tag: s.value for s in cmd.setpoints}
    # the broker counts the command's life down (no gateway has to trust a wall clock for it)
    msg = next(m for m in gw.messages if m.topic.endswith("/cmd"))
    assert 0 < msg.properties.MessageExpiryInterval <= int(cmd.ttl_s)
    assert set(sp) == {"chp.power_setpoint", "electrolyser.power_setpoint", "heat_pump.heat_setpoint",
                       "upgrader.flow_setpoint", "water_treatment.reuse_setpoint"}
    # the same rules offline, from the same levels and step, give the same setpoints
    from sim_env.graph.evaluate import evaluate
    from sim_env.graph.kernel import initial_state

    cp = ctl.cp
    assert ctl.history[0]["t"] == 4000 and not ctl.history[0]["blind"]
    rules = GraphRules()
    evaluate(rules, cp, hours=1)  # reset on the same park and series
    S0 = initial_state(cp, 1)[0]
    for n, (tag, m) in ctl.levels.items():
        S0[n] = LEVELS[tag] / 100 * m.capacity
    a = rules.act_batch(S0[None], np.array([4000]))[0]
    for tag, act in ctl.signals.actuators.items():
        assert sp[tag] == pytest.approx(min(max(a[act.action] * act.full, ctl.tags[tag].min), ctl.tags[tag].max)), tag
    # the gateway acknowledges: every setpoint counted as applied
    gw.publish(topics.ack(PARK_ID, "gateway"), encode(Ack(v=1, id=cmd.id, node="gateway", ts=now_ms(), results=[
        AckResult(tag=t, status="applied", readback=v) for t, v in sp.items()])))
    _wait(lambda: ctl.counters.applied == 5, 5, "acks counted")
    assert not ctl.pending
    counts = ctl.setpoint_counts()
    assert (counts["decided"], counts["sent"], counts["applied"], counts["pending"]) == (5, 5, 5, 0)


def test_stale_levels_hold_every_safe_default_and_a_missing_ack_times_out(loop):
    ctl, gw, clock = loop
    _levels(gw, 100, ts=now_ms() - 5000)  # five seconds old: stale at once (stale after 1 s)
    _wait(lambda: "gas_holder.level" in ctl.state.readings, 5, "old levels received")
    clock.t = 10
    _wait(lambda: len(_commands(gw)) == 1, 5, "command while blind")
    sp = {s.tag: s.value for s in _commands(gw)[0].setpoints}
    tags = ctl.tags
    assert sp == {t: tags[t].control.safe_default for t in sp}
    assert ctl.blind and ctl.counters.blind_steps == 1
    _levels(gw, 200)  # fresh again
    _wait(lambda: ctl.state.fresh("gas_holder.level", now_ms(), 1000) is not None, 5, "fresh levels")
    clock.t = 11
    _wait(lambda: len(_commands(gw)) == 2, 5, "second command")
    assert not ctl.blind and ctl.counters.blind_steps == 1
    time.sleep(2.2)
    clock.t = 12  # the next step expires the two unacknowledged commands
    _wait(lambda: ctl.counters.ack_timeouts >= 2, 5, "ack timeouts")
    assert ctl.counters.setpoints_timed_out == 5 * ctl.counters.ack_timeouts


def test_after_a_restart_the_levels_come_from_influxdb(mosquitto, influxdb, influx, tmp_path):
    from aisym.influx import InfluxV1

    ts = now_ms()
    lines = [f"{t.split('.')[0]},node=gateway,park={PARK_ID},signal={t.split('.')[1]},unit=% value={v},quality=\"good\","
             f"seq={i}i {ts}" for i, (t, v) in enumerate(LEVELS.items())]
    InfluxV1(influxdb.url, influx.database, "admin", influxdb.admin_password).write(lines)
    ctl = Controller("aisym/parks/kraakoya.yaml", _writes(tmp_path), GraphRules(),
                     MqttSettings("127.0.0.1", mosquitto.port, "controller", USERS["controller"]), StepClock(),
                     influx=InfluxV1(influxdb.url, influx.database, "admin", influxdb.admin_password), stale_after_s=60)
    assert ctl.restore() == 3
    assert ctl.state.fresh("heat_store.soc", now_ms(), 60_000) == pytest.approx(30.0)
    assert ctl.measure() == []  # every level known again without a message from the stream
    n = ctl.cp.node_keys.index("heat_store.heat")
    assert ctl.S[n] == pytest.approx(0.30 * ctl.cp.NF[n, 0])


def test_a_setpoint_no_gateway_writes_is_refused_clearly(mosquitto, tmp_path):
    with pytest.raises(ValueError, match=r"no gateway writes chp\.power_setpoint"):
        Controller("aisym/parks/kraakoya.yaml", {}, GraphRules(), MqttSettings(port=mosquitto.port), StepClock())


def test_an_ownership_map_that_leaves_a_level_to_no_node_is_refused(mosquitto, tmp_path):
    from cloud.ingest.ownership import Ownership

    own = Ownership({"gateway": ["heat_store.soc", "gas_holder.level"]}, "own.yaml")
    with pytest.raises(ValueError, match=r"own\.yaml: no node owns the level tag\(s\) water_treatment\.tank_level"):
        Controller("aisym/parks/kraakoya.yaml", _writes(tmp_path), GraphRules(), MqttSettings(port=mosquitto.port),
                   StepClock(), ownership=own)
