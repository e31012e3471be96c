"""Ingest through the real Mosquitto into the real InfluxDB: counts, seqs, gaps, health series."""

from __future__ import annotations

import json
import time

from aisym.contract import now_ms, topics
from tests.conftest import PARK_ID

from .helpers import messages, publish_all, publisher, seqs_in_influx, telemetry, wait_for


def test_n_readings_in_exactly_n_points_out(mosquitto, influxdb, influx, make_ingestor, unique_id):
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    n_msgs, per = 200, 25
    publish_all(pub, "node-a", messages("node-a", n_msgs, per))
    pub.close()
    n = n_msgs * per
    wait_for(lambda: ing.counters.acks >= n_msgs, 20, "all messages acked")
    assert seqs_in_influx(influx, "node-a") == list(range(n))
    count = influx.rows("SELECT count(seq) FROM /.*/ WHERE node = 'node-a'")
    assert sum(r["count"] for r in count) == n
    assert ing.counters.dead_letters == 0
    assert ing.processor.tracker.duplicates_total == 0


def test_gaps_duplicates_and_health_series(mosquitto, influxdb, influx, make_ingestor, unique_id):
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-b", f"{unique_id}-pub")
    msgs = messages("node-b", 10, 10)
    # message 5 (seqs 50..59) never arrives; message 2 (seqs 20..29) arrives twice
    publish_all(pub, "node-b", msgs[:5] + msgs[6:] + [msgs[2]])
    health = {"v": 1, "node": "node-b", "ts": now_ms(), "counters": {"queued": 3, "sent": 90, "dropped": 0}}
    pub.publish(topics.health(PARK_ID, "node-b"), json.dumps(health).encode())
    pub.close()

    def gap_reported() -> bool:
        return bool(influx.rows("SELECT * FROM seq_gap WHERE node = 'node-b'"))

    wait_for(gap_reported, 10, "seq_gap point")
    gap = influx.rows("SELECT * FROM seq_gap WHERE node = 'node-b'")
    assert [(g["first"], g["last"], g["missing"]) for g in gap] == [(50, 59, 10.0)]
    assert seqs_in_influx(influx, "node-b") == [*range(50), *range(60, 100)]  # the duplicate overwrote itself

    wait_for(lambda: ing.counters.dead_letters == 0 and _latest(influx, "ingest_health", "duplicates") == 10, 5, "health")
    assert _latest(influx, "ingest_health", "gaps") == 1 and _latest(influx, "ingest_health", "missing") == 10
    dq = influx.rows("SELECT sum(good) AS good, sum(stale) AS stale FROM data_quality WHERE node = 'node-b'")
    assert dq[0]["good"] == 100 and dq[0]["stale"] == 0
    assert influx.rows("SELECT sum(duplicates) FROM ingest_seq WHERE node = 'node-b'")[0]["sum"] == 10
    seen = influx.rows("SELECT last(last_seen_ms), last(age_s) FROM node_last_seen WHERE node = 'node-b'")
    assert abs(seen[0]["last"] - now_ms()) < 30_000
    nh = influx.rows("SELECT * FROM node_health WHERE node = 'node-b'")
    assert nh and nh[0]["sent"] == 90.0
    # the ingestor's own birth message, ingested like any node's
    wait_for(lambda: influx.rows("SELECT last(online) FROM node_status WHERE node = 'ingest'") != [], 5, "status")
    assert influx.rows("SELECT last(online) FROM node_status WHERE node = 'ingest'")[0]["last"] == 1.0


def test_shared_group_splits_the_load(mosquitto, influxdb, influx, make_ingestor, unique_id, tmp_path):
    """Two instances in one group: each gets a share, together exactly everything."""
    a = make_ingestor(mosquitto, influxdb.url, influx.database, client_id=f"{unique_id}-a", state_dir=tmp_path / "a")
    # the broker binds client ids to accounts: a second instance needs its own account
    b = make_ingestor(mosquitto, influxdb.url, influx.database, mqtt_user="ingest-2", state_dir=tmp_path / "b")
    wait_for(lambda: a.connected and b.connected, 5, "both connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    publish_all(pub, "node-a", messages("node-a", 100, 10, ts0=1_790_100_000_000))
    pub.close()
    wait_for(lambda: a.counters.acks + b.counters.acks >= 100, 10, "all acked")
    assert a.counters.messages > 10 and b.counters.messages > 10
    assert seqs_in_influx(influx, "node-a") == list(range(1000))


def test_payload_for_another_node_is_refused(mosquitto, influxdb, influx, make_ingestor, unique_id):
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    publish_all(pub, "node-a", [telemetry("node-b", range(3))])  # node-a's topic, node-b's payload
    pub.close()
    wait_for(lambda: ing.counters.dead_letters == 1, 5, "dead letter")
    d = next(ing.store.dead_letters(1))
    assert d.field == "node" and "differs from the topic" in d.reason
    assert seqs_in_influx(influx, "node-b") == []


def _latest(influx, measurement: str, field: str):
    rows = influx.rows(f"SELECT last({field}) FROM {measurement}")
    return rows[0]["last"] if rows else None


def test_tls_listener(mosquitto, influxdb, influx, make_ingestor, unique_id):
    ing = make_ingestor(mosquitto, influxdb.url, influx.database, mqtt_port=mosquitto.tls_port, mqtt_ca_file=mosquitto.ca_file)
    wait_for(lambda: ing.connected, 5, "ingestor connected over TLS")
    pub = publisher(mosquitto, "sensor-node", f"{unique_id}-pub")
    publish_all(pub, "sensor-node", [telemetry("sensor-node", range(5))])
    pub.close()
    wait_for(lambda: seqs_in_influx(influx, "sensor-node") == list(range(5)), 5, "5 points")


def test_broker_acl_applies_to_shared_subscriptions(mosquitto, unique_id):
    """Mosquitto 2.0.11 checks the ingest account's read ACL (aisym/kraakoya/#) on $share deliveries too."""
    from tests.conftest import USERS
    from tests.support import MqttProbe

    sub = MqttProbe("127.0.0.1", mosquitto.port, "ingest", USERS["ingest"], f"{unique_id}-sub")
    sub.connect()
    sub.subscribe(f"$share/{unique_id}/aisym/+/+/telemetry")
    admin = MqttProbe("127.0.0.1", mosquitto.port, "admin", USERS["admin"], f"{unique_id}-adm")
    admin.connect()
    admin.publish("aisym/otherpark/node-a/telemetry", b"other park")
    admin.publish(topics.telemetry(PARK_ID, "node-a"), b"this park")
    sub.wait(lambda: len(sub.messages) >= 1, 5, "this park's message")
    admin.close()
    time.sleep(0.3)
    sub.close()
    assert [m.payload for m in sub.messages] == [b"this park"]


def test_cli_shows_dead_letters(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app
    from cloud.ingest import DeadLetter, Store

    store = Store(tmp_path / "ingest.sqlite")
    store.add_dead_letters([DeadLetter("aisym/kraakoya/node-a/telemetry", "readings[0].ts", "too early", b"{}")])
    store.close()
    r = CliRunner().invoke(app, ["ingest", "--state-dir", str(tmp_path), "--show-dead-letters", "5"])
    assert r.exit_code == 0 and "1 dead letters" in r.output and "readings[0].ts: too early" in r.output
    r = CliRunner().invoke(app, ["ingest", "--state-dir", str(tmp_path)], env={"AISYM_MQTT_PASSWORD": ""})
    assert r.exit_code == 2 and "AISYM_MQTT_PASSWORD" in r.output


def test_retained_will_without_time_is_not_news(tmp_path):
    """Mosquitto 2.0.11 replays retained messages to shared subscriptions: an old will must not mark a node offline now."""
    from cloud.ingest import Processor

    from .helpers import PARK

    will = json.dumps({"v": 1, "node": "node-a", "state": "offline", "role": "gateway"}).encode()
    topic = topics.status(PARK_ID, "node-a")
    assert Processor(PARK).handle(topic, will, retained=True).lines == []
    live = Processor(PARK).handle(topic, will, received_ms=1_790_000_000_123, retained=False).lines
    assert len(live) == 1 and "online=0.0" in live[0] and live[0].endswith(" 1790000000123")


def test_cli_replays_kept_dead_letters(influxdb, influx, tmp_path):
    """``aisym ingest --replay-dead-letters``: a gateway's readings an hour ahead, replayed with the step undone."""
    from typer.testing import CliRunner

    from aisym.cli import app
    from cloud.ingest import DeadLetter, Store
    from tests.conftest import INFLUX_USERS

    ts = now_ms() + 3_600_000
    payload = telemetry("gw-test", range(30), ts0=ts)
    store = Store(tmp_path / "ingest.sqlite")
    store.add_dead_letters([DeadLetter.of(f"aisym/{PARK_ID}/gw-test/telemetry", "readings[0].ts", "ahead", payload, 1,
                                          "future_ts")])
    store.close()
    env = {"AISYM_INFLUX_USER": "ingest", "AISYM_INFLUX_PASSWORD": INFLUX_USERS["ingest"]}
    base = ["ingest", "--state-dir", str(tmp_path), "--influx-url", influxdb.url, "--influx-db", influx.database]
    r = CliRunner().invoke(app, [*base, "--replay-shift-s", "-3600"], env=env)
    assert r.exit_code == 2 and "need --replay-dead-letters" in r.output
    r = CliRunner().invoke(app, [*base, "--replay-dead-letters"], env=env)
    assert r.exit_code == 0 and "replayed 0 of 1" in r.output and "still refused: 1 future_ts" in r.output
    r = CliRunner().invoke(app, [*base, "--replay-dead-letters", "--replay-node", "gw-test", "--replay-shift-s", "-3600"],
                           env=env)
    assert r.exit_code == 0, r.output
    assert "replayed 1 of 1 kept dead letters (30 readings stored)" in r.output
    assert seqs_in_influx(influx, "gw-test") == list(range(30))
