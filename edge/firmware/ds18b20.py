# DS18B20 temperature probes on a 1-Wire bus. `bus` is anything with the OneWire methods
# reset() -> bool, writebyte(b), readbyte() -> int, select_rom(rom), scan() -> [rom]
# (machine's onewire.OneWire on a board, a fake bus in tests). Every scratchpad is CRC-checked:
# a long cable or a loose joint gives garbage that must become comm_error, not a temperature.
import time

CONVERT = 0x44
READ_SCRATCH = 0xBE
SKIP_ROM = 0xCC
POWER_ON_RESET_C = 85.0  # what a probe reads when it lost power mid-conversion


def crc8(data):
    """Dallas/Maxim CRC-8 (poly x^8 + x^5 + x^4 + 1, reflected 0x8C)."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


class DS18B20:
    """Probes on one bus. `convert()` starts all of them at once; `read(rom)` after 750 ms."""

    CONVERSION_MS = 750  # 12-bit resolution

    def __init__(self, bus):
        self.bus = bus
        self.crc_errors = 0

    def scan(self):
        return [rom for rom in self.bus.scan() if rom[0] == 0x28 and crc8(rom[:7]) == rom[7]]

    def convert(self):
        if not self.bus.reset():
            raise OSError("1-Wire: no presence pulse")
        self.bus.writebyte(SKIP_ROM)
        self.bus.writebyte(CONVERT)

    def read(self, rom):
        """Temperature in degC; raises OSError on a missing probe or a bad CRC."""
        if not self.bus.reset():
            raise OSError("1-Wire: no presence pulse")
        self.bus.select_rom(rom)
        self.bus.writebyte(READ_SCRATCH)
        pad = bytes(self.bus.readbyte() for _ in range(9))
        if crc8(pad[:8]) != pad[8] or pad == b"\xff" * 9:
            self.crc_errors += 1
            raise OSError("1-Wire: scratchpad CRC error")
        raw = pad[0] | pad[1] << 8
        if raw & 0x8000:
            raw -= 0x10000
        return raw / 16

    async def read_all(self, roms):
        """{rom: degC or None} for the given probes, one conversion for all."""
        import asyncio

        out = {}
        try:
            self.convert()
        except OSError:
            return {rom: None for rom in roms}
        t0 = time.ticks_ms()
        await asyncio.sleep_ms(self.CONVERSION_MS)
        for rom in roms:
            try:
                out[rom] = self.read(rom)
            except OSError:
                out[rom] = None
        self.last_ms = time.ticks_diff(time.ticks_ms(), t0)
        return out


def rom_from_hex(s):
    b = bytes(int(s[i : i + 2], 16) for i in range(0, 16, 2))
    if len(b) != 8 or crc8(b[:7]) != b[7]:
        raise ValueError("DS18B20 ROM %r: bad length or CRC" % s)
    return b
