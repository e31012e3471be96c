# Device-side test: a config.json made by `aisym node build` drives the real firmware on fake
# hardware (DS18B20 probes, ADC, pulse pins, an RS485 pH probe). Prints one telemetry payload.
import asyncio
import os
import struct

import clock
import config
import machine
import onewire
from ds18b20 import DS18B20, rom_from_hex
from modbus_rtu import crc16, frame
from node import Node

cfg = config.load(os.getenv("CONFIG"))
cfg["buffer"]["dir"] = os.getenv("BUF")
cfg["mqtt"]["ca"] = os.getenv("CA")  # ca.der beside config.json, as copied to the board
DS18B20.CONVERSION_MS = 10
temps = [61.25, 40.5]
onewire.OneWire.probes = {rom_from_hex(c["rom"]): temps.pop(0) for c in cfg["channels"] if c["kind"] == "ds18b20"}
machine.ADC.values = {34: 38525, 35: 30900}  # 50 % tank level; 10 mg/L


class PhProbe:
    # SenseCAP S-pH-01 at address 1: 21.50 degC, pH 7.12
    def __init__(self):
        self.pending = None

    def on_write(self, uart, data):
        if crc16(data[:-2]) != struct.unpack("<H", data[-2:])[0] or data[0] != 1:
            return
        _, fc, addr, count = struct.unpack(">BBHH", data[:6])
        words = [2150, 712][addr : addr + count]
        self.pending = frame(1, bytes([fc, 2 * count]) + struct.pack(">%dH" % count, *words))

    def tick(self, uart):
        if self.pending:
            uart.rx += self.pending
            self.pending = None


machine.UART.bus = PhProbe()
node = Node(cfg, network=None)


async def main():
    await node.sample_once()  # pulse counters start: rate unknown on the first scan
    await asyncio.sleep_ms(50)
    await node.sample_once()


asyncio.run(main())
clock.set_epoch_ms(1_763_900_000_000)
node.buf.set_anchor(clock.anchor)
node.buf.flush()
print("PAYLOAD " + bytes(node.telemetry(node.buf.peek(100))[0]).decode())
