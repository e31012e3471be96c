# Watchdog supervisor. The hardware watchdog (machine.WDT) cannot be stopped once started, so it
# is fed from exactly one place: this task, and only while every registered task has checked in
# within its own deadline. A hung sampler or a publisher stuck in a socket call therefore resets
# the board, while a long but healthy outage (the publisher waiting for the broker and still
# checking in) does not.
import time


class Supervisor:
    def __init__(self, timeout_ms=8000, wdt=None, log=None):
        self.timeout_ms = timeout_ms
        self.wdt = wdt
        self.log = log
        self._beats = {}  # name -> (last ticks_ms, allowed silence ms)
        self.feeds = 0
        self.starved = None  # the task that stopped the feeding

    def register(self, name, max_silence_ms):
        self._beats[name] = (time.ticks_ms(), max_silence_ms)

    def alive(self, name):
        """Called by a task each time round its loop."""
        self._beats[name] = (time.ticks_ms(), self._beats[name][1])

    def late(self):
        now = time.ticks_ms()
        for name, (last, allowed) in self._beats.items():
            if time.ticks_diff(now, last) > allowed:
                return name
        return None

    def check(self):
        """Feed the watchdog if every task is alive; returns the late task's name otherwise."""
        name = self.late()
        if name is None:
            if self.wdt is not None:
                self.wdt.feed()
            self.feeds += 1
        elif self.starved != name:
            self.starved = name
            if self.log:
                self.log("watchdog: task %r is late; not feeding" % name)
        return name

    async def run(self):
        import asyncio

        period = max(100, self.timeout_ms // 4)
        while True:
            self.check()
            await asyncio.sleep_ms(period)
