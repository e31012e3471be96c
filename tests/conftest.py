"""Session fixtures: the real Mosquitto and InfluxDB on free loopback ports, under a temp dir.

- ``mosquitto`` / ``influxdb``: one instance each for the whole session (do not stop them);
- ``fresh_mosquitto`` / ``fresh_influxdb``: a private instance for a test that restarts or kills it;
- ``influx``: an admin :class:`~aisym.influx.InfluxV1` client on a database unique to the test,
  on which the ``ingest`` account may only write and ``dashboards`` may only read;
- ``unique_id``: a short id derived from the test name, for client ids, nodes and databases.

The broker binds client ids to accounts (``use_username_as_clientid``): two clients of one
account at once replace each other, so a test that needs two ingestors uses ``ingest`` and
``ingest-2``, and a persistent session belongs to the account, not to the client id a test picks.
InfluxDB runs with authentication on, as in production.
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
INGESTORS = ["ingest", "ingest-2"]
USERS = {u: f"{u}-pw" for u in ["admin", *INGESTORS, "controller", *NODES]}
INFLUX_USERS = {"admin": "influx-admin-pw", "ingest": "influx-ingest-pw", "dashboards": "influx-dashboards-pw"}


def _need(binary: str) -> None:
    if not (shutil.which(binary) or Path(f"/usr/sbin/{binary}").exists()):
        pytest.fail(f"{binary} is not installed: run scripts/services.sh install (apt-get install mosquitto influxdb)")


def make_broker(folder: Path, tls: bool = True, **options) -> Mosquitto:
    _need("mosquitto")
    acl = park_acl(PARK_ID, NODES, ingestors=INGESTORS, controllers=["controller"], admins=["admin"])
    return Mosquitto(folder, dict(USERS), acl, tls=tls, **options)


def make_influxdb(folder: Path, **options) -> InfluxDB:
    _need("influxd")
    return InfluxDB(folder, admin_user="admin", admin_password=INFLUX_USERS["admin"], **options)


def park_database(server: InfluxDB, name: str) -> InfluxV1:
    """Create database ``name`` (``ingest`` may write it, ``dashboards`` read it); returns an admin client on it."""
    # the passwords never change in a test session: skip InfluxDB's bcrypt of each again
    writers, readers = {"ingest": INFLUX_USERS["ingest"]}, {"dashboards": INFLUX_USERS["dashboards"]}
    server.provision(name, writers, readers, reset_passwords=False)
    return server.client(name)


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
    with make_influxdb(tmp_path_factory.mktemp("influxdb")) as server:
        yield server


@pytest.fixture
def fresh_influxdb(tmp_path) -> Iterator[InfluxDB]:
    with make_influxdb(tmp_path / "influxdb") as server:
        yield server


@pytest.fixture
def unique_id(request) -> str:
    """``t`` + 10 hex chars from the test's node id: safe as MQTT client id, node id or database name."""
    return "t" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]


@pytest.fixture
def influx(influxdb, unique_id) -> Iterator[InfluxV1]:
    client = park_database(influxdb, unique_id)
    yield client
    client.query(f'DROP DATABASE "{unique_id}"', method="POST")
    client.close()
