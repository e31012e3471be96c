# Test-only stand-in for MicroPython's `machine` on the unix port (which lacks pins, ADC, UART,
# WDT). Records what the firmware does so the device-side tests can assert on it.
import time

IRQ_FALLING = 2
DEEPSLEEP_RESET = 4
PWRON_RESET = 1
_reset_cause = PWRON_RESET
slept_ms = None


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 2
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def __init__(self, pin_id, mode=None, pull=None):
        self.id = pin_id
        self._value = 0
        self.handler = None
        self.history = []  # (ticks_us, value) of every write

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = 1 if v else 0
        self.history.append((time.ticks_us(), self._value))
        return None

    def irq(self, handler=None, trigger=IRQ_FALLING):
        self.handler = handler

    def pulse(self, at_us=None):
        # the test's way to produce a falling edge
        if self.handler:
            self.handler(self) if at_us is None else self.handler(self, at_us)


class ADC:
    # values are fed by the test: ADC.values[pin] = raw or a list of raws (cycled)
    values = {}

    def __init__(self, pin):
        self.pin = pin.id if isinstance(pin, Pin) else pin

    def read_u16(self):
        v = ADC.values.get(self.pin, 0)
        if isinstance(v, list):
            v.append(v.pop(0))
            return v[-1]
        return v


class UART:
    # the test attaches a simulated bus: UART.bus = object with on_write(bytes) -> None, and
    # rx bytearray the fake reads from
    bus = None

    def __init__(self, n, baudrate=9600, **kw):
        self.n = n
        self.baudrate = baudrate
        self.rx = bytearray()
        self.writes = []  # (ticks_us, bytes)

    def write(self, data):
        self.writes.append((time.ticks_us(), bytes(data)))
        if UART.bus is not None:
            UART.bus.on_write(self, bytes(data))
        return len(data)

    def any(self):
        if UART.bus is not None:
            UART.bus.tick(self)
        return len(self.rx)

    def read(self, n=-1):
        if not self.rx:
            return None
        n = len(self.rx) if n < 0 else n
        out = bytes(self.rx[:n])
        self.rx = self.rx[n:]
        return out


class WDT:
    last = None

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.fed = 0
        WDT.last = self

    def feed(self):
        self.fed += 1


class RTC:
    def datetime(self, t=None):
        return t


def reset_cause():
    return _reset_cause


def deepsleep(ms=0):
    # the board would power down here; the test process ends and says so
    global slept_ms
    slept_ms = ms
    print("DEEPSLEEP %d ms" % ms)
    raise SystemExit(0)


def unique_id():
    return b"\x01\x02\x03\x04"
