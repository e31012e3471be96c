"""Matchmaking's profiles from the park's meters, with the band of their latest forecast (issue 21, item 3).

Kalundborg's refinery meters its steam (tag ``refinery.steam_in``, MW) on the one exchange that
feeds it. 20 days of readings at 6 MW by night and 10 MW by day (hand: 8 MW mean, 70,080 MWh a
year) and a stored daily forecast whose 80 % interval is 7.2-9.2 around 8 (factors 0.9 and 1.15)
must become the refinery's input profile and its band.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.contract.lineprotocol import point
from aisym.influx import InfluxV1
from aisym.park.graph import load_graph
from sim_env.match.metered import meters, read_meters
from sim_env.match.park import match_park, park_options, park_profiles
from tests.conftest import INFLUX_USERS

KALUNDBORG = "aisym/parks/kalundborg.yaml"
TAG = "refinery.steam_in"
UNTIL = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _lines(park_id: str) -> list[str]:
    start = UNTIL - timedelta(days=20)
    lines = []
    for h in range(20 * 24):
        when = start + timedelta(hours=h)
        mw = 10.0 if 6 <= when.hour < 18 else 6.0
        ts = int(when.timestamp() * 1000)
        lines.append(point("refinery", {"park": park_id, "signal": "steam_in", "node": "gw"},
                           {"value": mw, "quality": "good"}, ts))
        # a bad reading is not a reading: it must not pull the mean
        lines.append(point("refinery", {"park": park_id, "signal": "steam_in", "node": "gw"},
                           {"value": 500.0, "quality": "bad"}, ts + 60_000))
    issued = int(UNTIL.timestamp() * 1000)
    for lead in range(1, 15):  # the latest daily forecast: 8 MW, 80 % 7.2-9.2
        lines.append(point("forecast", {"park": park_id, "series": TAG, "resolution": "daily"},
                           {"mean": 8.0, "lo80": 7.2, "hi80": 9.2, "lo95": 6.5, "hi95": 9.9, "lead": lead,
                            "issued": issued, "model": "mstl"}, issued + lead * 86_400_000))
    for lead in range(1, 15):  # an older forecast, ignored
        lines.append(point("forecast", {"park": park_id, "series": TAG, "resolution": "daily"},
                           {"mean": 8.0, "lo80": 1.0, "hi80": 20.0, "lo95": 0.5, "hi95": 30.0, "lead": lead,
                            "issued": issued - 86_400_000, "model": "mstl"}, issued - 86_400_000 + lead * 86_400_000 + 1))
    return lines


@pytest.fixture
def metered_db(influxdb, influx):
    graph = load_graph(KALUNDBORG)
    influx.write(_lines(graph.id))
    return InfluxV1(influxdb.url, influx.database, "dashboards", INFLUX_USERS["dashboards"]), graph


def test_a_meter_on_an_exchange_stands_for_the_port_it_alone_uses():
    graph = load_graph(KALUNDBORG)
    keys = meters(graph)
    assert keys["port:refinery.steam"] == TAG
    assert "port:asv6.steam_mp" not in keys  # three exchanges leave it: one meter does not measure the port


def test_the_refinery_profile_comes_from_its_meter_with_the_forecast_band(metered_db):
    reader, graph = metered_db
    metered, _ = read_meters(reader, graph, park_profiles(graph), until=UNTIL, days=30)
    m = metered[TAG]
    assert m.readings == 480 and m.band == pytest.approx((0.9, 1.15), rel=1e-12)
    # hand: half the hours at 10 MW, half at 6: 8,000 kW on average (the year's shape is flat: 20 days)
    assert m.hourly.mean() == pytest.approx(8000.0, rel=1e-3)
    cands, _, profs = match_park(graph, park_options(graph, existing="ignore"), metered=metered)
    flow = next(f for f in profs[graph.company_of["refinery"]].flows if f.port == "refinery.steam")
    assert flow.metered == TAG and flow.annual == pytest.approx(8000.0 * 8760, rel=1e-3)
    assert "(80 %: 6.307e+07-8.059e+07, metered)" in flow.amount_text()
    into = [c for c in cands if c.input is not None and c.input.port == "refinery.steam"]
    assert into and all(f"80 % band from the forecast of meter {TAG}" in c.reason() for c in into)


def test_aisym_match_telemetry_on_the_command_line(metered_db, influxdb, influx):
    env = {**os.environ, "AISYM_INFLUX_READER_PASSWORD": INFLUX_USERS["dashboards"]}
    r = CliRunner().invoke(app, ["match", KALUNDBORG, "--telemetry", "--influx-url", influxdb.url, "--influx-db",
                                 influx.database, "--existing", "ignore", "--format", "json", "--top", "200"], env=env)
    assert r.exit_code == 0, r.output
    assert "--telemetry: 1 meter(s) read" in r.stderr
    rows = json.loads(r.stdout)["candidates"]
    assert any(TAG in row["reason"] for row in rows)


def test_telemetry_with_a_wrong_password_is_one_line(influxdb, influx):
    env = {**os.environ, "AISYM_INFLUX_READER_PASSWORD": "wrong"}
    r = CliRunner().invoke(app, ["match", KALUNDBORG, "--telemetry", "--influx-url", influxdb.url, "--influx-db",
                                 influx.database], env=env)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.stderr.startswith("--telemetry: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_too_few_readings_keep_the_described_profile(influxdb, influx):
    graph = load_graph(KALUNDBORG)
    reader = InfluxV1(influxdb.url, influx.database, "dashboards", INFLUX_USERS["dashboards"])
    metered, notes = read_meters(reader, graph, park_profiles(graph), until=UNTIL, days=30)
    assert metered == {} and any("refinery.steam_in: the described profile kept" in n for n in notes)
    assert np.isfinite(len(notes))
