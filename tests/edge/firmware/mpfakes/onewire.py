# Test-only 1-Wire bus with simulated DS18B20 probes. OneWire.probes maps ROM bytes to a
# temperature in degC (or "garbage" for a probe whose scratchpad arrives corrupted).
from ds18b20 import crc8


class OneWire:
    probes = {}

    def __init__(self, pin):
        self.pin = pin
        self._out = []
        self._selected = None
        self.converts = 0

    def reset(self, required=False):
        return bool(OneWire.probes)

    def scan(self):
        return list(OneWire.probes)

    def select_rom(self, rom):
        self._selected = bytes(rom)

    def writebyte(self, b):
        if b == 0x44:
            self.converts += 1
        elif b == 0xBE:
            t = OneWire.probes.get(self._selected)
            if t is None:
                self._out = [0xFF] * 9  # nobody answers: the line stays high
                return
            if t == "garbage":
                self._out = [0x50, 0x05, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0x00]
                return
            raw = round(t * 16) & 0xFFFF
            pad = [raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10]
            pad.append(crc8(bytes(pad)))
            self._out = pad

    def readbyte(self):
        return self._out.pop(0)


def make_rom(serial):
    body = bytes([0x28]) + bytes((serial >> (8 * i)) & 0xFF for i in range(6))
    return body + bytes([crc8(body)])
