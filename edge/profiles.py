"""Device profiles: the Modbus register map of one product, reused by every identical device.

A profile is a template. It names each value the product offers (``total_active_power``) and how
to read it; which park tag a value feeds (``grid.import_power``) is decided per installed device
in the gateway config (``edge/gateway/config.py``) or the sensor-node deploy step. Profiles live
in ``hardware/devices/<id>.yaml``, one product per file::

    id: eastron_sdm630                 # must equal the file name
    manufacturer: Eastron
    model: SDM630 Modbus V2
    datasheet: "Eastron SDM630 Modbus V2 protocol, 2016"
    defaults: {byte_order: big, word_order: big}   # optional, applied to every register
    max_block: 125                     # optional: most registers this device answers in one read
    max_gap: 0                         # optional: unused registers a merged read may span
    registers:
      - {name: total_active_power, fc: 4, address: 52, type: float32, unit: W}
      - {name: setpoint, fc: 3, address: 10, type: int16, scale: 0.1, unit: degC, write_fc: 6}

Per register:

- ``fc``: the read function code: 1 coils, 2 discrete inputs (``type: bit``), 3 holding and
  4 input registers.
- ``address``: the 0-based protocol address (register 40001 of a manual is address 0).
- ``type``: ``bit``, ``int16``, ``uint16``, ``int32``, ``uint32``, ``int64``, ``uint64``,
  ``float32`` or ``float64``; 1, 1, 1, 2, 2, 4, 4, 2, 4 registers.
- ``byte_order`` within each 16-bit register and ``word_order`` among registers: ``big`` (most
  significant first, the Modbus default) or ``little``. ``word_order: little`` is the common
  "CDAB" float; ``byte_order: little`` with ``word_order: little`` is "DCBA".
- ``scale`` and ``offset``: ``value = raw * scale + offset``, in ``unit``.
- ``write_fc``: absent for read-only values; 5 (single coil), 6 (single register, 16-bit types
  only) or 16 (multiple registers) for setpoints. A writable value is read back with ``fc``.
- ``min`` / ``max`` (writable values only, in ``unit``): what the device accepts (a PLC setpoint
  that takes only 40-85 degC); the gateway enforces them on top of the park tag's bounds.
- ``bits`` (``3`` or ``"4-6"``, inclusive) or ``mask`` (``0x0070``): one field of a 16-bit
  status word (``type: uint16``, fc 3 or 4, read-only), ``value = (word & mask) >> lowest bit``;
  several fields may share one register when their bits do not overlap.
- ``stale_after_s``: a value that has not changed for this long signals a fault (a PLC
  heartbeat counter that stopped); it is then published with quality ``stale``.

Values may not overlap (a float32 at 10 and an int16 at 11 is a typo), except bit fields of one
register with disjoint masks, and bit fields next to the whole word they come from. Numbers are
strict: ``address: true`` is refused, not read as 1.

:func:`decode` and :func:`encode` are plain ``struct`` code so the MicroPython firmware can
mirror them exactly; errors name the file, line and field (``sdm630.yaml:14:5: registers[2].type``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

# Reused, not copied: the park loader's line-aware YAML handling gives profiles and gateway
# configs the same error format as park files.
from aisym.yamlfile import DocumentError, Loc, Problem
from aisym.yamlfile import parse_yaml_model as _parse_yaml_model

DataType = Literal["bit", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
Order = Literal["big", "little"]

#: registers taken by each data type
WIDTH: dict[str, int] = {
    "bit": 1,
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "int64": 4,
    "uint64": 4,
    "float32": 2,
    "float64": 4,
}
_STRUCT = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "uint64": "Q",
    "float32": "f",
    "float64": "d",
}
MAX_READ = {1: 2000, 2: 2000, 3: 125, 4: 125}  # Modbus spec limits per request (coils, registers)
PROFILE_DIR = Path(__file__).resolve().parent.parent / "hardware" / "devices"

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _no_bool(v: Any) -> Any:
    # YAML's true/false would otherwise pass as 1/0 (bool is an int subclass in Python).
    if isinstance(v, bool):
        raise ValueError(f"a number is required, not the boolean {str(v).lower()}")
    return v


NoBool = BeforeValidator(_no_bool)
#: strict numbers for every numeric field of profiles and configs: no bool, no "3", no 1.0 for an int
Int = Annotated[int, Strict(), NoBool]
Float = Annotated[float, Strict(), NoBool, Field(allow_inf_nan=False)]


class ConfigError(DocumentError):
    """A profile or gateway config failed to load. ``problems`` holds each finding with its line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Register(_Model):
    """One value of a device.

    :param name: the profile's name for the value (lower case), mapped to a park tag per device
    :param fc: read function code 1, 2, 3 or 4
    :param address: 0-based protocol address (manual register 30001/40001 is address 0)
    :param type: data type; fixes the number of registers (see :data:`WIDTH`)
    :param byte_order: order of the two bytes in each register
    :param word_order: order of the registers of a 32/64-bit value
    :param scale: multiplier applied to the raw value
    :param offset: added after scaling, in ``unit``
    :param unit: engineering unit after scaling (the park's spelling: ``kW``, ``degC``, ``m3/h``)
    :param write_fc: 5, 6 or 16 when the value is a setpoint; None when read-only
    :param min: lowest value the device accepts (writable values, in ``unit``)
    :param max: highest value the device accepts (writable values, in ``unit``)
    :param bits: bit field of a uint16: one bit (``3``) or an inclusive range (``"4-6"``)
    :param mask: bit field of a uint16 as a mask (``0x0070``); give ``bits`` or ``mask``
    :param stale_after_s: an unchanged value for this long is published ``stale``
    :param description: what the datasheet calls it
    """

    name: Name
    fc: Annotated[Literal[1, 2, 3, 4], NoBool]
    address: Annotated[Int, Field(ge=0, le=65535)]
    type: DataType
    byte_order: Order = "big"
    word_order: Order = "big"
    scale: Float = 1.0
    offset: Float = 0.0
    unit: Annotated[str, Field(min_length=1, max_length=16)] = "1"
    write_fc: Annotated[Literal[5, 6, 16], NoBool] | None = None
    min: Float | None = None
    max: Float | None = None
    bits: Annotated[Int, Field(ge=0, le=15)] | Annotated[str, Field(pattern=r"^\d{1,2}-\d{1,2}$")] | None = None
    mask: Annotated[Int, Field(ge=1, le=0xFFFF)] | None = None
    stale_after_s: Annotated[Float, Field(gt=0, le=86_400 * 30)] | None = None
    description: str = ""

    @property
    def count(self) -> int:
        """Registers (or bits) this value occupies."""
        return WIDTH[self.type]

    @property
    def end(self) -> int:
        """First address after this value."""
        return self.address + self.count

    @property
    def field_mask(self) -> int | None:
        """The bit mask of a bit field (``bits`` or ``mask``); None for a whole value."""
        if self.mask is not None:
            return self.mask
        if self.bits is None:
            return None
        lo, _, hi = str(self.bits).partition("-")
        lo_i, hi_i = int(lo), int(hi or lo)
        return ((1 << (hi_i - lo_i + 1)) - 1) << lo_i

    @model_validator(mode="after")
    def _consistent(self) -> Register:
        self._check_field_and_limits()
        bits = self.fc in (1, 2)
        if bits != (self.type == "bit"):
            raise ValueError(
                f"fc {self.fc} reads {'bits' if bits else 'registers'}; "
                + ("use type: bit" if bits else "type 'bit' needs fc 1 or 2")
            )
        if self.end > 65536:
            raise ValueError(f"{self.type} at address {self.address} runs past address 65535")
        if self.scale == 0:
            raise ValueError("scale 0 would make every value equal to offset")
        if self.write_fc is not None:
            if self.write_fc == 5 and self.fc != 1:
                raise ValueError("write_fc 5 writes a coil: the value must be read with fc 1")
            if self.write_fc in (6, 16) and self.fc != 3:
                raise ValueError(f"write_fc {self.write_fc} writes holding registers: read it back with fc 3")
            if self.write_fc == 6 and self.count != 1:
                raise ValueError(f"write_fc 6 writes one register; a {self.type} takes {self.count}, use write_fc 16")
        return self

    def _check_field_and_limits(self) -> None:
        if self.bits is not None or self.mask is not None:
            if self.bits is not None and self.mask is not None:
                raise ValueError("give bits or mask, not both")
            if isinstance(self.bits, str):
                lo, hi = (int(x) for x in self.bits.split("-"))
                if not lo < hi <= 15:
                    raise ValueError(f"bits {self.bits!r}: a range is low-high within 0-15, low first")
            if self.fc not in (3, 4) or self.type != "uint16":
                raise ValueError("a bit field (bits/mask) is part of a 16-bit register: use fc 3 or 4 and type uint16")
            if self.write_fc is not None:
                raise ValueError("a bit field is read-only: writing it would overwrite its neighbours in the word")
        if self.min is not None or self.max is not None:
            if self.write_fc is None:
                raise ValueError("min/max limit a setpoint: the value needs a write_fc")
            if self.min is not None and self.max is not None and not self.min < self.max:
                raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")


class Defaults(_Model):
    byte_order: Order = "big"
    word_order: Order = "big"


class Profile(_Model):
    """The register map of one product.

    :param id: profile id, equal to the file name without ``.yaml``
    :param manufacturer: maker's name
    :param model: product and protocol version the map is valid for
    :param datasheet: title/version of the public document the map was taken from
    :param max_block: most registers (or bits x 16) the device answers in one request (<= 125)
    :param max_gap: unused registers one merged read may span; 0 merges only touching values
        (many devices answer exception 2 for a read over an undefined address)
    :param registers: the values, see :class:`Register`
    """

    id: Name
    manufacturer: str
    model: str
    datasheet: str = ""
    notes: str = ""
    defaults: Defaults = Defaults()
    max_block: Annotated[Int, Field(ge=1, le=125)] = 125
    max_gap: Annotated[Int, Field(ge=0, le=124)] = 0
    registers: Annotated[list[Register], Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        # Profile-wide byte/word order fill registers that do not state their own.
        if isinstance(data, dict) and isinstance(data.get("defaults"), dict) and isinstance(data.get("registers"), list):
            dflt = {k: v for k, v in data["defaults"].items() if k in ("byte_order", "word_order")}
            data = {**data, "registers": [{**dflt, **r} if isinstance(r, dict) else r for r in data["registers"]]}
        return data

    def register(self, name: str) -> Register:
        for r in self.registers:
            if r.name == name:
                return r
        raise KeyError(f"profile {self.id!r} has no register {name!r}; it has: {', '.join(r.name for r in self.registers)}")

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.registers]


def _profile_problems(profile: Profile, source: str) -> Iterable[tuple[Loc, str]]:
    seen: dict[str, int] = {}
    for i, r in enumerate(profile.registers):
        if r.name in seen:
            yield ("registers", i, "name"), f"{r.name!r} is already defined at registers[{seen[r.name]}]"
        seen.setdefault(r.name, i)
    yield from _overlaps(profile)
    stem = Path(source).stem
    if source.endswith((".yaml", ".yml")) and stem != profile.id:
        yield ("id",), f"id {profile.id!r} must equal the file name {stem!r}"


def _shares(a: Register, b: Register) -> bool:
    """True when two values may use the same register: bit fields with disjoint masks, or a
    bit field next to the whole 16-bit word it is taken from."""
    ma, mb = a.field_mask, b.field_mask
    if ma is None and mb is None:
        return False
    if ma is not None and mb is not None:
        return a.address == b.address and not ma & mb
    whole = a if ma is None else b
    return whole.count == 1 and a.address == b.address


def _overlaps(profile: Profile) -> Iterable[tuple[Loc, str]]:
    # fc 1/2/3/4 are four separate tables; within one, two values may not claim the same address.
    by_fc: dict[int, list[tuple[int, Register]]] = {}
    for i, r in enumerate(profile.registers):
        by_fc.setdefault(r.fc, []).append((i, r))
    for items in by_fc.values():
        for k, (i, r) in enumerate(items):
            for j, other in items[:k]:
                if r.address < other.end and other.address < r.end and not _shares(r, other):
                    what = f"{other.type} at {other.address}-{other.end - 1}"
                    yield ("registers", i, "address"), f"overlaps registers[{j}] ({other.name}, {what}, fc {other.fc})"
                    break


# ---------------------------------------------------------------- YAML with located errors
M = TypeVar("M", bound=BaseModel)


_NOT_FIELDS = ("function-", "tagged-")


def parse_yaml_model(
    text: str,
    source: str,
    model: type[M],
    checks: Callable[[M], Iterable[tuple[Loc, str]]] | None = None,
    what: str = "file",
    context: dict[str, Any] | None = None,
    tags: frozenset[str] = frozenset(),
) -> M:
    """:func:`aisym.yamlfile.parse_yaml_model` raising :class:`ConfigError` (profiles, gateway and node configs)."""
    return _parse_yaml_model(text, source, model, checks, what, context, tags, error=ConfigError)


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), [Problem((), "file not found")], what) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(str(path), [Problem((), f"cannot read: {e}")], what) from None


def parse_profile(text: str, source: str = "<string>") -> Profile:
    """Parse and validate one profile document. Raises :class:`ConfigError`."""
    return parse_yaml_model(text, source, Profile, lambda p: _profile_problems(p, source), what="device profile")


def load_profile(name_or_path: str | Path, search: Sequence[Path] = ()) -> Profile:
    """Load a profile by id (looked up in ``search`` then ``hardware/devices/``) or by file path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        for folder in (*search, PROFILE_DIR):
            cand = Path(folder) / f"{name_or_path}.yaml"
            if cand.exists():
                path = cand
                break
        else:
            known = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))
            problem = Problem((), f"no such device profile; shipped profiles: {known}")
            raise ConfigError(str(name_or_path), [problem], "device profile")
    return parse_profile(read_text(path, "device profile"), source=str(path))


def shipped_profiles() -> dict[str, Profile]:
    """Every profile in ``hardware/devices/``, by id."""
    return {p.stem: load_profile(p) for p in sorted(PROFILE_DIR.glob("*.yaml"))}


# ---------------------------------------------------------------- decoding and encoding
def _to_bytes(regs: Sequence[int], reg: Register) -> bytes:
    words = list(regs) if reg.word_order == "big" else list(reversed(regs))
    fmt = ">" if reg.byte_order == "big" else "<"
    return b"".join(struct.pack(fmt + "H", w & 0xFFFF) for w in words)


def raw_value(regs: Sequence[int], reg: Register) -> float | int:
    """The unscaled number held by ``regs`` (exactly ``reg.count`` words, or one bit)."""
    if reg.type == "bit":
        return 1 if regs[0] else 0
    if len(regs) != reg.count:
        raise ValueError(f"{reg.name}: {reg.type} needs {reg.count} registers, got {len(regs)}")
    raw = struct.unpack(">" + _STRUCT[reg.type], _to_bytes(regs, reg))[0]
    mask = reg.field_mask
    if mask is not None:
        raw = (raw & mask) >> ((mask & -mask).bit_length() - 1)
    return raw


def decode(regs: Sequence[int], reg: Register) -> float:
    """Engineering value of ``reg`` from its raw registers: ``raw * scale + offset``.

    Raises ValueError for a float register holding NaN or infinity (a device's "no value").
    """
    raw = raw_value(regs, reg)
    value = raw * reg.scale + reg.offset
    if not math.isfinite(value):
        raise ValueError(f"{reg.name}: the device returned {raw!r}")
    return float(value)


def encode(value: float, reg: Register) -> list[int]:
    """Registers (or ``[bit]``) that make the device hold ``value`` in engineering units.

    Raises ValueError when the scaled value does not fit the data type.
    """
    raw = (value - reg.offset) / reg.scale
    if reg.type == "bit":
        return [1 if raw >= 0.5 else 0]
    code = _STRUCT[reg.type]
    if reg.type.startswith("float"):
        packed = struct.pack(">" + code, raw)
    else:
        n = round(raw)
        bits = 8 * struct.calcsize(code)
        lo, hi = (0, 2**bits - 1) if reg.type.startswith("uint") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if not lo <= n <= hi:
            raise ValueError(f"{reg.name}: {value} {reg.unit} is raw {n}, outside {reg.type} [{lo}, {hi}]")
        packed = struct.pack(">" + code, n)
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, len(packed), 2)]
    if reg.byte_order == "little":
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return words if reg.word_order == "big" else list(reversed(words))


# ---------------------------------------------------------------- merged reads
class Block(_Model):
    """One read request covering several values: ``fc``, ``address``, ``count``."""

    fc: int
    address: int
    count: int
    registers: tuple[Register, ...]


def plan_reads(registers: Iterable[Register], max_block: int = 125, max_gap: int = 0) -> list[Block]:
    """Merge values into as few requests as the device allows.

    Values with the same function code are merged when they touch (or are at most ``max_gap``
    registers apart) and the request stays within ``max_block`` registers (x16 bits for fc 1/2,
    capped by the Modbus limits of 125 registers / 2000 bits).
    """
    blocks: list[Block] = []
    by_fc: dict[int, list[Register]] = {}
    for r in registers:
        by_fc.setdefault(r.fc, []).append(r)
    for fc in sorted(by_fc):
        limit = min(MAX_READ[fc], max_block * 16 if fc in (1, 2) else max_block)
        regs = sorted(by_fc[fc], key=lambda r: (r.address, r.count))
        start, end, members = regs[0].address, regs[0].end, [regs[0]]
        for r in regs[1:]:
            new_end = max(end, r.end)
            if r.address - end <= max_gap and new_end - start <= limit:
                end, members = new_end, [*members, r]
            else:
                blocks.append(Block(fc=fc, address=start, count=end - start, registers=tuple(members)))
                start, end, members = r.address, r.end, [r]
        blocks.append(Block(fc=fc, address=start, count=end - start, registers=tuple(members)))
    return blocks


class BlockDecoder:
    """Decodes a whole response of ``block`` at once (the gateway's hot path).

    Same results as :func:`decode` per value (the tests hold them to it), but the common layout,
    big-endian bytes and words, is read with one precompiled :class:`struct.Struct` per value from
    the response packed once, which makes decoding negligible next to the Modbus round trip.
    """

    def __init__(self, block: Block):
        self.block = block
        self._pack = struct.Struct(f">{block.count}H")
        self._items: list[tuple[Register, int, struct.Struct | None]] = []
        for r in block.registers:
            fast = r.type != "bit" and r.byte_order == "big" and r.word_order == "big" and r.field_mask is None
            self._items.append((r, r.address - block.address, struct.Struct(">" + _STRUCT[r.type]) if fast else None))

    def __call__(self, words: Sequence[int]) -> list[tuple[Register, float | None, str]]:
        """``(register, value, error)`` per value; value is None and error says why for NaN/inf."""
        out: list[tuple[Register, float | None, str]] = []
        buf = self._pack.pack(*words) if self.block.fc in (3, 4) else b""
        for reg, off, st in self._items:
            if st is not None:
                value = st.unpack_from(buf, 2 * off)[0] * reg.scale + reg.offset
                if value != value or value in (math.inf, -math.inf):
                    out.append((reg, None, f"{reg.name}: the device returned {value!r}"))
                else:
                    out.append((reg, float(value), ""))
                continue
            try:
                out.append((reg, decode(words[off : off + reg.count], reg), ""))
            except ValueError as e:
                out.append((reg, None, str(e)))
        return out


def split_block(block: Block, words: Sequence[int]) -> dict[str, Sequence[int]]:
    """The raw words (or bits) of each value of ``block`` from its response."""
    return {r.name: words[r.address - block.address : r.end - block.address] for r in block.registers}
