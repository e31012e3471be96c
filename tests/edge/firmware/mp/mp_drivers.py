# Device-side test: DS18B20, analog, pulse and Modbus RTU drivers on fake hardware.
import asyncio
import struct
import time

import check
import machine
import onewire
from analog import AnalogInput, Calibration
from ds18b20 import DS18B20, crc8, rom_from_hex
from modbus_rtu import RTUMaster, crc16, decode, frame, poll_device
from pulse import PulseCounter

# --- DS18B20 --------------------------------------------------------------------------------
check.eq(crc8(b"\x02\x1c\xb8\x01\x00\x00\x00"), 0xA2, "crc8 of Maxim AN27 example ROM")
r1, r2, r3, r4 = (onewire.make_rom(n) for n in (1, 2, 3, 4))
onewire.OneWire.probes = {r1: 21.5, r2: -10.125, r3: "garbage"}
bus = onewire.OneWire(machine.Pin(4))
ds = DS18B20(bus)
check.eq(len(ds.scan()), 3, "scan finds the three probes")
DS18B20.CONVERSION_MS = 10
got = asyncio.run(ds.read_all([r1, r2, r3, r4]))
check.eq(got[r1], 21.5, "probe 1")
check.eq(got[r2], -10.125, "negative temperature")
check.eq(got[r3], None, "corrupted scratchpad -> None")
check.eq(got[r4], None, "missing probe -> None")
check.eq(bus.converts, 1, "one conversion for all probes")
check.eq(ds.crc_errors, 2, "CRC errors counted")
check.eq(rom_from_hex("".join("%02x" % b for b in r1)), r1, "ROM from hex")
try:
    rom_from_hex("2800000000000001")
    check.ok(False, "a ROM with a bad CRC must be refused")
except ValueError:
    pass
onewire.OneWire.probes = {}
check.eq(asyncio.run(ds.read_all([r1])), {r1: None}, "no presence pulse -> None")

# --- analog, two-point calibration ------------------------------------------------------------
# 4 mA -> 13107 counts, 20 mA -> 65535 on a 150 ohm shunt into a 3.3 V ADC (scaled); 0..100 %
cal = Calibration(13107, 0.0, 65535, 100.0)
check.near(cal(39321), 50.0, 1e-6, "mid-scale of 4-20 mA")
inp = AnalogInput(machine.ADC(machine.Pin(34)), cal, "4-20mA", 13107, 65535, samples=4)
machine.ADC.values[34] = [39000, 39642, 39000, 39642]
check.near(inp.read(), 50.0, 0.01, "averaged reading")
machine.ADC.values[34] = 2000  # ~0.6 mA: cable cut
try:
    inp.read()
    check.ok(False, "a broken 4-20 mA loop must raise")
except OSError:
    pass
volts = AnalogInput(machine.ADC(machine.Pin(35)), Calibration(0, 0.0, 60000, 10.0), "0-10V", samples=1)
machine.ADC.values[35] = 30000
check.near(volts.read(), 5.0, 1e-6, "0-10 V")
try:
    Calibration(100, 0.0, 100, 1.0)
    check.ok(False, "equal calibration points must be refused")
except ValueError:
    pass

# --- pulse counter -----------------------------------------------------------------------------
pin = machine.Pin(5)
pc = PulseCounter(pin, per_pulse=0.01, debounce_ms=5, per_hour=True)
t = time.ticks_us() + 1000000
for i in range(100):
    pin.pulse(t + i * 100000)  # one pulse per 100 ms
    pin.pulse(t + i * 100000 + 1500)  # contact bounce 1.5 ms later: ignored
check.eq(pc.count, 100, "debounced count")
check.eq(pc.bounces, 100, "bounces counted")
t0 = time.ticks_ms()
pc.rate(t0)
pc.count += 36  # 36 pulses in 10 s = 0.36 m3 in 10 s = 129.6 m3/h
check.near(pc.rate(time.ticks_add(t0, 10000)), 129.6, 1e-6, "rate in m3/h")
check.near(pc.total(), 1.36, 1e-9, "total")


# --- Modbus RTU ----------------------------------------------------------------------------------
check.eq(frame(1, b"\x03\x00\x00\x00\x01"), b"\x01\x03\x00\x00\x00\x01\x84\x0a", "CRC-16/MODBUS of a known request")


class Bus:
    # simulated RS485 line: unit 1 answers after 3 ms, unit 2 is silent, unit 3 answers with a bad CRC,
    # unit 4 answers with exception 2
    def __init__(self):
        self.regs = {1: [2150, 712, 0x0000, 0x4148]}  # 21.50 degC, pH 7.12, float32 12.5 stored CDAB
        self.pending = None

    def on_write(self, uart, data):
        unit, fc, addr, count = struct.unpack(">BBHH", data[:6])
        ok = crc16(data[:-2]) == struct.unpack("<H", data[-2:])[0]
        if not ok or unit == 2:
            return
        if unit == 4:
            self.pending = (time.ticks_ms() + 3, frame(4, bytes([fc | 0x80, 2])))
            return
        words = self.regs[1][addr : addr + count]
        body = bytes([fc, 2 * count]) + struct.pack(">%dH" % count, *words)
        f = frame(unit, body)
        if unit == 3:
            f = f[:-1] + bytes([f[-1] ^ 0xFF])
        self.pending = (time.ticks_ms() + 3, f)

    def tick(self, uart):
        if self.pending and time.ticks_diff(time.ticks_ms(), self.pending[0]) >= 0:
            uart.rx += self.pending[1]
            self.pending = None


machine.UART.bus = Bus()
uart = machine.UART(1, baudrate=9600)
de = machine.Pin(4)
m = RTUMaster(uart, 9600, de)
check.eq(m.t35_us, 4007, "T3.5 at 9600 baud (11-bit chars)")
dev1 = {
    "addr": 1,
    "timeout_ms": 100,
    "blocks": [
        [3, 0, 4, [[0, "int16", "bb", 0.01, 0.0, 0], [1, "uint16", "bb", 0.01, 0.0, 1], [2, "float32", "bl", 1.0, 0.0, 2]]]
    ],
}
got = asyncio.run(poll_device(m, dev1, 0))
check.near(got[0][1], 21.5, 1e-9, "int16 x 0.01")
check.near(got[1][1], 7.12, 1e-9, "uint16 x 0.01")
check.near(got[2][1], 12.5, 1e-9, "float32 word-swapped (CDAB)")
t0 = time.ticks_ms()
silent = asyncio.run(
    poll_device(m, {"addr": 2, "timeout_ms": 50, "blocks": [[3, 0, 1, [[0, "int16", "bb", 1.0, 0.0, 3]]]]}, 0)
)
took = time.ticks_diff(time.ticks_ms(), t0)
check.eq(silent, [(3, None)], "silent device -> comm_error")
check.ok(40 <= took < 200, "per-device timeout honoured (took %d ms for 50 ms)" % took)
check.eq(
    asyncio.run(poll_device(m, {"addr": 3, "blocks": [[3, 0, 1, [[0, "int16", "bb", 1.0, 0.0, 4]]]]}, 0)),
    [(4, None)],
    "bad CRC -> comm_error",
)
check.eq(
    asyncio.run(poll_device(m, {"addr": 4, "blocks": [[3, 0, 1, [[0, "int16", "bb", 1.0, 0.0, 5]]]]}, 0)),
    [(5, None)],
    "exception -> comm_error",
)
check.eq(m.timeouts, 1, "timeouts counted")
check.eq(m.crc_errors, 1, "CRC errors counted")
# the silence before each request is at least T3.5 after the previous frame ended
writes = uart.writes
for i in range(1, len(writes)):
    gap = time.ticks_diff(writes[i][0], writes[i - 1][0])
    tx_us = len(writes[i - 1][1]) * m.char_us
    check.ok(gap - tx_us >= m.t35_us, "gap before request %d: %d us after tx, want >= %d" % (i, gap - tx_us, m.t35_us))
# DE high only while sending
check.eq([v for _, v in de.history][:3], [0, 1, 0], "driver enable toggles around the frame")
check.eq(decode([0x4148, 0x0000], "float32", "bb", 1.0, 0.0), 12.5, "float32 ABCD")
check.eq(decode([0xFFFF, 0xFFFE], "int32", "bb", 1.0, 0.0), -2.0, "int32")
check.eq(decode([1], "bit", "bb", 1.0, 0.0), 1.0, "bit")
try:
    decode([0x7FC0, 0x0000], "float32", "bb", 1.0, 0.0)
    check.ok(False, "NaN from a device must be refused")
except ValueError:
    pass
check.done("drivers")
