"""Versioned JSON payloads of the telemetry contract, and their one validator.

Every producer (gateway, firmware tests, controller) and consumer (ingestor, controller)
goes through these models, so a field cannot mean two things. Decoding never raises anything
but :class:`PayloadError`, whose message names the field at fault.

Example telemetry message (``v`` is the contract version)::

    {"v": 1, "park": "kraakoya", "node": "gw-plantroom", "sent": 1732370000123,
     "readings": [{"tag": "heat_store.temp_top", "value": 61.2, "unit": "degC",
                   "ts": 1732370000000, "quality": "good", "seq": 1041}]}
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

VERSION = 1
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_READINGS = 1000
#: counters in one health message: each name is an InfluxDB field of ``node_health`` (20 messages of
#: 5,000 names made 100,000 fields and took influxd from 41 to 810 MiB). A gateway reports about 30
#: of its own plus 4 per device and 2 per OPC UA endpoint: 256 covers 50 devices.
MAX_HEALTH_COUNTERS = 256
# 2000-01-01 .. 2100-01-01 in ms: anything outside is a clock or unit bug (seconds sent as ms...)
TS_MIN_MS = 946_684_800_000
TS_MAX_MS = 4_102_444_800_000
#: how far ahead of its arrival a timestamp may be by default (clock skew of an NTP-synced node is far less)
MAX_AHEAD_MS = 300_000
_BOMS = ((b"\xef\xbb\xbf", "a UTF-8 byte-order mark (BOM)"), (b"\xff\xfe", "a UTF-16/32 BOM"), (b"\xfe\xff", "a UTF-16 BOM"))

# out_of_range (contract v1, added with issue 10): a value outside its tag's stated min/max,
# carried so that the operator sees it; old consumers that know three qualities must add it.
Quality = Literal["good", "stale", "comm_error", "out_of_range"]
QUALITIES: tuple[str, ...] = ("good", "stale", "comm_error", "out_of_range")

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
TagId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,39}$")]
TsMs = Annotated[int, Field(ge=TS_MIN_MS, le=TS_MAX_MS)]
Seq = Annotated[int, Field(ge=0, lt=2**63)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class PayloadError(ValueError):
    """A message that breaks the contract. ``field`` is the path at fault (``readings[2].ts``).

    ``code`` sorts the reasons: ``too_large``, ``bad_encoding`` (not UTF-8, a BOM, UTF-16),
    ``bad_json`` (syntax, nesting too deep), ``invalid`` (the schema), ``future_ts``; consumers
    add their own (the ingestor: ``topic``, ``park``, ``ownership``, ``conflict``...).
    """

    def __init__(self, field: str, reason: str, code: str = "invalid"):
        self.field = field
        self.reason = reason
        self.code = code
        super().__init__(f"{field}: {reason}" if field else reason)


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Reading(_Msg):
    """One value of one tag at one instant."""

    tag: TagId
    value: Finite | None
    unit: Annotated[str, Field(min_length=1, max_length=16)]
    ts: TsMs
    quality: Quality
    seq: Seq
    # False when the node's clock was not yet synced; ts is then the node's best estimate.
    ts_synced: bool = True

    @model_validator(mode="after")
    def _value_matches_quality(self) -> Reading:
        if self.quality in ("good", "out_of_range") and self.value is None:
            raise ValueError(f"a {self.quality!r} reading needs a value")
        if self.quality == "comm_error" and self.value is not None:
            raise ValueError("a 'comm_error' reading carries no value (null): old values must not look fresh")
        return self


class Telemetry(_Msg):
    v: Literal[1]
    park: Id
    node: Id
    readings: Annotated[list[Reading], Field(min_length=1, max_length=MAX_READINGS)]
    sent: TsMs | None = None

    @model_validator(mode="after")
    def _seq_increases(self) -> Telemetry:
        for i in range(1, len(self.readings)):
            if self.readings[i].seq <= self.readings[i - 1].seq:
                raise ValueError(
                    f"@readings[{i}].seq: {self.readings[i].seq} does not increase (previous {self.readings[i - 1].seq})"
                )
        return self


class Setpoint(_Msg):
    tag: TagId
    value: Finite


class Command(_Msg):
    """Setpoints for one node, valid for ``ttl_s`` seconds after ``ts``."""

    v: Literal[1]
    id: Annotated[str, Field(min_length=1, max_length=64)]
    ts: TsMs
    setpoints: Annotated[list[Setpoint], Field(min_length=1, max_length=100)]
    ttl_s: Annotated[float, Field(gt=0, le=86_400)] = 900.0
    source: Annotated[str, Field(max_length=64)] = ""


class AckResult(_Msg):
    tag: TagId
    status: Literal["applied", "rejected", "failed"]
    reason: Annotated[str, Field(max_length=256)] = ""
    readback: Finite | None = None


class Ack(_Msg):
    v: Literal[1]
    id: Annotated[str, Field(min_length=1, max_length=64)]
    node: Id
    ts: TsMs
    results: list[AckResult]


class Status(_Msg):
    """Birth message (``online``) and last will (``offline``), retained on the status topic."""

    v: Literal[1]
    node: Id
    state: Literal["online", "offline"]
    ts: TsMs | None = None
    role: Literal["gateway", "sensor_node", "ingestor", "controller"] = "gateway"
    version: Annotated[str, Field(max_length=32)] = ""


class Health(_Msg):
    """Counters a node or service reports about itself (``queued``, ``sent``, ``dropped``...).

    At most :data:`MAX_HEALTH_COUNTERS` counters, each named ``[a-z][a-z0-9_]{0,47}``; the ingestor
    also limits the distinct names one node may introduce over time (each is a field for good).
    """

    v: Literal[1]
    node: Id
    ts: TsMs
    counters: Annotated[
        dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")], Finite], Field(max_length=MAX_HEALTH_COUNTERS)
    ]


def _decode(model: type[_Msg], data: bytes | str) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError("", f"payload of {len(raw)} bytes exceeds {MAX_PAYLOAD_BYTES}", "too_large")
    obj = _json_object(raw)
    if obj.get("v") != VERSION:
        raise PayloadError("v", f"unsupported contract version {_short(obj.get('v'))}; this build speaks v{VERSION}")
    try:
        # validate_python, not _json: json.loads already turned NaN/Infinity into floats we must refuse
        return model.model_validate(obj)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown field"
        elif first["type"] != "missing" and not isinstance(first.get("input"), dict | list):
            msg += f" (got {_short(first.get('input'))})"
        if msg.startswith("@"):  # a model-level check that names its own field
            sub, msg = msg[1:].split(": ", 1)
            path = f"{path}.{sub}".lstrip(".")
        more = f" (+{e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise PayloadError(path if len(path) <= 200 else path[:197] + "...", msg + more) from None
    except RecursionError:
        raise PayloadError("", "not JSON: nesting too deep", "bad_json") from None


def _json_object(raw: bytes) -> dict:
    """Strict UTF-8 (no BOM, no UTF-16/32: ``json.loads`` of bytes would guess those) to a JSON object."""
    for bom, what in _BOMS:
        if raw.startswith(bom):
            raise PayloadError("", f"payload starts with {what}: the contract is UTF-8 without BOM", "bad_encoding")
    nul = raw.find(b"\x00")
    if nul >= 0:  # JSON text never holds a raw NUL; UTF-16/32 text of ASCII is full of them
        raise PayloadError("", f"NUL byte at offset {nul}: UTF-16/32 or binary, the contract is UTF-8", "bad_encoding")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PayloadError("", f"not UTF-8: {e}", "bad_encoding") from None
    try:
        obj = json.loads(text)
    except RecursionError:
        raise PayloadError("", "not JSON: nesting too deep", "bad_json") from None
    except ValueError as e:  # JSONDecodeError, and an integer of over 4,300 digits (int_max_str_digits)
        raise PayloadError("", f"not JSON: {e}", "bad_json") from None
    if not isinstance(obj, dict):
        raise PayloadError("", f"a message is a JSON object, not {type(obj).__name__}", "bad_json")
    return obj


def _short(value: Any, limit: int = 80) -> str:
    """``repr`` cut to ``limit`` characters: a reason must not carry a 200 KB string along."""
    try:
        r = repr(value)
    except RecursionError:
        r = f"<{type(value).__name__} nested too deep>"
    return r if len(r) <= limit else r[: limit - 3] + "..."


def check_not_ahead(ts_ms: int | None, received_ms: int, field: str, max_ahead_ms: int = MAX_AHEAD_MS) -> None:
    """Refuse a timestamp more than ``max_ahead_ms`` after the message's arrival (a clock or unit bug).

    :raises PayloadError: code ``future_ts``, naming ``field``
    """
    if ts_ms is not None and ts_ms - received_ms > max_ahead_ms:
        ahead = (ts_ms - received_ms) / 1000
        limit = f"at most {max_ahead_ms / 1000:g} s allowed"
        raise PayloadError(field, f"{ts_ms} is {ahead:.0f} s ahead of its arrival at {received_ms}; {limit}", "future_ts")


def check_times(msg: Telemetry | Health | Status, received_ms: int, max_ahead_ms: int = MAX_AHEAD_MS) -> None:
    """:func:`check_not_ahead` for every timestamp of a message (``readings[i].ts``, ``sent``, ``ts``)."""
    if isinstance(msg, Telemetry):
        check_not_ahead(msg.sent, received_ms, "sent", max_ahead_ms)
        if max(r.ts for r in msg.readings) - received_ms > max_ahead_ms:  # the common case costs one pass
            for i, r in enumerate(msg.readings):
                check_not_ahead(r.ts, received_ms, f"readings[{i}].ts", max_ahead_ms)
    else:
        check_not_ahead(msg.ts, received_ms, "ts", max_ahead_ms)


def decode_telemetry(data: bytes | str) -> Telemetry:
    return _decode(Telemetry, data)


def decode_command(data: bytes | str) -> Command:
    return _decode(Command, data)


def decode_ack(data: bytes | str) -> Ack:
    return _decode(Ack, data)


def decode_status(data: bytes | str) -> Status:
    return _decode(Status, data)


def decode_health(data: bytes | str) -> Health:
    return _decode(Health, data)


def encode(msg: _Msg) -> bytes:
    """Compact JSON of a message (defaults left out, so firmware and gateway output match)."""
    return msg.model_dump_json(exclude_defaults=True).encode()


def now_ms() -> int:
    return time.time_ns() // 1_000_000
