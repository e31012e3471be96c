"""Metered against twin: points written into the real InfluxDB as the ingestor writes them, read
back through the read-only account; the page's months and the CSV carry the sums written.

The fish farm's sludge belt weigher (``farm.sludge_out``, t/h) meters sludge_to_biogas. Written,
in the park's zone (UTC): every hour of January 2025 at 0.08 t/h (744 h: 59.52 t), 100 hours of
February at 0.09 t/h (9 t), plus readings that must not count (bad quality, another park). March
has no reading: its figure is the twin's (31 days × 24 h × 100 kg/h = 74.4 t).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aisym.contract.lineprotocol import point
from cloud.workbench.parks.importer import import_park

PARK = Path(__file__).parent / "data" / "impact_park.yaml"


@pytest.fixture(autouse=True)
def _twin_year_inline(monkeypatch):
    """The twin's year runs as a worker job (test_impact_twin_job.py); here in the asking request, since a
    worker process could not see the test's transaction."""
    monkeypatch.setenv("AISYM_WORKBENCH_TWIN_WORKER", "inline")


def _ms(y, m, d, h=0) -> int:
    return int(datetime(y, m, d, h, tzinfo=UTC).timestamp() * 1000)


def _points() -> list[str]:
    tags = {"company": "fish", "node": "gw", "park": "impact_park", "signal": "sludge_out", "unit": "t/h"}
    jan = [point("farm", tags, {"value": 0.08, "quality": "good"}, _ms(2025, 1, 1) + h * 3_600_000) for h in range(744)]
    feb = [point("farm", tags, {"value": 0.09, "quality": "good"}, _ms(2025, 2, 3) + h * 3_600_000) for h in range(100)]
    bad = [point("farm", tags, {"value": 50.0, "quality": "bad"}, _ms(2025, 2, 20, 5))]
    other = [point("farm", {**tags, "park": "elsewhere"}, {"value": 50.0, "quality": "good"}, _ms(2025, 1, 9, 5))]
    return jan + feb + bad + other


@pytest.fixture
def metered(db, influx, monkeypatch):
    from django.contrib.auth import get_user_model

    from cloud.workbench.accounts.models import Membership
    from tests.conftest import INFLUX_USERS

    park = import_park(PARK, actor="test")
    influx.write(_points())
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_URL", influx.url)
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_DB", influx.database)
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_USER", "dashboards")  # the read-only account
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_PASSWORD", INFLUX_USERS["dashboards"])
    user = get_user_model().objects.create_user("fishfarmer", password="x" * 12)
    Membership.objects.create(user=user, company=park.companies.get(slug="fish"))
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


def _cells(page: str, attr: str, key: str) -> list[str]:
    row = page.split(f'data-{attr}="{key}"', 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", x).strip() for x in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def test_metered_months_are_the_sums_written_and_the_rest_is_the_twin(metered):
    page = metered.get("/parks/impact_park/impact/?year=2025&exchange=sludge_to_biogas").content.decode()
    # month, disposal, purchase (the biogas plant's: hidden), raw material, water, energy, GHG, source, hours
    assert _cells(page, "month", "2025-01") == ["2025-01", "26,784", "—", "59.520", "0.0", "0.000", "2.976", "metered", "744"]
    assert _cells(page, "month", "2025-02") == ["2025-02", "4,050", "—", "9.000", "0.0", "0.000", "0.450", "metered", "100"]
    assert _cells(page, "month", "2025-03") == ["2025-03", "33,480", "—", "74.400", "0.0", "0.000", "3.720", "twin", ""]
    assert "<svg" in page and "Raw material saved per month (t)" in page


def test_the_csv_carries_the_numbers_of_the_page(metered):
    rows = list(csv.reader(io.StringIO(metered.get("/parks/impact_park/impact/impact.csv?year=2025").content.decode())))
    head = rows[0]
    assert head[9:] == ["disposal cost avoided (NOK)", "purchase cost avoided (NOK)", "raw material saved (t)",
                        "water saved (m3)", "energy saved (MWh)", "GHG avoided (t CO2e)"]
    by = {(r[0], r[1]): r for r in rows[1:]}
    assert by[("2025-01", "sludge_to_biogas")][5:9] == ["metered", "744", "59520.000", "kg"]

    def same(page_cells, csv_cells):
        return [c.replace(",", "").replace("—", "") for c in page_cells] == csv_cells

    ex_page = metered.get("/parks/impact_park/impact/?year=2025&exchange=sludge_to_biogas").content.decode()
    park_page = metered.get("/parks/impact_park/impact/?year=2025").content.decode()
    for m in range(1, 13):
        label = f"2025-{m:02d}"
        assert same(_cells(ex_page, "month", label)[1:7], by[(label, "sludge_to_biogas")][9:])
        assert same(_cells(park_page, "month", label)[1:7], by[(label, "park")][9:])
    for x in ("sludge_to_biogas", "water_to_greenhouse", "heat_to_greenhouse"):
        assert same(_cells(park_page, "exchange", x)[4:10], by[("total", x)][9:])
    assert same(_cells(park_page, "exchange", "park")[4:10], by[("total", "park")][9:])
    # the year: 59.52 + 9 t metered, then 10 months of the twin (306 days x 2.4 t = 734.4 t)
    assert by[("total", "sludge_to_biogas")][11] == "802.920"


def test_an_unreachable_influxdb_is_said_and_the_twin_stands_in(metered, monkeypatch):
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_PASSWORD", "wrong")
    page = metered.get("/parks/impact_park/impact/?year=2025&exchange=sludge_to_biogas").content.decode()
    assert "Telemetry could not be read, so every figure is the twin" in page
    assert _cells(page, "month", "2025-01")[3] == "74.400" and _cells(page, "month", "2025-01")[7] == "twin"


def test_a_twin_that_fails_leaves_the_metered_months_and_says_why(metered, monkeypatch):
    from cloud.workbench.impact import sources

    def broken(*args, **kwargs):
        raise ValueError("the kernel refused the park")
    monkeypatch.setattr(sources, "twin_months", broken)
    page = metered.get("/parks/impact_park/impact/?year=2025&exchange=sludge_to_biogas").content.decode()
    assert "The twin could not run this park&#x27;s year, so only metered months have figures: the kernel refused" in page
    assert _cells(page, "month", "2025-01")[3] == "59.520" and _cells(page, "month", "2025-03")[3] == "—"
