"""Issue 18, findings 1 and 2: the controller trusts only what the stack can attribute.

A rogue node account (``sensor-node``) on the real broker, with the real ACL, tries to stop the
control of the gateway (a retained status naming the gateway offline), to fix the controller's
view of a level (a reading dated a year ahead, a reading of a tag it does not own, a value beyond
the tag's range, a body that names another node) and to fake the gateway's acks. The controller
keeps commanding the gateway and keeps the gateway's levels, and its health counts each refusal.
"""

from __future__ import annotations

import contextlib
import json
import threading

import pytest

from aisym.contract import Ack, AckResult, Status, encode, now_ms, topics
from aisym.services.acl import park_acl
from cloud.controller.controller import Controller, MqttSettings
from cloud.ingest.ownership import Ownership
from sim_env.graph.baselines import GraphRules
from tests.cloud.test_controller import LEVELS, StepClock, _commands, _levels, _wait, _writes
from tests.conftest import INGESTORS, NODES, PARK_ID, USERS
from tests.support import MqttProbe

ROGUE = "sensor-node"
SOC = "heat_store.soc"
YEAR_MS = 365 * 24 * 3600 * 1000


def _seen(ctl: Controller) -> int:
    """Telemetry messages the controller took or refused (``refused`` is absent before issue 18)."""
    return ctl.counters.telemetry + sum(getattr(ctl.counters, "refused", {}).values())


def _reading(node: str, tag: str, value: float, ts: int, seq: int, body_node: str | None = None) -> bytes:
    unit = "%" if tag in LEVELS else "pH"
    return json.dumps({"v": 1, "park": PARK_ID, "node": body_node or node, "readings": [
        {"tag": tag, "value": value, "unit": unit, "ts": ts, "quality": "good", "seq": seq}]}).encode()


def _clear_retained(probe: MqttProbe, node: str) -> None:
    """Leave no retained status behind for the tests that follow (the session broker is shared)."""
    mid = probe.publish(topics.status(PARK_ID, node), b"", retain=True)
    probe.wait(lambda: mid in probe.pubacks, 5, "PUBACK of the cleared status")


@pytest.fixture
def park_loop(mosquitto, tmp_path, request):
    """The gateway (online, retained), the rogue node and a running controller on the session broker."""
    ownership = getattr(request, "param", None)
    gw = MqttProbe("127.0.0.1", mosquitto.port, "gateway", USERS["gateway"], "gateway")
    rogue = MqttProbe("127.0.0.1", mosquitto.port, ROGUE, USERS[ROGUE], ROGUE)
    assert not gw.connect().is_failure and not rogue.connect().is_failure
    gw.subscribe(topics.command(PARK_ID, "gateway"))
    gw.publish(topics.status(PARK_ID, "gateway"), encode(Status(v=1, node="gateway", state="online", ts=now_ms())),
               retain=True)
    clock = StepClock()
    kw = {"ownership": ownership} if ownership is not None else {}
    ctl = Controller("aisym/parks/kraakoya.yaml", _writes(tmp_path), GraphRules(),
                     MqttSettings("127.0.0.1", mosquitto.port, "controller", USERS["controller"]), clock,
                     stale_after_s=5.0, ack_timeout_s=30.0, **kw)
    th = threading.Thread(target=ctl.run, daemon=True)
    th.start()
    _wait(ctl.client.is_connected, 10, "controller connected")
    _wait(lambda: ctl.online.get("gateway"), 5, "the gateway's retained status")
    try:
        yield ctl, gw, rogue, clock
    finally:
        ctl.stop()
        th.join(10)
        _clear_retained(rogue, ROGUE)
        _clear_retained(gw, "gateway")
        gw.close()
        rogue.close()


def _step(ctl: Controller, clock: StepClock, t: int) -> None:
    n = ctl.counters.steps
    clock.t = t
    _wait(lambda: ctl.counters.steps > n, 5, f"step {t}")


def test_only_the_node_itself_may_publish_its_status_and_telemetry():
    """The guarantee the controller builds on: the ACL gives each node's topics to that node alone."""
    from aisym.services.acl import publishers

    rules = park_acl(PARK_ID, NODES, ingestors=INGESTORS, controllers=["controller"], admins=["admin"])
    for node in NODES:
        for kind in ("status", "telemetry", "cmd/ack"):
            assert publishers(rules, f"aisym/{PARK_ID}/{node}/{kind}") == {node, "admin"}, (node, kind)
    assert publishers(rules, f"aisym/{PARK_ID}/gateway/cmd") == {"controller", "admin"}


def test_finding1_a_node_naming_the_gateway_offline_does_not_stop_its_commands(park_loop):
    ctl, gw, rogue, clock = park_loop
    offline = encode(Status(v=1, node="gateway", state="offline", ts=now_ms(), role="gateway"))
    mid = rogue.publish(topics.status(PARK_ID, "gateway"), offline, retain=True)  # the gateway's own topic
    rogue.wait(lambda: mid in rogue.pubacks, 5, "PUBACK")
    assert rogue.pubacks[mid] == 135  # not authorized: the broker drops it, so the topic names the sender
    rogue.publish(topics.status(PARK_ID, ROGUE), offline, retain=True)  # its own topic, the gateway's name inside
    _wait(lambda: ctl.online.get("gateway") is False or sum(getattr(ctl.counters, "refused", {}).values()),
          5, "the rogue status taken or refused")
    steps = 10
    for k in range(steps):
        _levels(gw, 10 * k)
        _step(ctl, clock, 100 + k)
    with contextlib.suppress(TimeoutError):  # the figure, not a timeout, says what went wrong
        gw.wait(lambda: len(_commands(gw)) >= steps, 3, "commands")
    n = len(_commands(gw))
    assert n == steps, f"{n} of {steps} steps commanded the gateway after a rogue status named it offline"
    c = ctl.counters
    assert c.refused.get("status_node") == 1 and ctl.last_health["refused_status_node"] == 1
    assert ctl.last_health["refused"] == sum(c.refused.values())
    assert c.setpoints_sent == 5 * steps and c.setpoints_held == 0


def test_a_gateway_offline_by_its_own_status_has_its_setpoints_held_and_counted(park_loop):
    """The gateway's own last will still holds its commands back, and run.json can say so."""
    ctl, gw, _rogue, clock = park_loop
    _levels(gw, 0)
    _step(ctl, clock, 10)
    gw.publish(topics.status(PARK_ID, "gateway"), encode(Status(v=1, node="gateway", state="offline", ts=now_ms())),
               retain=True)
    _wait(lambda: ctl.online.get("gateway") is False, 5, "the gateway's offline status")
    for k in range(3):
        _levels(gw, 10 + 10 * k)
        _step(ctl, clock, 11 + k)
    c = ctl.counters
    assert (c.commands, c.setpoints_sent, c.commands_held, c.setpoints_held) == (1, 5, 3, 15)
    assert c.setpoints_decided == c.setpoints_sent + c.setpoints_held == 20
    h = ctl.last_health
    assert (h["setpoints_sent"], h["setpoints_held"], h["setpoints_decided"]) == (5, 15, 20)
    counts = ctl.setpoint_counts()  # what run.json reports
    assert (counts["decided"], counts["sent"], counts["held"], counts["pending"], counts["applied"]) == (20, 5, 15, 5, 0)


# (who publishes, on whose topic, what, the refusal's counter) -- each leaves the gateway's 30 % in place
ATTACKS = {
    "future_from_rogue": (ROGUE, None, 0.0, YEAR_MS, "telemetry_future_ts"),
    "future_from_owner": ("gateway", None, 0.0, YEAR_MS, "telemetry_future_ts"),
    "tag_not_owned": (ROGUE, None, 0.0, 0, "telemetry_ownership"),
    "beyond_range_from_owner": ("gateway", None, 1e308, 0, "telemetry_out_of_range"),
    "beyond_range_from_rogue": (ROGUE, None, 1e308, 0, "telemetry_ownership"),
    "body_names_the_gateway": (ROGUE, "gateway", 0.0, 0, "telemetry_node"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_finding2_a_level_comes_only_from_its_owner_now_and_in_range(park_loop, attack):
    ctl, gw, rogue, clock = park_loop
    sender, body_node, value, ahead_ms, counter = ATTACKS[attack]
    ts0 = now_ms()
    _levels(gw, 0, ts=ts0)
    _wait(lambda: SOC in ctl.state.readings, 5, "the gateway's levels")
    before = _seen(ctl)
    probe = rogue if sender == ROGUE else gw
    probe.publish(topics.telemetry(PARK_ID, sender), _reading(sender, SOC, value, ts0 + 1 + ahead_ms, 500, body_node))
    _wait(lambda: _seen(ctl) > before, 5, "the attack taken or refused")
    got = ctl.state.readings[SOC].value
    assert got == 30.0, f"{attack}: the controller's {SOC} is {got:g} %, the gateway said 30 %"
    _levels(gw, 10, ts=now_ms())  # the gateway's next reading is taken (a future one would hide it)
    _wait(lambda: _seen(ctl) > before + 1, 5, "the gateway's next levels")
    assert ctl.state.fresh(SOC, now_ms(), 5000) == 30.0
    assert ctl.measure() == []
    n = ctl.cp.node_keys.index("heat_store.heat")
    assert ctl.S[n] == pytest.approx(0.30 * ctl.cp.NF[n, 0])
    _step(ctl, clock, 200)
    refused = ctl.counters.refused
    assert refused.get(counter) == 1 and ctl.last_health[f"refused_{counter}"] == 1
    assert sum(v for k, v in refused.items() if k.startswith("telemetry")) == 1, refused


@pytest.mark.parametrize("park_loop", [Ownership({"gateway": list(LEVELS), ROGUE: ["ras.ph"]})], indirect=True)
def test_with_the_ingestors_ownership_map_a_node_reports_its_own_tags_only(park_loop):
    ctl, gw, rogue, _clock = park_loop
    _levels(gw, 0)
    _wait(lambda: SOC in ctl.state.readings, 5, "the gateway's levels")
    rogue.publish(topics.telemetry(PARK_ID, ROGUE), _reading(ROGUE, "ras.ph", 7.0, now_ms(), 1))
    rogue.publish(topics.telemetry(PARK_ID, ROGUE), _reading(ROGUE, SOC, 0.0, now_ms(), 2))
    _wait(lambda: _seen(ctl) >= 3, 5, "the rogue's two messages")
    assert ctl.state.readings["ras.ph"].value == 7.0 and ctl.state.readings[SOC].value == 30.0
    assert ctl.counters.refused.get("telemetry_ownership") == 1


def test_an_ack_from_another_node_is_not_counted(park_loop):
    ctl, gw, rogue, clock = park_loop
    _levels(gw, 0)
    _step(ctl, clock, 300)
    gw.wait(lambda: len(_commands(gw)) == 1, 5, "a command")
    cmd = _commands(gw)[0]
    fake = Ack(v=1, id=cmd.id, node=ROGUE, ts=now_ms(),
               results=[AckResult(tag=s.tag, status="applied") for s in cmd.setpoints])
    rogue.publish(topics.ack(PARK_ID, ROGUE), encode(fake))
    _wait(lambda: ctl.counters.applied or getattr(ctl.counters, "refused", {}), 5, "the fake ack taken or refused")
    assert ctl.counters.applied == 0, f"{ctl.counters.applied} setpoints counted applied on a rogue node's ack"
    assert ctl.counters.refused.get("ack_node") == 1 and cmd.id in ctl.pending
    real = Ack(v=1, id=cmd.id, node="gateway", ts=now_ms(),
               results=[AckResult(tag=s.tag, status="applied") for s in cmd.setpoints])
    gw.publish(topics.ack(PARK_ID, "gateway"), encode(real))
    _wait(lambda: ctl.counters.applied == 5, 5, "the gateway's ack")


def test_after_a_restart_a_level_is_restored_only_from_its_owner(mosquitto, influxdb, influx, tmp_path):
    from aisym.influx import InfluxV1

    ts = now_ms()
    line = "heat_store,node={node},park=" + PARK_ID + ",signal=soc,unit=% value={v},quality=\"good\",seq=1i {ts}"
    admin = InfluxV1(influxdb.url, influx.database, "admin", influxdb.admin_password)
    admin.write([line.format(node="gateway", v=30.0, ts=ts - 1000), line.format(node=ROGUE, v=0.0, ts=ts),
                 line.format(node="gateway", v=1e308, ts=ts + 10)])  # the last: beyond 0-100 %
    ctl = Controller("aisym/parks/kraakoya.yaml", _writes(tmp_path), GraphRules(),
                     MqttSettings("127.0.0.1", mosquitto.port, "controller", USERS["controller"]), StepClock(),
                     influx=admin, stale_after_s=60)
    ctl.restore()
    got = ctl.state.readings[SOC]
    assert (got.value, got.node) == (30.0, "gateway"), f"restored {got.value:g} % from {got.node}"
