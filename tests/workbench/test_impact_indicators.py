"""The impact indicators on a park small enough to compute by hand (tests/workbench/data/impact_park.yaml).

Flat flows, so the twin delivers each supply whole every hour (every receiver needs more or as much):

- sludge_to_biogas, 100 kg/h: 876 t/yr; disposal 0.45 NOK/kg and 0.05 kg CO2/kg, manure bought at 0.12 NOK/kg:
  disposal cost avoided 394,200 NOK, purchase 105,120 NOK, raw material 876 t, GHG 43.8 t;
- water_to_greenhouse, 10 m3/h: 87,600 m3/yr; municipal water 5 NOK/m3: purchase 438,000 NOK, water 87,600 m3;
- heat_to_greenhouse, 200 kW: 1,752 MWh/yr; gas boiler 0.8 NOK/kWh and 0.2 kg CO2/kWh: purchase 1,401,600 NOK,
  energy 1,752 MWh, GHG 350.4 t.

Park: disposal 394,200 NOK, purchase 1,944,720 NOK, 876 t, 87,600 m3, 1,752 MWh, 394.2 t CO2e.
January (744 h): sludge 74.4 t, 33,480 NOK disposal; heat 148.8 MWh, 29.76 t CO2e.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud.workbench import tenancy
from cloud.workbench.impact import report
from cloud.workbench.impact.views import months_of
from cloud.workbench.parks.importer import import_park

PARK = Path(__file__).parent / "data" / "impact_park.yaml"
YEAR = [(2025, m) for m in range(1, 13)]


@pytest.fixture(autouse=True)
def _twin_year_inline(monkeypatch):
    """The twin's year runs as a worker job (test_impact_twin_job.py); here in the asking request, since a
    worker process could not see the test's transaction."""
    monkeypatch.setenv("AISYM_WORKBENCH_TWIN_WORKER", "inline")


def _insider(park) -> tenancy.Viewer:
    """A viewer who reads every company's private tier (a member of all three)."""
    ids = frozenset(park.companies.values_list("pk", flat=True))
    return tenancy.Viewer(1, False, ids, frozenset({park.pk}), frozenset())


def test_a_year_of_the_hand_calculated_park(db):
    park = import_park(PARK, actor="test")
    rep = report.build(park, _insider(park), YEAR)
    rows = {r.exchange.id: r for r in rep.rows}
    assert set(rows) == {"sludge_to_biogas", "water_to_greenhouse", "heat_to_greenhouse"} and not rep.left_out
    sludge, water, heat = rows["sludge_to_biogas"].total, rows["water_to_greenhouse"].total, rows["heat_to_greenhouse"].total
    assert sludge["disposal_cost"] == pytest.approx(394_200) and sludge["purchase_cost"] == pytest.approx(105_120)
    assert sludge["raw_material_t"] == pytest.approx(876) and sludge["ghg_t"] == pytest.approx(43.8)
    assert sludge["water_m3"] == 0 and sludge["energy_mwh"] == 0
    assert water["purchase_cost"] == pytest.approx(438_000) and water["water_m3"] == pytest.approx(87_600)
    assert water["disposal_cost"] == pytest.approx(0) and water["ghg_t"] == pytest.approx(0)  # "to the sea" costs nothing
    assert heat["purchase_cost"] == pytest.approx(1_401_600) and heat["energy_mwh"] == pytest.approx(1_752)
    assert heat["ghg_t"] == pytest.approx(350.4)
    assert rep.park_total == pytest.approx({"disposal_cost": 394_200, "purchase_cost": 1_944_720, "raw_material_t": 876,
                                            "water_m3": 87_600, "energy_mwh": 1_752, "ghg_t": 394.2})
    jan = rows["sludge_to_biogas"].cells[0]
    assert jan.source == "twin" and jan.figures["raw_material_t"] == pytest.approx(74.4)
    assert jan.figures["disposal_cost"] == pytest.approx(33_480)
    assert rep.park_months[0]["energy_mwh"] == pytest.approx(148.8) and rep.park_months[0]["ghg_t"] == pytest.approx(33.48)
    # the twin's year is kept per park version: a second build runs nothing
    from cloud.workbench.impact.models import TwinMonths

    assert TwinMonths.objects.filter(park=park).count() == 1
    report.build(park, _insider(park), YEAR)
    assert TwinMonths.objects.filter(park=park).count() == 1


def test_money_is_hidden_where_the_company_keeps_it_private(db):
    park = import_park(PARK, actor="test")
    fish = park.companies.get(slug="fish")
    v = tenancy.Viewer(1, False, frozenset({fish.pk}), frozenset({park.pk}), frozenset())
    rep = report.build(park, v, YEAR)
    rows = {r.exchange.id: r for r in rep.rows}
    assert rows["sludge_to_biogas"].total["disposal_cost"] == pytest.approx(394_200)  # the fish farm's own
    assert rows["sludge_to_biogas"].total["purchase_cost"] == report.HIDDEN  # the biogas plant's
    assert rows["heat_to_greenhouse"].total["energy_mwh"] == pytest.approx(1_752)  # physical: the park tier's
    assert rep.park_total["purchase_cost"] == report.HIDDEN and rep.park_total["ghg_t"] == pytest.approx(394.2)


def test_the_period_is_a_calendar_year_or_the_last_12_complete_months():
    from datetime import date

    assert months_of(None, date(2026, 3, 15)) == [(2025, m) for m in range(3, 13)] + [(2026, 1), (2026, 2)]
    assert months_of("2025", date(2026, 3, 15)) == YEAR
    for bad in ("1999", "2027", "20x5"):
        with pytest.raises(ValueError, match=f"year: {bad} is not a year from 2000 to 2026"):
            months_of(bad, date(2026, 3, 15))
