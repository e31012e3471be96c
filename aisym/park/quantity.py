"""Quantities with units, parsed and converted by pint: ``"2 MW"``, ``"150000 t/yr"``, ``"34 Nm3/h"``.

One registry for the whole project, so the park description, the gateway and the dashboards
convert a unit the same way. Additions to pint's defaults, each for a reason:

- ``m3``, ``Nm3``: written without ``**`` in the field, as people write them;
- ``Nm3`` (normal cubic metre, gas at 0 °C and 1 atm) is its own dimension: it converts to a
  mass only through a carrier's density, never silently to an actual m³;
- ``yr``/``year`` is the modelling year of 8,760 h (pint's own year is 365.25 days): an annual
  figure divides evenly over the twin's hourly year;
- each currency code is its own dimension, so EUR never converts to DKK without a stated rate;
- ``CO2``/``CO2e`` after a mass unit (``g CO2/kWh``, ``kgCO2e/MWh``) is a label, dropped.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pint

CURRENCIES = ("EUR", "DKK", "NOK", "SEK", "USD", "GBP", "CHF", "PLN", "ISK", "CAD", "AUD", "JPY", "CNY", "INR")

_NM3 = re.compile(r"\b(N|S)m3\b")
_POWER = re.compile(r"(?<=[A-Za-z])([23])\b")
_CO2 = re.compile(r"(?<=[a-zA-Z])\s*CO2e?\b|\bCO2e?\s*")


def _preprocess(text: str) -> str:
    text = _CO2.sub("", text)
    text = _NM3.sub("normal_cubic_meter", text)
    return _POWER.sub(r"**\1", text)


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The project's unit registry (built once)."""
    kwargs = {"preprocessors": [_preprocess], "autoconvert_offset_to_baseunit": True, "on_redefinition": "ignore"}
    try:  # pint's parsed-definitions cache (the user's cache folder) makes a warm start 6x faster
        ureg = pint.UnitRegistry(cache_folder=":auto:", **kwargs)
    except OSError:
        ureg = pint.UnitRegistry(cache_folder=None, **kwargs)
    ureg.define("year = 365 * day = a = yr")  # the modelling year: 8,760 h
    ureg.define("normal_cubic_meter = [normal_volume] = Nm³")
    for code in CURRENCIES:
        ureg.define(f"{code} = [currency_{code.lower()}]")
    return ureg


class UnitProblem(ValueError):
    """A quantity that cannot be read or converted; the message says why, for a person."""


def parse_quantity(value: object, unit: str, what: str = "value") -> float:
    """``value`` (a number, or text with a unit) as a plain float in ``unit``.

    A bare number is taken to be in ``unit`` already; text must carry a unit that converts.

    :param value: ``2000``, ``"2 MW"``, ``"150000 t/yr"``
    :param unit: the unit the caller works in (``"kW"``, ``"kg/h"``)
    :param what: what the value is, for the message
    :raises UnitProblem: unreadable text, or a unit of another dimension
    """
    if isinstance(value, bool):
        raise UnitProblem(f"{what}: expected a number or a quantity such as '2 MW', got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise UnitProblem(f"{what}: expected a number or a quantity such as '2 MW', got {type(value).__name__}")
    ureg = registry()
    try:  # a number written as text ("1.0e9": YAML 1.1 reads it as a string) is a bare number
        return float(value.strip())
    except ValueError:
        pass
    try:
        q = ureg.Quantity(value.strip())
    except (pint.errors.PintError, SyntaxError, TypeError, ValueError, AttributeError) as e:
        raise UnitProblem(f"cannot read {value!r} as a quantity ({e})") from None
    if not isinstance(q, pint.Quantity):  # a bare number written as text
        return float(q)
    try:
        return float(q.to(unit).magnitude)
    except pint.errors.DimensionalityError:
        raise UnitProblem(
            f"{value!r} is {_dimension_words(q)}; {what} is stated in {unit} ({_dimension_words(ureg.Quantity(1, unit))})"
        ) from None
    except pint.errors.OffsetUnitCalculusError as e:
        raise UnitProblem(f"cannot convert {value!r} to {unit}: {e}") from None


def convertible(from_unit: str, to_unit: str) -> bool:
    """Whether a value in ``from_unit`` converts to ``to_unit``."""
    ureg = registry()
    try:
        ureg.Quantity(1.0, from_unit).to(to_unit)
    except (pint.errors.PintError, ValueError, AttributeError):
        return False
    return True


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (offsets such as °C → K included)."""
    ureg = registry()
    return float(ureg.Quantity(value, from_unit).to(to_unit).magnitude)


def check_unit(unit: str) -> str | None:
    """``None`` if pint reads ``unit``, else the reason."""
    try:
        registry().Quantity(1.0, unit)
    except (pint.errors.PintError, SyntaxError, ValueError, AttributeError, TypeError) as e:
        return f"unknown unit {unit!r} ({e})"
    return None


_DIMENSION_NAMES = {
    "[mass] * [length] ** 2 / [time] ** 3": "a power",
    "[mass] * [length] ** 2 / [time] ** 2": "an energy",
    "[length] ** 3 / [time]": "a volume flow",
    "[length] ** 3": "a volume",
    "[mass] / [time]": "a mass flow",
    "[mass]": "a mass",
    "[normal_volume] / [time]": "a gas flow (Nm3/h)",
    "[normal_volume]": "a gas volume (Nm3)",
    "[temperature]": "a temperature",
    "[mass] / [length] / [time] ** 2": "a pressure",
    "[time]": "a duration",
    "dimensionless": "a plain number",
}


def _dimension_words(q: pint.Quantity) -> str:
    dim = str(q.dimensionality)
    return _DIMENSION_NAMES.get(dim, f"of dimension {dim}")
