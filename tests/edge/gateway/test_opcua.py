"""OPC UA input against a real asyncua server: subscription values, server restart, setpoint write."""

from __future__ import annotations

import asyncio
import logging
import time

from asyncua import Server, ua

from aisym.services import free_port
from edge.gateway.config import OpcNode, OpcUaEndpoint
from edge.gateway.opcua import OpcUaInput

logging.getLogger("asyncua").setLevel(logging.ERROR)


async def start_server(port: int, temp: float) -> tuple[Server, dict[str, object]]:
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/aisym/")
    idx = await server.register_namespace("urn:aisym:test")
    objects = server.nodes.objects
    nodes = {
        "temp": await objects.add_variable(ua.NodeId("Stack.Temperature", idx), "StackTemperature", temp),
        "sp": await objects.add_variable(ua.NodeId("Stack.PowerSetpoint", idx), "PowerSetpoint", 0.0),
    }
    await nodes["sp"].set_writable()
    await server.start()
    return server, nodes


async def wait_until(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_subscription_values_restart_and_setpoint_write():
    port = free_port()
    ep = OpcUaEndpoint(
        id="electrolyser",
        url=f"opc.tcp://127.0.0.1:{port}/aisym/",
        publishing_ms=100,
        timeout_s=1.0,
        max_backoff_s=1.0,
        nodes=[
            OpcNode(node_id="ns=2;s=Stack.Temperature", tag="electrolyser.stack_temp"),
            OpcNode(node_id="ns=2;s=Stack.PowerSetpoint", tag="electrolyser.power_setpoint", writable=True),
        ],
    )
    units = {"electrolyser.stack_temp": "degC", "electrolyser.power_setpoint": "kW"}
    got: list = []

    def temps(quality: str = "good") -> list:
        return [(v, ts) for t, v, _, ts, q in got if t == "electrolyser.stack_temp" and q == quality]

    async def scenario() -> tuple[float, int]:
        server, nodes = await start_server(port, 55.0)
        inp = OpcUaInput(ep, units, got.extend, {"electrolyser.stack_temp": (0.0, 90.0)})
        task = asyncio.create_task(inp.run())
        try:
            await wait_until(lambda: any(v == 55.0 for v, _ in temps()), 10, "the first value")
            before = time.time() * 1000
            await nodes["temp"].write_value(56.5)
            await wait_until(lambda: any(v == 56.5 for v, _ in temps()), 5, "a changed value")
            assert all(abs(ts - before) < 5000 for v, ts in temps() if v == 56.5)  # the source timestamp
            await nodes["temp"].write_value(95.0)  # above the tag's 90 degC: flagged, value kept
            await wait_until(lambda: temps("out_of_range"), 5, "an out_of_range reading")
            assert [v for v, _ in temps("out_of_range")] == [95.0] and not any(v == 95.0 for v, _ in temps())
            await server.stop()
            await wait_until(lambda: temps("comm_error"), 10, "comm_error after the server went away")
            assert all(v is None for v, _ in temps("comm_error"))
            server, nodes = await start_server(port, 60.0)  # a restarted server knows no subscription
            await wait_until(lambda: any(v == 60.0 for v, _ in temps()), 15, "values from the restarted server")
            await wait_until(lambda: inp.state == "online", 5, "online")
            readback = await inp.write("ns=2;s=Stack.PowerSetpoint", 100.0)
            on_server = await nodes["sp"].read_value()
            return readback, inp.connects if on_server == 100.0 else -1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await server.stop()

    readback, connects = asyncio.run(scenario())
    assert readback == 100.0 and connects == 2


def test_gateway_reads_and_writes_opcua_through_the_broker(mosquitto, tmp_path, unique_id):
    """Config -> gateway -> OPC UA subscription -> telemetry; command -> OPC UA write -> ack."""
    import threading

    from aisym.contract import Command, Setpoint, decode_ack, decode_telemetry, encode, now_ms
    from tests.conftest import USERS
    from tests.support import MqttProbe

    from .harness import GatewayThread, resolved, wait_for, write_config

    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict = {}

    def serve():
        asyncio.set_event_loop(loop)

        async def main():
            box["server"], box["nodes"] = await start_server(port, 61.5)
            started.set()

        loop.run_until_complete(main())
        loop.run_forever()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    assert started.wait(20)
    node = {"id": "electrolyser", "url": f"opc.tcp://127.0.0.1:{port}/aisym/", "publishing_ms": 100}
    node["nodes"] = [
        {"node_id": "ns=2;s=Stack.Temperature", "tag": "electrolyser.stack_temp"},
        {"node_id": "ns=2;s=Stack.PowerSetpoint", "tag": "electrolyser.power_setpoint", "writable": True},
    ]
    cfg = write_config(tmp_path, mosquitto, None, broker={"client_id": unique_id}, opcua=[node])
    probe = MqttProbe("127.0.0.1", mosquitto.port, "controller", USERS["controller"], unique_id + "c")
    probe.connect()
    probe.subscribe("aisym/kraakoya/gw-test/#")
    gw = GatewayThread(resolved(cfg)).start()
    try:

        def temps():
            out = []
            for m in list(probe.messages):
                if m.topic.endswith("/telemetry"):
                    out += [r for r in decode_telemetry(m.payload).readings if r.tag == "electrolyser.stack_temp"]
            return out

        wait_for(lambda: any(r.value == 61.5 and r.quality == "good" for r in temps()), 20, "OPC UA value as telemetry")
        wait_for(lambda: gw.call(lambda: gw.gw.opcua["electrolyser"].state) == "online", 10, "online")
        cmd = Command(v=1, id="ua1", ts=now_ms(), setpoints=[Setpoint(tag="electrolyser.power_setpoint", value=250.0)])
        probe.publish("aisym/kraakoya/gw-test/cmd", encode(cmd))
        probe.wait(lambda: any(m.topic.endswith("/cmd/ack") for m in probe.messages), 10, "ack")
        ack = next(decode_ack(m.payload) for m in probe.messages if m.topic.endswith("/cmd/ack"))
        on_server = asyncio.run_coroutine_threadsafe(box["nodes"]["sp"].read_value(), loop).result(10)
    finally:
        gw.stop()
        probe.client.loop_stop()
        probe.client.disconnect()
        asyncio.run_coroutine_threadsafe(box["server"].stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        t.join(10)
    assert [(r.status, r.readback) for r in ack.results] == [("applied", 250.0)] and on_server == 250.0
