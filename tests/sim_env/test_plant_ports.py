"""Each of the plant's ports is its own, and each device says who it is (issue 18, finding 12).

A first start once gave two devices one TCP port: pymodbus logged a warning, the second server
never listened, and the gateway read the digester's registers as the fish farm's (InfluxDB stored
``ras.o2_flow = 50``, the digester's CH4 %, quality good). Real pymodbus and asyncua clients here.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest
import yaml
from asyncua import Client
from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.constants import DeviceInformation

from aisym.services import free_port
from sim_env.plant.identity import from_objects, gateway_takes_identity
from sim_env.plant.plant import Plant

SPEED = 7200.0


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    p = Plant(None, tmp_path_factory.mktemp("plant"), speed=SPEED, poll_s=0.2)
    p.start_thread(timeout_s=60)
    yield p
    p.join()


def test_two_devices_given_one_port_refuse_to_start_naming_both(tmp_path):
    p = Plant(None, tmp_path, speed=SPEED)
    port = free_port()
    p.layout.device("digester").port = port
    p.layout.device("ras").port = port
    with pytest.raises(RuntimeError) as e:
        p.start_thread(timeout_s=60)
    p.join()
    msg = str(e.value)
    assert "\n" not in msg
    assert f"device ras: TCP port {port} on 127.0.0.1 is held by device digester of this plant" in msg
    assert not (tmp_path / "gateway.yaml").exists()  # nothing announced


def test_a_port_held_by_another_process_is_refused_naming_it(tmp_path):
    port = free_port()
    other = subprocess.Popen([sys.executable, "-c", f"""
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", {port})); s.listen(); print("up", flush=True); time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "up"
        p = Plant(None, tmp_path, speed=SPEED)
        p.layout.device("digester").port = port
        with pytest.raises(RuntimeError) as e:
            p.start_thread(timeout_s=60)
        p.join()
    finally:
        other.kill()
        other.wait(5)
    assert f"device digester: TCP port {port} on 127.0.0.1 is held by pid {other.pid} (python" in str(e.value)


def test_ports_the_plant_picks_are_distinct_and_its_own(plant):
    ports = [d.port for d in plant.layout.devices if d.transport == "tcp"]
    ports += [plant.opcua.port, plant.control_port]
    assert len(ports) == len(set(ports)) == 11  # 9 TCP devices, OPC UA and the control socket
    for port in ports:  # each refuses a second listener: it is held
        with socket.socket() as s, pytest.raises(OSError):
            s.bind(("127.0.0.1", port))


def test_every_device_answers_with_its_own_identity_as_the_gateway_config_says(plant):
    """Read Device Identification (0x2B/0x0E) per TCP device and per RTU unit, and the OPC UA
    server's application URI: each distinct, each as ``plant.json`` and ``gateway.yaml`` say."""
    desc = {d["id"]: d for d in __import__("json").loads((plant.out / "plant.json").read_text())["devices"]}

    async def modbus() -> dict[str, dict]:
        got = {}
        for d in plant.layout.devices:
            if d.transport == "tcp":
                c = AsyncModbusTcpClient("127.0.0.1", port=d.port, timeout=1, retries=0)
            else:
                c = AsyncModbusSerialClient(port=str(plant.serial_gateway), framer=FramerType.RTU, baudrate=19200,
                                            timeout=1, retries=0)
            assert await c.connect()
            try:
                rr = await c.read_device_information(read_code=DeviceInformation.EXTENDED, device_id=d.unit_id)
                got[d.id] = from_objects(rr.information)
            finally:
                c.close()
        async with Client(plant.opcua.url) as client:
            eps = await client.get_endpoints()
            got[plant.layout.opcua_id] = {"application_uri": eps[0].Server.ApplicationUri}
        return got

    got = asyncio.run(modbus())
    assert got == {k: d["identity"] for k, d in desc.items()}
    assert got["digester"] == {"vendor": "AISYM plant (simulated)", "product_code": "plant_digester",
                               "serial": "kraakoya-digester"}
    assert got["grid-meter"]["vendor"] == "Eastron" and got["ras-ph"]["serial"] == "kraakoya-ras-ph"
    assert got["electrolyser-opcua"] == {"application_uri": "urn:aisym:plant:kraakoya:electrolyser"}
    assert len({tuple(sorted(v.items())) for v in got.values()}) == len(got)  # no two alike
    cfg = yaml.safe_load((plant.out / "gateway.yaml").read_text())
    written = {d["id"]: d.get("identity") for d in cfg["devices"]} | {e["id"]: e.get("identity") for e in cfg["opcua"]}
    if gateway_takes_identity():
        assert written == got
    else:  # the gateway's config refuses unknown keys until it reads identities: nothing written yet
        assert set(written.values()) == {None}


def test_a_failed_device_fails_identification_too(plant):
    async def ask():
        c = AsyncModbusTcpClient("127.0.0.1", port=plant.layout.device("heat_pump").port, timeout=0.5, retries=0)
        assert await c.connect()
        try:
            return await c.read_device_information(read_code=DeviceInformation.EXTENDED, device_id=1)
        finally:
            c.close()

    plant.fault("heat_pump", "exception")
    try:
        rr = asyncio.run(ask())
        assert rr.isError() and rr.exception_code == 4
    finally:
        plant.fault("heat_pump", "ok")
    assert from_objects(asyncio.run(ask()).information)["serial"] == "kraakoya-heat_pump"


def test_the_gateway_config_needs_no_hand_edits(tmp_path):
    """``gateway.yaml`` names the local services' broker port and the node account they create, and
    counts setpoint ramps at the plant's speed (with time_scale 1 a 3,600x plant saw 12 of 20
    setpoints refused as too fast a ramp); the services' state file as ``aisym services up`` writes it."""
    import json

    from typer.testing import CliRunner

    from aisym.cli import app

    services = tmp_path / "services"
    services.mkdir()
    (services / "state.json").write_text(json.dumps({"mqtt_port": 41883, "mqtt_tls_port": 48883,
                                                     "users": {"admin": "x", "gateway": "y"}}))
    out = tmp_path / "plant"
    r = CliRunner().invoke(app, ["plant", "--steps", "2", "--speed", "7200", "--out", str(out), "--services",
                                 str(services)])
    assert r.exit_code == 0, r.output
    cfg = yaml.safe_load((out / "gateway.yaml").read_text())
    assert cfg["node"] == "gateway" and cfg["broker"]["username"] == "gateway"
    assert (cfg["broker"]["host"], cfg["broker"]["port"]) == ("127.0.0.1", 41883)
    assert cfg["setpoints"]["time_scale"] == 7200.0
    assert "broker 127.0.0.1:41883, node gateway" in r.output


def test_a_gateway_pointed_at_the_wrong_device_refuses_it(plant, tmp_path, monkeypatch):
    """The misconfiguration of finding 12, on purpose: the plant's gateway.yaml with the fish farm's
    (ras) bus on the digester's port. The gateway asks who it is, gets the digester's identity and
    stores nothing for ras (before: ras.o2_flow = 50, the digester's CH4 %, quality good)."""
    from edge.gateway.config import load_config
    from edge.gateway.gateway import Gateway

    if not gateway_takes_identity():
        pytest.skip("the gateway's config does not read identities yet")
    monkeypatch.setenv("AISYM_MQTT_PASSWORD", "unused: nothing connects to the broker here")
    cfg = yaml.safe_load((plant.out / "gateway.yaml").read_text())
    cfg["buses"]["ras"]["port"] = plant.layout.device("digester").port
    cfg["spool"]["path"] = str(tmp_path / "spool.db")
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))

    async def go():
        gw = Gateway(load_config(path, park=plant.cp.graph))
        try:
            return {d: await gw.pollers[d].poll_once() for d in ("ras", "digester")}, gw.pollers["ras"].stats
        finally:
            for poller in gw.pollers.values():
                poller.link.close()
            gw.spool.close()

    got, stats = asyncio.run(go())
    assert not [r for r in got["ras"] if r[4] == "good"], got["ras"]  # nothing of the digester stored as ras
    assert stats.identity_refused and "kraakoya-digester" in stats.last_error
    assert {r[0] for r in got["digester"] if r[4] == "good"} >= {"digester.ch4", "digester.biogas_flow"}
