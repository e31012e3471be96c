# Pulse counter for water and gas meters (reed or open-collector output). The pin interrupt
# only counts, with a debounce: a reed contact bounces for a few ms and would count each edge.
# The rate is computed from the pulses between two reads, over the real elapsed time.
import time


class PulseCounter:
    """Counts falling edges on a pin.

    :param pin: machine.Pin (input, pull-up) or a fake with irq(handler, trigger)
    :param per_pulse: engineering units per pulse (e.g. 0.01 m3 for a 10 L/pulse water meter)
    :param debounce_ms: edges closer than this to the last counted one are ignored (ms)
    :param per_hour: True to report the rate per hour (m3/h), else per second
    """

    def __init__(self, pin, per_pulse=1.0, debounce_ms=5, per_hour=True):
        self.per_pulse = per_pulse
        self.debounce_us = int(debounce_ms * 1000)
        self.scale = 3600000.0 if per_hour else 1000.0
        self.count = 0
        self.bounces = 0
        self._last_edge = time.ticks_add(time.ticks_us(), -self.debounce_us)
        self._last_count = 0
        self._last_ms = time.ticks_ms()
        if pin is not None:
            trigger = getattr(pin, "IRQ_FALLING", 2)
            pin.irq(handler=self._edge, trigger=trigger)

    def _edge(self, _pin=None, now_us=None):
        # interrupt handler: no allocation, no float
        now = time.ticks_us() if now_us is None else time.ticks_add(now_us, 0)
        if time.ticks_diff(now, self._last_edge) < self.debounce_us:
            self.bounces += 1
            return
        self._last_edge = now
        self.count += 1

    def total(self):
        """Meter reading since boot, in engineering units."""
        return self.count * self.per_pulse

    def rate(self, now_ms=None):
        """Flow since the previous call (units per hour or per second); None on the first call."""
        now = time.ticks_ms() if now_ms is None else now_ms
        dt = time.ticks_diff(now, self._last_ms)
        n = self.count - self._last_count
        self._last_count += n
        self._last_ms = now
        if dt <= 0:
            return None
        return n * self.per_pulse * self.scale / dt
