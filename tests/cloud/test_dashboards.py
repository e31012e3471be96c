"""The generated dashboards, for both shipped parks: every panel's InfluxQL runs on real InfluxDB holding demo
data and returns series; every metered exchange is in exactly one flow panel, in that panel's unit; the JSON loads
back through grafana-foundation-sdk's model; the committed JSON matches a fresh build; push talks to a Grafana-like
server."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard
from typer.testing import CliRunner

from aisym.cli import app
from aisym.influx import InfluxV1
from aisym.park.graph import load_graph
from aisym.park.quantity import convert
from cloud.dashboards import DATASOURCE_UID, as_graph, dashboard_json, targets, write_all
from cloud.dashboards.build import grafana_unit
from cloud.dashboards.demo import demo_lines
from cloud.dashboards.push import push
from cloud.errors import PushError

GRAPH = load_graph()  # the shipped Kråkøya park (the helpers' PARK is its view: tags and companies)
GENERATED = Path(__file__).resolve().parents[2] / "cloud" / "dashboards" / "generated"
KALUNDBORG = Path(__file__).resolve().parents[2] / "aisym" / "parks" / "kalundborg.yaml"
PARKS = {"kraakoya": lambda: as_graph(GRAPH), "kalundborg": lambda: load_graph(KALUNDBORG)}


@pytest.fixture(scope="module", params=sorted(PARKS))
def park(request):
    return PARKS[request.param]()


@pytest.fixture(scope="module")
def boards() -> dict[str, dict]:
    return dashboard_json(GRAPH)


def _flow_panels(board: dict) -> list[dict]:
    return [p for p in board["panels"] if p.get("title", "").startswith("Flows: ")]


def test_dashboards_cover_the_park(boards):
    assert set(boards) == {"overview", "data-quality", "health", "forecasts"} | {f"company-{GRAPH.company_of[t.split('.')[0]]}"
                                                                                     for t in GRAPH.tags}  # those with tags
    queries = {name: " ".join(t["query"] for _, t in targets(b)) for name, b in boards.items()}
    for tag_id in GRAPH.tags:  # every tag on its company's dashboard
        asset, name = tag_id.split(".")
        board = f"company-{GRAPH.company_of[asset]}"
        assert f'FROM "{asset}"' in queries[board] and f"'{name}'" in queries[board], tag_id
    for ex in (link for link in GRAPH.links if link.meter_tag):  # every metered exchange on the overview
        asset, name = ex.meter_tag.split(".")
        assert f'FROM "{asset}" WHERE "park" = \'kraakoya\' AND "signal" = \'{name}\'' in queries["overview"], ex.id
    assert "grid" in queries["overview"] and "* 0.0487" in queries["overview"]  # (35 + 13.7) EUR/MWh per kW
    for name in ("node_health", "ingest_health", "node_status"):
        assert name in queries["health"]
    for name in ("data_quality", "seq_gap", "node_last_seen", "ingest_seq"):
        assert name in queries["data-quality"]


def test_every_metered_exchange_is_in_exactly_one_flow_panel_in_its_unit(park):
    overview = dashboard_json(park)["overview"]
    seen: dict[str, list[str]] = {}
    for p in _flow_panels(overview):
        unit = re.search(r"\[([^\]]+)\]$", p["title"]).group(1)  # the panel states its unit
        assert p["fieldConfig"]["defaults"]["unit"] == grafana_unit(unit), p["title"]
        for t in p["targets"]:
            ex = re.search(r"\((\w+)\)$", t["alias"]).group(1)
            seen.setdefault(ex, []).append(p["title"])
            tag = park.tags[next(ln.meter_tag for ln in park.links if ln.id == ex)]
            k = 1.0 if tag.unit == unit else convert(1.0, tag.unit, unit)  # mixed units converted, by pint
            assert (f"* {k!r}" in t["query"]) == (k != 1.0), (ex, t["query"])
    metered = [ln.id for ln in park.links if ln.meter_tag]
    assert sorted(seen) == sorted(metered)
    assert all(len(v) == 1 for v in seen.values()), {k: v for k, v in seen.items() if len(v) > 1}
    volumes = [t["alias"].split(" [")[0] for p in overview["panels"] if p["type"] == "bargauge" for t in p["targets"]]
    assert sorted(volumes) == sorted(metered)  # the amount of every metered exchange over the range, once
    latest = next(p for p in overview["panels"] if p["type"] == "table" and p["title"].startswith("Latest flow"))
    assert len(latest["targets"]) == len(metered) and latest["transformations"][0]["id"] == "reduce"


def test_kalundborg_words_and_units_come_from_its_file():
    g = load_graph(KALUNDBORG)
    b = dashboard_json(g)
    text = json.dumps(b, ensure_ascii=False)
    for word in ("Norwegian", "EUR", "fresh water", "Kråkøya", "NOK"):
        assert word not in text, word
    ov = b["overview"]
    titles = [p.get("title", "") for p in ov["panels"]]
    assert "Cost and CO2 (DKK)" in titles
    grid_co2 = next(p for p in ov["panels"] if p.get("title") == "Grid supply to the park's consumers: CO2 per hour")
    assert "Energinet location-based declaration" in grid_co2["description"] and "110 g CO2/kWh" in grid_co2["description"]
    tisso = next(p for p in ov["panels"] if p.get("title") == "Bought: tisso_to_refinery per hour")
    assert "Lake Tissø" in tisso["description"] and "2.5 DKK/m3" in tisso["description"]
    # MW and t/h meters are costed like kW and kg/h ones: 0.3 DKK/kWh of backup steam is 300 DKK per MWh
    steam = next(p for p in ov["panels"] if p.get("title") == "Avoided: steam_to_refinery per hour")
    assert "* 300.0" in steam["targets"][0]["query"]
    flows = {p["title"] for p in _flow_panels(ov)}
    assert {"Flows: heat 90 °C [MW]", "Flows: water (surface) [m3/h]", "Flows: steam 4 bar 160 °C [MW]"} <= flows
    assert "Flows: material sulphur EWC 05 01 16 [t/h]" in flows  # materials in t/h, the kg/h meter converted
    gives = b["company-kalundborg_water"]["panels"]
    assert any(p.get("title", "").endswith("gives (latest)") for p in gives)


def test_dashboard_json_loads_back_through_the_sdk_model(park):
    enc = JSONEncoder(sort_keys=True)
    for name, board in dashboard_json(park).items():
        back = Dashboard.from_json(board)
        again = json.loads(enc.encode(back))
        assert again == board, name  # nothing the SDK's model does not know, nothing lost


def test_targets_are_raw_influxql_on_one_datasource(park):
    for name, b in dashboard_json(park).items():
        ids = [p["id"] for p in b["panels"]]
        assert len(ids) == len(set(ids)), name
        for p in b["panels"]:
            assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
            refs = [t["refId"] for t in p.get("targets", []) or []]
            assert len(refs) == len(set(refs)), (name, p["title"])
        for title, t in targets(b):
            assert t["rawQuery"] is True and t["datasource"] == {"type": "influxdb", "uid": DATASOURCE_UID}, title
            assert t["resultFormat"] in ("time_series", "table") and "alias" in t
            assert t["query"].startswith("SELECT ") and "$timeFilter" in t["query"], title


def test_every_panel_query_returns_series_on_demo_data(park, influxdb, influx):
    from tests.conftest import INFLUX_USERS

    boards = dashboard_json(park)
    influx.write(demo_lines(park, time.time_ns() // 1_000_000, minutes=30))
    grafana = InfluxV1(influxdb.url, influx.database, "dashboards", INFLUX_USERS["dashboards"])  # Grafana's read-only account
    empty, n = [], 0
    for name, b in boards.items():
        for title, t in targets(b):
            q = t["query"].replace("$timeFilter", "time > now() - 2h").replace("$__interval", "5m")
            res = grafana.query(q)
            n += 1
            if not any(r.get("series") for r in res):
                empty.append((name, title, q))
    assert not empty, f"{len(empty)} of {n} queries returned no series: {empty[:5]}"
    assert n > 150


def test_committed_files_match_a_fresh_build(tmp_path):
    written = write_all(GRAPH, tmp_path)
    for p in written:
        committed = GENERATED / p.relative_to(tmp_path)
        assert committed.exists(), f"{committed.name} not committed: run 'aisym dashboards build'"
        assert committed.read_text() == p.read_text(), f"{committed.name} is stale: run 'aisym dashboards build'"
    ds = yaml.safe_load((tmp_path / "provisioning/datasources/aisym.yaml").read_text())["datasources"][0]
    assert ds["uid"] == DATASOURCE_UID and ds["type"] == "influxdb" and ds["jsonData"]["dbName"] == "aisym"
    prov = yaml.safe_load((tmp_path / "provisioning/dashboards/aisym.yaml").read_text())["providers"][0]
    assert prov["type"] == "file" and prov["options"]["path"]


def test_cli_build_writes_files(tmp_path):
    r = CliRunner().invoke(app, ["dashboards", "build", "--out", str(tmp_path), "--database", "park1"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "overview.json").exists()
    assert "dbName: park1" in (tmp_path / "provisioning/datasources/aisym.yaml").read_text()


class _FakeGrafana(http.server.BaseHTTPRequestHandler):
    """Answers the few Grafana API calls a push makes, and records them."""

    calls: ClassVar[list[tuple[str, str, str, dict | None]]] = []
    existing: ClassVar[set[str]] = set()
    refuse: ClassVar[int] = 0

    def _handle(self, method: str) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        self.calls.append((method, self.path, self.headers.get("Authorization", ""), body))
        status, reply = 200, {"status": "success"}
        if self.refuse and method != "GET":
            status, reply = self.refuse, {"message": "permission denied"}
        elif method == "GET" and self.path not in self.existing:
            status, reply = 404, {"message": "not found"}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def log_message(self, *args):
        pass


@pytest.fixture
def grafana():
    _FakeGrafana.calls, _FakeGrafana.existing, _FakeGrafana.refuse = [], set(), 0
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeGrafana)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", _FakeGrafana
    srv.shutdown()


def test_push_uploads_datasource_folder_and_dashboards(grafana, monkeypatch):
    url, g = grafana
    monkeypatch.setenv("AISYM_INFLUX_PASSWORD", "influx-pw")
    r = CliRunner().invoke(app, ["dashboards", "push", url, "--token", "tok123", "--folder", str(GENERATED)])
    assert r.exit_code == 0, r.output
    writes = [(m, p, body) for m, p, _, body in g.calls if m != "GET"]
    assert all(auth == "Bearer tok123" for _, _, auth, _ in g.calls)
    assert writes[0][:2] == ("POST", "/api/datasources")
    assert writes[0][2]["uid"] == DATASOURCE_UID and writes[0][2]["secureJsonData"] == {"password": "influx-pw"}
    assert writes[1][:2] == ("POST", "/api/folders") and writes[1][2]["title"] == "AISYM"
    boards = [body for m, p, body in writes if p == "/api/dashboards/db"]
    assert len(boards) == len(list(GENERATED.glob("*.json")))
    assert all(b["overwrite"] is True and b["folderUid"] == writes[1][2]["uid"] for b in boards)
    assert {b["dashboard"]["uid"] for b in boards} == {json.loads(p.read_text())["uid"] for p in GENERATED.glob("*.json")}

    # a second push updates in place
    g.calls.clear()
    g.existing = {f"/api/datasources/uid/{DATASOURCE_UID}", f"/api/folders/{writes[1][2]['uid']}"}
    assert any(line.startswith("updated datasource") for line in push(url, "tok123", GENERATED))
    assert ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}") in [(m, p) for m, p, _, _ in g.calls]


def test_push_names_what_grafana_refused(grafana, tmp_path):
    url, g = grafana
    g.refuse = 403
    with pytest.raises(PushError, match=r"refused datasource aisym-influxdb: HTTP 403"):
        list(push(url, "bad", GENERATED))
    with pytest.raises(PushError, match="run 'aisym dashboards build'"):
        list(push(url, "tok", tmp_path))
    r = CliRunner().invoke(app, ["dashboards", "push", url])
    assert r.exit_code == 2 and "token is required" in r.output


def test_cli_demo_fills_a_database(influxdb, influx):
    from tests.conftest import INFLUX_USERS

    admin = {"AISYM_INFLUX_USER": "admin", "AISYM_INFLUX_PASSWORD": INFLUX_USERS["admin"]}  # auth is on
    r = CliRunner().invoke(
        app, ["dashboards", "demo", "--influx-url", influxdb.url, "--database", influx.database, "--minutes", "10"], env=admin
    )
    assert r.exit_code == 0, r.output
    assert influx.rows('SELECT count("seq") FROM "heat_store"')[0]["count"] > 0
    r = CliRunner().invoke(app, ["dashboards", "demo", "--influx-url", "http://127.0.0.1:9", "--minutes", "1"])
    assert r.exit_code == 1 and "unreachable" in r.output
