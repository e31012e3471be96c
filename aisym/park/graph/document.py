"""The v2 park file (``schema_version: 2``) as written: park, carriers, series, companies, exchanges."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..quantity import CURRENCIES
from .carriers import Carrier
from .components import Amount, AssetSpec, Identifier
from .series import SeriesSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ParkInfo(_Strict):
    id: Identifier
    name: str
    location: str = ""
    country: str = ""
    timezone: str = "UTC"
    description: str = ""
    currency: Literal[CURRENCIES] = "EUR"  # every price and cost in the file is in this currency
    carbon_price: Amount = 0.0  # currency per tonne CO2, added to the cost the twin minimises
    step_h: Annotated[float, Field(gt=0, le=24)] = 1.0


class CarrierDef(Carrier):
    """A named carrier the file's ports and exchanges may refer to by ``id``."""

    id: Identifier


class Company(_Strict):
    id: Identifier
    name: str
    nace: str = ""  # NACE Rev. 2 sector code, "03.22"
    location: str = ""
    assets: list[AssetSpec] = Field(min_length=1)


class Exchange(_Strict):
    """A flow from a port of one asset to a port of another, of one resource.

    ``from``/``to`` are ``asset.port`` (or ``asset`` when it has one port that can give, or
    take, the flow's resource). ``passive`` exchanges carry what they can, free residue first;
    ``controllable`` ones carry what a controller asks (an action of the env).
    """

    id: Identifier
    source: str = Field(alias="from")
    sink: str = Field(alias="to")
    resource: str | None = None  # optional: checked against both ports
    capacity: Amount  # canonical flow unit of the resource, or with a unit ("2 MW")
    loss: Annotated[float, Field(ge=0, lt=1)] = 0.0  # fraction lost on the way
    transport_cost: Amount = 0.0  # currency per canonical amount delivered (pumping, trucks)
    control: Literal["passive", "controllable"] = "passive"
    priority: int = 0  # lower first when a port shares what it has among its exchanges
    meter_tag: str | None = None  # "<asset>.<tag>" that measures this flow
    enabled: bool = True
    description: str = ""


class ParkV2(_Strict):
    schema_version: Literal[2]
    park: ParkInfo
    carriers: list[CarrierDef] = Field(default_factory=list)
    series: dict[Identifier, SeriesSpec] = Field(default_factory=dict)
    companies: list[Company] = Field(min_length=1)
    exchanges: list[Exchange] = Field(default_factory=list)
