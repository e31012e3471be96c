# Wi-Fi station with backoff. The link counts as up only after it held for `hold_ms`
# (an access point at the edge of range connects and drops within a second), and failed
# attempts wait 1 s, 2 s, 4 s ... up to backoff_ms[1] so a dead AP is not hammered.
import time


class WiFi:
    def __init__(self, cfg, network=None, log=None):
        if network is None:
            import network  # on the board; tests pass a fake module
        self.cfg = cfg
        self.wlan = network.WLAN(network.STA_IF)
        self.log = log
        self.attempts = 0
        self.failures = 0

    def isconnected(self):
        return self.wlan.isconnected()

    async def ensure(self):
        """Return once the station is connected and stable; retries forever with backoff."""
        import asyncio

        if not self.cfg["ssid"] or self.wlan.isconnected():
            return
        pause = self.cfg["backoff_ms"][0]
        while True:
            self.attempts += 1
            self.wlan.active(True)
            try:
                self.wlan.connect(self.cfg["ssid"], self.cfg["password"])
            except OSError as e:
                if self.log:
                    self.log("wifi: connect: %r" % e)
            t0 = time.ticks_ms()
            while not self.wlan.isconnected() and time.ticks_diff(time.ticks_ms(), t0) < self.cfg["timeout_ms"]:
                await asyncio.sleep_ms(100)
            if self.wlan.isconnected():
                await asyncio.sleep_ms(self.cfg["hold_ms"])
                if self.wlan.isconnected():
                    if self.log:
                        self.log("wifi: up after %d attempt(s)" % self.attempts)
                    return
            self.failures += 1
            try:
                self.wlan.disconnect()
            except OSError:
                pass
            if self.log:
                self.log("wifi: down, retry in %d ms" % pause)
            await asyncio.sleep_ms(pause)
            pause = min(pause * 2, self.cfg["backoff_ms"][1])
