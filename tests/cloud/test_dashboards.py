"""The generated dashboards: every panel's InfluxQL runs on real InfluxDB holding demo data and returns
series; the committed JSON matches a fresh build; provisioning parses; push talks to a Grafana-like server."""

from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from typer.testing import CliRunner

from aisym.cli import app
from cloud.dashboards import DATASOURCE_UID, dashboard_json, targets, write_all
from cloud.dashboards.demo import demo_lines
from cloud.dashboards.push import push
from cloud.errors import PushError

from .helpers import PARK

GENERATED = Path(__file__).resolve().parents[2] / "cloud" / "dashboards" / "generated"


@pytest.fixture(scope="module")
def boards() -> dict[str, dict]:
    return dashboard_json(PARK)


def test_dashboards_cover_the_park(boards):
    assert set(boards) == {"overview", "data-quality", "health"} | {f"company-{c.id}" for c in PARK.companies}
    queries = {name: " ".join(t["query"] for _, t in targets(b)) for name, b in boards.items()}
    for tag_id in PARK.tags:  # every tag on its company's dashboard
        asset, name = tag_id.split(".")
        board = f"company-{PARK.company_of[asset]}"
        assert f'FROM "{asset}"' in queries[board] and f"'{name}'" in queries[board], tag_id
    for ex in PARK.exchanges:  # every metered exchange on the overview
        asset, name = ex.meter_tag.split(".")
        assert f'FROM "{asset}" WHERE "park" = \'kraakoya\' AND "signal" = \'{name}\'' in queries["overview"], ex.id
    assert "grid" in queries["overview"] and "* 0.0487" in queries["overview"]  # (35 + 13.7) EUR/MWh per kW
    for name in ("node_health", "ingest_health", "node_status"):
        assert name in queries["health"]
    for name in ("data_quality", "seq_gap", "node_last_seen", "ingest_seq"):
        assert name in queries["data-quality"]


def test_targets_are_raw_influxql_on_one_datasource(boards):
    for name, b in boards.items():
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


def test_every_panel_query_returns_series_on_demo_data(boards, influx):
    influx.write(demo_lines(PARK, time.time_ns() // 1_000_000, minutes=60))
    empty, n = [], 0
    for name, b in boards.items():
        for title, t in targets(b):
            q = t["query"].replace("$timeFilter", "time > now() - 2h").replace("$__interval", "5m")
            res = influx.query(q)
            n += 1
            if not any(r.get("series") for r in res):
                empty.append((name, title, q))
    assert not empty, f"{len(empty)} of {n} queries returned no series: {empty[:5]}"
    assert n > 80


def test_committed_files_match_a_fresh_build(tmp_path):
    written = write_all(PARK, tmp_path)
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
