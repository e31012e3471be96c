"""Run the real Mosquitto and InfluxDB as plain local processes (no systemd, no containers).

Used by ``scripts/services.sh`` (``aisym services up|down|status``) for a developer's or a demo's
stack under ``.aisym/services/``, and by the pytest fixtures for each test session.
"""

from ._proc import free_port, port_open, stop_pid
from .acl import AclRule, check_subscribe, may_publish, park_acl
from .influxdb import InfluxDB
from .mosquitto import MAX_PACKET_BYTES, Mosquitto
from .stack import Stack

__all__ = [
    "MAX_PACKET_BYTES",
    "AclRule",
    "InfluxDB",
    "Mosquitto",
    "Stack",
    "check_subscribe",
    "free_port",
    "may_publish",
    "park_acl",
    "port_open",
    "stop_pid",
]
