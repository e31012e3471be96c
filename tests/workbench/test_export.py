"""The park file round trip: import, export, import, export gives the same file; the CLI's loader
reads what the workbench holds, edits included; a facilitator's download leaves out costs not granted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aisym.park.graph import load_graph
from aisym.park.graph.loader import parse_graph
from cloud.workbench.companies.models import Listing
from cloud.workbench.parks.export import export_park
from cloud.workbench.parks.importer import import_park
from cloud.workbench.parks.models import Park

ROOT = Path(__file__).resolve().parents[2]
PARKS = [ROOT / "aisym" / "parks" / "kalundborg.yaml", ROOT / "aisym" / "parks" / "kraakoya.yaml",
         ROOT / "tests" / "sim_env" / "match_data" / "synthetic_park.yaml",
         Path(__file__).parent / "data" / "two_parks_a.yaml"]


@pytest.mark.parametrize("path", PARKS, ids=lambda p: p.name)
def test_export_import_export_gives_the_same_file(db, tmp_path, path):
    original = load_graph(path)
    first = export_park(import_park(path))
    # the exported file means what the original means (the CLI's loader reads both alike)
    assert parse_graph(first, "first.yaml").doc.model_dump() == original.doc.model_dump()
    Park.objects.filter(slug=original.id).delete()
    (tmp_path / "first.yaml").write_text(first)
    second = export_park(import_park(tmp_path / "first.yaml"))
    assert second == first


def test_the_cli_reads_what_the_workbench_holds(world):
    x = Listing.objects.get(company=world.fish, slug="sludge")
    x.quantity, x.unit, x.cost = 2.5, "t/month", 500.0
    x.save()
    Listing.objects.create(company=world.fish, slug="oven_heat", direction="output", name="heat of the ovens",
                           resource="heat",
                           quality={"temperature_c": 120}, quantity=40, unit="kW", frequency="seasonal", months=[1, 2, 12])
    g = parse_graph(export_park(world.park_a), "park_a.yaml")
    fish = next(c for c in g.doc.companies if c.id == "fish")
    sludge, heat = fish.outputs
    assert (sludge.quantity, sludge.cost, sludge.carrier.ewc) == ("2.5 t/month", "500 NOK/t", "02 01 06")
    assert heat.carrier.temperature_c == 120 and heat.continuity == "seasonal" and heat.profile[0] == 1.0
    assert heat.profile[5] == 0.0 and heat.description == "heat of the ovens"


def test_the_facilitators_download_leaves_out_costs_not_granted(world):
    c = world.client("facilitator_a")
    r = c.get("/parks/park_a/export.yaml")
    assert r.status_code == 200 and r["Content-Disposition"] == 'attachment; filename="park_a.yaml"'
    doc = yaml.safe_load(r.content)
    assert all("cost" not in f for comp in doc["companies"] for f in comp.get("outputs", []) + comp.get("inputs", []))
    world.fish.share_private_with_facilitator = True
    world.fish.save()
    doc = yaml.safe_load(c.get("/parks/park_a/export.yaml").content)
    costs = {comp["id"]: [f.get("cost") for f in comp.get("outputs", []) + comp.get("inputs", [])]
             for comp in doc["companies"]}
    assert costs == {"fish": ["450 NOK/t"], "biogas": [None]}
