"""The telemetry contract: round-trips, rejections that name the field, topics, line protocol."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aisym.contract import (
    MAX_AHEAD_MS,
    Command,
    PayloadError,
    Reading,
    Setpoint,
    Telemetry,
    check_against_park,
    check_times,
    decode_command,
    decode_telemetry,
    encode,
    telemetry_points,
    topics,
)
from aisym.park import load_view

TS = 1_732_370_000_000


def _msg(**kw) -> dict:
    base = {
        "v": 1,
        "park": "kraakoya",
        "node": "gw-1",
        "readings": [
            {"tag": "heat_store.temp_top", "value": 61.2, "unit": "degC", "ts": TS, "quality": "good", "seq": 7},
            {"tag": "ras.ph", "value": None, "unit": "pH", "ts": TS, "quality": "comm_error", "seq": 8},
        ],
    }
    base.update(kw)
    return base


def _reading(**kw) -> dict:
    return _msg(readings=[{**_msg()["readings"][0], **kw}])


def test_round_trip():
    m = decode_telemetry(json.dumps(_msg()))
    assert decode_telemetry(encode(m)) == m
    assert m.readings[1].value is None and m.readings[1].quality == "comm_error"


@given(
    st.lists(
        st.tuples(st.floats(allow_nan=False, allow_infinity=False, width=64), st.sampled_from(["good", "stale"])),
        min_size=1,
        max_size=50,
    )
)
def test_round_trip_any_values(values):
    readings = [
        Reading(tag="ras.water_temp", value=v, unit="degC", ts=TS + i, quality=q, seq=i) for i, (v, q) in enumerate(values)
    ]
    m = Telemetry(v=1, park="kraakoya", node="n1", readings=readings)
    assert decode_telemetry(encode(m)) == m


BAD = [
    ("not json", b"{nope", "", "not JSON"),
    ("not an object", b"[1, 2]", "", "JSON object"),
    ("wrong version", json.dumps(_msg(v=2)), "v", "unsupported contract version"),
    ("missing version", json.dumps({k: v for k, v in _msg().items() if k != "v"}), "v", "version"),
    ("no readings", json.dumps(_msg(readings=[])), "readings", "at least 1"),
    ("string value", json.dumps(_reading(value="61.2")), "readings[0].value", "valid number"),
    ("bool value", json.dumps(_reading(value=True)), "readings[0].value", "valid number"),
    ("NaN value", json.dumps(_reading(value=float("nan"))), "readings[0].value", "finite"),
    ("infinite value", json.dumps(_reading(value=float("inf"))), "readings[0].value", "finite"),
    ("bad quality", json.dumps(_reading(quality="ok")), "readings[0].quality", "'good', 'stale', 'comm_error'"),
    ("good without value", json.dumps(_reading(value=None)), "readings[0]", "needs a value"),
    ("comm_error with value", json.dumps(_reading(quality="comm_error")), "readings[0]", "carries no value"),
    ("timestamp in seconds", json.dumps(_reading(ts=TS // 1000)), "readings[0].ts", "greater than or equal"),
    ("negative seq", json.dumps(_reading(seq=-1)), "readings[0].seq", "greater than or equal to 0"),
    (
        "seq not increasing",
        json.dumps(_msg(readings=[_msg()["readings"][0], {**_msg()["readings"][0], "seq": 7}])),
        "readings[1].seq",
        "does not increase",
    ),
    ("bad tag", json.dumps(_reading(tag="HeatStore/temp")), "readings[0].tag", "pattern"),
    ("extra field", json.dumps(_reading(colour="red")), "readings[0].colour", "unknown field"),
    ("bad node id", json.dumps(_msg(node="Node 1")), "node", "pattern"),
    (
        "missing unit",
        json.dumps(_msg(readings=[{k: v for k, v in _msg()["readings"][0].items() if k != "unit"}])),
        "readings[0].unit",
        "Field required",
    ),
    ("too large", b"{" + b" " * (300 * 1024) + b"}", "", "exceeds"),
    ("utf-16 BOM", b"\xff\xfe{}", "", "UTF-16/32 BOM"),
    ("utf-8 BOM", b"\xef\xbb\xbf" + json.dumps(_msg()).encode(), "", "byte-order mark"),
    ("utf-16 without BOM", json.dumps(_msg()).encode("utf-16-le"), "", "NUL byte at offset 1"),
    ("invalid utf-8", b'{"v": 1, "node": "\xc3\x28"}', "", "not UTF-8"),
    ("nested too deep", b"[" * 50_000 + b"]" * 50_000, "", "nesting too deep"),
    ("5000-digit integer", b'{"v": ' + b"1" * 5000 + b"}", "", "4300 digits"),
    ("huge bad value is quoted short", json.dumps(_reading(quality="q" * 10_000)), "readings[0].quality", "qqq..."),
]


@pytest.mark.parametrize(("what", "payload", "field", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_payload_is_rejected_naming_the_field(what, payload, field, words):
    with pytest.raises(PayloadError) as info:
        decode_telemetry(payload)
    assert info.value.field == field
    assert words in str(info.value)


def test_codes_sort_the_reasons():
    def code(payload) -> str:
        with pytest.raises(PayloadError) as info:
            decode_telemetry(payload)
        assert len(str(info.value)) < 400  # a reason never carries the payload along
        return info.value.code

    assert code(b"\xef\xbb\xbf{}") == "bad_encoding" and code(b"{" * 100_000) == "bad_json"
    assert code(b"x" * 300_000) == "too_large" and code(json.dumps(_reading(seq=-1))) == "invalid"
    assert code(json.dumps(_reading(unit="u" * 100_000))) == "invalid"


def test_timestamps_ahead_of_arrival_are_refused():
    m = decode_telemetry(json.dumps(_msg(sent=TS + 1000)))
    check_times(m, TS)  # 1 s ahead: clocks differ that much
    check_times(m, TS - MAX_AHEAD_MS + 1000)  # the bound itself
    with pytest.raises(PayloadError) as info:
        check_times(m, TS - 3_600_000)
    assert info.value.field == "sent" and info.value.code == "future_ts" and "3601 s ahead" in info.value.reason
    later = decode_telemetry(json.dumps(_msg(readings=[_msg()["readings"][0], {**_msg()["readings"][1], "ts": TS + 600_000}])))
    with pytest.raises(PayloadError, match=r"readings\[1\]\.ts: .* 600 s ahead .* at most 60 s allowed"):
        check_times(later, TS, max_ahead_ms=60_000)


def test_check_against_park():
    park = load_view()
    m = decode_telemetry(
        json.dumps(
            _msg(
                readings=[
                    {"tag": "ras.water_temp", "value": 12.0, "unit": "K", "ts": TS, "quality": "good", "seq": 1},
                    {"tag": "ras.colour", "value": 1.0, "unit": "1", "ts": TS, "quality": "good", "seq": 2},
                ]
            )
        )
    )
    problems = dict(check_against_park(m, park))
    assert "measured in 'degC'" in problems["readings[0].unit"]
    assert "no tag 'ras.colour'" in problems["readings[1].tag"]


def test_line_protocol_mapping():
    park = load_view()
    m = decode_telemetry(json.dumps(_msg()))
    lines = list(telemetry_points(m, park))
    assert lines[0] == (
        f"heat_store,company=park_energy,node=gw-1,park=kraakoya,signal=temp_top,unit=degC "
        f'value=61.2,quality="good",seq=7i {TS}'
    )
    assert lines[1].startswith("ras,company=eco_seafood,") and "value=" not in lines[1]


def test_line_protocol_escapes_and_integral_floats():
    from aisym.contract import point

    line = point("m x", {"t,1": "a b=c"}, {"value": 3.0, "s": 'say "hi"', "ok": True}, 5)
    assert line == r'm\ x,t\,1=a\ b\=c value=3.0,s="say \"hi\"",ok=true 5'


def test_command_round_trip_and_rejection():
    c = Command(v=1, id="c1", ts=TS, setpoints=[Setpoint(tag="heat_pump.heat_setpoint", value=120.0)], ttl_s=600)
    assert decode_command(encode(c)) == c
    with pytest.raises(PayloadError, match=r"setpoints\[0\]\.value"):
        decode_command(json.dumps({"v": 1, "id": "c1", "ts": TS, "setpoints": [{"tag": "a.b", "value": "high"}]}))


def test_topics():
    assert topics.telemetry("kraakoya", "gw-1") == "aisym/kraakoya/gw-1/telemetry"
    assert topics.ack("kraakoya", "gw-1") == "aisym/kraakoya/gw-1/cmd/ack"
    t = topics.parse("aisym/kraakoya/gw-1/cmd/ack")
    assert (t.park, t.node, t.kind) == ("kraakoya", "gw-1", "cmd/ack")
    assert topics.shared("ingest", topics.subscription("telemetry")) == "$share/ingest/aisym/+/+/telemetry"
    for bad in ("aisym/kraakoya/gw-1/other", "x/kraakoya/gw-1/telemetry", "aisym/Kraakoya/gw-1/telemetry"):
        with pytest.raises(topics.TopicError):
            topics.parse(bad)
    with pytest.raises(topics.TopicError, match="node 'Gw 1'"):
        topics.telemetry("kraakoya", "Gw 1")
