"""The per-company report of simulated candidates: HTML with plotly inlined (checked in headless
Chromium), and CSV/JSON with the same figures; ``aisym match --simulate`` end to end."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park.graph import load_graph
from sim_env.match.park import match_park, park_options
from sim_env.match.report import report_data, write_csv, write_html, write_json
from sim_env.match.simulate import park_doc, plan, simulate_plans


@pytest.fixture(scope="module")
def data():
    g = load_graph("aisym/parks/kalundborg.yaml")
    opts = park_options(g, existing="exclude")
    cands, _, _ = match_park(g, opts)
    out = simulate_plans(park_doc(g), g, plan(g, cands[:8], opts.rate), hours=48, set_size=2)
    return report_data(out)


def test_the_data_carries_each_companys_gains_and_the_ranking(data):
    assert data["currency"] == "DKK" and data["ranking"]
    r = data["ranking"][0]
    assert r["net_per_year"] == pytest.approx(r["saved_per_year"] - r["annuity_per_year"])
    for company, rows in data["companies"].items():
        for g in rows:
            cand = next(x for x in data["ranking"] if x["id"] == g["candidate"])
            assert company in (cand["supplier"], cand["receiver"])
    # under each rule the two companies' gains add up to the candidate's money less its running cost
    for cand in data["ranking"]:
        for rule in ("cost sharing", "50/50", "transfer price"):
            gains = [g["gain_per_year"] for rows in data["companies"].values() for g in rows
                     if g["candidate"] == cand["id"] and g["rule"] == rule]
            own = cand["company_money_saved_per_year"]
            want = own.get(cand["supplier"], 0.0) + own.get(cand["receiver"], 0.0) - cand["running_cost_per_year"]
            assert sum(gains) == pytest.approx(want, rel=1e-9, abs=1e-6)
    assert all(n["why"].startswith("not simulated: ") for n in data["not_simulated"])
    assert data["flows_before"] and set(data["flows_after"]) == {r["id"] for r in data["ranking"]}


def test_csv_and_json_serve_the_same_figures(data):
    parsed = json.loads(write_json(data))
    assert parsed["ranking"][0]["saved_per_year"] == pytest.approx(data["ranking"][0]["saved_per_year"])
    buf = io.StringIO()
    write_csv(data, buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    company, shares = next(iter(data["companies"].items()))
    first = next(r for r in rows if r["company"] == company and r["candidate"] == shares[0]["candidate"]
                 and r["rule"] == shares[0]["rule"])
    assert float(first["gain_per_year"]) == pytest.approx(shares[0]["gain_per_year"])
    assert len([r for r in rows if r["rule"] != "shapley"]) == sum(len(v) for v in data["companies"].values())


def test_the_html_report_renders_in_chromium(data, tmp_path):
    path = write_html(data, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert "<script src=" not in text and "<link " not in text  # plotly is inlined: it opens offline
    for company in data["companies"]:
        assert f"id='{company}'" in text
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: the page's plots are not checked in a browser")
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000",
                          "--dump-dom", str(path)], capture_output=True, text=True, timeout=120).stdout
    # two Sankeys (before, after) per company page, each drawn by plotly
    assert dom.count('class="main-svg"') >= 2 * len(data["companies"])


def test_aisym_match_simulate_prints_the_re_ranked_candidates_as_json(tmp_path):
    res = CliRunner().invoke(app, ["match", "aisym/parks/kraakoya.yaml", "--simulate", "--top", "5", "--hours", "24",
                                   "--format", "json", "--report", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{"):])
    assert out["park"] == "kraakoya" and out["hours_simulated"] == 24
    assert len(out["ranking"]) + len(out["not_simulated"]) == 5
    assert (tmp_path / "r.html").exists()
    res = CliRunner().invoke(app, ["match", "aisym/parks/kraakoya.yaml", "--simulate", "--optimum", "--top", "3",
                                   "--hours", "24", "--format", "json"])
    assert res.exit_code == 0, res.output
    ranked = json.loads(res.stdout[res.stdout.index("{"):])["ranking"]
    assert ranked and all(r["optimum_saved_per_year"] is not None for r in ranked)
    assert all(r["saved_per_year"] == r["optimum_saved_per_year"] for r in ranked)  # ranked by the optimum
    res = CliRunner().invoke(app, ["match", "aisym/parks/kraakoya.yaml", "--optimum"])
    assert res.exit_code == 2 and "go with --simulate" in res.output
