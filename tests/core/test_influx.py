"""Line protocol into the real InfluxDB and back with InfluxQL; type conflicts say what was dropped."""

from __future__ import annotations

import json

import pytest

from aisym.contract import decode_telemetry, telemetry_points
from aisym.influx import InfluxError, InfluxV1
from aisym.park import load_view

TS = 1_732_370_000_000


def _telemetry(n: int, seq0: int = 0):
    readings = [
        {
            "tag": "heat_store.temp_top",
            "value": 50.0 + i,
            "unit": "degC",
            "ts": TS + 1000 * i,
            "quality": "good",
            "seq": seq0 + i,
        }
        for i in range(n)
    ]
    return decode_telemetry(json.dumps({"v": 1, "park": "kraakoya", "node": "gw-1", "readings": readings}))


def test_write_and_query_back(influx: InfluxV1):
    park = load_view()
    assert influx.write(telemetry_points(_telemetry(100), park)) == 100
    rows = influx.rows("SELECT value, quality, seq FROM heat_store WHERE signal = 'temp_top'")
    assert len(rows) == 100
    assert rows[0]["value"] == 50.0 and rows[0]["quality"] == "good" and rows[0]["seq"] == 0
    assert rows[0]["time"] == TS
    tags = influx.rows('SHOW TAG VALUES FROM heat_store WITH KEY = "company"')
    assert tags[0]["value"] == "park_energy"


def test_replay_overwrites_instead_of_duplicating(influx: InfluxV1):
    park = load_view()
    lines = list(telemetry_points(_telemetry(20), park))
    influx.write(lines)
    influx.write(lines)  # the same readings replayed after an outage
    influx.write(lines[:5])
    assert influx.rows("SELECT count(value) FROM heat_store")[0]["count"] == 20


def test_type_conflict_within_a_batch_names_the_dropped_points(influx: InfluxV1):
    with pytest.raises(InfluxError) as info:
        influx.write(["m,tag=a value=1.5 1000", "m,tag=a value=2i 2000"])
    assert info.value.status == 400
    assert info.value.dropped == 2
    assert "2 of 2 points dropped" in str(info.value) and "conflict" in str(info.value)
    assert not info.value.retryable
    assert influx.rows("SELECT * FROM m") == []


def test_type_conflict_across_batches_is_a_partial_write(influx: InfluxV1):
    influx.write(["m value=1.5 1000"])
    with pytest.raises(InfluxError) as info:
        influx.write(["m value=2.5 2000", "m value=3i 3000", "m value=4.5 4000"])
    assert info.value.dropped == 1
    assert "1 of 3 points dropped" in str(info.value)
    assert [r["value"] for r in influx.rows("SELECT value FROM m")] == [1.5, 2.5, 4.5]


def test_unreachable_is_retryable():
    client = InfluxV1("http://127.0.0.1:9", "x", timeout=1)
    with pytest.raises(InfluxError) as info:
        client.write(["m value=1 1"])
    assert info.value.status == 0 and info.value.retryable
