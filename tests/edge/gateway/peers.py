"""Real peers for gateway tests: a pymodbus server (TCP on loopback or RTU on a socat pty) in its
own thread, whose devices can be switched to answer normally, with exceptions, slowly, or not at all.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.pdu.device import ModbusDeviceIdentification
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from aisym.services import free_port

SIZE = 512  # registers (and bits) per table per device


class ModbusPeer:
    """Simulated Modbus devices served from a background thread.

    :param unit_ids: device ids on this server
    :param port: TCP port (a free one when None); ignored with ``serial``
    :param serial: pty path for an RTU server instead of TCP
    :param identity: Read Device Identification objects (object id -> text) the server answers;
        pymodbus keeps them process-wide, so one identity at a time
    :param absent_silent: unit ids nobody holds get no answer at all, as on a real RS485 line
        (default: exception 11, as from a Modbus TCP gateway)
    """

    def __init__(
        self,
        unit_ids: list[int],
        port: int | None = None,
        serial: str | None = None,
        baudrate: int = 19200,
        absent_silent: bool = False,
        identity: dict[int, str] | None = None,
    ):
        self.absent_silent = absent_silent
        self.identity = identity
        self.unit_ids = unit_ids
        self.port = port or free_port()
        self.serial = serial
        self.baudrate = baudrate
        self.mode: dict[int, str] = dict.fromkeys(unit_ids, "ok")  # ok | exception | slow | silent
        # (unit, fc, address): a request touching it gets exception 2, as from a firmware without it
        self.refuse: set[tuple[int, int, int]] = set()
        self.delay_s = 2.0
        self.requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None

    async def _action(self, unit: int, fc: int, start: int, address: int, count: int, regs, values) -> ExcCodes | None:
        self.requests += 1
        mode = self.mode.get(unit, "ok")
        if mode == "exception":
            return ExcCodes.DEVICE_FAILURE
        if any((unit, fc, a) in self.refuse for a in range(address, address + count)):
            return ExcCodes.ILLEGAL_ADDRESS
        if mode in ("slow", "silent"):
            await asyncio.sleep(self.delay_s if mode == "slow" else 3600)
        return None

    def _device(self, unit: int) -> SimDevice:
        async def action(fc, start, address, count, regs, values, unit=unit):
            return await self._action(unit, fc, start, address, count, regs, values)

        def table(bits: bool) -> list[SimData]:
            if bits:
                return [SimData(0, count=SIZE, values=False, datatype=DataType.BITS)]
            return [SimData(0, count=SIZE, values=0, datatype=DataType.REGISTERS)]

        return SimDevice(id=unit, simdata=(table(True), table(True), table(False), table(False)), action=action)

    def _absent(self) -> SimDevice:
        # Unit ids nobody holds answer "gateway target failed to respond" (exception 11), as a
        # Modbus TCP/RTU gateway does; pymodbus would otherwise answer exception 4 for them.
        async def action(*_args):
            if self.absent_silent:
                raise NoSuchIdException(0)  # pymodbus drops the request unanswered
            return ExcCodes.GATEWAY_NO_RESPONSE

        return SimDevice(id=0, simdata=[SimData(0, count=1, values=0, datatype=DataType.REGISTERS)], action=action)

    async def _serve(self, ready: threading.Event) -> None:
        devices = [self._device(u) for u in self.unit_ids] + [self._absent()]
        drop: dict = {"ignore_missing_devices": self.absent_silent}  # NoSuchIdException: no answer at all
        if self.identity is not None:
            drop["identity"] = ModbusDeviceIdentification(info=dict(self.identity))
        if self.serial:
            self._server = ModbusSerialServer(devices, framer=FramerType.RTU, port=self.serial, baudrate=self.baudrate, **drop)
        else:
            self._server = ModbusTcpServer(devices, address=("127.0.0.1", self.port), **drop)
        asyncio.get_running_loop().call_later(0.2, ready.set)
        await self._server.serve_forever()

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready))
        except (asyncio.CancelledError, Exception):
            pass
        finally:
            loop.close()

    def start(self) -> ModbusPeer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop is None or self._server is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
        with suppress(Exception):
            fut.result(5)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = self._server = self._thread = None

    def _ctx(self, coro):
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(5)

    def set(self, unit: int, fc: int, address: int, values: list[int] | list[bool]) -> None:
        """Set registers (fc 3/4) or bits (fc 1/2) of one device."""
        assert self._server is not None
        self._ctx(self._server.context.async_setValues(unit, fc, address, list(values)))

    def get(self, unit: int, fc: int, address: int, count: int) -> list[int]:
        assert self._server is not None
        return list(self._ctx(self._server.context.async_getValues(unit, fc, address, count)))

    def __enter__(self) -> ModbusPeer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def pty_pair(folder: Path) -> Iterator[tuple[str, str]]:
    """Two linked pseudo-terminals from socat: a serial line without hardware."""
    if not shutil.which("socat"):
        raise RuntimeError("socat is not installed (apt-get install socat)")
    a, b = folder / "ttyA", folder / "ttyB"
    proc = subprocess.Popen(
        ["socat", "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while not (a.exists() and b.exists()):
            if time.monotonic() > deadline:
                raise RuntimeError("socat did not create the pty pair")
            time.sleep(0.02)
        yield str(a), str(b)
    finally:
        proc.terminate()
        proc.wait(5)
