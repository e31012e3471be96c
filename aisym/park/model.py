"""The park description: companies, assets, tags, exchanges, climate and market.

The v1 format: a user's v1 file is validated here (:func:`aisym.park.load_park` turns every
problem into a :class:`ParkError` naming the file, the field path and the line) and converted to
v2 on load (:mod:`aisym.park.graph.migrate`), which is what the twin, the gateway, the ingestor
and the dashboards read. The shipped parks are v2 files.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .assets import Asset, Identifier, NonNeg, Pos
from .tags import Tag
from .units import Resource


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Quality(_Strict):
    """The grade of an exchanged stream."""

    temperature_c: float | None = None
    ch4_fraction: Annotated[float, Field(ge=0, le=1)] | None = None
    purity_fraction: Annotated[float, Field(ge=0, le=1)] | None = None
    dry_matter_fraction: Annotated[float, Field(ge=0, le=1)] | None = None


class Exchange(_Strict):
    """A resource stream from one asset to another: the unit of industrial symbiosis."""

    id: Identifier
    resource: Resource
    source: Identifier = Field(alias="from")
    sink: Identifier = Field(alias="to")
    capacity: Pos
    unit: str
    quality: Quality = Field(default_factory=Quality)
    meter_tag: str | None = None  # the tag that measures this flow, "<asset>.<tag>"
    enabled: bool = True
    description: str = ""


class Company(_Strict):
    id: Identifier
    name: str
    assets: list[Asset] = Field(min_length=1)


class Seasonal(_Strict):
    """A yearly cosine around ``mean``, lowest on ``coldest_day``, plus a daily swing."""

    mean: float
    amplitude: NonNeg
    coldest_day: Annotated[int, Field(ge=1, le=366)] = 46
    daily_amplitude: NonNeg = 0.0
    noise_std: NonNeg = 0.0


class Climate(_Strict):
    sea_temp_c: Seasonal
    freshwater_temp_c: Seasonal
    air_temp_c: Seasonal


class PriceModel(_Strict):
    mean: float
    min: float
    max: float
    winter_factor: Pos
    daily_peak_hours: list[Annotated[int, Field(ge=0, le=23)]] = Field(default_factory=lambda: [8, 18])
    volatility: NonNeg = 0.15


class Market(_Strict):
    currency: Literal["EUR"] = "EUR"
    electricity_price_eur_per_mwh: PriceModel
    grid_fee_eur_per_mwh: NonNeg
    export_price_factor: Annotated[float, Field(ge=0, le=1)]
    grid_co2_g_per_kwh: Seasonal
    carbon_price_eur_per_t: NonNeg
    water_price_eur_per_m3: NonNeg  # make-up water, excluding VAT and the electricity below
    # Electricity drawn per m³ of make-up water (e.g. seawater desalination), bought at the
    # grid price; 0 where water is bought ready (a tariff). Older files omit it.
    water_electricity_kwh_per_m3: NonNeg = 0.0
    heat_backup_eur_per_mwh: NonNeg  # cost of unmet heat (electric boiler / district heat)
    oxygen_purchase_eur_per_kg: NonNeg
    sludge_disposal_eur_per_t_dm: NonNeg


class ParkInfo(_Strict):
    id: Identifier
    name: str
    location: str = ""
    timezone: str = "UTC"
    description: str = ""


class Park(_Strict):
    schema_version: Literal[1]
    park: ParkInfo
    companies: list[Company] = Field(min_length=1)
    exchanges: list[Exchange] = Field(default_factory=list)
    climate: Climate
    market: Market

    # -- lookups -----------------------------------------------------------------------------
    @cached_property
    def assets(self) -> dict[str, Asset]:
        return {a.id: a for c in self.companies for a in c.assets}

    @cached_property
    def company_of(self) -> dict[str, str]:
        """asset id -> company id"""
        return {a.id: c.id for c in self.companies for a in c.assets}

    @cached_property
    def tags(self) -> dict[str, Tag]:
        """full tag id ``<asset>.<tag>`` -> tag"""
        return {f"{a.id}.{t.name}": t for a in self.assets.values() for t in a.tags}

    def assets_of_kind(self, kind: str) -> list[Asset]:
        return [a for a in self.assets.values() if a.kind == kind]

    def exchange(self, exchange_id: str) -> Exchange:
        for e in self.exchanges:
            if e.id == exchange_id:
                return e
        raise KeyError(exchange_id)
