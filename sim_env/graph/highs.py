"""A HiGHS instance without the banner its first construction prints on the C stdout."""

from __future__ import annotations

import os
import sys

import highspy

_banner_shown = False


def new_highs() -> highspy.Highs:
    """A HiGHS instance; the first one's banner goes to /dev/null, since a CLI table does not want it."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _banner_shown = True
    return h
