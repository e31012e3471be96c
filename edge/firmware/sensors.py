# Builds the channel readers from config.json. Each reader is a coroutine function returning
# [(channel index, value or None)]; None becomes a comm_error reading (never an old value).
# Drivers are imported only for the kinds a node uses: each module costs heap on a 64 KiB board.
import gc


def _ds18b20_reader(machine, onewire, pin, chans):
    from ds18b20 import DS18B20, rom_from_hex

    sensor = DS18B20(onewire.OneWire(machine.Pin(pin)))
    roms = [(i, rom_from_hex(ch["rom"])) for i, ch in chans]

    async def read():
        got = await sensor.read_all([r for _, r in roms])
        return [(i, got.get(r)) for i, r in roms]

    return read


def _analog_reader(machine, i, ch):
    from analog import AnalogInput, Calibration

    cal = Calibration(*ch["cal"])
    inp = AnalogInput(
        machine.ADC(machine.Pin(ch["pin"])), cal, ch.get("signal", "4-20mA"), ch.get("raw_4ma"), ch.get("raw_20ma")
    )

    async def read():
        try:
            return [(i, inp.read())]
        except OSError:
            return [(i, None)]

    return read


def _pulse_reader(machine, i, ch):
    from pulse import PulseCounter

    pin = machine.Pin(ch["pin"], machine.Pin.IN, machine.Pin.PULL_UP)
    counter = PulseCounter(pin, ch.get("per_pulse", 1.0), ch.get("debounce_ms", 5), ch.get("per_hour", True))
    total = ch.get("measure", "rate") == "total"

    async def read():
        return [(i, counter.total() if total else counter.rate())]

    return read


def _fake_reader(i, ch):
    # a bench signal: base + step * n, for a node on the desk and for the tests
    state = [0]

    async def read():
        state[0] += 1
        return [(i, ch.get("value", 0.0) + ch.get("step", 0.0) * (state[0] % 1000))]

    return read


def build(cfg, machine=None, onewire=None):
    """The readers for every channel of `cfg` (a list of coroutine functions)."""
    if machine is None and any(ch["kind"] != "fake" for ch in cfg["channels"]):
        import machine
    readers = []
    buses = {}  # type: dict[int, list]
    for i, ch in enumerate(cfg["channels"]):
        kind = ch["kind"]
        if kind == "ds18b20":
            buses.setdefault(ch["pin"], []).append((i, ch))
        elif kind == "analog":
            readers.append(_analog_reader(machine, i, ch))
        elif kind == "pulse":
            readers.append(_pulse_reader(machine, i, ch))
        elif kind == "fake":
            readers.append(_fake_reader(i, ch))
    if buses and onewire is None:
        import onewire
    for pin, chans in buses.items():
        readers.append(_ds18b20_reader(machine, onewire, pin, chans))
    rs = cfg["rs485"]
    if rs["devices"]:
        uart = machine.UART(
            rs["uart"], baudrate=rs["baud"], bits=rs["bits"], parity=rs["parity"], stop=rs["stop"], tx=rs["tx"], rx=rs["rx"]
        )
        de = machine.Pin(rs["de"], machine.Pin.OUT) if rs.get("de") is not None else None
        from modbus_rtu import RTUMaster

        master = RTUMaster(uart, rs["baud"], de)
        for dev in rs["devices"]:
            readers.append(_modbus_reader(master, dev))
    gc.collect()
    return readers


def _modbus_reader(master, dev):
    from modbus_rtu import poll_device

    async def read():
        return await poll_device(master, dev)

    return read
