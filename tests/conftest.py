"""Session fixtures: the real Mosquitto and InfluxDB on free loopback ports, under a temp dir.

- ``mosquitto`` / ``influxdb``: one instance each for the whole session (do not stop them);
- ``fresh_mosquitto`` / ``fresh_influxdb``: a private instance for a test that restarts or kills it;
- ``influx``: an :class:`~aisym.influx.InfluxV1` client on a database unique to the test;
- ``unique_id``: a short id derived from the test name, for client ids, nodes and databases.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aisym.influx import InfluxV1
from aisym.services import InfluxDB, Mosquitto, park_acl

PARK_ID = "kraakoya"
NODES = ["node-a", "node-b", "gateway", "gw-test", "sensor-node"]
USERS = {u: f"{u}-pw" for u in ["admin", "ingest", "controller", *NODES]}


def _need(binary: str) -> None:
    if not (shutil.which(binary) or Path(f"/usr/sbin/{binary}").exists()):
        pytest.fail(f"{binary} is not installed: run scripts/services.sh install (apt-get install mosquitto influxdb)")


def make_broker(folder: Path, tls: bool = True) -> Mosquitto:
    _need("mosquitto")
    acl = park_acl(PARK_ID, NODES, ingestors=["ingest"], controllers=["controller"], admins=["admin"])
    return Mosquitto(folder, dict(USERS), acl, tls=tls)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory) -> Iterator[Mosquitto]:
    broker = make_broker(tmp_path_factory.mktemp("mosquitto"))
    with broker:
        yield broker


@pytest.fixture
def fresh_mosquitto(tmp_path) -> Iterator[Mosquitto]:
    broker = make_broker(tmp_path / "mosquitto")
    with broker:
        yield broker


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory) -> Iterator[InfluxDB]:
    _need("influxd")
    with InfluxDB(tmp_path_factory.mktemp("influxdb")) as server:
        yield server


@pytest.fixture
def fresh_influxdb(tmp_path) -> Iterator[InfluxDB]:
    _need("influxd")
    with InfluxDB(tmp_path / "influxdb") as server:
        yield server


@pytest.fixture
def unique_id(request) -> str:
    """``t`` + 10 hex chars from the test's node id: safe as MQTT client id, node id or database name."""
    return "t" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]


@pytest.fixture
def influx(influxdb, unique_id) -> Iterator[InfluxV1]:
    client = InfluxV1(influxdb.url, unique_id)
    client.create_database()
    yield client
    client.query(f'DROP DATABASE "{unique_id}"', method="POST")
    client.close()
