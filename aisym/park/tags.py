"""Measured and controllable tags of an asset.

A tag's full id is ``<asset>.<name>`` (``heat_store.temp_top``). It is what a sensor node or the
gateway publishes, the ``tag`` of an InfluxDB point, and the key a setpoint command addresses.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .units import QUANTITY_UNITS

TagName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Control(BaseModel):
    """How a controllable tag may be written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    safe_default: float
    # Largest change per second a command may ask for; None means no rate limit.
    max_rate_per_s: Annotated[float, Field(gt=0)] | None = None


class Tag(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: TagName
    quantity: str
    unit: str
    min: float
    max: float
    description: str = ""
    control: Control | None = None

    @model_validator(mode="after")
    def _check(self) -> Tag:
        units = QUANTITY_UNITS.get(self.quantity)
        if units is None:
            raise ValueError(f"unknown quantity {self.quantity!r}; known: {', '.join(sorted(QUANTITY_UNITS))}")
        if self.unit not in units:
            raise ValueError(f"unit {self.unit!r} does not measure {self.quantity}; use one of {', '.join(units)}")
        if not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.control and not self.min <= self.control.safe_default <= self.max:
            raise ValueError(
                f"control.safe_default {self.control.safe_default} lies outside the bounds [{self.min}, {self.max}]"
            )
        return self

    @property
    def controllable(self) -> bool:
        return self.control is not None
