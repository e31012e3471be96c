"""The six generic component types every park is built from, as written in a v2 park file.

Any asset is one or more of these (directly, or through a template of
:mod:`aisym.park.graph.templates`). Each is stated once here; the compiler turns them into flat
tables that the step kernel and the LP both read.

=============  ================================================================================
type           behaviour in one step
=============  ================================================================================
``source``     gives ``profile`` (an exogenous series, must be taken: what nobody takes goes to
               its ``surplus`` disposal) or sells up to ``max`` at ``price``
``demand``     takes ``profile``; what its suppliers do not cover is bought as ``backup`` at its
               cost and CO2, or counted as unmet when it has no backup
``converter``  ``load`` on its reference port (set by a controller, or following what its input
               or output bus offers), every other port flows ``ratio × load``; ratios may be
               series (a heat pump's COP); ``min_load``, an input curve at part load, on/off
``storage``    holds an amount; charge and discharge rates, a loss per hour, a first-order
               ``release`` (a digester's solids), and how the horizon must end
``market``     buys and sells one carrier at series prices within limits, with a CO2 intensity
``disposal``   takes what is left (vent, flare, dump, landfill) at a cost and CO2 per unit
=============  ================================================================================

Numbers may carry units (``"2 MW"``, ``"150000 t/yr"``); a bare number is in the field's
canonical unit, named in each field's comment.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..tags import Tag
from .carriers import Carrier

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Amount = float | str  # a number in the canonical unit, or text with a unit for pint


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeriesValue(_Strict):
    """``scale × series**power + offset``: a time-varying number (``power: -1`` gives 1/COP).

    The unit of ``scale × series`` (and of ``offset``) must convert to the field's unit.
    """

    series: Identifier
    scale: Amount = 1.0
    offset: Amount = 0.0
    power: Literal[1.0, -1.0] = 1.0


Value = Amount | SeriesValue  # a constant, or a series


class Backup(_Strict):
    """What covers a shortfall at a port: bought at ``cost`` per unit, emitting ``co2`` per unit."""

    cost: Value  # currency per canonical amount (EUR/MWh, EUR/m3...)
    co2: Value = 0.0  # kg CO2 per canonical amount
    name: str = ""  # what the backup is, for reports: "electric boiler", "municipal water"


class Port(_Strict):
    """One port of a converter: its carrier, its ratio to the load, and its backup if it has one."""

    carrier: Carrier | Identifier  # a carrier, or the id of one in the file's ``carriers``
    ratio: Value = 1.0  # canonical units of this port per canonical unit of the reference port
    of: Identifier | None = None  # the ratio is per unit of this port instead (CHP heat per unit fuel)
    backup: Backup | None = None  # inputs only: a shortfall is bought instead of clipping the load


class _Component(_Strict):
    id: Identifier | None = None  # unique within the asset; defaults to the type
    name: str = ""
    port: Identifier | None = None  # single-carrier types: the asset port it sits on (default: its id)


class Source(_Component):
    type: Literal["source"]
    carrier: Carrier | Identifier
    profile: Value | None = None  # must-take output per hour (canonical flow unit)
    price: Value | None = None  # purchase price per canonical amount; with ``max``
    max: Amount | None = None  # purchase limit (canonical flow unit)
    co2: Value = 0.0  # kg CO2 per canonical amount bought
    surplus: Backup | None = None  # what happens to profile output nobody takes (cost may be 0)


class Demand(_Component):
    type: Literal["demand"]
    carrier: Carrier | Identifier
    profile: Value  # need per hour (canonical flow unit)
    backup: Backup | None = None


class PartLoad(_Strict):
    """The reference-port efficiency falls at part load: input = a·load + b while running.

    ``input_ratio_at_min_load`` is the ratio of ``port`` at ``min_load``; with the ratio at rated
    load it fixes the straight line (Renewable Energy 114:857, 2017, for gas engines).
    """

    port: Identifier
    ratio_at_min_load: float = Field(gt=0)


class Converter(_Component):
    type: Literal["converter"]
    inputs: dict[Identifier, Port] = Field(min_length=1)
    outputs: dict[Identifier, Port] = Field(min_length=1)
    reference: Identifier | None = None  # the port ``rated`` and the load refer to (default: first output)
    rated: Amount  # the reference port's flow at full load (canonical flow unit)
    min_load: Annotated[float, Field(ge=0, le=1)] = 0.0  # fraction of rated; below it the unit is off
    part_load: PartLoad | None = None
    control: Literal["setpoint", "follow_input", "follow_output", "must_run"] = "setpoint"
    availability: Value | None = None  # 0..1 series: outages, maintenance


class StorageEnd(_Strict):
    """How a horizon must end: at no less than the start level, or with the level valued."""

    rule: Literal["no_less_than_start", "valued", "free"] = "no_less_than_start"
    value: Amount | None = None  # currency per canonical amount, for ``valued``


class Storage(_Component):
    type: Literal["storage"]
    carrier: Carrier | Identifier
    capacity: Amount  # canonical amount (kWh, Nm3, m3, kg)
    max_charge: Amount | None = None  # canonical flow; default: capacity per hour
    max_discharge: Amount | None = None
    loss: Amount = 0.0  # fraction of the level lost per hour (or "1 %/d")
    release: Amount = 0.0  # fraction of the level that must leave per hour (first order: 1/τ)
    initial: Annotated[float, Field(ge=0, le=1)] = 0.5  # fraction of capacity
    end: StorageEnd = Field(default_factory=StorageEnd)


class Market(_Component):
    type: Literal["market"]
    carrier: Carrier | Identifier
    import_price: Value | None = None  # currency per canonical amount; None: cannot buy
    export_price: Value | None = None  # None: cannot sell
    import_max: Amount | None = None  # canonical flow; None: unlimited
    export_max: Amount | None = None
    co2: Value = 0.0  # kg CO2 per canonical amount bought (grid intensity)
    co2_source: str = ""  # where the intensity comes from, for dashboards and reports


class Disposal(_Component):
    type: Literal["disposal"]
    carrier: Carrier | Identifier
    cost: Value = 0.0  # currency per canonical amount
    co2: Value = 0.0  # kg CO2(e) per canonical amount
    max: Amount | None = None  # canonical flow; None: unlimited
    # surplus: takes whatever its bus has left; setpoint: also takes action × max (a flare on demand)
    control: Literal["surplus", "setpoint"] = "surplus"


Component = Annotated[Source | Demand | Converter | Storage | Market | Disposal, Field(discriminator="type")]
COMPONENT_TYPES = ("source", "demand", "converter", "storage", "market", "disposal")


class AssetSpec(_Strict):
    """An asset: a template with its parameters, or components written out.

    Exactly one of ``template`` or ``components`` is given.
    """

    id: Identifier
    name: str = ""
    template: Identifier | None = None
    params: dict[str, object] = Field(default_factory=dict)  # the template's parameters
    components: list[Component] | None = None
    tags: list[Tag] = Field(default_factory=list)
    description: str = ""
    # Figures kept for people (permit size, volume), stated as not simulated: never silently dropped.
    info: dict[str, object] = Field(default_factory=dict)
