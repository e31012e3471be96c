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
        inp = OpcUaInput(ep, units, got.extend)
        task = asyncio.create_task(inp.run())
        try:
            await wait_until(lambda: any(v == 55.0 for v, _ in temps()), 10, "the first value")
            before = time.time() * 1000
            await nodes["temp"].write_value(56.5)
            await wait_until(lambda: any(v == 56.5 for v, _ in temps()), 5, "a changed value")
            assert all(abs(ts - before) < 5000 for v, ts in temps() if v == 56.5)  # the source timestamp
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
