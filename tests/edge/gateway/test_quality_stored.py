"""The ``out_of_range`` quality (issue 10, finding 13) from the gateway's contract to InfluxDB:
the contract accepts it only with a value, the ingestor's line writer stores it like the others."""

from __future__ import annotations

import pytest

from aisym.contract import PayloadError, Reading, Telemetry, decode_telemetry, encode, telemetry_points
from aisym.park import load_view
from cloud.ingest.fastlines import SeriesKeys

TS = 1_764_000_000_000


def test_out_of_range_needs_a_value_and_is_stored_as_its_quality(influx):
    readings = [
        Reading(tag="chp.power_el", value=250.0, unit="kW", ts=TS, quality="out_of_range", seq=1),
        Reading(tag="chp.power_el", value=120.0, unit="kW", ts=TS + 1000, quality="good", seq=2),
    ]
    msg = decode_telemetry(encode(Telemetry(v=1, park="kraakoya", node="gw-test", readings=readings)))
    assert msg.readings[0].quality == "out_of_range"
    bad = b'{"v":1,"park":"kraakoya","node":"gw-test","readings":[{"tag":"chp.power_el","value":null,"unit":"kW",'
    bad += b'"ts":1764000000000,"quality":"out_of_range","seq":3}]}'
    with pytest.raises(PayloadError, match="'out_of_range' reading needs a value"):
        decode_telemetry(bad)
    park = load_view()
    lines = SeriesKeys(park).lines(msg)
    assert lines == list(telemetry_points(msg, park))  # the ingestor's fast path, byte for byte
    influx.write(lines)
    rows = influx.rows('SELECT "value", "quality" FROM "chp" WHERE "signal" = \'power_el\'')
    assert [(r["value"], r["quality"]) for r in rows] == [(250.0, "out_of_range"), (120.0, "good")]
