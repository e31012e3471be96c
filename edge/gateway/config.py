"""Gateway configuration: buses, devices, OPC UA endpoints, broker, spool (YAML, validated).

A config is checked as a whole before anything starts: every device's profile must exist,
every mapped value must exist in that profile, every tag must exist in the park description,
units must match the park (or convert, see :mod:`edge.gateway.units`) for readings and for
setpoints alike, two devices on one serial line need distinct unit ids, and no secret may be
written inline (passwords come from ``password_env`` or ``password_file``, resolved by
:meth:`Resolved.check_secrets` before anything is created). Errors name the file, line and
field, e.g. ``gw.yaml:31:9: devices[1].tags.frequency: no tag 'grid.freq' ...``.
See ``edge/gateway/sample.yaml`` for a full example and ``docs/gateway.md`` for each field.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aisym.park import ParkView, load_view, park_view
from aisym.yamlfile import Loc, Problem
from edge.profiles import ConfigError, Float, Int, NoBool, Profile, Register, load_profile, parse_yaml_model, read_text

from .units import Conversion, FactorTable, conversion

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
TagId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,39}$")]
Seconds = Annotated[Float, Field(gt=0, le=86_400)]
Port = Annotated[Int, Field(ge=1, le=65535)]

#: (profile unit, park unit) -> factor, for conversions without an offset (pint, see units.py)
UNIT_FACTORS = FactorTable()


SECRET_KEYS = {"password", "passwd", "secret", "token", "key_password"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for k in data:
                if k in SECRET_KEYS:
                    raise ValueError(f"{k!r} must not be written in the config: use {k}_env (a variable name) or {k}_file")
        return data


class Credentials(_Model):
    """A user name and a password taken from the environment or a file, never inline.

    :param username: account name (not secret)
    :param password_env: name of the environment variable holding the password
    :param password_file: path of a file holding the password (first line; mode 0600 advised)
    """

    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Credentials:
        if self.password_env and self.password_file:
            raise ValueError("give password_env or password_file, not both")
        return self

    def password(self) -> str | None:
        """Resolve the password now (at start, so a missing secret fails before polling).

        Raises :class:`SecretError` naming the variable or the file.
        """
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise SecretError("password_env", f"environment variable {self.password_env} is not set")
            if not value:
                raise SecretError("password_env", f"environment variable {self.password_env} is empty")
            return value
        if self.password_file:
            try:
                lines = self.password_file.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                raise SecretError("password_file", f"password file {self.password_file} does not exist") from None
            except (OSError, UnicodeDecodeError) as e:
                raise SecretError("password_file", f"cannot read password file {self.password_file}: {e}") from None
            if not lines or not lines[0].strip():
                raise SecretError("password_file", f"password file {self.password_file} is empty")
            return lines[0].strip()
        return None


class SecretError(ValueError):
    """A password variable is unset or a password file is missing.

    :param field: ``password_env`` or ``password_file``
    :param reason: what is wrong, naming the variable or the file
    """

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class Tls(_Model):
    """:param ca_file: CA certificate that signed the broker's certificate
    :param cert_file: client certificate (mutual TLS), optional
    :param key_file: client key, optional
    """

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None


class Broker(Credentials):
    """MQTT broker and publishing window.

    :param host: broker host name or address
    :param port: TCP port (8883 for TLS by convention)
    :param tls: TLS settings; None for a plain connection (loopback/testing only)
    :param keepalive_s: MQTT keep-alive in seconds; a silent link is declared dead after 1.5x
    :param window: most QoS 1 messages in flight (paho breaks past 65k pending: keep 50-500)
    :param batch: most readings per telemetry message
    :param client_id: MQTT client id; defaults to the node id
    """

    host: str = "127.0.0.1"
    port: Port = 8883
    tls: Tls | None = None
    keepalive_s: Annotated[Int, Field(ge=5, le=3600)] = 30
    window: Annotated[Int, Field(ge=1, le=1000)] = 100
    batch: Annotated[Int, Field(ge=1, le=1000)] = 100
    client_id: str | None = None


class Spool(_Model):
    """SQLite store-and-forward spool.

    :param path: database file (on the Pi: on the SD card or, better, a USB SSD)
    :param max_readings: bound; the oldest readings are dropped (and counted) past it
    :param fsync: ``full`` fsyncs every commit (survives power loss, the default); ``normal``
        fsyncs at WAL checkpoints only (survives a process crash, may lose the last commits on
        power loss, wears the SD card less)
    """

    path: Path = Path("/var/lib/aisym/gateway-spool.db")
    max_readings: Annotated[Int, Field(ge=100, le=100_000_000)] = 2_000_000
    fsync: Literal["full", "normal"] = "full"


class TcpBus(_Model):
    type: Literal["tcp"]
    host: str
    port: Port = 502
    timeout_s: Seconds = 1.0


class SerialBus(_Model):
    type: Literal["serial"]
    port: str
    baudrate: Annotated[Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200], NoBool] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Annotated[Literal[1, 2], NoBool] = 1
    bytesize: Annotated[Literal[7, 8], NoBool] = 8
    timeout_s: Seconds = 0.5


Bus = Annotated[TcpBus | SerialBus, Field(discriminator="type")]
BUS_TYPES = frozenset({"tcp", "serial"})


class ModbusIdentity(_Model):
    """What a Modbus device must say it is, read with Read Device Identification (0x2B/0x0E) at
    every (re)connection; a device that says otherwise is refused (nothing it answers is stored).

    :param vendor: VendorName (object 0x00)
    :param product_code: ProductCode (object 0x01)
    :param serial: the first private object, 0x80 (Modbus defines no serial-number object; the
        simulated plant and many devices put it there)
    """

    vendor: str | None = None
    product_code: str | None = None
    serial: str | None = None

    @model_validator(mode="after")
    def _something(self) -> ModbusIdentity:
        if self.vendor is None and self.product_code is None and self.serial is None:
            raise ValueError("give at least one of vendor, product_code, serial")
        return self

    def fields(self) -> dict[str, str]:
        """The fields given, by name."""
        return {k: v for k, v in (("vendor", self.vendor), ("product_code", self.product_code), ("serial", self.serial))
                if v is not None}


class OpcUaIdentity(_Model):
    """What an OPC UA server must say it is: its ApplicationUri (``ServerArray[0]``), read at every
    (re)connection; a server that says otherwise is refused.

    :param application_uri: e.g. ``urn:aisym:plant:kraakoya:electrolyser``
    """

    application_uri: Annotated[str, Field(min_length=1)]


class TagMap(_Model):
    """Where one profile value goes: ``tag`` in the park, with an optional explicit ``scale``."""

    tag: TagId
    scale: Float | None = None


class Device(_Model):
    """One Modbus device on a bus.

    :param id: device name used in logs, health counters and the CLI
    :param bus: key of ``buses``
    :param profile: profile id in ``hardware/devices`` (or the config's ``profiles_dir``)
    :param unit_id: Modbus unit (device) id, 1-247 (0 is broadcast, refused)
    :param poll_s: seconds between polls
    :param max_backoff_s: longest wait between attempts to reach a device that does not answer
    :param tags: profile value name -> park tag (``frequency: grid.frequency``) or a TagMap
    :param identity: what the device must say it is (see :class:`ModbusIdentity`); none: not checked
    """

    id: Id
    bus: str
    profile: str
    unit_id: Annotated[Int, Field(ge=1, le=247)]
    poll_s: Seconds = 5.0
    max_backoff_s: Seconds = 60.0
    tags: dict[str, TagId | TagMap]
    identity: ModbusIdentity | None = None

    @field_validator("tags")
    @classmethod
    def _some_tags(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not v:
            raise ValueError("map at least one profile value to a park tag")
        return v

    def tag_maps(self) -> dict[str, TagMap]:
        return {k: v if isinstance(v, TagMap) else TagMap(tag=v) for k, v in self.tags.items()}


class OpcNode(_Model):
    """:param node_id: OPC UA node id string (``ns=2;s=Stack.Temp``)
    :param tag: park tag it feeds
    :param writable: setpoints for ``tag`` are written to this node
    """

    node_id: str
    tag: TagId
    writable: bool = False


class OpcUaEndpoint(Credentials):
    """One OPC UA server, read through a subscription.

    :param id: endpoint name
    :param url: ``opc.tcp://host:port/path``
    :param publishing_ms: subscription publishing interval in ms
    :param timeout_s: request timeout; the session is rebuilt (and subscriptions restored) after it
    :param max_backoff_s: longest wait between reconnect attempts
    :param nodes: nodes mapped to park tags
    :param identity: what the server must say it is (see :class:`OpcUaIdentity`); none: not checked
    """

    id: Id
    url: Annotated[str, Field(pattern=r"^opc\.tcp://")]
    publishing_ms: Annotated[Int, Field(ge=10, le=3_600_000)] = 1000
    timeout_s: Seconds = 4.0
    max_backoff_s: Seconds = 30.0
    nodes: Annotated[list[OpcNode], Field(min_length=1)]
    identity: OpcUaIdentity | None = None


class Setpoints(_Model):
    """Setpoint handling.

    :param silence_s: when no valid command arrived for this long, each controllable tag
        returns to its park ``control.safe_default``; None disables the fallback
    :param writes: park tag -> ``<device>.<profile value>`` of a writable Modbus register
    :param time_scale: plant seconds per wall second: 1 on a real plant; a simulated plant run
        faster (``aisym plant --speed``) sets its speed, so ramp-rate limits count plant seconds
    """

    silence_s: Seconds | None = 900.0
    writes: dict[TagId, str] = {}
    time_scale: Annotated[float, Field(gt=0, le=1e6)] = 1.0


class GatewayConfig(_Model):
    """The whole gateway config. See the module docstring."""

    node: Id
    park: Id
    park_file: Path | None = None
    profiles_dir: Path | None = None
    broker: Broker = Broker()
    spool: Spool = Spool()
    health_period_s: Seconds = 30.0
    # Mark readings ts_synced=false while the kernel says the clock is unsynchronised (a Pi
    # before NTP); false trusts the clock (e.g. a PLC network without NTP but with an RTC).
    clock_check: bool = True
    buses: dict[Id, Bus] = {}
    devices: list[Device] = []
    opcua: list[OpcUaEndpoint] = []
    setpoints: Setpoints = Setpoints()


class Resolved:
    """A validated config with its park and profiles loaded (what the gateway runs on)."""

    def __init__(self, config: GatewayConfig, park: ParkView, profiles: dict[str, Profile], source: str):
        self.config = config
        self.park = park
        self.profiles = profiles
        self.source = source

    def profile_of(self, device: Device) -> Profile:
        return self.profiles[device.profile]

    def conversion(self, device: Device, value: str, tag: str | None = None) -> Conversion:
        """Profile unit -> park unit of one value: the mapping's explicit ``scale``, else the units.

        :param device: the device entry
        :param value: the profile value name
        :param tag: the park tag (a setpoint target); default: the tag ``value`` is mapped to
        """
        tm = device.tag_maps().get(value)
        if tm is not None and tm.scale is not None and tag in (None, tm.tag):
            return Conversion(tm.scale)
        tag = tag or (tm.tag if tm else None)
        if tag is None:
            raise KeyError(f"{device.id}.{value} is not mapped to a park tag")
        c = conversion(self.profiles[device.profile].register(value).unit, self.park.tags[tag].unit)
        if c is None:  # validation refuses this; never write or publish in the wrong unit
            raise ValueError(f"{device.id}.{value}: no conversion to {tag}'s unit")
        return c

    def factor(self, device: Device, value: str) -> float:
        """Multiplier from the profile's unit to the park tag's unit for one mapped value."""
        return self.conversion(device, value).factor

    def write_target(self, tag: str) -> tuple[Device, Register, Conversion]:
        """The device, register and conversion a setpoint for ``tag`` is written through."""
        dev_id, _, value = self.config.setpoints.writes[tag].partition(".")
        dev = next(d for d in self.config.devices if d.id == dev_id)
        return dev, self.profiles[dev.profile].register(value), self.conversion(dev, value, tag)

    def check_secrets(self) -> None:
        """Resolve every password now; raise :class:`ConfigError` naming the field and the
        variable or file at fault (``aisym gateway run`` calls this before creating anything)."""
        problems = []
        sources: list[tuple[Loc, Credentials]] = [(("broker",), self.config.broker)]
        sources += [(("opcua", i), ep) for i, ep in enumerate(self.config.opcua)]
        for loc, cred in sources:
            try:
                cred.password()
            except SecretError as e:
                problems.append(Problem((*loc, e.field), e.reason))
        if problems:
            raise ConfigError(self.source, problems, "gateway config (secrets)")


def _problems(cfg: GatewayConfig, park: ParkView, profiles: dict[str, Profile | str]) -> Iterable[tuple[Loc, str]]:
    if cfg.park != park.park.id:
        yield ("park",), f"the park description is {park.park.id!r}, not {cfg.park!r}"
    fed: dict[str, Loc] = {}

    def tag_problem(tag: str, loc: Loc) -> Iterable[tuple[Loc, str]]:
        if tag not in park.tags:
            asset = tag.split(".")[0]
            hint = (
                f"{asset} has: {', '.join(t.split('.')[1] for t in park.tags if t.startswith(asset + '.'))}"
                if asset in park.assets
                else f"assets: {', '.join(park.assets)}"
            )
            yield loc, f"no tag {tag!r} in park {park.park.id}; {hint}"
        elif tag in fed:
            yield loc, f"tag {tag!r} is already fed by {'.'.join(str(p) for p in fed[tag])}"
        fed.setdefault(tag, loc)

    ids: set[str] = set()
    yield from _device_problems(cfg, park, profiles, ids, tag_problem)
    yield from _unit_id_problems(cfg)
    for ei, ep in enumerate(cfg.opcua):
        if ep.id in ids:
            yield ("opcua", ei, "id"), f"id {ep.id!r} is already used by a device"
        ids.add(ep.id)
        for ni, node in enumerate(ep.nodes):
            yield from tag_problem(node.tag, ("opcua", ei, "nodes", ni, "tag"))
    yield from _setpoint_problems(cfg, park, profiles)


def _device_problems(
    cfg: GatewayConfig,
    park: ParkView,
    profiles: dict[str, Profile | str],
    ids: set[str],
    tag_problem: Callable[[str, Loc], Iterable[tuple[Loc, str]]],
) -> Iterable[tuple[Loc, str]]:
    for di, dev in enumerate(cfg.devices):
        base: Loc = ("devices", di)
        if dev.id in ids:
            yield (*base, "id"), f"device id {dev.id!r} is used twice"
        ids.add(dev.id)
        if dev.bus not in cfg.buses:
            yield (*base, "bus"), f"no bus {dev.bus!r}; buses: {', '.join(cfg.buses) or '(none)'}"
        prof = profiles.get(dev.profile)
        if isinstance(prof, str):
            yield (*base, "profile"), prof
            continue
        assert prof is not None
        for value, tm in dev.tag_maps().items():
            loc: Loc = (*base, "tags", value)
            if value not in prof.names:
                yield loc, f"profile {prof.id} has no value {value!r}; it has: {', '.join(prof.names)}"
                continue
            yield from tag_problem(tm.tag, loc)
            if tm.tag in park.tags and tm.scale is None:
                unit, want = prof.register(value).unit, park.tags[tm.tag].unit
                if conversion(unit, want) is None:
                    yield loc, f"{value} is in {unit} but {tm.tag} in {want}: give an explicit scale"


def _unit_id_problems(cfg: GatewayConfig) -> Iterable[tuple[Loc, str]]:
    # On one RS485 line both devices would answer the same request (a garbled reply at best).
    seen: dict[tuple[str, int], int] = {}
    for di, dev in enumerate(cfg.devices):
        if not isinstance(cfg.buses.get(dev.bus), SerialBus):
            continue
        first = seen.setdefault((dev.bus, dev.unit_id), di)
        if first != di:
            other = cfg.devices[first].id
            yield ("devices", di, "unit_id"), f"unit id {dev.unit_id} is already used on serial bus {dev.bus} by {other}"


def _setpoint_problems(cfg: GatewayConfig, park: ParkView, profiles: dict[str, Profile | str]) -> Iterable[tuple[Loc, str]]:
    devices = {d.id: d for d in cfg.devices}
    opc_writable = {n.tag for ep in cfg.opcua for n in ep.nodes if n.writable}
    for tag, target in cfg.setpoints.writes.items():
        loc: Loc = ("setpoints", "writes", tag)
        if tag not in park.tags or park.tags[tag].control is None:
            controllable = [t for t, v in park.tags.items() if v.control is not None]
            yield loc, f"{tag!r} is not a controllable tag of the park; controllable: {', '.join(controllable)}"
            continue
        if tag in opc_writable:
            yield loc, f"{tag} is already written through OPC UA"
        dev_id, _, value = target.partition(".")
        dev = devices.get(dev_id)
        prof = profiles.get(dev.profile) if dev else None
        if dev is None or not isinstance(prof, Profile):
            yield loc, f"no device {dev_id!r}; write targets are <device>.<profile value>"
        elif value not in prof.names:
            yield loc, f"profile {prof.id} has no value {value!r}"
        elif prof.register(value).write_fc is None:
            yield loc, f"{prof.id}.{value} is read-only (no write_fc in the profile)"
        else:
            yield from _setpoint_unit_problems(loc, tag, park, dev, prof.register(value), prof.id)
    for ei, ep in enumerate(cfg.opcua):
        for ni, node in enumerate(ep.nodes):
            if node.writable and (node.tag not in park.tags or park.tags[node.tag].control is None):
                yield ("opcua", ei, "nodes", ni, "writable"), f"{node.tag} has no control section in the park"


def park_limits(reg: Register, conv: Conversion) -> tuple[float, float]:
    """A writable register's ``min``/``max`` (device unit) in the park unit, as (low, high)."""
    a = conv.to_park(reg.min if reg.min is not None else -math.inf)
    b = conv.to_park(reg.max if reg.max is not None else math.inf)
    return min(a, b), max(a, b)  # a negative factor swaps the ends


def _setpoint_unit_problems(
    loc: Loc, tag: str, park: ParkView, dev: Device, reg: Register, prof_id: str
) -> Iterable[tuple[Loc, str]]:
    """A setpoint is written in the register's unit: the park unit must convert to it (or the
    device's mapping of that value gives an explicit scale), and the device limits must leave
    room for the park's range and safe default."""
    spec = park.tags[tag]
    tm = dev.tag_maps().get(reg.name)
    if tm is not None and tm.scale is not None and tm.tag == tag:
        conv: Conversion | None = Conversion(tm.scale)
    else:
        conv = conversion(reg.unit, spec.unit)
    if conv is None:
        yield loc, (
            f"{tag} is in {spec.unit} but {prof_id}.{reg.name} in {reg.unit}: no conversion; "
            f"if the device really takes {spec.unit}, map {reg.name} to {tag} with an explicit scale"
        )
        return
    if reg.min is None and reg.max is None:
        return
    lo, hi = park_limits(reg, conv)
    assert spec.control is not None
    if not lo <= spec.control.safe_default <= hi:
        yield loc, (
            f"the safe default {spec.control.safe_default:g} {spec.unit} of {tag} is outside the limits "
            f"[{lo:g}, {hi:g}] {spec.unit} of {prof_id}.{reg.name}: the fallback would be refused"
        )
    elif max(lo, spec.min) >= min(hi, spec.max):
        yield loc, f"the limits of {prof_id}.{reg.name} leave nothing of {tag}'s range [{spec.min:g}, {spec.max:g}]"


def parse_config(text: str, source: str = "<string>", park: Any = None) -> Resolved:
    """Validate config text against its park (a view, a ``ParkGraph`` or v1 ``Park``, or its ``park_file``) and
    profiles. Raises :class:`ConfigError`."""
    base = Path(source).parent if source != "<string>" else Path.cwd()
    cfg = parse_yaml_model(text, source, GatewayConfig, what="gateway config", tags=BUS_TYPES)
    if park is None:
        park_file = cfg.park_file if cfg.park_file is None or cfg.park_file.is_absolute() else base / cfg.park_file
        park = load_view(park_file)  # v1 or v2
    park = park_view(park)
    search = []
    if cfg.profiles_dir is not None:
        search.append(cfg.profiles_dir if cfg.profiles_dir.is_absolute() else base / cfg.profiles_dir)
    profiles: dict[str, Profile | str] = {}
    for dev in cfg.devices:
        if dev.profile not in profiles:
            try:
                profiles[dev.profile] = load_profile(dev.profile, search)
            except ConfigError as e:
                profiles[dev.profile] = str(e).replace("\n", " ")
    loaded = {k: v for k, v in profiles.items() if isinstance(v, Profile)}
    # Re-run with the checks now that park and profiles are known (errors located in the YAML).
    cfg = parse_yaml_model(
        text, source, GatewayConfig, lambda c: _problems(c, park, profiles), what="gateway config", tags=BUS_TYPES
    )
    return Resolved(cfg, park, loaded, source)


def load_config(path: str | Path, park: Any = None) -> Resolved:
    """Load and validate a gateway config file. Raises :class:`ConfigError`."""
    path = Path(path)
    return parse_config(read_text(path, "gateway config"), str(path), park)
