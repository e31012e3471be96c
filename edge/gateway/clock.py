"""The gateway's clock: is the system clock synchronised, and a timeline that a clock step cannot move.

A Raspberry Pi has no battery clock: until NTP (or an RTC) has set the time, timestamps are
guesses. The kernel knows: ``adjtimex()`` returns ``TIME_ERROR`` (5) while the clock is
unsynchronised, whichever of systemd-timesyncd, chrony or ntpd disciplines it.

Clock steps (issue 18, finding 9): the wall clock can jump (``date -s``, a bad RTC, a VM
restored from a snapshot). A step of +1 h made every reading future-dated and every fresh
command "expired"; -1 h let a 20-minute-old command through. :class:`GatewayClock` therefore
keeps its own timeline, ``time.monotonic() + offset``: the offset follows the system clock's
slow corrections (NTP slews at most 0.5 ms/s), but a jump of more than ``step_s`` between two
looks is a *step*: counted, logged and reported in health (``clock_steps``, ``clock_step_s``,
``clock_held``). A step is adopted at once when the kernel says the clock is synchronised (NTP
stepped it: the new time is the right one); otherwise (a hand-set clock, which the kernel marks
unsynchronised) the timeline is held where it was until the kernel reports the clock synchronised
again or the clock comes back to the timeline. Readings are stamped and command ages judged on
this timeline, so neither moves with an unsynchronised step.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable

TIME_ERROR = 5
_cache: tuple[float, bool] = (0.0, True)
log = logging.getLogger("aisym.gateway.clock")


def clock_synced(max_age_s: float = 10.0) -> bool:
    """True unless the kernel reports the clock unsynchronised (checked at most every ``max_age_s``).

    Where ``adjtimex`` is unavailable (not Linux), the clock is assumed synced.
    """
    global _cache
    now = time.monotonic()
    if now - _cache[0] < max_age_s:
        return _cache[1]
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex with modes = 0: read only
        synced = libc.adjtimex(buf) != TIME_ERROR
    except (OSError, AttributeError):
        synced = True
    _cache = (now, synced)
    return synced


class GatewayClock:
    """Wall-clock time for readings and command ages that no unsynchronised clock step moves.

    :param wall: the system clock, seconds since the epoch (tests pass a steppable one)
    :param synced: whether the kernel says the system clock is synchronised now
    :param step_s: a jump of the system clock against the monotonic clock larger than this
        between two looks is a step (NTP's slew stays far below it)
    """

    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        synced: Callable[[], bool] = clock_synced,
        step_s: float = 2.0,
    ):
        self.wall = wall
        self.synced_now = synced
        self.step_s = step_s
        self.offset = wall() - time.monotonic()  # timeline = monotonic + offset
        self.timeline_synced = synced()  # whether the system clock was synchronised when last followed
        self.steps = 0
        self.last_step_s = 0.0
        self.held = False  # the system clock is off the timeline by an untrusted step
        self._lock = threading.Lock()  # paho's thread stamps birth messages too: one step, counted once

    def _look(self) -> float:
        with self._lock:
            return self._look_locked()

    def _look_locked(self) -> float:
        mono = time.monotonic()
        system = self.wall() - mono
        diff = system - self.offset
        if abs(diff) <= self.step_s:
            if self.held:
                log.warning("system clock is back on the gateway's timeline (%+.1f s)", diff)
            self.held = False
            self.offset = system  # follow NTP's slew
            return mono
        if not self.held or abs(diff - self.last_step_s) > self.step_s:  # a new step, not the one held
            self.steps += 1
            self.last_step_s = diff
        if self.synced_now():
            log.warning("system clock stepped %+.1f s and is synchronised: adopted", diff)
            self.offset, self.held, self.timeline_synced = system, False, True
        elif not self.held:
            log.error("system clock stepped %+.1f s while unsynchronised: holding the gateway's timeline", diff)
            self.held = True
        return mono

    def time(self) -> float:
        """Seconds since the epoch on the gateway's timeline."""
        return self._look() + self.offset

    def now_ms(self) -> int:
        return int(self.time() * 1000)

    def synced(self) -> bool:
        """Whether timestamps on the timeline are synchronised ones (the readings' ``ts_synced``)."""
        self._look()
        return self.timeline_synced if self.held else self._follow_synced()

    def _follow_synced(self) -> bool:
        self.timeline_synced = self.synced_now()
        return self.timeline_synced

    def counters(self) -> dict[str, float]:
        return {"clock_steps": self.steps, "clock_step_s": round(self.last_step_s, 3), "clock_held": 1.0 if self.held else 0.0}
