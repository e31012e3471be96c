"""Ingestor settings: command-line options over environment variables over defaults.

Secrets (passwords) come from ``AISYM_<NAME>`` or from the file named by ``AISYM_<NAME>_FILE``
(the Docker/Kubernetes secrets convention), never from the command line, where ``ps`` shows them.

| variable | meaning | default |
|---|---|---|
| ``AISYM_MQTT_HOST`` / ``AISYM_MQTT_PORT`` | broker | ``127.0.0.1`` / 1883 (8883 with a CA) |
| ``AISYM_MQTT_USER`` | broker account | ``ingest`` |
| ``AISYM_MQTT_PASSWORD`` or ``..._FILE`` | its password | required |
| ``AISYM_MQTT_CA_FILE`` | CA certificate: use TLS | none (plain MQTT) |
| ``AISYM_INFLUX_URL`` / ``AISYM_INFLUX_DB`` | InfluxDB v1 API | ``http://127.0.0.1:8086`` / ``aisym`` |
| ``AISYM_INFLUX_USER``, ``AISYM_INFLUX_PASSWORD`` or ``..._FILE`` | InfluxDB basic auth (write-only ``ingest``) | none |
| ``AISYM_INGEST_OWNERSHIP`` | ownership file: which node may report which tags | none |
| ``AISYM_INGEST_SERVICE_ACCOUNTS`` | accounts that are not nodes, comma-separated (plus our own) | ``ingest,controller`` |
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aisym.contract.payload import MAX_PAYLOAD_BYTES

from ..errors import ConfigError


def secret(name: str, env: Mapping[str, str] | None = None, required: bool = False) -> str | None:
    """The value of ``AISYM_<name>`` or the stripped content of the file ``AISYM_<name>_FILE``.

    :raises ConfigError: both are set, the file cannot be read, or a required secret is missing
    """
    from aisym.secret import SecretError
    from aisym.secret import secret as read

    try:
        return read(name, env, required)
    except SecretError as e:
        raise ConfigError(str(e)) from None


@dataclass
class IngestConfig:
    """Every setting of one ingestor instance.

    :param group: shared-subscription group: instances in one group split the park's messages;
        ``""`` (or ``none``) subscribes plainly, for a single instance. Mosquitto 2.0.11 does not
        restore a kept session's *shared* subscriptions after a broker restart: what a gateway
        flushes before the ingestor has subscribed again is lost (tested: 5 of 5 messages with a
        plain subscription, 0 of 5 with a shared one). A plain subscription is restored with the
        session, so a lone ingestor loses nothing across a broker restart.
    :param client_id: MQTT client id; must be stable across restarts (the broker keeps its session).
        A broker with ``use_username_as_clientid`` (``aisym services up``) uses ``mqtt_user`` instead:
        then each instance running at once needs its own account (``ingest``, ``ingest-2``)
    :param state_dir: folder of the SQLite state file (spill queue, dead letters)
    :param batch_points: flush a batch when it holds this many points
    :param linger_s: ... or when its oldest message has waited this long (s)
    :param receive_maximum: unacknowledged messages the broker may have in flight to us (MQTT v5)
    :param session_expiry_s: how long the broker keeps our session and queues messages while we are away (s)
    :param health_interval_s: period of the health series (s)
    :param gap_grace_s: how long a missing seq may wait for a late reading before it is a gap (s)
    :param detect_gaps: off on all but one instance of a shared group (each sees only a share)
    :param mqtt_max_packet: MQTT v5 Maximum Packet Size we announce in CONNECT (bytes): the
        contract's payload limit plus headers, a little above the broker's own limit
    :param dead_letter_max_bytes: cap of the dead-letter table; past it the oldest are pruned (and counted)
    :param dead_letter_prefix_bytes: payload bytes kept per dead letter (with the full size and sha256);
        telemetry refused for a reason a fix can undo (a clock ahead, a range...) is kept whole
    :param spill_max_bytes: cap of the spill queue (line protocol bytes, ~134 B a reading); past it
        the oldest batches are deleted, counted (``spill_dropped_points``) and logged
    :param max_health_names: distinct health counter names one node may report (each is an
        InfluxDB field for good); a health message with new names past it is dead-lettered
    :param max_ahead_s: how far ahead of its arrival a timestamp may be (s); later ones are refused
    :param conflict_window: seqs remembered per node to tell a replay from a conflicting duplicate
    :param ownership_file: YAML map node -> tags (cloud/ingest/ownership.py); None: any node, any tag
    :param service_accounts: accounts that are not nodes (besides ``mqtt_user``): no telemetry or health
    :param max_pending_bytes: payload bytes received but not yet decoded, past which paho's thread
        waits (up to 2 s a message) for the decode to catch up
    """

    park_file: Path | None = None
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_user: str = "ingest"
    mqtt_password: str = ""
    mqtt_ca_file: Path | None = None
    mqtt_max_packet: int = MAX_PAYLOAD_BYTES + 4096
    influx_url: str = "http://127.0.0.1:8086"
    influx_db: str = "aisym"
    influx_user: str | None = None
    influx_password: str | None = None
    group: str = "ingest"
    client_id: str = ""
    state_dir: Path = Path(".aisym/ingest")
    batch_points: int = 5000
    linger_s: float = 0.1
    receive_maximum: int = 1000
    session_expiry_s: int = 7 * 86400
    health_interval_s: float = 10.0
    gap_grace_s: float = 30.0
    detect_gaps: bool = True
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    write_timeout_s: float = 10.0
    dead_letter_max_bytes: int = 64 * 1024 * 1024
    dead_letter_prefix_bytes: int = 1024
    spill_max_bytes: int = 1024 * 1024 * 1024
    max_health_names: int = 512
    max_ahead_s: float = 300.0
    conflict_window: int = 16384
    ownership_file: Path | None = None
    service_accounts: tuple[str, ...] = ("ingest", "controller")
    max_pending_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.group.lower() == "none":
            self.group = ""
        if not self.client_id:
            # stable per host and group, so a restarted instance resumes its own session
            self.client_id = f"aisym-ingest-{self.group or 'plain'}-{socket.gethostname()}"[:64]
        if self.batch_points < 1:
            raise ConfigError(f"batch_points must be at least 1, not {self.batch_points}")
        if not 0 < self.linger_s <= 60:
            raise ConfigError(f"linger_s must be in (0, 60] s, not {self.linger_s}")
        if not 1 <= self.receive_maximum <= 65535:
            raise ConfigError(f"receive_maximum must be in 1..65535 (MQTT v5), not {self.receive_maximum}")
        self._check_payload_rules()

    def _check_payload_rules(self) -> None:
        if not 0 <= self.dead_letter_prefix_bytes <= 256 * 1024:
            raise ConfigError(f"dead_letter_prefix_bytes must be in 0..262144, not {self.dead_letter_prefix_bytes}")
        if self.dead_letter_max_bytes < 64 * 1024:
            raise ConfigError(f"dead_letter_max_bytes must be at least 65536 (64 KiB), not {self.dead_letter_max_bytes}")
        if not 0 <= self.max_ahead_s <= 86_400 * 366:
            raise ConfigError(f"max_ahead_s must be in [0, 1 year] s, not {self.max_ahead_s}")
        if self.spill_max_bytes < 1024 * 1024:
            raise ConfigError(f"spill_max_bytes must be at least 1048576 (1 MiB), not {self.spill_max_bytes}")
        if not 16 <= self.max_health_names <= 100_000:
            raise ConfigError(f"max_health_names must be in 16..100000, not {self.max_health_names}")
        if not 16 <= self.conflict_window <= 1 << 22:
            raise ConfigError(f"conflict_window must be in 16..4194304 seqs, not {self.conflict_window}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> IngestConfig:
        """Settings from ``AISYM_*`` variables; keyword ``overrides`` that are not None win."""
        env = os.environ if env is None else env
        ca = env.get("AISYM_MQTT_CA_FILE")
        port = env.get("AISYM_MQTT_PORT")
        try:
            port_n = int(port) if port else (8883 if ca else 1883)
        except ValueError:
            raise ConfigError(f"AISYM_MQTT_PORT={port!r} is not a port number") from None
        values: dict[str, object] = {
            "mqtt_host": env.get("AISYM_MQTT_HOST", "127.0.0.1"),
            "mqtt_port": port_n,
            "mqtt_user": env.get("AISYM_MQTT_USER", "ingest"),
            "mqtt_ca_file": Path(ca) if ca else None,
            "influx_url": env.get("AISYM_INFLUX_URL", "http://127.0.0.1:8086"),
            "influx_db": env.get("AISYM_INFLUX_DB", "aisym"),
            "influx_user": env.get("AISYM_INFLUX_USER"),
            "influx_password": secret("INFLUX_PASSWORD", env),
        }
        if env.get("AISYM_INGEST_OWNERSHIP"):
            values["ownership_file"] = Path(env["AISYM_INGEST_OWNERSHIP"])
        if env.get("AISYM_INGEST_SERVICE_ACCOUNTS"):
            values["service_accounts"] = tuple(a.strip() for a in env["AISYM_INGEST_SERVICE_ACCOUNTS"].split(",") if a.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("mqtt_password"):
            values["mqtt_password"] = secret("MQTT_PASSWORD", env, required=True)
        return cls(**values)  # type: ignore[arg-type]
