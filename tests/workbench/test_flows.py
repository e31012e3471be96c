"""The park's exchanges as a Sankey, read back through the CLI's loader."""

from __future__ import annotations

from pathlib import Path

from cloud.workbench.parks.flows import park_flows
from cloud.workbench.parks.importer import import_park

KALUNDBORG = Path(__file__).resolve().parents[2] / "aisym" / "parks" / "kalundborg.yaml"


def test_kalundborg_flows_between_companies(db):
    from django.contrib.auth import get_user_model

    from aisym.park.graph import load_graph
    from cloud.workbench.accounts.models import Facilitator

    park = import_park(KALUNDBORG)
    names, flows = park_flows(park)
    assert {f.src for f in flows} | {f.dst for f in flows} == set(names)
    g = load_graph(KALUNDBORG)
    between = [lk for lk in g.links if g.company_of[lk.src.split(".")[0]] != g.company_of[lk.dst.split(".")[0]]]
    assert sum(len(f.exchanges) for f in flows) == len(between) > 20  # every exchange between companies, once
    heat = [f for f in flows if f.resource == "heat"]
    assert heat and all(f.unit == "kW" and f.capacity > 0 for f in heat)
    user = get_user_model().objects.create_user("fac", password="x" * 12)
    Facilitator.objects.create(user=user, park=park)
    from django.test import Client

    c = Client()
    c.force_login(user)
    page = c.get(f"/parks/{park.slug}/flows/").content.decode()
    assert page.count("<path ") == len(flows) and "Sankey diagram of" in page
