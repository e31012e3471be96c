"""The small parts on their own: secrets from env or files, backoff, seq tracking, writer on HTTP 429."""

from __future__ import annotations

import http.server
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aisym.contract import Telemetry, telemetry_points
from aisym.influx import InfluxError, InfluxV1
from cloud.errors import ConfigError
from cloud.ingest import Backoff, IngestConfig, SeqTracker, Writer, secret
from cloud.ingest.fastlines import SeriesKeys

from .helpers import PARK


def test_secret_from_env_or_file(tmp_path):
    f = tmp_path / "pw"
    f.write_text("s3cret\n")
    assert secret("MQTT_PASSWORD", {"AISYM_MQTT_PASSWORD": "x"}) == "x"
    assert secret("MQTT_PASSWORD", {"AISYM_MQTT_PASSWORD_FILE": str(f)}) == "s3cret"
    assert secret("MQTT_PASSWORD", {}) is None
    with pytest.raises(ConfigError, match="both AISYM_MQTT_PASSWORD and AISYM_MQTT_PASSWORD_FILE"):
        secret("MQTT_PASSWORD", {"AISYM_MQTT_PASSWORD": "x", "AISYM_MQTT_PASSWORD_FILE": str(f)})
    with pytest.raises(ConfigError, match=r"AISYM_MQTT_PASSWORD_FILE=.*cannot read"):
        secret("MQTT_PASSWORD", {"AISYM_MQTT_PASSWORD_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match=r"AISYM_MQTT_PASSWORD .* is required"):
        IngestConfig.from_env({})


def test_config_from_env_and_overrides(tmp_path):
    env = {"AISYM_MQTT_PASSWORD": "pw", "AISYM_MQTT_CA_FILE": str(tmp_path / "ca.crt"), "AISYM_INFLUX_DB": "park"}
    cfg = IngestConfig.from_env(env, group="g2", influx_db=None)
    assert (cfg.mqtt_port, cfg.influx_db, cfg.group, cfg.mqtt_password) == (8883, "park", "g2", "pw")
    assert cfg.client_id.startswith("aisym-ingest-g2-")
    with pytest.raises(ConfigError, match="AISYM_MQTT_PORT='x'"):
        IngestConfig.from_env({**env, "AISYM_MQTT_PORT": "x"})
    with pytest.raises(ConfigError, match="linger_s"):
        IngestConfig(linger_s=0)


def test_backoff_grows_with_jitter_and_honours_retry_after():
    b = Backoff(initial_s=0.5, max_s=4.0)
    waits = [b.next_wait() for _ in range(6)]
    ceilings = [0.5, 1, 2, 4, 4, 4]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert b.next_wait(retry_after=10.0) == 10.0
    b.reset()
    assert b.next_wait() <= 0.5


def test_seq_tracker_holes_late_fills_gaps_and_duplicates():
    t = SeqTracker(grace_s=5.0)
    assert t.observe("n", [0, 1, 2], 0.0) == (0, [])
    t.observe("n", [6, 7], 1.0)  # 3..5 missing for now
    t.observe("n", [4], 2.0)  # a late reading fills part of the hole
    assert t.open_holes("n") == [(3, 3), (5, 5)]
    assert t.observe("n", [1, 2, 7], 3.0)[0] == 3  # seen before: duplicates
    assert t.expired(4.0) == []
    gaps = t.expired(6.5)
    assert [(g.first, g.last) for g in gaps] == [(3, 3), (5, 5)] and t.missing_total == 2 and t.gaps_total == 2
    small = SeqTracker(grace_s=99, max_holes=2)
    forced = [g for s in (2, 4, 6, 8) for g in small.observe("m", [s], 0.0)[1]]
    assert [(g.first, g.last) for g in forced] == [(3, 3)]  # the oldest hole is reported at once, memory stays bounded


class _Throttle(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(429)
        self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "slow down"}')

    def log_message(self, *args):
        pass


def test_writer_reports_throttling_as_retryable_with_retry_after():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Throttle)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        w = Writer(InfluxV1(f"http://127.0.0.1:{srv.server_address[1]}", "db"))
        with pytest.raises(InfluxError) as e:
            w.write(["m value=1.0 1790000000000"])
        assert e.value.retryable and e.value.retry_after == 7.0 and e.value.status == 429
        assert Backoff().next_wait(e.value.retry_after) == 7.0
    finally:
        srv.shutdown()


# -- the fast series-key encoder writes exactly what the contract's encoder writes ----------------
IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@st.composite
def any_telemetry(draw) -> Telemetry:
    n = draw(st.integers(1, 6))
    readings = []
    for seq in sorted(draw(st.lists(st.integers(0, 2**63 - 1), min_size=n, max_size=n, unique=True))):
        quality = draw(st.sampled_from(["good", "stale", "comm_error"]))
        value = (
            None
            if quality == "comm_error"
            else draw(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6))
        )
        if quality == "stale" and draw(st.booleans()):
            value = None
        readings.append(
            {
                "tag": f"{draw(st.sampled_from(['heat_store', 'ras', 'x_unknown']))}.{draw(IDENT)}",
                "value": float(value) if value is not None else None,
                "unit": draw(st.text('abc ,=\\"/%3', min_size=1, max_size=8)),
                "ts": draw(st.integers(946_684_800_000, 4_102_444_800_000)),
                "quality": quality,
                "seq": seq,
                "ts_synced": draw(st.booleans()),
            }
        )
    node = draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,8}", fullmatch=True))
    return Telemetry.model_validate({"v": 1, "park": "kraakoya", "node": node, "readings": readings})


@settings(max_examples=150, deadline=None)
@given(msg=any_telemetry())
def test_series_key_cache_matches_the_contract_encoder(msg):
    assert SeriesKeys(PARK).lines(msg) == list(telemetry_points(msg, PARK))
    assert SeriesKeys(None).lines(msg) == list(telemetry_points(msg, None))
