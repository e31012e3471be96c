"""The telemetry contract: MQTT topics, JSON payloads (v1) and their InfluxDB mapping.

See ``docs/contract.md`` for the tables. This package is the one encoder/validator that the
gateway, the firmware tests, the ingestor and the controller all use.
"""

from . import topics
from .lineprotocol import PRECISION, check_against_park, health_points, point, telemetry_points
from .payload import (
    MAX_AHEAD_MS,
    MAX_PAYLOAD_BYTES,
    MAX_READINGS,
    QUALITIES,
    VERSION,
    Ack,
    AckResult,
    Command,
    Health,
    PayloadError,
    Reading,
    Setpoint,
    Status,
    Telemetry,
    check_not_ahead,
    check_times,
    decode_ack,
    decode_command,
    decode_health,
    decode_status,
    decode_telemetry,
    encode,
    now_ms,
)

__all__ = [
    "MAX_AHEAD_MS",
    "MAX_PAYLOAD_BYTES",
    "MAX_READINGS",
    "PRECISION",
    "QUALITIES",
    "VERSION",
    "Ack",
    "AckResult",
    "Command",
    "Health",
    "PayloadError",
    "Reading",
    "Setpoint",
    "Status",
    "Telemetry",
    "check_against_park",
    "check_not_ahead",
    "check_times",
    "decode_ack",
    "decode_command",
    "decode_health",
    "decode_status",
    "decode_telemetry",
    "encode",
    "health_points",
    "now_ms",
    "point",
    "telemetry_points",
    "topics",
]
