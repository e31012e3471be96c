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
    title = page[page.index("<title>"):page.index("</title>")]
    assert "Metered" not in title and "<" not in title[7:]  # the page's title is its name, nothing of the body


KRAAKOYA = KALUNDBORG.parent / "kraakoya.yaml"


def test_metered_exchanges_show_their_latest_value_and_7_days(db, influx, monkeypatch):
    """Points written as the ingestor writes them; read back through the read-only account."""
    import time as _time

    from django.contrib.auth import get_user_model
    from django.test import Client

    from aisym.contract.lineprotocol import point
    from cloud.workbench.accounts.models import Facilitator
    from tests.conftest import INFLUX_USERS

    park = import_park(KRAAKOYA)
    now = int(_time.time() * 1000)
    tags = {"company": "x", "node": "gw", "park": "kraakoya", "signal": "gas_flow", "unit": "Nm3/h"}
    influx.write([point("chp", tags, {"value": 40.0 + (h % 24)}, now - h * 3_600_000) for h in range(0, 168)])
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_URL", influx.url)
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_DB", influx.database)
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_USER", "dashboards")  # read-only
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_PASSWORD", INFLUX_USERS["dashboards"])
    user = get_user_model().objects.create_user("fac", password="x" * 12)
    Facilitator.objects.create(user=user, park=park)
    c = Client()
    c.force_login(user)
    page = c.get("/parks/kraakoya/flows/").content.decode()
    row = page.split("<code>chp.gas_flow</code>", 1)[1].split("</tr>", 1)[0]
    assert "40 Nm3/h" in row and "<polyline" in row and "hourly means" in row
    assert page.count("no data in 7 days") >= 1  # the other meters have none yet
    monkeypatch.setenv("AISYM_WORKBENCH_INFLUX_PASSWORD", "wrong")
    assert "Telemetry could not be read" in c.get("/parks/kraakoya/flows/").content.decode()
