# What a technician sees: the on-board LED pattern and the log lines on the USB serial console.
# LED (see docs/firmware.md):  steady on = booting;  1 blink / 2 s = all good (sending);
# 2 blinks = no Wi-Fi;  3 blinks = no broker (readings buffered on flash);
# 4 blinks = clock not synced;  fast flicker = configuration error (node does not start).
import time

BOOT, OK, NO_WIFI, NO_BROKER, NO_TIME, CONFIG_ERROR = 0, 1, 2, 3, 4, 9
NAMES = {
    BOOT: "booting",
    OK: "ok",
    NO_WIFI: "no wifi",
    NO_BROKER: "no broker",
    NO_TIME: "clock not synced",
    CONFIG_ERROR: "config error",
}
state = BOOT
_led = None
_t0 = time.ticks_ms()
lines = 0


def log(msg):
    global lines
    lines += 1
    t = time.ticks_diff(time.ticks_ms(), _t0)
    print("[%7d.%03d] %s" % (t // 1000, t % 1000, msg))


def set_state(new):
    global state
    if new != state:
        state = new
        log("status: " + NAMES[new])


def init_led(pin_no):
    global _led
    try:
        import machine

        _led = machine.Pin(pin_no, machine.Pin.OUT)
        _led.value(1)
    except (ImportError, AttributeError, ValueError, TypeError):
        _led = None  # the unix port has no pins


async def blink():
    import asyncio

    while True:
        if _led is None:
            await asyncio.sleep_ms(2000)
            continue
        if state == CONFIG_ERROR:
            _led.value(not _led.value())
            await asyncio.sleep_ms(100)
            continue
        for _ in range(state):
            _led.value(1)
            await asyncio.sleep_ms(150)
            _led.value(0)
            await asyncio.sleep_ms(250)
        await asyncio.sleep_ms(2000)
