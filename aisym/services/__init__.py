"""Run the real Mosquitto and InfluxDB as plain local processes (no systemd, no containers).

Used by ``scripts/services.sh`` (``aisym services up|down|status``) for a developer's or a demo's
stack under ``.aisym/services/``, and by the pytest fixtures for each test session.
"""

from ._proc import free_port, port_open, stop_pid
from .influxdb import InfluxDB
from .mosquitto import AclRule, Mosquitto, park_acl
from .stack import Stack

__all__ = ["AclRule", "InfluxDB", "Mosquitto", "Stack", "free_port", "park_acl", "port_open", "stop_pid"]
