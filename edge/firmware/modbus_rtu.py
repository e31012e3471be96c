# Modbus RTU master for RS485 probes. The bus is half duplex and the frame boundary is silence,
# so timing is part of the protocol: no request goes out before 3.5 character times of
# silence (T3.5; 1.75 ms fixed above 19200 baud), the driver-enable pin is released only once
# the last stop bit left the UART, and each device gets its own response timeout and
# turnaround pause so one silent or slow probe delays only itself (ESPHome #2933, #6633).
#
# The register maps are the gateway's device profiles, compiled by `aisym node build` to
#   blocks: [[fc, address, count, [[word_offset, type, order, scale, offset, channel], ...]], ...]
# where order is byte order + word order: "bb", "bl", "lb" or "ll" (b big, l little).
import struct
import time

WIDTH = {"bit": 1, "int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "int64": 4, "uint64": 4, "float32": 2, "float64": 4}
FMT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f", "float64": "d"}


class ModbusError(Exception):
    """The device answered with a Modbus exception (it is there, but refused)."""


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(pdu_addr, pdu):
    body = bytes([pdu_addr]) + pdu
    return body + struct.pack("<H", crc16(body))


def decode(words, typ, order, scale, offset):
    """Engineering value from raw words, mirroring edge/profiles.py decode()."""
    if typ == "bit":
        return float(1 if words[0] else 0) * scale + offset
    ws = list(words) if order[1] == "b" else list(reversed(words))
    bfmt = ">H" if order[0] == "b" else "<H"
    raw = b"".join(struct.pack(bfmt, w & 0xFFFF) for w in ws)
    value = struct.unpack(">" + FMT[typ], raw)[0] * scale + offset
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("device returned a non-finite value")
    return value


class RTUMaster:
    """Master on one RS485 line.

    :param uart: object with write(bytes), read(n) -> bytes | None, any() -> int (machine.UART)
    :param baud: line speed in baud, for the T3.5 gap and the transmit time
    :param de: driver-enable Pin (high while sending) or None for auto-direction transceivers
    :param bits_per_char: 11 for 8E1/8N2 and, conservatively, 8N1
    """

    def __init__(self, uart, baud=9600, de=None, bits_per_char=11):
        self.uart = uart
        self.baud = baud
        self.de = de
        self.char_us = bits_per_char * 1000000 // baud
        self.t35_us = 1750 if baud > 19200 else (self.char_us * 7) // 2
        self._last_us = time.ticks_add(time.ticks_us(), -self.t35_us)
        self.timeouts = 0
        self.crc_errors = 0
        self.requests = 0
        if de is not None:
            de.value(0)

    async def _quiet(self):
        import asyncio

        wait = self.t35_us - time.ticks_diff(time.ticks_us(), self._last_us)
        if wait > 2000:
            await asyncio.sleep_ms(wait // 1000)
            wait = self.t35_us - time.ticks_diff(time.ticks_us(), self._last_us)
        if wait > 0:
            time.sleep_us(wait)

    async def transact(self, unit, pdu, expect, timeout_ms=200):
        """Send one request and return the response PDU (without address and CRC).

        :param expect: response length in bytes (address + PDU + CRC) for a normal reply
        :param timeout_ms: this device's response timeout
        Raises OSError on timeout or CRC error, ModbusError on an exception response.
        """
        import asyncio

        while self.uart.any():  # stale bytes (a late answer to an earlier request) would shift the frame
            self.uart.read(self.uart.any())
        await self._quiet()
        req = frame(unit, pdu)
        if self.de is not None:
            self.de.value(1)
        self.uart.write(req)
        # hold DE until the last bit is out: write() returns when bytes are queued, not sent
        time.sleep_us(len(req) * self.char_us)
        if self.de is not None:
            self.de.value(0)
        self._last_us = time.ticks_us()
        self.requests += 1
        buf = b""
        t0 = time.ticks_ms()
        while len(buf) < expect:
            n = self.uart.any()
            if n:
                buf += self.uart.read(n) or b""
                if len(buf) >= 5 and buf[1] & 0x80:
                    break  # exception response: 5 bytes
                continue
            if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
                self.timeouts += 1
                self._last_us = time.ticks_us()
                raise OSError("modbus unit %d: no answer in %d ms" % (unit, timeout_ms))
            await asyncio.sleep_ms(1)
        self._last_us = time.ticks_us()
        n = 5 if buf[1] & 0x80 else expect
        if len(buf) < n or crc16(buf[: n - 2]) != struct.unpack_from("<H", buf, n - 2)[0] or buf[0] != unit:
            self.crc_errors += 1
            raise OSError("modbus unit %d: bad CRC or address" % unit)
        if buf[1] & 0x80:
            raise ModbusError("modbus unit %d: exception %d" % (unit, buf[2]))
        return buf[1 : n - 2]

    async def read(self, unit, fc, address, count, timeout_ms=200):
        """Registers (fc 3/4) as a list of ints, or bits (fc 1/2) as a list of 0/1."""
        pdu = struct.pack(">BHH", fc, address, count)
        nbytes = (count + 7) // 8 if fc in (1, 2) else 2 * count
        resp = await self.transact(unit, pdu, 5 + nbytes, timeout_ms)
        data = resp[2:]
        if fc in (1, 2):
            return [(data[i // 8] >> (i % 8)) & 1 for i in range(count)]
        return list(struct.unpack(">%dH" % count, data))


async def poll_device(master, dev, turnaround_ms=None):
    """Read every block of one compiled device: [(channel, value or None), ...].

    A block that fails gives None (comm_error) for its channels and the poll goes on."""
    import asyncio

    out = []  # type: list
    for fc, address, count, points in dev["blocks"]:
        try:
            words = await master.read(dev["addr"], fc, address, count, dev.get("timeout_ms", 200))
        except (OSError, ModbusError):
            out.extend((p[5], None) for p in points)
            continue
        finally:
            await asyncio.sleep_ms(dev.get("turnaround_ms", 5) if turnaround_ms is None else turnaround_ms)
        for off, typ, order, scale, offset, ch in points:
            try:
                out.append((ch, decode(words[off : off + WIDTH[typ]], typ, order, scale, offset)))
            except (ValueError, IndexError):
                out.append((ch, None))
    return out
