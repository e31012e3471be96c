"""Unit conversions between a device profile and the park, through pint.

A profile value is stated in its device's unit (``W``, ``L/min``, ``K``), a park tag in the
park's (``kW``, ``m3/h``, ``degC``). The registry is the project's own
(:func:`aisym.park.quantity.registry`: ``m3`` without ``**``, ``Nm3`` its own dimension), so the
gateway converts a unit exactly as the park description does. :func:`conversion` gives the affine map between them,
``park = device * factor + offset`` (an offset only for absolute temperatures: ``K`` ->
``degC``), or None when the two units measure different things (``degC`` -> ``kW``), which the
config validation refuses.

Rules on top of pint, because a unit string in a profile is not always a physical unit:

- identical strings always match (``pH``, ``%sat``: pint does not know them);
- dimensionless units (``1``, ``%``, ``pulses``) never convert: the site PLC template says
  ``1`` for "already in the tag's park unit", so ``1`` -> ``%`` must not multiply by 100;
- ``ppm`` -> ``mg/L`` is 1 (dilute aqueous solutions: a dissolved-oxygen probe);
- a temperature *difference* must be written ``delta_degC``: ``K`` is an absolute temperature.

pint is imported on first use, so a gateway whose units all match never loads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

#: equivalences pint cannot know (they depend on the medium)
_DOMAIN: dict[tuple[str, str], float] = {("ppm", "mg/L"): 1.0, ("mg/L", "ppm"): 1.0}
# Apparent and reactive power are not active power, although pint counts VA and var as watts.
_OWN_KIND = re.compile(r"^[kM]?(VA|var)h?$")


@dataclass(frozen=True)
class Conversion:
    """``park = device * factor + offset``.

    :param factor: multiplier from the device unit to the park unit
    :param offset: added after multiplying (non-zero only for offset units such as degC/K)
    """

    factor: float = 1.0
    offset: float = 0.0

    def to_park(self, value: float) -> float:
        return value * self.factor + self.offset

    def to_device(self, value: float) -> float:
        return (value - self.offset) / self.factor


IDENTITY = Conversion()

#: beyond this many decimals a scale is not a decimal step (1/3): its values are not rounded
MAX_DECIMALS = 12


def decimals_of(x: float | int | str) -> int | None:
    """Decimal places of a scale written as text or a float: ``0.1`` -> 1, ``"0.25"`` -> 2, ``10`` -> 0.

    A float is read through its shortest ``repr`` (``0.1``, not 0.1000000000000000055...), so a
    scale from YAML counts as written. None when it has no short decimal form (``1/3``).
    """
    try:
        exp = Decimal(x if isinstance(x, str) else repr(float(x))).normalize().as_tuple().exponent
    except (InvalidOperation, ValueError):
        return None
    if not isinstance(exp, int):  # NaN or infinity
        return None
    return -exp if -MAX_DECIMALS <= exp < 0 else (0 if exp >= 0 else None)


@lru_cache(maxsize=512)
def conversion(device_unit: str, park_unit: str) -> Conversion | None:
    """The conversion from ``device_unit`` to ``park_unit``; None when there is none.

    :param device_unit: the profile's unit string
    :param park_unit: the park tag's unit string
    """
    if device_unit == park_unit:
        return IDENTITY
    if (device_unit, park_unit) in _DOMAIN:
        return Conversion(_DOMAIN[(device_unit, park_unit)])
    if _OWN_KIND.match(device_unit) or _OWN_KIND.match(park_unit):
        return None
    import pint

    from aisym.park.quantity import registry

    ureg = registry()
    try:
        src, dst = ureg.Unit(device_unit), ureg.Unit(park_unit)
        if src.dimensionless or dst.dimensionless:
            return None
        zero = ureg.Quantity(0.0, src).to(dst).magnitude
        one = ureg.Quantity(1.0, src).to(dst).magnitude
    except (pint.errors.PintError, ValueError, TypeError, AttributeError):
        return None  # unknown to pint (pH, Nm3/h...) or a different dimension
    offset = 0.0 if abs(zero) < 1e-12 * max(1.0, abs(one)) else float(zero)
    # 15 digits: 0.06, not pint's 0.06000000000000001 (exact factors compare equal in tests)
    return Conversion(float(f"{one - zero:.15g}"), float(f"{offset:.15g}"))


class FactorTable:
    """``(device unit, park unit) -> factor`` for pure-factor conversions (no offset).

    What the sensor-node build (``edge/node/build.py``) compiles into its scale: the firmware
    applies ``raw * scale + offset`` per value and is only handed factors.
    """

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and self.get(key) is not None

    def __getitem__(self, key: tuple[str, str]) -> float:
        f = self.get(key)
        if f is None:
            raise KeyError(key)
        return f

    def get(self, key: tuple[str, str], default: float | None = None) -> float | None:
        c = conversion(*key)
        return c.factor if c is not None and c.offset == 0.0 else default
