"""Fixtures for the cloud tests: an in-process ingestor bound to the real broker and InfluxDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud.ingest import IngestConfig, Ingestor
from tests.conftest import USERS

from .helpers import PARK


@pytest.fixture
def make_ingestor(tmp_path, unique_id) -> Iterator:
    """``make_ingestor(broker, influx_url, db, **settings)`` -> a started :class:`Ingestor`, stopped at teardown."""
    started: list[Ingestor] = []

    def make(broker, influx_url: str, db: str, **settings) -> Ingestor:
        kw = {
            "mqtt_port": broker.port,
            "mqtt_password": USERS["ingest"],
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
