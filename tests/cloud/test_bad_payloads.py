"""Bad messages are dead-lettered with the field and reason at fault; the ingestor keeps going.

30 hand-made kinds go through the real broker, a hypothesis fuzz goes through the processor, and
points that InfluxDB itself refuses (a field type conflict) are dead-lettered one by one.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisym.contract import MAX_PAYLOAD_BYTES, topics
from cloud.ingest import Processor, Store
from tests.conftest import PARK_ID

from .helpers import PARK, TAGS, TS0, publish_all, publisher, reading, seqs_in_influx, telemetry, wait_for


def _tm(**changes) -> bytes:
    """A valid one-reading telemetry message with top-level ``changes`` (None deletes a key)."""
    msg = {"v": 1, "park": PARK_ID, "node": "node-a", "readings": [reading(0)]}
    msg.update(changes)
    return json.dumps({k: v for k, v in msg.items() if v is not None}).encode()


def _rd(**changes) -> bytes:
    """A valid message whose one reading gets ``changes``."""
    r = {**reading(0), **changes}
    return json.dumps({"v": 1, "park": PARK_ID, "node": "node-a", "readings": [r]}).encode()


TEL, HEALTH, STATUS = (topics.telemetry(PARK_ID, "node-a"), topics.health(PARK_ID, "node-a"), topics.status(PARK_ID, "node-a"))
HEAT = "heat_store.temp_top"
# (topic, payload, field at fault, fragment of the reason)
BAD: list[tuple[str, bytes, str, str]] = [
    (TEL, b"{not json", "", "not JSON"),
    (TEL, b"", "", "not JSON"),
    (TEL, b"\xff\xfe\x00garbage", "", "UTF-16"),
    (TEL, b"[1, 2, 3]", "", "JSON object, not list"),
    (TEL, b'"hello"', "", "JSON object, not str"),
    (TEL, _tm(v=None), "v", "unsupported contract version None"),
    (TEL, _tm(v=2), "v", "unsupported contract version 2"),
    (TEL, _tm(readings=None), "readings", "Field required"),
    (TEL, _tm(readings=[]), "readings", "at least 1"),
    (TEL, _tm(readings=[reading(i) for i in range(1001)]), "readings", "at most 1000"),
    (TEL, _tm(extra="x"), "extra", "unknown field"),
    (TEL, _tm(node="Node A"), "node", "pattern"),
    (TEL, _tm(node="node-b"), "node", "differs from the topic"),
    (TEL, _tm(park="otherpark"), "park", "this is 'kraakoya'"),
    (TEL, _rd(tag="ras.no_such_tag"), "readings[0].tag", "no tag 'ras.no_such_tag'"),
    (TEL, _rd(tag="heat_store"), "readings[0].tag", "pattern"),
    (TEL, _rd(tag=HEAT, unit="K"), "readings[0].unit", "measured in 'degC'"),
    (TEL, _rd(value=float("nan")), "readings[0].value", "finite"),
    (TEL, _rd(value=float("inf")), "readings[0].value", "finite"),
    (TEL, _rd(value="1.5"), "readings[0].value", "valid number"),
    (TEL, _rd(value=True), "readings[0].value", "valid number"),
    (TEL, _rd(value=None, quality="good"), "readings[0]", "needs a value"),
    (TEL, _rd(value=1.0, quality="comm_error"), "readings[0]", "carries no value"),
    (TEL, _rd(quality="bad"), "readings[0].quality", "good"),
    (TEL, _rd(ts=1_732_370_000), "readings[0].ts", "greater than or equal"),
    (TEL, _rd(seq=-1), "readings[0].seq", "greater than or equal to 0"),
    (TEL, _rd(ts_synced="no"), "readings[0].ts_synced", "valid boolean"),
    (TEL, _rd(colour="red"), "readings[0].colour", "unknown field"),
    (TEL, _tm(readings=[reading(5), reading(4)]), "readings[1].seq", "does not increase"),
    # just over the contract's limit: the broker's max_packet_size (the limit plus headers) lets it through
    (TEL, b'{"v": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}', "", "exceeds"),
    (HEALTH, b'{"v": 1, "node": "node-a", "ts": 1790000000000, "counters": {"Bad-X": 1}}', "counters.Bad-X.[key]", "pattern"),
    (HEALTH, b'{"v": 1, "node": "node-b", "ts": 1790000000000, "counters": {"sent": 1}}', "node", "differs"),
    (STATUS, b'{"v": 1, "node": "node-a", "state": "asleep"}', "state", "online"),
]


def test_bad_payloads_are_dead_lettered_with_reasons(mosquitto, influxdb, influx, make_ingestor, unique_id):
    assert len({(f, r) for _, _, f, r in BAD}) >= 20
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    for topic, payload, _, _ in BAD:
        pub.publish(topic, payload)
    publish_all(pub, "node-a", [telemetry("node-a", range(7, 10))])  # a good one after the bad ones
    pub.close()
    wait_for(lambda: ing.counters.dead_letters >= len(BAD) and ing.counters.acks >= len(BAD) + 1, 10, "dead letters")
    assert ing.counters.dead_letters == len(BAD)
    letters = {d.sha256: d for d in ing.store.dead_letters(limit=100)}
    got = {payload: letters[hashlib.sha256(payload).hexdigest()] for _, payload, _, _ in BAD}
    wrong = [
        (payload[:60], got[payload].field, got[payload].reason[:120])
        for topic, payload, field, fragment in BAD
        if (got[payload].topic, got[payload].field) != (topic, field) or fragment not in got[payload].reason
    ]
    assert not wrong
    assert seqs_in_influx(influx, "node-a") == [7, 8, 9]
    assert ing.running


def test_points_influxdb_refuses_are_dead_lettered_one_by_one(mosquitto, influxdb, influx, make_ingestor, unique_id):
    # a string "value" already stored in measurement heat_store: every float value there now conflicts
    influx.write([f'heat_store,signal=legacy value="text" {TS0}'])
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    n = 4 * len(TAGS)  # a multiple of 20 or not, the last message stops at n
    publish_all(pub, "node-a", [telemetry("node-a", range(i, min(i + 20, n))) for i in range(0, n, 20)])
    pub.close()
    refused = {s for s in range(n) if TAGS[s % len(TAGS)].startswith("heat_store.")}
    wait_for(lambda: ing.counters.refused_points >= len(refused), 10, "refused points")
    assert seqs_in_influx(influx, "node-a") == sorted(set(range(n)) - refused)
    influx_letters = [d for d in ing.store.dead_letters(limit=1000) if d.topic == "influx"]
    assert len(influx_letters) == len(refused) == ing.counters.refused_points
    assert all(d.payload.startswith(b"heat_store,") and "field type conflict" in d.reason for d in influx_letters)
    assert {d.code for d in influx_letters} == {"influx_refused"}


# -- fuzzing the processor (no transport): it never raises, and refuses with a field and reason ------
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
READING_KEYS = ["tag", "value", "unit", "ts", "quality", "seq", "ts_synced"]


@st.composite
def mutated_telemetry(draw) -> bytes:
    """A valid message with one reading's field replaced, dropped, or the bytes cut short."""
    seqs = draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=5, unique=True))
    readings = [reading(s) for s in sorted(seqs)]
    i = draw(st.integers(0, len(readings) - 1))
    how = draw(st.sampled_from(["replace", "drop", "truncate", "tag", "keep"]))
    key = draw(st.sampled_from(READING_KEYS))
    if how == "replace":
        readings[i][key] = draw(JSONISH)
    elif how == "drop":
        readings[i].pop(key, None)
    elif how == "tag":
        readings[i]["tag"] = draw(st.sampled_from(TAGS)) + draw(st.sampled_from(["", "x", ".y"]))
    raw = json.dumps({"v": 1, "park": PARK_ID, "node": "node-a", "readings": readings}).encode()
    if how == "truncate":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    return raw


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("fuzz") / "dead.sqlite")
    yield store
    store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=mutated_telemetry() | st.binary(max_size=200))
def test_fuzzed_payloads_never_crash_and_say_why(payload, fuzz_store):
    out = Processor(PARK).handle(topics.telemetry(PARK_ID, "node-a"), payload)
    if out.dead is None:
        assert out.lines and out.readings == len(out.lines)
    else:
        assert out.dead.reason and not out.lines and out.dead.payload == payload[:1024] and out.dead.size == len(payload)
        before = fuzz_store.dead_letter_count()
        fuzz_store.add_dead_letters([out.dead])
        assert fuzz_store.dead_letter_count() == before + 1


@given(topic=st.text(max_size=40), payload=st.binary(max_size=50))
@settings(max_examples=100, deadline=None)
def test_fuzzed_topics_are_refused_by_name(topic, payload):
    out = Processor(PARK).handle(topic, payload)
    assert out.dead is not None and out.dead.field in ("topic", "", "v")


def test_every_park_tag_passes(tmp_path):
    out = Processor(PARK).handle(TEL, telemetry("node-a", range(len(TAGS))))
    assert out.dead is None and len(out.lines) == len(PARK.tags)
