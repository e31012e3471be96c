"""InfluxDB with authentication on (the default): nobody without an account reads, writes or drops
anything; the ingest account only writes, the dashboards account only reads.
"""

from __future__ import annotations

import pytest

from aisym.influx import InfluxError, InfluxV1
from tests.conftest import INFLUX_USERS, make_influxdb

FORBIDDEN = [
    ("read", lambda c: c.query("SELECT * FROM m")),
    ("write", lambda c: c.write(["m value=666 1000"])),
    ("drop", lambda c: c.query(f'DROP DATABASE "{c.database}"', method="POST")),
    ("create user", lambda c: c.query("CREATE USER evil WITH PASSWORD 'x' WITH ALL PRIVILEGES", method="POST")),
    ("show users", lambda c: c.query("SHOW USERS")),
]


def _refused(client: InfluxV1, action) -> int:
    with pytest.raises(InfluxError) as info:
        action(client)
    return info.value.status


def _intact(influxdb, influx) -> None:
    """The database and its one point are still there, and no account was added."""
    assert influx.rows("SELECT value FROM m") == [{"_measurement": "m", "time": 1000, "value": 1.0}]
    assert {r["user"] for r in influxdb.client().rows("SHOW USERS")} == set(INFLUX_USERS)


def test_without_credentials_everything_is_refused(influxdb, influx):
    influx.write(["m value=1 1000"])
    anon = InfluxV1(influxdb.url, influx.database)
    for what, action in FORBIDDEN:
        assert _refused(anon, action) == 401, what
    wrong = InfluxV1(influxdb.url, influx.database, "admin", "guess")
    assert _refused(wrong, FORBIDDEN[2][1]) == 401
    _intact(influxdb, influx)


def test_ingest_only_writes_and_dashboards_only_read(influxdb, influx):
    influx.write(["m value=1 1000"])
    ingest = InfluxV1(influxdb.url, influx.database, "ingest", INFLUX_USERS["ingest"])
    dashboards = InfluxV1(influxdb.url, influx.database, "dashboards", INFLUX_USERS["dashboards"])
    assert ingest.write(["m value=1 1000"]) == 1  # the same point again: allowed, changes nothing
    assert dashboards.rows("SELECT value FROM m")[0]["value"] == 1.0
    for what, action in FORBIDDEN:
        if what != "write":
            assert _refused(ingest, action) == 403, f"ingest may {what}"
        if what != "read":
            assert _refused(dashboards, action) == 403, f"dashboards may {what}"
    _intact(influxdb, influx)


def test_a_refused_account_is_retryable_so_points_wait_instead_of_dead_lettering(influxdb, influx):
    dashboards = InfluxV1(influxdb.url, influx.database, "dashboards", INFLUX_USERS["dashboards"])
    with pytest.raises(InfluxError) as info:
        dashboards.write(["m value=2 2000"])
    assert info.value.status == 403 and info.value.retryable


def test_restart_keeps_accounts_and_auth(fresh_influxdb):
    """The admin is created once; a restart finds it (a wrong admin password is a clear error)."""
    fresh_influxdb.provision("db1", {"ingest": "w"}, {"dashboards": "r"})
    fresh_influxdb.restart()
    assert {r["user"] for r in fresh_influxdb.client().rows("SHOW USERS")} == {"admin", "ingest", "dashboards"}
    assert _refused(InfluxV1(fresh_influxdb.url, "db1"), FORBIDDEN[0][1]) == 401
    fresh_influxdb.stop()
    imposter = make_influxdb(fresh_influxdb.folder, port=fresh_influxdb.port, rpc_port=fresh_influxdb.rpc_port)
    imposter.admin_password = "not-the-one"
    with pytest.raises(RuntimeError, match="the admin 'admin' is refused"):
        imposter.start()
    imposter.stop()
    fresh_influxdb.start()


def test_auth_off_is_only_on_request(tmp_path):
    """A test that must see the open API asks for ``auth=False``; the default config has auth on."""
    on = make_influxdb(tmp_path / "on")
    on.write_config()
    assert "auth-enabled = true" in on.conf.read_text()
    off = make_influxdb(tmp_path / "off", auth=False)
    off.write_config()
    assert "auth-enabled = false" in off.conf.read_text()


def test_dashboards_datasource_uses_the_read_only_account(influxdb, influx):
    import yaml

    from cloud.dashboards.provisioning import datasource_yaml

    ds = yaml.safe_load(datasource_yaml(influxdb.url, influx.database))["datasources"][0]
    grafana = InfluxV1(ds["url"], ds["jsonData"]["dbName"], ds["user"], INFLUX_USERS[ds["user"]])
    influx.write(["m value=1 1000"])
    assert grafana.rows("SELECT value FROM m")[0]["value"] == 1.0
    assert _refused(grafana, FORBIDDEN[1][1]) == 403  # a dashboard cannot forge points
