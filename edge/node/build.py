"""``aisym node build``: a node YAML + the park description + device profiles -> config.json.

The node YAML names what is wired to the board and which park tag each input feeds
(``edge/node/sample.yaml``). The build checks every tag against the park (units come from the
park, so a reading can never carry another unit than the ingestor expects), compiles the RS485
device profiles of ``hardware/devices/`` into the compact block form the firmware's Modbus
master reads (``[fc, address, count, [[word offset, type, order, scale, offset, channel], ...]]``),
and takes secrets from the environment, never from the YAML. Errors name file, line and field.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from aisym.park import ParkView, load_view, park_view
from edge.gateway.config import UNIT_FACTORS, _Model
from edge.profiles import ConfigError, Loc, Profile, load_profile, parse_yaml_model, plan_reads, read_text

FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "firmware"
TagId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,39}$")]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Pin = Annotated[int, Field(ge=0, le=48)]


def _firmware_module(name: str):
    """Load a pure firmware module (it imports only ``time``) so the tools use the node's own code."""
    spec = importlib.util.spec_from_file_location(f"_aisym_firmware_{name}", FIRMWARE_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The ROM check uses the firmware's CRC-8, so a code the tool accepts is one the node accepts.
_crc8 = _firmware_module("ds18b20").crc8


class Wifi(_Model):
    ssid: str = ""
    password_env: str = ""


class Mqtt(_Model):
    """Broker settings. ``ca_file`` (PEM or DER on this machine) is converted to DER for the device."""

    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 8883
    tls: bool = True
    ca_file: Path | None = None
    server_hostname: str = ""
    username: str = ""
    password_env: str = ""
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 60
    batch: Annotated[int, Field(ge=1, le=1000)] = 10


class Ntp(_Model):
    host: str = "pool.ntp.org"
    resync_s: Annotated[int, Field(ge=60)] = 3600


class Ds18b20(_Model):
    kind: Literal["ds18b20"]
    tag: TagId
    pin: Pin
    rom: Annotated[str, Field(pattern=r"^28[0-9a-f]{14}$")]

    @model_validator(mode="after")
    def _crc(self) -> Ds18b20:
        b = bytes.fromhex(self.rom)
        if _crc8(b[:7]) != b[7]:
            raise ValueError(f"ROM {self.rom}: CRC byte should be {_crc8(b[:7]):02x} (a typo in the ROM code?)")
        return self


class Analog(_Model):
    """4-20 mA / 0-10 V input. ``cal``: two measured points [[raw counts, engineering value], ...]."""

    kind: Literal["analog"]
    tag: TagId
    pin: Pin
    signal: Literal["4-20mA", "0-10V"] = "4-20mA"
    cal: Annotated[list[tuple[float, float]], Field(min_length=2, max_length=2)]

    @model_validator(mode="after")
    def _distinct(self) -> Analog:
        if self.cal[0][0] == self.cal[1][0]:
            raise ValueError("the two calibration points need different raw values")
        return self


class Pulse(_Model):
    kind: Literal["pulse"]
    tag: TagId
    pin: Pin
    per_pulse: Annotated[float, Field(gt=0)]
    debounce_ms: Annotated[float, Field(ge=0, le=1000)] = 5
    measure: Literal["rate", "total"] = "rate"
    per_hour: bool = True


class Fake(_Model):
    """A bench signal (value + step x n) for a node on the desk."""

    kind: Literal["fake"]
    tag: TagId
    value: float = 0.0
    step: float = 0.0


Channel = Annotated[Ds18b20 | Analog | Pulse | Fake, Field(discriminator="kind")]


class Rs485Device(_Model):
    profile: str
    addr: Annotated[int, Field(ge=1, le=247)]
    timeout_ms: Annotated[int, Field(ge=10, le=5000)] = 200
    turnaround_ms: Annotated[int, Field(ge=0, le=1000)] = 5
    tags: dict[str, TagId]


class Rs485(_Model):
    uart: int = 1
    tx: Pin = 17
    rx: Pin = 16
    de: Pin | None = 4
    baud: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    parity: Literal[None, 0, 1] = None
    stop: Literal[1, 2] = 1
    devices: list[Rs485Device] = Field(default_factory=list)


class NodeSpec(_Model):
    """A sensor node: board, network, and the inputs wired to it."""

    node: Id
    park: Id = "kraakoya"
    board: Literal["esp32_devkitc", "pico_w"] = "esp32_devkitc"
    sample_s: Annotated[float, Field(gt=0, le=86_400)] = 10
    deep_sleep_s: Annotated[float, Field(ge=0)] = 0
    watchdog_ms: Annotated[int, Field(ge=0, le=8388)] = 8000
    led_pin: Pin = 2
    wifi: Wifi = Wifi()
    mqtt: Mqtt
    ntp: Ntp = Ntp()
    buffer_segments: Annotated[int, Field(ge=2, le=2000)] = 180
    channels: list[Channel] = Field(default_factory=list)
    rs485: Rs485 = Rs485()


def _pin_problems(spec: NodeSpec) -> Iterable[tuple[Loc, str]]:
    """Two inputs on one pin (DS18B20 probes may share their 1-Wire bus)."""
    pins: dict[int, Loc] = {spec.led_pin: ("led_pin",)}
    if spec.rs485.devices:
        for key in ("tx", "rx", "de"):
            pin = getattr(spec.rs485, key)
            if pin is not None:
                pins.setdefault(pin, ("rs485", key))
    for i, ch in enumerate(spec.channels):
        pin = getattr(ch, "pin", None)
        if pin is None:
            continue
        used = pins.setdefault(pin, ("channels", i, "pin"))
        shared_bus = isinstance(ch, Ds18b20) and used[0] == "channels" and isinstance(spec.channels[int(used[1])], Ds18b20)
        if used != ("channels", i, "pin") and not shared_bus:
            yield ("channels", i, "pin"), f"pin {pin} is already used by {'.'.join(map(str, used))}"


def _problems(spec: NodeSpec, park: ParkView, profiles: dict[str, Profile | str]) -> Iterable[tuple[Loc, str]]:
    if spec.park != park.park.id:
        yield ("park",), f"the park description is {park.park.id!r}, not {spec.park!r}"
    seen: dict[str, Loc] = {}

    def tag_ok(tag: str, loc: Loc) -> Iterable[tuple[Loc, str]]:
        if tag not in park.tags:
            yield loc, f"no tag {tag!r} in park {park.park.id}"
        elif tag in seen:
            yield loc, f"tag {tag!r} is already fed by {'.'.join(map(str, seen[tag]))}"
        seen.setdefault(tag, loc)

    for i, ch in enumerate(spec.channels):
        yield from tag_ok(ch.tag, ("channels", i, "tag"))
    yield from _pin_problems(spec)
    if spec.board == "pico_w" and spec.watchdog_ms > 8388:
        yield ("watchdog_ms",), "the RP2040 watchdog allows at most 8388 ms"
    for di, dev in enumerate(spec.rs485.devices):
        prof = profiles[dev.profile]
        if isinstance(prof, str):
            yield ("rs485", "devices", di, "profile"), prof
            continue
        for name, tag in dev.tags.items():
            loc: Loc = ("rs485", "devices", di, "tags", name)
            if name not in prof.names:
                yield loc, f"profile {prof.id} has no value {name!r}; it has: {', '.join(prof.names)}"
                continue
            yield from tag_ok(tag, loc)
            if prof.register(name).field_mask is not None:  # the firmware decodes whole registers only
                yield loc, f"{prof.id}.{name} is a bit field (bits/mask): the node firmware cannot read it, use the gateway"
                continue
            unit = prof.register(name).unit
            if tag in park.tags and unit != park.tags[tag].unit and (unit, park.tags[tag].unit) not in UNIT_FACTORS:
                yield loc, f"{prof.id}.{name} is in {unit!r} and {tag} in {park.tags[tag].unit!r}: no conversion known"


def load_node(path: Path, park: Any = None) -> tuple[NodeSpec, ParkView, dict[str, Profile]]:
    """Parse and check a node YAML. Raises :class:`edge.profiles.ConfigError` naming file:line: field."""
    park = park_view(park or load_view())  # the shipped park when none is given
    text = read_text(path, "node config")
    profiles: dict[str, Profile | str] = {}

    def checks(spec: NodeSpec) -> Iterable[tuple[Loc, str]]:
        for dev in spec.rs485.devices:
            try:
                profiles[dev.profile] = load_profile(dev.profile)
            except ConfigError as e:
                profiles[dev.profile] = str(e).splitlines()[-1].strip()
        return _problems(spec, park, profiles)

    spec = parse_yaml_model(
        text, str(path), NodeSpec, checks, what="node config", tags=frozenset(["ds18b20", "analog", "pulse", "fake"])
    )
    return spec, park, {k: v for k, v in profiles.items() if isinstance(v, Profile)}


def _secret(var: str, what: str) -> str:
    if not var:
        return ""
    value = os.environ.get(var)
    if value is None:
        raise ValueError(f"{what}: environment variable {var} is not set (secrets never go in the node YAML)")
    return value


def _compile_device(
    dev: Rs485Device, prof: Profile, park: ParkView, first_channel: int
) -> tuple[dict[str, Any], list[list[str]]]:
    names = list(dev.tags)
    regs = [prof.register(n) for n in names]
    channels = [[dev.tags[n], park.tags[dev.tags[n]].unit] for n in names]
    blocks = []
    for block in plan_reads(regs, prof.max_block, prof.max_gap):
        points = []
        for r in block.registers:
            tag = dev.tags[r.name]
            factor = 1.0 if r.unit == park.tags[tag].unit else UNIT_FACTORS[(r.unit, park.tags[tag].unit)]
            order = ("b" if r.byte_order == "big" else "l") + ("b" if r.word_order == "big" else "l")
            points.append(
                [
                    r.address - block.address,
                    r.type,
                    order,
                    r.scale * factor,
                    r.offset * factor,
                    first_channel + names.index(r.name),
                ]
            )
        blocks.append([block.fc, block.address, block.count, points])
    return {"addr": dev.addr, "timeout_ms": dev.timeout_ms, "turnaround_ms": dev.turnaround_ms, "blocks": blocks}, channels


def build_config(spec: NodeSpec, park: ParkView, profiles: dict[str, Profile], version: str = "0.1.0") -> dict[str, Any]:
    """The device's config.json (a dict) for a checked node spec."""
    channels: list[dict[str, Any]] = []
    for ch in spec.channels:
        c = ch.model_dump(exclude_none=True)
        c["unit"] = park.tags[ch.tag].unit
        c["min"], c["max"] = park.tags[ch.tag].min, park.tags[ch.tag].max
        if isinstance(ch, Analog):
            (r1, e1), (r2, e2) = ch.cal
            c["cal"] = [r1, e1, r2, e2]
        if isinstance(ch, Ds18b20):
            c["rom"] = ch.rom
        channels.append(c)
    devices = []
    for dev in spec.rs485.devices:
        compiled, chans = _compile_device(dev, profiles[dev.profile], park, len(channels))
        channels += [{"tag": t, "unit": u, "kind": "modbus", "min": park.tags[t].min, "max": park.tags[t].max}
                     for t, u in chans]
        devices.append(compiled)
    m = spec.mqtt
    rs = spec.rs485.model_dump(exclude={"devices"})
    return {
        "park": spec.park,
        "node": spec.node,
        "version": version,
        "sample_s": spec.sample_s,
        "deep_sleep_s": spec.deep_sleep_s,
        "watchdog_ms": spec.watchdog_ms,
        "led_pin": spec.led_pin,
        "wifi": {"ssid": spec.wifi.ssid, "password": _secret(spec.wifi.password_env, "wifi.password_env")},
        "mqtt": {
            "host": m.host,
            "port": m.port,
            "tls": m.tls,
            "ca": "ca.der" if m.ca_file else "",
            "server_hostname": m.server_hostname,
            "user": m.username or spec.node,
            "password": _secret(m.password_env, "mqtt.password_env"),
            "keepalive_s": m.keepalive_s,
            "batch": m.batch,
        },
        "ntp": {"host": spec.ntp.host, "resync_s": spec.ntp.resync_s},
        "buffer": {"segments": spec.buffer_segments},
        "rs485": {**rs, "devices": devices},
        "channels": channels,
    }


def ca_der(path: Path) -> bytes:
    """The CA certificate as DER (MicroPython's mbedTLS does not take PEM files)."""
    import ssl

    data = path.read_bytes()
    return ssl.PEM_cert_to_DER_cert(data.decode()) if b"-----BEGIN" in data else data


def write_build(spec: NodeSpec, park: ParkView, profiles: dict[str, Profile], out: Path, base: Path = Path(".")) -> list[Path]:
    """Write config.json (and ca.der) into ``out``; returns the files written.

    :param base: folder a relative ``mqtt.ca_file`` is relative to (the node YAML's folder)
    """
    out.mkdir(parents=True, exist_ok=True)
    cfg = build_config(spec, park, profiles)
    files = [out / "config.json"]
    files[0].write_text(json.dumps(cfg, indent=1))
    if spec.mqtt.ca_file:
        (out / "ca.der").write_bytes(ca_der(base / spec.mqtt.ca_file))
        files.append(out / "ca.der")
    return files
