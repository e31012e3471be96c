"""Fixtures for the cloud tests: an in-process ingestor bound to the real broker and InfluxDB."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from cloud.ingest import IngestConfig, Ingestor
from tests.conftest import INFLUX_USERS, USERS
from tests.support import clear_session

from .helpers import PARK


@pytest.fixture
def make_ingestor(tmp_path, unique_id) -> Iterator:
    """``make_ingestor(broker, influx_url, db, **settings)`` -> a started :class:`Ingestor`, stopped at teardown.

    The broker names sessions by account: the first ingestor of an account in a test starts
    without what earlier tests left in that account's session, and teardown ends it again.
    """
    started: list[Ingestor] = []
    cleared: dict[tuple[int, str], object] = {}

    def make(broker, influx_url: str, db: str, **settings) -> Ingestor:
        user = str(settings.get("mqtt_user", "ingest"))
        if (id(broker), user) not in cleared:
            clear_session(broker, user, USERS[user])
            cleared[(id(broker), user)] = broker
        kw = {
            "mqtt_port": broker.port,
            "mqtt_user": user,
            "mqtt_password": USERS[user],
            "influx_user": "ingest",
            "influx_password": INFLUX_USERS["ingest"],
            "influx_url": influx_url,
            "influx_db": db,
            "group": unique_id,
            "client_id": f"{unique_id}-ing",
            "state_dir": tmp_path / "ingest",
            "linger_s": 0.05,
            "health_interval_s": 1.0,
            "gap_grace_s": 1.0,
            "backoff_initial_s": 0.2,
            "backoff_max_s": 1.0,
            "write_timeout_s": 3.0,
            **settings,
        }
        ing = Ingestor(IngestConfig(**kw), PARK).start()
        started.append(ing)
        return ing

    yield make
    for ing in started:
        if ing._threads:
            ing.stop()
    for (_, user), broker in cleared.items():
        if broker.running:  # a fresh broker may be gone already
            with contextlib.suppress(OSError, RuntimeError, TimeoutError):
                clear_session(broker, user, USERS[user])
