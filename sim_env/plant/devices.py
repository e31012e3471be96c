"""The plant's devices: which register map serves which tags, and the registers' contents.

Each asset of the park becomes one or more devices. Where a gateway config for the park (the
``devices`` file, e.g. ``edge/gateway/sample.yaml`` for Kråkøya) names a shipped profile for some
of an asset's tags, a device with that profile serves them, with the same value -> tag mapping
and unit conversions the gateway will use. The asset's remaining tags get a generated profile
``plant_<asset>``, written out in the format of ``hardware/devices`` (so a technician reads it
and the gateway loads it from ``profiles_dir``):

- measured tags: input registers (fc 4) from address 0, ``float32`` in the tag's unit, two
  registers each, in the park's tag order; ``energy`` counters ``uint32`` kWh-style (whole units,
  as meters count); ``state`` tags discrete inputs (fc 2);
- setpoints: holding registers (fc 3) from address 0, ``float32``, written with fc 16, ``min``
  and ``max`` the tag's park bounds (a write outside them is refused with exception 3).

:class:`Image` holds a device's registers as words and bits and encodes values into them as
their register types say (a float32 rounds to 24 bits, an int16 x 0.01 to hundredths; an
integer past its type's range saturates, as a meter's display does).
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edge.gateway.config import Resolved
from edge.gateway.units import Conversion
from edge.profiles import Profile, Register, encode, raw_value

from .signals import Signals

# fc of a table -> what it holds; writes arrive as fc 5/15 (coils) and 6/16 (holding)
BIT_TABLES = (1, 2)


@dataclass
class Value:
    """One register of a device and the park tag it carries.

    :param reg: the register
    :param tag: the park tag (None: a value of a shipped profile the park has no tag for)
    :param conv: device unit <-> park unit of ``tag``
    :param setpoint: the tag is controllable (the register is written by the gateway)
    """

    reg: Register
    tag: str | None
    conv: Conversion = field(default_factory=Conversion)
    setpoint: bool = False


@dataclass
class Device:
    """One simulated device.

    :param id: device id (as the gateway config names it)
    :param asset: the park asset it belongs to
    :param profile: its register map
    :param values: the registers it serves
    :param generated: the profile was generated from the asset's tags (written under ``--out``)
    :param transport: ``tcp``, ``rtu`` or ``opcua``
    :param unit_id: Modbus unit id
    :param port: TCP port (``tcp``), 0 until the plant assigns one
    :param mapping: value -> tag mapping as the gateway config writes it (explicit scales kept)
    """

    id: str
    asset: str
    profile: Profile
    values: list[Value]
    generated: bool
    transport: str = "tcp"
    unit_id: int = 1
    port: int = 0
    mapping: dict[str, object] = field(default_factory=dict)


def safe_id(text: str) -> str:
    """``text`` as a profile/device id (lower case letters, digits, ``_``)."""
    out = re.sub(r"[^a-z0-9_]", "_", text.lower())
    return out if out[:1].isalpha() else f"d_{out}"


def generated_profile(asset: str, tags: list[str], signals: Signals, park_tags: dict) -> Profile:
    """The register map of an asset's tags (see the module docstring)."""
    regs: list[dict] = []
    inp = hold = bit = 0
    for t in tags:
        spec = park_tags[t]
        name = t.split(".", 1)[1]
        if spec.control is not None:
            act = signals.actuators.get(t)
            why = (f"the twin's action {act.name} (full scale {act.full:g} {act.action_unit})" if act
                   else "held by the device: " + signals.unwired.get(t, "no action"))
            regs.append({"name": name, "fc": 3, "address": hold, "type": "float32", "unit": spec.unit, "write_fc": 16,
                         "min": float(spec.min), "max": float(spec.max), "description": f"setpoint; drives {why}"})
            hold += 2
        elif spec.quantity == "state":
            regs.append({"name": name, "fc": 2, "address": bit, "type": "bit", "unit": "1",
                         "description": signals.measures[t].source})
            bit += 1
        else:
            kind = "uint32" if spec.quantity == "energy" else "float32"
            regs.append({"name": name, "fc": 4, "address": inp, "type": kind, "unit": spec.unit,
                         "description": signals.measures[t].source})
            inp += 2
    return Profile.model_validate({
        "id": safe_id(f"plant_{asset}"), "manufacturer": "AISYM plant (simulated)",
        "model": f"{asset} of the compiled twin", "datasheet": "docs/plant.md, generated from the park's tags",
        "registers": regs})


def profile_yaml(profile: Profile, park_id: str) -> str:
    """A generated profile as a ``hardware/devices`` file (with a header saying where it came from)."""
    body = profile.model_dump(mode="json", exclude_defaults=True)
    for r in body["registers"]:
        r.pop("byte_order", None)
        r.pop("word_order", None)
    head = (f"# Generated by `aisym plant` for park {park_id}: the register map of one simulated device.\n"
            "# Input registers (fc 4) hold measurements, holding registers (fc 3) setpoints, discrete inputs\n"
            "# (fc 2) states; addresses are 0-based; each description says what the twin computes.\n")
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=120)


def from_devices_file(resolved: Resolved) -> list[Device]:
    """Devices named by a gateway config (shipped profiles), with the gateway's own conversions."""
    out = []
    for d in resolved.config.devices:
        prof = resolved.profile_of(d)
        maps = d.tag_maps()
        values = []
        for reg in prof.registers:
            tm = maps.get(reg.name)
            if tm is None:
                values.append(Value(reg, None))
                continue
            spec = resolved.park.tags[tm.tag]
            values.append(Value(reg, tm.tag, resolved.conversion(d, reg.name), spec.control is not None))
        mapping = {k: (v if isinstance(v, str) else v.model_dump(exclude_none=True)) for k, v in d.tags.items()}
        out.append(Device(d.id, tm_asset(maps), prof, values, False, mapping=mapping))
    return out


def tm_asset(maps: dict) -> str:
    """The asset most of a device's mapped tags belong to."""
    assets = [tm.tag.split(".", 1)[0] for tm in maps.values()]
    return max(sorted(set(assets)), key=assets.count)


def generated_device(asset: str, tags: list[str], signals: Signals, park_tags: dict) -> Device:
    """A device for ``tags`` of ``asset`` with a generated profile."""
    prof = generated_profile(asset, tags, signals, park_tags)
    values = []
    for reg, t in zip(prof.registers, tags, strict=True):
        values.append(Value(reg, t, Conversion(), park_tags[t].control is not None))
    return Device(asset[:40], asset, prof, values, True, mapping={r.name: t for r, t in zip(prof.registers, tags,
                                                                                              strict=True)})


def _limits(reg: Register) -> tuple[int, int]:
    bits = 16 * reg.count
    return (0, 2**bits - 1) if reg.type.startswith("uint") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def words_of(value: float, reg: Register) -> list[int]:
    """``value`` (device unit) as ``reg``'s words, saturating integers at their type's range."""
    if reg.type == "bit":
        return [1 if value >= 0.5 else 0]
    if not reg.type.startswith("float"):
        lo, hi = _limits(reg)
        raw = min(max(round((value - reg.offset) / reg.scale), lo), hi)
        value = raw * reg.scale + reg.offset
    if not math.isfinite(value):
        value = 0.0
    try:
        return encode(value, reg)
    except (ValueError, OverflowError, struct.error):  # a float32 past its range: the largest one
        return encode(math.copysign(3.4e38, value), reg)


class Image:
    """A device's registers: ``words[fc][address]`` (fc 3/4) and ``bits[fc][address]`` (fc 1/2).

    :param device: the device
    """

    def __init__(self, device: Device):
        self.device = device
        self.words: dict[int, dict[int, int]] = {3: {}, 4: {}}
        self.bits: dict[int, dict[int, int]] = {1: {}, 2: {}}
        for v in device.values:
            if v.reg.fc in BIT_TABLES:
                self.bits[v.reg.fc][v.reg.address] = 0
            else:
                for a in range(v.reg.address, v.reg.end):
                    self.words[v.reg.fc][a] = 0

    def put(self, v: Value, device_value: float) -> None:
        """Store ``device_value`` (in the register's unit) into ``v``'s registers."""
        reg = v.reg
        if reg.fc in BIT_TABLES:
            self.bits[reg.fc][reg.address] = words_of(device_value, reg)[0]
            return
        mask = reg.field_mask
        if mask is not None:  # a field of a status word: only its bits change
            low = (mask & -mask).bit_length() - 1
            old = self.words[reg.fc][reg.address]
            self.words[reg.fc][reg.address] = (old & ~mask) | ((round(device_value) << low) & mask)
            return
        for a, w in zip(range(reg.address, reg.end), words_of(device_value, reg), strict=True):
            self.words[reg.fc][a] = w

    def get(self, v: Value) -> float:
        """``v``'s value in its register's unit, decoded as the gateway decodes it."""
        reg = v.reg
        if reg.fc in BIT_TABLES:
            return float(self.bits[reg.fc][reg.address])
        return float(raw_value([self.words[reg.fc][a] for a in range(reg.address, reg.end)], reg)) * reg.scale + reg.offset

    def set_park(self, v: Value, park_value: float) -> None:
        """Store a value given in the park unit of ``v``'s tag."""
        self.put(v, v.conv.to_device(park_value))

    def park(self, v: Value) -> float:
        """``v``'s value in the park unit of its tag."""
        return v.conv.to_park(self.get(v))


def device_limits(v: Value, park_tags: dict) -> tuple[float, float]:
    """What a setpoint register accepts, in its own unit: the profile's ``min``/``max``, else the
    park tag's bounds converted (a PLC configured for this asset refuses beyond its range)."""
    spec = park_tags[v.tag] if v.tag else None
    lo = v.reg.min if v.reg.min is not None else (v.conv.to_device(spec.min) if spec else -math.inf)
    hi = v.reg.max if v.reg.max is not None else (v.conv.to_device(spec.max) if spec else math.inf)
    return min(lo, hi), max(lo, hi)


def write_profiles(devices: list[Device], folder: Path, park_id: str) -> list[Path]:
    """Write each generated profile to ``folder/<id>.yaml``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in devices:
        if d.generated:
            p = folder / f"{d.profile.id}.yaml"
            p.write_text(profile_yaml(d.profile, park_id), encoding="utf-8")
            paths.append(p)
    return paths
