"""The plant's simulated clock: one twin step every ``dt_h × 3600 / speed`` wall seconds.

Ticks are scheduled against absolute deadlines (``t0 + k × period``), so a late tick does not
shift the ones after it and the simulated time keeps pace with the wall clock at ``speed`` on
average; a tick that finds itself more than one period late steps at once (catching up) and
counts the lateness in :attr:`SimClock.late`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class SimClock:
    """Simulated time of the plant.

    :param speed: simulated seconds per wall second (3600: one simulated hour per second)
    :param dt_h: the twin's step (simulated hours)
    :param start: simulated instant of step 0 (UTC)
    """

    speed: float = 3600.0
    dt_h: float = 1.0
    start: datetime = field(default_factory=lambda: datetime(2025, 1, 1, tzinfo=UTC))
    steps: int = 0
    late: int = 0
    t0: float = 0.0

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0 simulated seconds per second, got {self.speed}")

    @property
    def period_s(self) -> float:
        """Wall seconds between two twin steps."""
        return self.dt_h * 3600.0 / self.speed

    def begin(self, now: float | None = None) -> None:
        """Start counting from ``now`` (``time.monotonic()`` by default)."""
        self.t0 = time.monotonic() if now is None else now
        self.steps = 0
        self.late = 0

    def wait_s(self, now: float | None = None) -> float:
        """Wall seconds until the next step is due (0 when it is due or late). Step ``k`` (0-based)
        is due at ``t0 + k × period``; the first is taken at :meth:`begin`."""
        now = time.monotonic() if now is None else now
        due = self.t0 + self.steps * self.period_s
        if now - due > self.period_s:
            self.late += 1
        return max(0.0, due - now)

    def ticked(self) -> None:
        """One twin step was taken."""
        self.steps += 1

    @property
    def sim_hours(self) -> float:
        """Simulated hours since step 0."""
        return self.steps * self.dt_h

    @property
    def now(self) -> datetime:
        """The simulated instant after the steps taken so far."""
        return self.start + timedelta(hours=self.sim_hours)
