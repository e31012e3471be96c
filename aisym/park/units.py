"""Quantities, their units, and the resources that flow between assets.

One table, so that the gateway, the ingestor, the dashboards and the twin agree on what
``kW`` or ``Nm3/h`` means for a tag. Units are written as plain ASCII strings.
"""

from __future__ import annotations

from enum import StrEnum

# quantity -> units a tag of that quantity may be written in
QUANTITY_UNITS: dict[str, tuple[str, ...]] = {
    "temperature": ("degC",),
    "power": ("kW", "W", "MW"),
    "energy": ("kWh", "MWh", "Wh"),
    "volume_flow": ("m3/h", "L/min", "L/s"),
    "volume": ("m3", "L"),
    "gas_flow": ("Nm3/h",),
    "gas_volume": ("Nm3",),
    "mass_flow": ("kg/h", "t/h"),
    "mass": ("kg", "t"),
    "level": ("%", "m"),
    "fraction": ("%", "1"),
    "pressure": ("bar", "mbar", "kPa"),
    "dissolved_oxygen": ("mg/L", "%sat"),
    "ph": ("pH",),
    "conductivity": ("uS/cm", "mS/cm"),
    "voltage": ("V",),
    "current": ("A", "mA"),
    "frequency": ("Hz",),
    "power_factor": ("1",),
    "count": ("1", "pulses"),
    "state": ("1",),
    "price": ("EUR/MWh",),
    "co2_intensity": ("g/kWh",),
    "duration": ("s", "h"),
}


class Resource(StrEnum):
    """A stream one asset hands to another."""

    heat = "heat"
    biogas = "biogas"
    water = "water"
    oxygen = "oxygen"
    co2 = "co2"
    electricity = "electricity"
    sludge = "sludge"
    hydrogen = "hydrogen"


# The unit an exchange's capacity is stated in, per resource.
RESOURCE_UNITS: dict[Resource, str] = {
    Resource.heat: "kW",
    Resource.biogas: "Nm3/h",
    Resource.water: "m3/h",
    Resource.oxygen: "kg/h",
    Resource.co2: "kg/h",
    Resource.electricity: "kW",
    Resource.sludge: "kg/h",  # dry matter
    Resource.hydrogen: "kg/h",
}
