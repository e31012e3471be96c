"""Faults on command and the plant's control socket (a mixin of :class:`~sim_env.plant.plant.Plant`).

Modes (:data:`~sim_env.plant.modbus.FAULTS`): ``silent``, ``exception``, ``restart``, ``ok``; what
each does per protocol is in :mod:`sim_env.plant.modbus` and :mod:`sim_env.plant.opcua`. The
control socket takes one JSON object per line on 127.0.0.1 and answers one per line:
``{"cmd": "fault", "device": "chp", "mode": "silent"}``, ``{"cmd": "status"}``, ``{"cmd": "stop"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging

from .modbus import FAULTS, ModbusDevice, ModbusLine, PortTaken

log = logging.getLogger("aisym.plant")


class Faults:
    """Fault handling of the plant; uses its ``modbus``, ``lines``, ``opcua``, ``layout``,
    ``restart_s``, ``loop``, ``values``, ``_spawn``, ``status`` and ``_stop``."""

    async def _fault(self, device: str, mode: str) -> dict:
        if mode not in FAULTS:
            raise ValueError(f"fault mode {mode!r}: use one of {', '.join(FAULTS)}")
        if self.opcua is not None and device == self.layout.opcua_id:
            return await self._fault_opcua(mode)
        if device not in self.modbus:
            raise KeyError(f"no device {device!r}; devices: {', '.join(self.layout.names())}")
        md = self.modbus[device]
        if mode != "restart":
            md.mode = mode
            return {"device": device, "mode": mode}
        md.mode = "restart"
        line = self.lines.get(device)
        if line is not None:  # TCP: the server goes away, connections drop
            await line.stop()
        self._spawn(self._come_back(md, line))
        return {"device": device, "mode": "restart", "back_in_s": self.restart_s}

    async def _come_back(self, md: ModbusDevice, line: ModbusLine | None) -> None:
        await asyncio.sleep(self.restart_s)
        md.defaults()
        if line is not None:
            try:
                await line.start()  # on its own port again
            except PortTaken as e:  # taken while it was away: it stays gone, and says so
                log.error("%s did not come back: %s", md.device.id, e)
                return
        md.mode = "ok"
        log.info("%s restarted with its default registers", md.device.id)

    async def _fault_opcua(self, mode: str) -> dict:
        dev = self.opcua
        assert dev is not None
        if mode == "exception":
            dev.mode = "exception"
            await dev.publish(self.values)
        elif mode == "ok":
            if dev.server is None:
                await dev.start()
            dev.mode = "ok"
            await dev.publish(self.values)
        else:
            dev.mode = mode
            await dev.stop()
            if mode == "restart":
                async def back() -> None:
                    await asyncio.sleep(self.restart_s)
                    dev.defaults()
                    dev.mode = "ok"
                    await dev.start()
                self._spawn(back())
        return {"device": self.layout.opcua_id, "mode": mode}

    def fault(self, device: str, mode: str) -> dict:
        """Set a device's fault mode from any thread (``ok`` clears it); returns what was done."""
        if self.loop is None:
            raise RuntimeError("the plant is not running")
        return asyncio.run_coroutine_threadsafe(self._fault(device, mode), self.loop).result(10)


    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await asyncio.wait_for(reader.readline(), 300):
                try:
                    req = json.loads(line)
                    cmd = req.get("cmd")
                    if cmd == "fault":
                        res = await self._fault(str(req["device"]), str(req["mode"]))
                    elif cmd == "status":
                        res = self.status()
                    elif cmd == "stop":
                        res = {"stopping": True}
                        if self._stop is not None:
                            self._stop.set()
                    else:
                        res = {"error": f"unknown cmd {cmd!r}; use fault, status or stop"}
                except (ValueError, KeyError, TypeError) as e:
                    res = {"error": str(e).strip("'\"")}
                writer.write((json.dumps(res, default=str) + "\n").encode())
                await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

