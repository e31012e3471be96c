"""Is the system clock synchronised? (sets ``ts_synced`` on every reading)

A Raspberry Pi has no battery clock: until NTP (or an RTC) has set the time, timestamps are
guesses. The kernel knows: ``adjtimex()`` returns ``TIME_ERROR`` (5) while the clock is
unsynchronised, whichever of systemd-timesyncd, chrony or ntpd disciplines it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time

TIME_ERROR = 5
_cache: tuple[float, bool] = (0.0, True)


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
