"""The pipeline's funnel: how many opportunities are at each stage, how many ever reached it, and how
long they spent there (read from the stage history, so an opportunity still at a stage counts the
time up to now)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from .models import FORWARD, STAGES, STOPPED

DAY_S = 86400.0


@dataclass
class Stage:
    stage: str
    label: str
    now: int = 0  # opportunities at this stage now
    reached: int = 0  # opportunities that were ever at this stage (or beyond it, for the forward stages)
    stints: int = 0  # periods spent at this stage, finished or not
    days: float = 0.0  # their total length

    @property
    def mean_days(self) -> float | None:
        return self.days / self.stints if self.stints else None


def funnel(opportunities, at: datetime | None = None) -> list[Stage]:
    """One :class:`Stage` per stage, in the funnel's order (stopped last)."""
    at = at or timezone.now()
    rows = {s: Stage(s, str(label)) for s, label in STAGES}
    for opp in opportunities:
        history = list(opp.history.all())
        rows[opp.stage].now += 1
        furthest = -1
        for i, h in enumerate(history):
            end = history[i + 1].at if i + 1 < len(history) else at
            row = rows.get(h.to_stage)
            if row is None:
                continue
            row.stints += 1
            row.days += max((end - h.at).total_seconds(), 0.0) / DAY_S
            if h.to_stage in FORWARD:
                furthest = max(furthest, FORWARD.index(h.to_stage))
        for s in FORWARD[:furthest + 1]:  # reaching "agreed" means it passed the stages before, even if skipped
            rows[s].reached += 1
        if any(h.to_stage == STOPPED for h in history):
            rows[STOPPED].reached += 1
    return [rows[s] for s, _ in STAGES]


def bars(stages: list[Stage], width: float = 480.0, height: float = 34.0) -> list[dict]:
    """The funnel's bars for the SVG: centred, as wide as the share of opportunities that reached the stage."""
    top = max((s.reached for s in stages), default=0) or 1
    out = []
    for i, s in enumerate(stages):
        w = max(width * s.reached / top, 2.0)
        out.append({"stage": s, "x": round((width - w) / 2 + 140, 1), "y": round(i * (height + 6), 1),
                    "w": round(w, 1), "h": height, "ty": round(i * (height + 6) + height / 2 + 5, 1)})
    return out

