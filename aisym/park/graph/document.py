"""The v2 park file (``schema_version: 2``) as written: park, carriers, series, companies, exchanges."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..quantity import CURRENCIES
from .carriers import Carrier, Resource
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
    # The park's currency table: units of ``currency`` per one unit of another, with its source in
    # the file's comment ({EUR: 7.46}); a price in a currency not in it is refused, never guessed.
    exchange_rates: dict[Literal[CURRENCIES], Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    step_h: Annotated[float, Field(gt=0, le=24)] = 1.0
    # What a unit of demand left unmet costs, per resource, in the currency per canonical amount
    # ({electricity: 8.7 EUR/kWh, water: 120 DKK/m3}). The twin charges it on every unit a need
    # or a converter's input goes short with no backup; the optimum has a slack at that price on
    # each, so it is always feasible and never above the twin. Defaults (sim_env/graph/compile.py,
    # docs/park_graph.md): electricity 8.7 EUR/kWh (Shivakumar et al. 2017, the EU's average VOLL)
    # where the park prices in EUR or states an EUR rate, else ten times the dearest price the park
    # pays for the resource [E].
    value_of_lost_load: dict[Resource, Amount] = Field(default_factory=dict)


class CarrierDef(Carrier):
    """A named carrier the file's ports and exchanges may refer to by ``id``."""

    id: Identifier


class CompanyFlow(_Strict):
    """A resource a company gives out (``outputs``) or takes in (``inputs``), for matchmaking.

    It is not simulated: the twin simulates assets and exchanges. Matchmaking pairs outputs with
    other companies' inputs; ``port`` names the asset port it is when the park has one, so a
    candidate found for it can become an exchange.
    """

    id: Identifier
    carrier: Carrier | Identifier
    quantity: Amount | None = None  # mean flow ("170000 t/yr", "2 MW"); None: not known
    # the shape over the year: a series of this park (mean 1), or 12 monthly factors (Jan..Dec)
    profile: Identifier | list[Annotated[float, Field(ge=0)]] | None = None
    port: str | None = None  # "asset.port" of this park that gives (output) or takes (input) it
    cost: Amount | None = None  # currency per canonical amount its present route costs (disposal, purchase)
    co2: Amount | None = None  # kg CO2 per canonical amount of its present route
    route: str = ""  # the present route, in words: "landfill", "bought natural gypsum"
    continuity: Literal["continuous", "daytime", "seasonal", "batch"] = "continuous"
    hazardous: bool | None = None  # outputs only; default: from the EWC code's asterisk
    accepts_hazardous: bool | None = None  # inputs only: the receiver's permit takes hazardous waste
    heat_pump: bool | None = None  # inputs only: may a heat pump lift a colder supply (default yes)
    description: str = ""


class Company(_Strict):
    id: Identifier
    name: str
    nace: str = ""  # NACE Rev. 2 sector code, "03.22"
    location: str = ""  # a named place, for people
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None  # WGS 84 degrees, for distances
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    assets: list[AssetSpec] = Field(default_factory=list)
    outputs: list[CompanyFlow] = Field(default_factory=list)  # for matchmaking (sim_env.match)
    inputs: list[CompanyFlow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Company:
        if not self.assets and not self.outputs and not self.inputs and not self.nace:
            raise ValueError("a company has at least one asset, or states for matchmaking its inputs, its outputs "
                             "or at least its NACE code")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("state both lat and lon, or neither")
        return self


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
    transport_cost: Amount = 0.0  # currency per canonical amount sent: the pipe or truck carries it, the loss is on the way
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
