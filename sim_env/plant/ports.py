"""Each of the plant's ports is its own before it serves (issue 18, finding 12).

Two devices once got the same TCP port: pymodbus only logged a warning when the second server
could not bind, and the gateway read the digester's registers as the fish farm's. Now

- every socket is bound by the plant before anything is announced: the control socket and the
  Modbus TCP servers on the port asked for, or on one the system picks (port 0, read back after
  listening, so two devices can never be handed the same one); the OPC UA server, whose URL
  must name its port before it listens, takes a free port and tries another if that one was
  taken in between;
- a bind that fails stops the start with one line naming the device and who holds the port
  (another device of this plant, or a process with its pid);
- once listening, each TCP device is asked who it is over the wire (Read Device Identification,
  :mod:`sim_env.plant.identity`): a port that answers as another device stops the start too.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aisym.services import free_port

from .identity import from_objects, modbus_identity
from .modbus import ModbusLine, PortTaken

log = logging.getLogger("aisym.plant")


def holder(plant, port: int, asking: str) -> str:
    """Who listens on ``port``: a device of ``plant`` other than ``asking``, or a process."""
    for dev_id, line in plant.lines.items():
        if line.port == port and dev_id != asking and line.server is not None:
            return f"device {dev_id} of this plant"
    if plant.opcua is not None and plant.opcua.port == port:
        return f"device {plant.layout.opcua_id} of this plant (OPC UA)"
    if plant.control_port == port and asking != "control socket":
        return "this plant's control socket"
    try:
        import psutil  # a dev dependency: without it the holder is only "another process"
    except ImportError:
        return "another process"
    try:
        for c in psutil.net_connections(kind="tcp"):
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid:
                if c.pid == os.getpid():
                    return f"this process (pid {c.pid})"
                return f"pid {c.pid} ({psutil.Process(c.pid).name()})"
    except (OSError, psutil.Error):
        pass
    return "another process"


async def listen_control(plant) -> asyncio.AbstractServer:
    """The control socket on ``plant.control_port`` (0: one the system picks, written back)."""
    try:
        server = await asyncio.start_server(plant._control, "127.0.0.1", plant.control_port)
    except OSError:
        raise PortTaken(f"control socket: port {plant.control_port} on 127.0.0.1 is held by "
                        f"{holder(plant, plant.control_port, 'control socket')}") from None
    plant.control_port = server.sockets[0].getsockname()[1]
    return server


async def start_line(plant, dev_id: str, line: ModbusLine) -> None:
    """Start one TCP device's server; a port held by anyone else names both."""
    asked = line.port
    try:
        await line.start()
    except PortTaken:
        raise PortTaken(f"device {dev_id}: TCP port {asked} on 127.0.0.1 is held by "
                        f"{holder(plant, asked, dev_id)}; refusing to serve {dev_id} there") from None
    plant.lines[dev_id] = line


async def start_opcua(plant, device_cls, identity: dict[str, str], tries: int = 3):
    """The OPC UA device on a free port (another one if a process took it in between)."""
    quiet = logging.getLogger("asyncua.server.server")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a failed bind is reported below, in one line
    try:
        for attempt in range(tries):
            port = free_port()
            dev = device_cls(plant.layout.opcua_asset, plant.layout.opcua_nodes, plant.tags, port,
                             application_uri=identity["application_uri"])
            try:
                await dev.start()
                return dev
            except OSError:
                who = holder(plant, port, plant.layout.opcua_id)
                log.warning("%s: port %d was taken by %s; trying another", plant.layout.opcua_id, port, who)
                if attempt == tries - 1:
                    raise PortTaken(f"device {plant.layout.opcua_id}: OPC UA port {port} on 127.0.0.1 is held by "
                                    f"{who} ({tries} free ports tried)") from None
    finally:
        quiet.setLevel(level)
    raise AssertionError("unreachable")


async def verify_devices(plant, timeout_s: float = 2.0) -> None:
    """Ask each TCP device who it is over the wire; one answering as another device stops the start."""
    from pymodbus.client import AsyncModbusTcpClient
    from pymodbus.constants import DeviceInformation
    from pymodbus.exceptions import ModbusException

    park_id = plant.cp.graph.id
    serials = {modbus_identity(park_id, d)["serial"]: d.id for d in plant.layout.devices}
    for d in plant.layout.devices:
        if d.transport != "tcp":
            continue
        want = modbus_identity(park_id, d)
        client = AsyncModbusTcpClient("127.0.0.1", port=d.port, timeout=timeout_s, retries=0)
        try:
            if not await client.connect():
                raise PortTaken(f"device {d.id}: nothing answers on its TCP port {d.port}")
            rr = await client.read_device_information(read_code=DeviceInformation.EXTENDED, device_id=d.unit_id)
            got = None if rr.isError() else from_objects(rr.information)
        except ModbusException as e:
            raise PortTaken(f"device {d.id}: TCP port {d.port} does not identify itself ({e})") from None
        finally:
            client.close()
        if got != want:
            who = serials.get((got or {}).get("serial", ""))
            seen = f"device {who} of this plant" if who else f"{got or 'an error'} (held by {holder(plant, d.port, d.id)})"
            raise PortTaken(f"device {d.id}: TCP port {d.port} answers as {seen}, not as {d.id}")
