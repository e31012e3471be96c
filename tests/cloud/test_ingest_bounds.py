"""The ingestor's bounds (issue 18, findings 6, 7 and 9) against the real broker and InfluxDB:
health counters limited in number and name, the spill queue capped oldest-first, a range check,
and telemetry refused after the broker acknowledged it kept whole and replayed.
"""

from __future__ import annotations

import json

import pytest

from aisym.contract import PayloadError, check_ranges, decode_health, decode_telemetry, now_ms, range_problem
from cloud.ingest import DeadLetter, Store
from cloud.ingest.replay import replay_with
from tests.conftest import PARK_ID

from .helpers import PARK, publish_all, publisher, seqs_in_influx, wait_for

HOUR_MS = 3_600_000


def _msg(node: str, readings: list[dict], **extra) -> bytes:
    return json.dumps({"v": 1, "park": PARK_ID, "node": node, "readings": readings, **extra}).encode()


def _temp(seq: int, value: float, ts: int, quality: str = "good") -> dict:
    return {"tag": "heat_store.temp_top", "value": value, "unit": "degC", "ts": ts, "quality": quality, "seq": seq}


def _health(node: str, names: list[str], ts: int) -> bytes:
    return json.dumps({"v": 1, "node": node, "ts": ts, "counters": dict.fromkeys(names, 1.0)}).encode()


# -- finding 7: a range check ---------------------------------------------------------------------
def test_range_check_of_the_contract():
    t = PARK.tags["heat_store.temp_top"]
    assert (t.min, t.max) == (0.0, 95.0)
    assert range_problem(95.0, 0.0, 95.0) is None and range_problem(0.0, 0.0, 95.0) is None
    assert range_problem(95.0 + 1e-12, 0.0, 95.0) is None  # a converter's rounding at the bound
    assert "outside the tag's range [0, 95]" in range_problem(1e308, 0.0, 95.0)
    ts = now_ms()
    readings = [_temp(0, 61.0, ts), _temp(1, 1e308, ts + 1), _temp(2, 1e308, ts + 2, "out_of_range")]
    msg = decode_telemetry(_msg("node-a", readings))
    assert list(check_ranges(msg, PARK)) == [
        ("readings[1].value", "heat_store.temp_top: 1e+308 is outside the tag's range [0, 95] but marked good")
    ]


def test_a_good_1e308_on_a_0_95_tag_is_refused_and_kept_whole(mosquitto, influxdb, influx, make_ingestor, unique_id):
    """Refused whole (code ``out_of_range``), like an unknown or foreign tag, and kept whole for a replay.

    On main the value was stored with quality good (1 of 1 points).
    """
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    ts = now_ms() - 10_000
    bad = _msg("node-a", [_temp(0, 61.0, ts), _temp(1, 1e308, ts + 1)])
    publish_all(pub, "node-a", [bad, _msg("node-a", [_temp(2, 62.0, ts + 2), _temp(3, 130.0, ts + 3, "out_of_range")])])
    pub.close()
    wait_for(lambda: ing.counters.acks >= 2, 10, "both acknowledged")
    wait_for(lambda: len(seqs_in_influx(influx, "node-a")) >= 2, 10, "the good message stored")
    rows = influx.rows("SELECT value, quality, seq FROM heat_store WHERE node = 'node-a'")
    as_good = sum(1 for r in rows if r["value"] > 95 and r["quality"] == "good")
    print(f"1e308 marked good on a 0-95 tag: {as_good} stored as good")
    assert sorted(r["seq"] for r in rows) == [2, 3]  # an out_of_range reading is stored, with its quality
    assert not any(r["value"] > 95 and r["quality"] == "good" for r in rows)
    (letter,) = ing.store.dead_letters(10)
    assert (letter.code, letter.field) == ("out_of_range", "readings[1].value")
    assert letter.payload == bad and not letter.truncated


# -- finding 6: health counters, limited in number and name ----------------------------------------
def test_health_counters_are_limited_in_number_and_name(mosquitto, influxdb, influx, make_ingestor, unique_id):
    """2 messages of 5,000 names (the contract: at most 256 a message) and 10 of 200 new names each (the
    ingestor: at most 512 distinct names a node, kept across restarts). On main every name became a field."""
    with pytest.raises(PayloadError, match="at most 256"):
        decode_health(_health("node-a", [f"c{i}" for i in range(5000)], now_ms()))
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    ts = now_ms()
    floods = [_health("node-a", [f"flood_{m}_{i}" for i in range(5000)], ts + m) for m in range(2)]
    steady = [_health("node-a", [f"n{m}_{i}" for i in range(200)], ts + 10 + m) for m in range(10)]
    for p in floods + steady:
        mid = pub.publish(f"aisym/{PARK_ID}/node-a/health", p)
        pub.wait(lambda mid=mid: mid in pub.pubacks, 10, "PUBACK")
    pub.close()
    wait_for(lambda: ing.counters.acks >= 12, 20, "12 health messages handled")
    wait_for(lambda: ing.counters.dead_letters >= 2 + 8, 10, "the refusals kept")

    def fields() -> int:
        return len(influx.rows("SHOW FIELD KEYS FROM node_health"))

    wait_for(lambda: fields() >= 400, 10, "the accepted names stored")
    n_fields = fields()
    codes = sorted(d.code for d in ing.store.dead_letters(100))
    print(f"12 health messages with 12,000 counter names: {n_fields} InfluxDB fields; refused: {codes}")
    assert n_fields == 400, f"{n_fields} fields"  # 2 x 200 names fit the budget of 512, the third set does not
    assert codes == ["counter_names"] * 8 + ["invalid"] * 2
    letter = next(d for d in ing.store.dead_letters(100) if d.code == "counter_names")
    assert "past the 512 distinct names a node may report (400 so far)" in letter.reason
    ing.stop()
    again = make_ingestor(mosquitto, influxdb.url, influx.database)  # the budget is remembered
    assert len(again.processor.health_names["node-a"]) == 400


# -- finding 6: the spill queue, capped oldest-first --------------------------------------------------
def _lines(batch: int, n: int = 100) -> list[str]:
    return [f"heat_store,node=gw,park=kraakoya,signal=temp_top value=61.{i},quality=\"good\",seq={batch * n + i}i "
            f"{1_790_000_000_000 + batch * n + i}" for i in range(n)]


def test_spill_queue_is_capped_oldest_first_and_counted(tmp_path):
    cap = 100_000
    store = Store(tmp_path / "s.sqlite", spill_max_bytes=cap)
    dropped = [store.spill(_lines(b)) for b in range(50)]  # 50 x ~10 KB
    n, pts = store.spill_depth()
    lost = sum(d.points for d in dropped)
    print(f"50 batches of 100 points (~{50 * len(chr(10).join(_lines(0)))} B) into a {cap} B spill queue: "
          f"{n} batches kept ({store.spill_bytes} B), {lost} points dropped oldest-first")
    assert store.spill_bytes <= cap and pts + lost == 5000
    assert store.spill_dropped_total() == (50 - n, lost)
    oldest = store.oldest_spilled()
    assert oldest is not None and oldest[1][0].split("seq=")[1].startswith(f"{(50 - n) * 100}i")  # the newest stayed
    store.close()
    again = Store(tmp_path / "s.sqlite", spill_max_bytes=cap)
    assert (again.spill_batches, again.spill_bytes) == (n, store.spill_bytes)
    assert again.spill_dropped_total() == (50 - n, lost)
    again.close()


def test_the_ingestor_counts_what_its_spill_cap_dropped(mosquitto, make_ingestor, unique_id):
    """InfluxDB away (nothing listens on its port): 10,000 readings into a 1 MiB spill queue."""
    from aisym.services._proc import free_port

    from .helpers import messages

    ing = make_ingestor(mosquitto, f"http://127.0.0.1:{free_port()}", "nowhere", spill_max_bytes=1024 * 1024,
                        health_interval_s=3600, batch_points=1000, write_timeout_s=0.5)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-b", f"{unique_id}-pub")
    publish_all(pub, "node-b", messages("node-b", 100, 100))
    pub.close()
    wait_for(lambda: ing.counters.acks >= 100, 30, "100 messages spilled and acknowledged")
    _, kept = ing.store.spill_depth()
    c = ing.counters
    print(f"10,000 readings into a 1 MiB spill queue: {kept} kept ({ing.store.spill_bytes} B), "
          f"{c.spill_dropped_points} dropped in {c.spill_dropped_batches} batches")
    assert ing.store.spill_bytes <= 1024 * 1024
    # every point spilled is either still queued or counted as dropped (statuses add a point or two)
    assert kept + c.spill_dropped_points == c.spilled_points and c.spilled_points >= c.readings == 10_000
    assert c.spill_dropped_points > 0
    health = "\n".join(ing._health_lines())
    assert f"spill_dropped_points={float(c.spill_dropped_points)!r}" in health


# -- finding 9: refused after the broker's ack, kept whole, replayed ---------------------------------
def test_whole_letters_outlive_a_flood_of_junk(tmp_path):
    store = Store(tmp_path / "d.sqlite", dead_letter_max_bytes=200_000)
    payload = _msg("gw", [_temp(i, 60.0, 1_790_000_000_000 + i) for i in range(20)])
    topic = "aisym/kraakoya/gw/telemetry"
    whole = [DeadLetter.of(topic, "readings[0].ts", "ahead", payload, 1, "future_ts") for _ in range(10)]
    store.add_dead_letters(whole)
    for _ in range(10):
        store.add_dead_letters(DeadLetter.of(topic, "", "junk", b"x" * 5000, 1, "bad_json") for _ in range(100))
    kept = store.kept_letters()
    assert len(payload) > 1024 and [d.payload for d in kept] == [payload] * 10
    assert store.pruned > 0 and store.pruned_whole == 0 and store.dead_bytes <= 200_000
    store.close()


@pytest.mark.timeout(120)
def test_future_dated_readings_after_a_clock_step_are_kept_whole_and_replayed(mosquitto, influxdb, influx,
                                                                             make_ingestor, unique_id):
    """A gateway's clock steps +1 h: half its readings arrive an hour ahead. The broker acknowledged
    them and the gateway deleted them: on main the dead letters kept 1 KiB each and they were lost.
    Now each is kept whole, and a replay with the step undone stores every reading at its true time."""
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-b", f"{unique_id}-pub")
    t0 = now_ms() - 600_000
    msgs = []
    for m in range(20):  # 20 messages of 20 readings, one every 10 s; the clock stepped before the 11th
        step = HOUR_MS if m >= 10 else 0
        msgs.append(_msg("node-b", [_temp(m * 20 + i, 60.0 + i / 10, t0 + m * 10_000 + i + step) for i in range(20)]))
    publish_all(pub, "node-b", msgs)
    pub.close()
    wait_for(lambda: ing.counters.acks >= 20, 10, "20 messages acknowledged")
    stored_before = len(seqs_in_influx(influx, "node-b"))
    letters = list(ing.store.dead_letters(100))
    print(f"clock +1 h: {stored_before} of 400 readings stored, {len(letters)} letters kept "
          f"({sum(not d.truncated for d in letters)} whole)")
    assert stored_before == 200 and len(letters) == 10
    assert all(d.code == "future_ts" and not d.truncated and d.size > 1024 for d in letters)
    # a replay as the clock still is leaves them; one with the step undone stores them at their true time
    from cloud.ingest import IngestConfig

    cfg = IngestConfig(**{**ing.cfg.__dict__, "mqtt_password": "x"})
    assert replay_with(cfg, PARK).stored == 0
    with pytest.raises(ValueError, match="name the node"):
        replay_with(cfg, PARK, shift_ms=-HOUR_MS)
    res = replay_with(cfg, PARK, node="node-b", shift_ms=-HOUR_MS)
    seqs = seqs_in_influx(influx, "node-b")
    rows = influx.rows("SELECT seq FROM heat_store WHERE node = 'node-b'")  # time in ms
    print(f"after the replay: {len(seqs)} of 400 readings stored; {res.summary()}")
    assert seqs == list(range(400))
    assert all(r["time"] == t0 + (r["seq"] // 20) * 10_000 + r["seq"] % 20 for r in rows)  # every one at its true time
    assert res.stored == 10 and ing.store.dead_letter_count() == 0
