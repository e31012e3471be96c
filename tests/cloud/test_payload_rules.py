"""Payload rules of issue 10 through the real broker and InfluxDB: strict UTF-8, nesting depth,
timestamps ahead of arrival, conflicting duplicates, retained messages dead-lettered once, and
telemetry from accounts that are not nodes.
"""

from __future__ import annotations

import json

from aisym.contract import now_ms, topics
from tests.conftest import PARK_ID, USERS
from tests.support import MqttProbe

from .helpers import TS0, publish_all, publisher, reading, seqs_in_influx, telemetry, wait_for

TS_2090 = 3_786_912_000_000


def _msg(node: str = "node-a", **changes) -> dict:
    return {"v": 1, "park": PARK_ID, "node": node, "readings": [reading(0)], **changes}


def _health(node: str, ts: int) -> bytes:
    return json.dumps({"v": 1, "node": node, "ts": ts, "counters": {"sent": 1}}).encode()


def test_encodings_nesting_and_future_times_are_refused_with_reasons(mosquitto, influxdb, influx, make_ingestor, unique_id):
    text = json.dumps(_msg())
    late = {**reading(1), "ts": TS_2090}
    cases = [  # (topic kind, payload, field, code, fragment of the reason)
        ("telemetry", b"\xef\xbb\xbf" + text.encode(), "", "bad_encoding", "UTF-8 byte-order mark"),
        ("telemetry", text.encode("utf-16"), "", "bad_encoding", "UTF-16"),
        ("telemetry", text.encode("utf-16-be"), "", "bad_encoding", "NUL byte at offset 0"),
        ("telemetry", text.encode("utf-32-le"), "", "bad_encoding", "UTF-16/32"),
        ("telemetry", b'{"v": 1, "readings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "", "bad_json", "nesting too deep"),
        ("telemetry", b'{"v": 1, "seq": ' + b"9" * 5000 + b"}", "", "bad_json", "4300 digits"),
        ("telemetry", json.dumps(_msg(readings=[late])).encode(), "readings[0].ts", "future_ts", "ahead of its arrival"),
        ("telemetry", json.dumps(_msg(sent=TS_2090)).encode(), "sent", "future_ts", "ahead of its arrival"),
        ("health", _health("node-a", TS_2090), "ts", "future_ts", "at most 300 s allowed"),
    ]
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    for kind, payload, _, _, _ in cases:
        pub.publish(f"aisym/{PARK_ID}/node-a/{kind}", payload)
    near_future = {**reading(2), "ts": now_ms() + 60_000}  # one minute ahead: within the bound, stored
    publish_all(pub, "node-a", [json.dumps(_msg(readings=[near_future])).encode(), telemetry("node-a", range(7, 10))])
    pub.close()
    wait_for(lambda: ing.counters.dead_letters >= len(cases) and ing.counters.acks >= len(cases) + 2, 10, "dead letters")
    assert ing.counters.dead_letters == len(cases) and ing.counters.internal_errors == 0
    got = sorted((d.field, d.code, d.reason) for d in ing.store.dead_letters(100))
    for _, payload, field, code, fragment in cases:
        assert any(f == field and c == code and fragment in r for f, c, r in got), (payload[:40], field, code, fragment, got)
    assert seqs_in_influx(influx, "node-a") == [2, 7, 8, 9]

    def codes() -> dict:
        return {r["code"]: r["last"] for r in influx.rows('SELECT last("count") FROM ingest_dead_letters GROUP BY code')}

    wait_for(lambda: codes() == {"bad_encoding": 4.0, "bad_json": 2.0, "future_ts": 3.0}, 5, "dead letters by code")


def test_conflicting_duplicate_is_dead_lettered_and_never_overwrites(mosquitto, influxdb, influx, make_ingestor, unique_id):
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-b", f"{unique_id}-pub")
    first = telemetry("node-b", range(10))
    publish_all(pub, "node-b", [first])
    wait_for(lambda: len(seqs_in_influx(influx, "node-b")) == 10, 10, "10 points")
    # seq 3: same ts, new value (would overwrite the point); seq 5: another ts (a second point with seq 5);
    # seqs 10, 11: new, in the same message, and written
    r3 = {**reading(3), "value": reading(3)["value"] + 1.0}
    r5 = {**reading(5), "ts": TS0 + 50_000}
    mixed = json.dumps({"v": 1, "park": PARK_ID, "node": "node-b", "readings": [r3, r5, reading(10), reading(11)]}).encode()
    publish_all(pub, "node-b", [mixed, first])  # then an identical replay: harmless
    pub.close()
    # the points reach InfluxDB before the dead letter is committed and the message acked: wait for both
    wait_for(
        lambda: ing.counters.dead_letters >= 1 and ing.counters.acks >= 3 and len(seqs_in_influx(influx, "node-b")) >= 12,
        10,
        "all acked",
    )
    assert seqs_in_influx(influx, "node-b") == list(range(12))
    tag3 = reading(3)["tag"]
    asset, signal = tag3.split(".")
    rows = influx.rows(f"SELECT value FROM {asset} WHERE node = 'node-b' AND signal = '{signal}' AND time = {TS0 + 3}ms")
    assert [r["value"] for r in rows] == [reading(3)["value"]]
    assert ing.counters.conflicts == 2 and ing.counters.dead_letters == 1
    d = next(ing.store.dead_letters(1))
    assert d.code == "conflict" and d.field == "readings[0]" and "seqs 3, 5" in d.reason and "stored point is kept" in d.reason
    assert ing.processor.tracker.duplicates_total == 10  # the identical replay
    wait_for(lambda: _last(influx, "ingest_health", "conflicts") == 2, 5, "conflicts in the health series")
    assert influx.rows("SELECT sum(conflicts) FROM ingest_seq WHERE node = 'node-b'")[0]["sum"] == 2


def test_conflict_is_caught_after_a_restart(mosquitto, influxdb, influx, make_ingestor, unique_id, tmp_path):
    """The fingerprints are saved in the state file (each health report, and at stop)."""
    state = tmp_path / "state"
    ing = make_ingestor(mosquitto, influxdb.url, influx.database, state_dir=state)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    publish_all(pub, "node-a", [telemetry("node-a", range(5))])
    wait_for(lambda: ing.counters.readings >= 5, 10, "first message decoded")
    ing.stop()
    ing = make_ingestor(mosquitto, influxdb.url, influx.database, state_dir=state)
    wait_for(lambda: ing.connected, 5, "ingestor connected again")
    changed = json.dumps(_msg(readings=[{**reading(2), "value": reading(2)["value"] + 5.0}])).encode()
    publish_all(pub, "node-a", [telemetry("node-a", range(5)), changed])  # a harmless replay, then a conflict
    pub.close()
    wait_for(lambda: ing.counters.readings >= 5 and ing.counters.dead_letters >= 1, 10, "the replay and the conflict")
    assert ing.counters.conflicts == 1 and ing.counters.dead_letters == 1
    assert next(ing.store.dead_letters(1)).code == "conflict"
    asset, signal = reading(2)["tag"].split(".")
    rows = influx.rows(f"SELECT value FROM {asset} WHERE node = 'node-a' AND signal = '{signal}' AND time = {TS0 + 2}ms")
    assert [r["value"] for r in rows] == [reading(2)["value"]]


def test_retained_bad_message_is_dead_lettered_once_across_restarts(mosquitto, influxdb, influx, make_ingestor, tmp_path):
    owner = MqttProbe("127.0.0.1", mosquitto.port, "node-b", USERS["node-b"], "node-b")
    owner.connect()
    topic = topics.status(PARK_ID, "node-b")
    bad = b'{"v": 1, "node": "node-b", "state": "asleep"}'
    try:
        mid = owner.publish(topic, bad, retain=True)
        owner.wait(lambda: mid in owner.pubacks, 5, "PUBACK")
        for run in range(3):
            ing = make_ingestor(mosquitto, influxdb.url, influx.database, state_dir=tmp_path / "state")
            if run == 0:
                wait_for(lambda i=ing: i.counters.dead_letters == 1, 10, "the retained dead letter")
            else:
                wait_for(lambda i=ing: i.counters.retained_repeats == 1, 10, "the retained message replayed")
            assert ing.counters.dead_letters == (1 if run == 0 else 0)
            assert ing.store.dead_letter_count() == 1
            ing.stop()
    finally:
        mid = owner.publish(topic, b"", retain=True)
        owner.wait(lambda: mid in owner.pubacks, 5, "retained cleared")
        owner.close()


def test_service_accounts_may_not_publish_telemetry(mosquitto, influxdb, influx, make_ingestor, unique_id):
    """Telemetry and health on the controller's or ingest's own name are refused; their status is theirs."""
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    admin = MqttProbe("127.0.0.1", mosquitto.port, "admin", USERS["admin"], "admin")
    admin.connect()
    sent = [
        (topics.telemetry(PARK_ID, "controller"), telemetry("controller", range(3))),
        (topics.health(PARK_ID, "ingest"), _health("ingest", now_ms())),
        (topics.status(PARK_ID, "controller"), b'{"v": 1, "node": "controller", "state": "online", "role": "gateway"}'),
    ]
    mids = [admin.publish(t, p) for t, p in sent]
    admin.wait(lambda: all(m in admin.pubacks for m in mids), 5, "PUBACKs")
    admin.close()
    wait_for(lambda: ing.counters.dead_letters >= len(sent), 10, "dead letters")
    letters = {d.topic: d for d in ing.store.dead_letters(10)}
    assert {letters[t].code for t, _ in sent} == {"not_a_node"}
    assert "'controller' is a service account, not a node" in letters[sent[0][0]].reason
    assert seqs_in_influx(influx, "controller") == []
    # the ingestor's own birth (role ingestor) still lands
    wait_for(lambda: influx.rows("SELECT last(online) FROM node_status WHERE node = 'ingest'") != [], 5, "own status")


def _last(influx, measurement: str, field: str):
    rows = influx.rows(f"SELECT last({field}) FROM {measurement}")
    return rows[0]["last"] if rows else None


def test_fingerprint_window_and_unsynced_readings():
    """Transport-free: a seq past the window cannot be checked; an unsynced ts may be corrected."""
    from cloud.ingest import Processor
    from cloud.ingest.seqtrack import Fingerprints

    from .helpers import PARK

    proc = Processor(PARK, fingerprints=Fingerprints(window=16))
    topic = topics.telemetry(PARK_ID, "node-a")

    def one(seq: int, **changes) -> bytes:
        return json.dumps(_msg(readings=[{**reading(seq), **changes}])).encode()

    assert proc.handle(topic, one(3)).dead is None
    assert proc.handle(topic, one(3, ts=TS0 + 99)).dead.code == "conflict"
    assert proc.handle(topic, one(19)).dead is None  # slot 3 now holds seq 19: seq 3 is past the window
    assert proc.handle(topic, one(3, ts=TS0 + 99)).dead is None
    assert proc.handle(topic, one(40, ts_synced=False)).dead is None
    assert proc.handle(topic, one(40, ts=TS0 + 7, ts_synced=False)).dead is None
    assert proc.fingerprints.conflicts_total == 1
