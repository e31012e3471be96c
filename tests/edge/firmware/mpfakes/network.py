# Test-only `network` module: a WLAN whose behaviour the test scripts. `WLAN.plan` is a list of
# outcomes for successive connect() calls: "ok", "fail" (never associates) or "flap" (associates
# then drops within the hold time).
import time

STA_IF = 0
AP_IF = 1


class WLAN:
    plan = []
    connects = []  # ticks_ms of every connect() call

    def __init__(self, iface=STA_IF):
        self._up_at = None
        self._drop_at = None
        self._active = False

    def active(self, on=None):
        if on is not None:
            self._active = on
        return self._active

    def connect(self, ssid, password):
        WLAN.connects.append(time.ticks_ms())
        outcome = WLAN.plan.pop(0) if WLAN.plan else "ok"
        now = time.ticks_ms()
        self._up_at = None if outcome == "fail" else now + 50
        self._drop_at = now + 300 if outcome == "flap" else None

    def disconnect(self):
        self._up_at = None

    def isconnected(self):
        now = time.ticks_ms()
        if self._up_at is None or time.ticks_diff(now, self._up_at) < 0:
            return False
        if self._drop_at is not None and time.ticks_diff(now, self._drop_at) >= 0:
            self._up_at = None
            return False
        return True

    def ifconfig(self):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
