"""Clean one metered series before it is modelled: gaps, meter resets, constant and short series.

Every change made to the data is written down as a note, so ``aisym forecast show`` can say what
the model was fitted on; a series that cannot be forecast gets a reason instead of a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SHORT_GAP_STEPS = 6  # gaps up to 6 h are interpolated; longer ones copy the same hour a day or week earlier
MAX_MISSING_SHARE = 0.5  # with more than half the history missing the model would be fitted on our fill
COUNTER_SHARE = 0.97  # a cumulative meter rises (or holds) on at least this share of its steps


@dataclass
class Prepared:
    """A series ready to model, or the reason it is not.

    :param y: the cleaned values (no NaN), oldest first; empty with a reason
    :param offset: added to the meter's own reading to undo resets; subtract it from a forecast
    :param notes: what was changed, in words
    :param reason: why no forecast can be made, else ""
    """

    y: np.ndarray
    offset: float = 0.0
    notes: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def constant(self) -> bool:
        return self.y.size > 0 and float(np.ptp(self.y)) == 0.0


def _fill(y: np.ndarray, day: int, week: int) -> tuple[np.ndarray, int]:
    """Fill NaNs: short gaps linearly, long ones from a week (else a day) earlier; returns (filled, longest gap)."""
    y = y.copy()
    nan = np.isnan(y)
    idx = np.arange(y.size)
    longest, run, start = 0, 0, 0
    gaps = []
    for i, m in enumerate(nan):
        if m:
            start = i if run == 0 else start
            run += 1
        elif run:
            gaps.append((start, run))
            run = 0
    longest = max((r for _, r in gaps), default=0)
    interp = np.interp(idx, idx[~nan], y[~nan])
    for s, r in gaps:
        if r <= SHORT_GAP_STEPS:
            y[s : s + r] = interp[s : s + r]
            continue
        for i in range(s, s + r):
            back = week if i >= week and not np.isnan(y[i - week]) else day
            y[i] = y[i - back] if i >= back and not np.isnan(y[i - back]) else interp[i]
    return y, longest


def _unwrap_resets(y: np.ndarray) -> tuple[np.ndarray, float, list[int]]:
    """A cumulative meter that fell back (reset, replaced): continue it from where it was."""
    d = np.diff(y)
    drops = np.flatnonzero(d < 0)
    if d.size == 0 or drops.size == 0 or (d >= 0).mean() < COUNTER_SHARE or np.ptp(y) == 0:
        return y, 0.0, []
    out = y.copy()
    offset = 0.0
    for i in drops:  # the step after a reset is taken as zero consumption
        offset += y[i] - y[i + 1]
        out[i + 1 :] = y[i + 1 :] + offset
    return out, offset, [int(i) + 1 for i in drops]


def prepare(values: np.ndarray, day: int = 24, week: int = 168, min_steps: int | None = None) -> Prepared:
    """Clean ``values`` (one step per hour, or per day with ``day=1, week=7``; NaN where nothing was stored).

    :param min_steps: fewest valid steps to forecast from (default two seasons, ``2 * day``, at least 2)
    """
    y = np.asarray(values, dtype=float)
    unit = "hours" if day > 1 else "days"
    need = max(2, 2 * day) if min_steps is None else min_steps
    valid = np.flatnonzero(~np.isnan(y))
    if valid.size == 0:
        return Prepared(np.empty(0), reason="no readings")
    y = y[valid[0] : valid[-1] + 1]  # leading and trailing gaps are no history
    if valid.size < need:
        return Prepared(np.empty(0), reason=f"only {valid.size} {unit} of history, at least {need} needed")
    notes = []
    missing = int(np.isnan(y).sum())
    if missing / y.size > MAX_MISSING_SHARE:
        return Prepared(np.empty(0), reason=f"{missing} of {y.size} {unit} missing (more than half)")
    if missing:
        y, longest = _fill(y, day, week)
        notes.append(f"filled {missing} missing {unit} (longest gap {longest})")
    y, offset, resets = _unwrap_resets(y)
    if resets:
        notes.append(f"meter reset at step {', '.join(map(str, resets))} of {y.size}: continued from the reading before")
    p = Prepared(y, offset, notes)
    if p.constant:
        p.notes.append(f"constant series ({y[0]:g}): forecast is that value")
    return p
