"""The plant's Modbus devices on real pymodbus servers (TCP per device, RTU per serial line).

Each device's registers live in its :class:`~sim_env.plant.devices.Image`; pymodbus serves them
through the simulator's ``action`` hook (pymodbus 3.16 ``SimDevice``), which copies the image into
the response on every read and checks every write, as the device's firmware would:

- a write to an address that is not a writable value of the profile: exception 2 (illegal
  data address); a write that covers only part of a multi-register value, or a value outside
  the register's limits (:func:`~sim_env.plant.devices.device_limits`): exception 3 (illegal
  data value). Nothing is stored then.
- fault ``exception``: every request is answered with exception 4 (server device failure);
- fault ``silent``: no request is answered (the server drops it, the client times out);
- fault ``restart``: the device is gone for ``restart_s`` (its TCP server closed, connections
  dropped; on RTU it stops answering), then comes back with its default registers: setpoints at
  their park ``safe_default``, other holding registers 0.
"""

from __future__ import annotations

import logging
import math

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from .devices import BIT_TABLES, Device, Image, Value, device_limits
from .identity import serve_identities

log = logging.getLogger("aisym.plant")
FAULTS = ("ok", "silent", "exception", "restart")
_WRITE_TABLE = {5: 1, 15: 1, 6: 3, 16: 3}  # write function code -> the table it writes


class ModbusDevice:
    """One device's registers, its fault state and its write checks.

    :param device: the device (profile and tags)
    :param park_tags: the park's tags (setpoint bounds and safe defaults)
    """

    def __init__(self, device: Device, park_tags: dict):
        self.device = device
        self.park_tags = park_tags
        self.image = Image(device)
        self.mode = "ok"
        self.requests = 0
        self.refused = 0  # writes answered with an exception
        self.defaults()

    def defaults(self) -> None:
        """Registers as after power-up: setpoints at their safe default, everything else 0."""
        self.image = Image(self.device)
        for v in self.device.values:
            if v.setpoint and v.tag:
                control = self.park_tags[v.tag].control
                self.image.set_park(v, control.safe_default)

    def simdevice(self) -> SimDevice:
        """The pymodbus device: one block per table, each value's addresses valid, gaps invalid."""
        tables: list[list[SimData]] = [[], [], [], []]
        for fc in (1, 2, 3, 4):
            addrs = sorted(self.image.bits[fc] if fc in BIT_TABLES else self.image.words[fc])
            dtype = DataType.BITS if fc in BIT_TABLES else DataType.REGISTERS
            for a in addrs:
                tables[fc - 1].append(SimData(a, count=1, values=False if fc in BIT_TABLES else 0, datatype=dtype))
            if not addrs:  # pymodbus wants each table; :meth:`action` refuses this placeholder (exception 2)
                tables[fc - 1].append(SimData(0, count=1, values=False if fc in BIT_TABLES else 0, datatype=dtype))
        return SimDevice(id=self.device.unit_id, simdata=(tables[0], tables[1], tables[2], tables[3]),
                         action=self.action)

    async def action(self, fc: int, start: int, address: int, count: int, regs: list[int], values) -> ExcCodes | None:
        """pymodbus's hook: fault modes, write checks, and the image copied into the response."""
        self.requests += 1
        if self.mode in ("silent", "restart"):
            raise NoSuchIdException("silent")  # the server is built to drop it unanswered
        if self.mode == "exception":
            return ExcCodes.DEVICE_FAILURE
        table = _WRITE_TABLE.get(fc, fc)
        held = self.image.bits[table] if table in BIT_TABLES else self.image.words[table]
        if any(a not in held for a in range(address, address + (len(values) if values else count))):
            return ExcCodes.ILLEGAL_ADDRESS  # bits pad to 16 and empty tables hold a placeholder: not the device's
        if values is not None and fc in _WRITE_TABLE:
            refused = self._write(table, address, list(values))
            if refused is not None:
                self.refused += 1
                return refused
        self._fill(table, start, address, count, regs)
        return None

    def _fill(self, table: int, start: int, address: int, count: int, regs: list[int]) -> None:
        if table in BIT_TABLES:
            # bits are packed 16 to a register from ``start`` (a register address) upwards
            bits = SimUtils.registersToBits(regs)
            for a, b in self.image.bits[table].items():
                i = a - 16 * start
                if 0 <= i < len(bits):
                    bits[i] = bool(b)
            regs[:] = SimUtils.bitsToRegisters(bits[: 16 * len(regs)])
            return
        for a in range(address, address + count):
            if a in self.image.words[table]:
                regs[a - start] = self.image.words[table][a]

    def _write(self, table: int, address: int, values: list) -> ExcCodes | None:
        """Check a write like the device's firmware; store it in the image when accepted."""
        span = range(address, address + len(values))
        hit = [v for v in self.device.values if v.reg.fc == table and v.reg.write_fc is not None
               and v.reg.address < span.stop and span.start < v.reg.end]
        covered = {a for v in hit for a in range(v.reg.address, v.reg.end)}
        if not hit or not set(span) <= covered:
            return ExcCodes.ILLEGAL_ADDRESS
        if any(v.reg.address < span.start or v.reg.end > span.stop for v in hit):
            return ExcCodes.ILLEGAL_VALUE  # half a float32 would be a different number
        words = {k: dict(d) for k, d in self.image.words.items()}
        bits = {k: dict(d) for k, d in self.image.bits.items()}
        for a, w in zip(span, values, strict=True):
            if table in BIT_TABLES:
                bits[table][a] = 1 if w else 0
            else:
                words[table][a] = int(w) & 0xFFFF
        trial = Image(self.device)
        trial.words, trial.bits = words, bits  # the device as it would be: checked before it is
        for v in hit:
            got = trial.get(v)
            lo, hi = device_limits(v, self.park_tags)
            slack = 1e-9 * max(1.0, abs(lo), abs(hi)) if math.isfinite(lo) and math.isfinite(hi) else 0.0
            if not (math.isfinite(got) and lo - slack <= got <= hi + slack):
                log.info("%s: %s = %g %s refused (limits %g..%g)", self.device.id, v.reg.name, got, v.reg.unit, lo, hi)
                return ExcCodes.ILLEGAL_VALUE
        self.image.words, self.image.bits = words, bits
        return None

    def setpoint(self, v: Value) -> float:
        """A setpoint register's value in its tag's park unit."""
        return self.image.park(v)


class PortTaken(RuntimeError):
    """A device's TCP port is not this device's: another device (of this plant or not) holds it."""


class ModbusLine:
    """A pymodbus server for some devices: one TCP device, or every device on a serial line.

    :param devices: the devices it serves
    :param port: TCP port (TCP; 0: one the system picks, read back after listening) or None
    :param serial: the pty path of the plant's end (RTU) or None
    :param baudrate: serial speed
    :param identities: device id -> identification (:mod:`sim_env.plant.identity`)
    """

    def __init__(self, devices: list[ModbusDevice], port: int | None = None, serial: str | None = None,
                 baudrate: int = 19200, identities: dict | None = None):
        self.devices = devices
        self.port = port
        self.serial = serial
        self.baudrate = baudrate
        self.identities = identities or {}
        self.server: ModbusTcpServer | ModbusSerialServer | None = None

    async def start(self) -> None:
        """Listen, or raise :class:`PortTaken` (TCP) / RuntimeError: pymodbus itself only logs a
        warning when its socket cannot bind, and the port then answers as whoever holds it."""
        sims = [d.simdevice() for d in self.devices]
        if self.serial:
            self.server = ModbusSerialServer(sims, framer=FramerType.RTU, port=self.serial, baudrate=self.baudrate,
                                             ignore_missing_devices=True)
        else:
            self.server = ModbusTcpServer(sims, address=("127.0.0.1", self.port or 0), ignore_missing_devices=True)
        serve_identities(self.server, {d.device.unit_id: (d, self.identities[d.device.id])
                                       for d in self.devices if d.device.id in self.identities})
        try:
            await self.server.serve_forever(background=True)  # listens now; raises when it cannot
        except RuntimeError:
            self.server = None
            where = self.serial or f"TCP port {self.port} on 127.0.0.1"
            raise PortTaken(f"{', '.join(d.device.id for d in self.devices)}: cannot listen on {where}") from None
        if not self.serial:
            self.port = self.server.transport.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()
        self.server = None
