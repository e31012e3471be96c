"""Exogenous series of a v2 park: climate, prices, CO2 intensity, production and demand profiles.

Each series is stated once in the park file's ``series:`` mapping, in its own unit, and
generated per year from a seed (or read from CSV). Nothing of one country is in code: a price
dip at spring melt or a feeding season is a ``dips`` entry or a ``seasonal`` series of the park
that has one. Components refer to a series by id (``{series: price, offset: 13.7}``).

Kinds (exactly one per series):

- ``constant``: one value;
- ``seasonal``: a yearly cosine (lowest on ``coldest_day``, or highest on ``peak_day``), a daily
  swing and AR(1) noise, clipped to [min, max];
- ``price``: an hourly market price: winter factor, named dips, night discount, daily peaks and
  log-normal day-to-day noise, rescaled to ``mean`` and clipped;
- ``carnot``: a heat pump's COP from a source-temperature series and a sink temperature;
- ``affine``: ``scale × of + offset`` of another series, clipped (e.g. heat per m³ of make-up
  water from the source-water temperature);
- ``csv``: a column of a CSV file (one row per step), path relative to the park file;
- ``campaign``: a season of work (a sugar or beet campaign, a harvest) at a flat level from
  ``start_day`` to ``end_day`` (inclusive, it may wrap over the new year), 0 outside, whose
  ``mean`` is the year's mean: the level is mean × 365 / days. It is resolved into a clipped
  ``seasonal`` series (:meth:`SeriesSpec.resolved`) whose level is set so that its clipped mean
  is the stated one, so the twin's generator needs nothing new.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .components import Identifier

NonNeg = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Seasonal(_Strict):
    mean: float
    amplitude: NonNeg = 0.0
    coldest_day: Annotated[float, Field(ge=1, le=366)] | None = None
    peak_day: Annotated[float, Field(ge=1, le=366)] | None = None
    daily_amplitude: NonNeg = 0.0  # peaks at 15 h
    noise_std: NonNeg = 0.0
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _phase(self) -> Seasonal:
        if self.coldest_day is not None and self.peak_day is not None:
            raise ValueError("state coldest_day or peak_day, not both")
        return self

    def clipped_mean(self, step_h: float = 1.0, hours: float = 8760.0) -> float:
        """The year's mean of the cosine and daily swing after clipping to [min, max], noise aside.

        ``mean`` is the cosine's centre line: once clipped (a campaign written as a cosine cut at
        0) the series' mean is another number, which validation states beside the file's.
        Pure Python (no numpy): the park description also loads on a gateway.
        """
        n = max(1, round(hours / step_h))
        total = 0.0
        for i in range(n):
            h = i * step_h
            doy, hour = h / 24.0 + 1.0, h % 24.0
            if self.peak_day is not None:
                yearly = self.amplitude * math.cos(2 * math.pi * (doy - self.peak_day) / 365.0)
            else:
                yearly = -self.amplitude * math.cos(2 * math.pi * (doy - (self.coldest_day or 46)) / 365.0)
            v = self.mean + yearly - self.daily_amplitude * math.cos(2 * math.pi * (hour - 3.0) / 24.0)
            if self.min is not None:
                v = max(v, self.min)
            if self.max is not None:
                v = min(v, self.max)
            total += v
        return total / n


class Dip(_Strict):
    """A Gaussian dip of the price around ``day`` (spring melt in a hydro system, for example)."""

    day: Annotated[float, Field(ge=1, le=366)]
    width_days: Annotated[float, Field(gt=0)]
    depth: Annotated[float, Field(ge=0, le=1)]
    why: str = ""


class Price(_Strict):
    mean: float
    min: float
    max: float
    winter_factor: Annotated[float, Field(gt=0)] = 1.0
    dips: list[Dip] = Field(default_factory=list)
    night_discount: Annotated[float, Field(ge=0, le=1)] = 0.0  # 00–05 h
    daily_peak_hours: list[Annotated[int, Field(ge=0, le=23)]] = Field(default_factory=list)
    peak_boost: NonNeg = 0.0
    peak_width_h: Annotated[float, Field(gt=0)] = 1.5
    volatility: NonNeg = 0.0


class Carnot(_Strict):
    source: Identifier  # a temperature series, degC
    sink_c: float
    efficiency: Annotated[float, Field(gt=0, le=1)]
    min: Annotated[float, Field(ge=1)] = 1.0  # electricity ends up as heat: COP ≥ 1
    max: Annotated[float, Field(gt=1)] = 8.0  # no real machine nears Carnot at small lifts


class Affine(_Strict):
    of: Identifier
    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None
    max: float | None = None


class Campaign(_Strict):
    mean: NonNeg  # the year's mean, in the series' unit
    start_day: Annotated[int, Field(ge=1, le=365)]  # the first day of work
    end_day: Annotated[int, Field(ge=1, le=365)]  # the last day of work (before start_day: over the new year)

    @property
    def days(self) -> int:
        return (self.end_day - self.start_day) % 365 + 1


# A campaign as a cosine cut at 0 and at its level: an amplitude this many times the level makes
# the edges steeper than a few minutes, so each hour is in the campaign or out of it.
_CAMPAIGN_STEEPNESS = 1e4


def campaign_as_seasonal(c: Campaign, step_h: float = 1.0) -> Seasonal:
    """The clipped cosine that is ``c``: on from ``start_day`` 00:00 to ``end_day`` 24:00, its
    level set so the clipped mean over the year's steps is ``c.mean`` exactly."""
    if c.days >= 365 or c.mean == 0.0:
        return Seasonal(mean=c.mean)
    half = math.pi * c.days / 365.0  # the cosine's phase at the campaign's edges
    # centred on the campaign's steps (each sampled at its start, doy = hours / 24 + 1): every step
    # of its days is in, at the full level, and none outside
    peak = (c.start_day - 1 + (c.days - step_h / 24.0) / 2.0) % 365 + 1

    def shape(level: float) -> Seasonal:
        amp = _CAMPAIGN_STEEPNESS * level
        return Seasonal(mean=-amp * math.cos(half), amplitude=amp, peak_day=peak, min=0.0, max=level)

    first = c.mean * 365.0 / c.days
    return shape(first * c.mean / shape(first).clipped_mean(step_h))  # the series scales with its level


class Csv(_Strict):
    path: str
    column: str


class SeriesSpec(_Strict):
    """One exogenous series: its unit and exactly one kind."""

    unit: str = "dimensionless"
    description: str = ""
    constant: float | None = None
    seasonal: Seasonal | None = None
    price: Price | None = None
    carnot: Carnot | None = None
    affine: Affine | None = None
    csv: Csv | None = None
    campaign: Campaign | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SeriesSpec:
        kinds = [k for k in SERIES_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            got = ", ".join(kinds) if kinds else "none"
            raise ValueError(f"a series states exactly one of {', '.join(SERIES_KINDS)} (got {got})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in SERIES_KINDS if getattr(self, k) is not None)

    def resolved(self, step_h: float = 1.0) -> SeriesSpec:
        """This series in the kinds the twin generates: a campaign becomes its clipped seasonal."""
        if self.campaign is None:
            return self
        return SeriesSpec(unit=self.unit, description=self.description,
                          seasonal=campaign_as_seasonal(self.campaign, step_h))

    def depends_on(self) -> tuple[str, ...]:
        if self.carnot is not None:
            return (self.carnot.source,)
        if self.affine is not None:
            return (self.affine.of,)
        return ()


SERIES_KINDS = ("constant", "seasonal", "price", "carnot", "affine", "csv", "campaign")
