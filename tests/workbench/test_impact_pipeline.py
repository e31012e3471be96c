"""A candidate the pipeline marks running counts as a running exchange, simulated in the twin with the
park's own (cloud.workbench.pipeline, helper D's app: skipped where it is not there).

The hand-calculated park without its heat main: matchmaking finds it again as a candidate
(plant.waste_heat>greenhouse.heat:direct); running, the twin runs it with the park's own exchanges.
Matchmaking plans it as a pipe of 2 km (the sites state no coordinates) losing 1 % per km, so it
delivers 200 × 0.98 = 196 kW all year: 1,716.96 MWh and 343.392 t CO2e at the gas boiler's 0.2 kg/kWh.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud.workbench import tenancy
from cloud.workbench.impact import report
from cloud.workbench.parks.importer import import_park

PARK = Path(__file__).parent / "data" / "impact_park.yaml"
KEY = "plant.waste_heat>greenhouse.heat:direct"


@pytest.fixture(autouse=True)
def _twin_year_inline(monkeypatch):
    """The twin's year runs as a worker job (test_impact_twin_job.py); here in the asking request, since a
    worker process could not see the test's transaction."""
    monkeypatch.setenv("AISYM_WORKBENCH_TWIN_WORKER", "inline")


def test_a_running_pipeline_candidate_is_counted_from_the_twin(db):
    pipeline = pytest.importorskip("cloud.workbench.pipeline.models")
    if not hasattr(pipeline, "Opportunity"):
        pytest.skip("the pipeline app has no opportunities yet")
    park = import_park(PARK, actor="test")
    park.document["exchanges"] = [e for e in park.document["exchanges"] if e["id"] != "heat_to_greenhouse"]
    park.save()
    v = tenancy.Viewer(1, False, frozenset(), frozenset({park.pk}), frozenset())
    months = [(2025, m) for m in range(1, 13)]
    assert {r.exchange.id for r in report.build(park, v, months).rows} == {"sludge_to_biogas", "water_to_greenhouse"}
    pipeline.Opportunity.objects.create(park=park, key=KEY, title="heat to the greenhouse", stage=pipeline.RUNNING)
    pipeline.Opportunity.objects.create(park=park, key="gone>nowhere:direct", title="old", stage=pipeline.RUNNING)
    pipeline.Opportunity.objects.create(park=park, key=KEY, title="same, an idea", stage="idea")
    rep = report.build(park, v, months)
    heat = [r for r in rep.rows if r.exchange.origin == "pipeline"]
    assert len(heat) == 1 and (heat[0].exchange.supplier, heat[0].exchange.receiver) == ("biogas", "greenhouse")
    assert heat[0].total["energy_mwh"] == pytest.approx(1_716.96) and heat[0].total["ghg_t"] == pytest.approx(343.392)
    assert heat[0].total["purchase_cost"] == report.HIDDEN  # the greenhouse's cost: not this viewer's
    gone = "running in the pipeline, but no longer a candidate of this park version"
    assert [(k, str(w)) for k, w in rep.left_out] == [("gone>nowhere:direct", gone)]
