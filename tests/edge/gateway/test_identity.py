"""Issue 18, finding 12 (the gateway's part): a device is refused when it says it is another one.

The plant once served two devices on one TCP port and the gateway stored the digester's CH4 % as
the fish farm's O2 flow, quality good. With ``identity`` in the config the gateway asks each
device who it is on every new connection (Modbus Read Device Identification, OPC UA ApplicationUri).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aisym.services import free_port
from edge.gateway.config import OpcNode, OpcUaEndpoint, OpcUaIdentity, parse_config
from edge.gateway.opcua import OpcUaInput
from edge.profiles import ConfigError

from .harness import GatewayThread, readings_of, resolved, subscriber, wait_for, write_config
from .peers import ModbusPeer
from .test_opcua import start_server, wait_until
from .test_setpoints import controller, send
from .test_store_forward import TELEMETRY, set_feedback

CHP = {0x00: "AISYM plant", 0x01: "aisym_site_plc", 0x02: "1.0", 0x80: "kraakoya-chp"}
DIGESTER = {**CHP, 0x80: "kraakoya-digester"}
WANT = {"vendor": "AISYM plant", "product_code": "aisym_site_plc", "serial": "kraakoya-chp"}


def test_identity_fields_are_validated_with_their_line():
    text = "node: gw-test\npark: kraakoya\nopcua:\n  - id: ely\n    url: opc.tcp://127.0.0.1:4840/\n" \
           "    nodes: [{node_id: 'ns=2;s=T', tag: electrolyser.stack_temp}]\n    identity: {application_uri: urn:x}\n"
    assert parse_config(text).config.opcua[0].identity == OpcUaIdentity(application_uri="urn:x")
    bad = text.replace("application_uri: urn:x", "uri: urn:x")
    try:
        parse_config(bad, "gw.yaml")
    except ConfigError as e:
        assert "gw.yaml:7:" in str(e) and "opcua[0].identity.uri: unknown field" in str(e)
    else:
        raise AssertionError("an unknown identity key was accepted")


def test_a_device_that_says_it_is_another_is_refused_at_reconnect(fresh_mosquitto, tmp_path, unique_id, caplog):
    """The right device first; then another takes its port (a restart of the plant): nothing of it is
    stored, a setpoint to it fails, health and one log line say why. (A broker of its own: the ingest
    account's persistent session would hand what it missed to the next test's subscriber.)"""
    mosquitto = fresh_mosquitto
    caplog.set_level(logging.ERROR, logger="aisym.gateway.modbus")
    port = free_port()
    devices = [{"id": "chp", "bus": "plc", "profile": "aisym_site_plc", "unit_id": 1, "poll_s": 0.05, "max_backoff_s": 0.5,
                "identity": WANT, "tags": {"feedback": {"tag": "chp.power_el", "scale": 1.0},
                                           "setpoint": {"tag": "chp.power_setpoint", "scale": 1.0}}}]
    cfg = write_config(tmp_path, mosquitto, port, broker={"client_id": unique_id}, devices=devices)
    probe = subscriber(mosquitto, "ingest-id", [TELEMETRY])
    started = int(time.time() * 1000)
    ctl = controller(mosquitto, unique_id + "c")
    with ModbusPeer([1], port=port, identity=CHP) as right:
        set_feedback(right, 42.0)
        gw = GatewayThread(resolved(cfg)).start()
        try:
            wait_for(lambda: any(r.value == 42.0 and r.ts > started for r, _ in readings_of(probe)), 10, "the chp's readings")
            confirmed = gw.call(gw.gw.counters)
        except BaseException:
            gw.stop()
            raise
    try:
        with ModbusPeer([1], port=port, identity=DIGESTER) as wrong:
            set_feedback(wrong, 50.0)  # the digester's CH4 %
            wait_for(lambda: gw.call(gw.gw.counters)["dev_chp_identity_refused"] == 1, 15, "the refusal")
            swapped = int(time.time() * 1000)
            time.sleep(2.0)
            refused = gw.call(gw.gw.counters)
            ack = send(ctl, "to-the-wrong-device", {"chp.power_setpoint": 5.0})
            on_wrong_device = wrong.get(1, 3, 0, 2)
    finally:
        gw.stop()
        ctl.client.loop_stop()
        ctl.client.disconnect()
    received = readings_of(probe)
    probe.client.loop_stop()
    probe.client.disconnect()
    stored_50 = [r for r, _ in received if r.value == 50.0 and r.ts > started]
    assert not stored_50, f"{len(stored_50)} readings of the wrong device stored"
    assert not [r for r, _ in received if r.ts > swapped + 500]  # nothing of it at all, not even comm_error
    assert confirmed["dev_chp_identity_refused"] == 0 and confirmed["dev_chp_online"] == 1
    assert refused["dev_chp_identity_refused"] == 1 and refused["dev_chp_online"] == 0
    assert ack.results[0].status == "failed" and "serial is 'kraakoya-digester', not 'kraakoya-chp'" in ack.results[0].reason
    assert on_wrong_device == [0, 0]
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert lines == ["device chp (unit 1) refused, it is not the configured device: "
                     "serial is 'kraakoya-digester', not 'kraakoya-chp'"]


def test_an_opc_ua_server_with_another_application_uri_is_refused(caplog):
    caplog.set_level(logging.ERROR, logger="aisym.gateway.opcua")
    port = free_port()

    def endpoint(uri: str) -> OpcUaEndpoint:
        return OpcUaEndpoint(id="electrolyser", url=f"opc.tcp://127.0.0.1:{port}/aisym/", publishing_ms=100, timeout_s=1.0,
                             max_backoff_s=0.5, identity=OpcUaIdentity(application_uri=uri),
                             nodes=[OpcNode(node_id="ns=2;s=Stack.Temperature", tag="electrolyser.stack_temp")])

    async def scenario():
        server, _nodes = await start_server(port, 55.0)
        await server.set_application_uri("urn:aisym:plant:kraakoya:digester")
        got_wrong: list = []
        got_right: list = []
        units = {"electrolyser.stack_temp": "degC"}
        wrong = OpcUaInput(endpoint("urn:aisym:plant:kraakoya:electrolyser"), units, got_wrong.extend)
        right = OpcUaInput(endpoint("urn:aisym:plant:kraakoya:digester"), units, got_right.extend)
        tasks = [asyncio.create_task(wrong.run()), asyncio.create_task(right.run())]
        try:
            await wait_until(lambda: any(v == 55.0 for _t, v, *_ in got_right), 10, "values from the right server")
            await asyncio.sleep(1.5)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.stop()
        return wrong, got_wrong

    wrong, got_wrong = asyncio.run(scenario())
    assert got_wrong == [] and wrong.state == "refused" and wrong.errors >= 2
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert lines == ["OPC UA electrolyser refused, it is not the configured server: application_uri is "
                     "'urn:aisym:plant:kraakoya:digester', not 'urn:aisym:plant:kraakoya:electrolyser'"]
