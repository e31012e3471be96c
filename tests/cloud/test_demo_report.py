"""The demo's offline comparison and HTML report, on synthetic runs of both shipped parks.

A synthetic run (:func:`cloud.demo.offline.synthetic_run`) is the loop with no transport: its KPIs
must equal the offline run's exactly, and any blind step or lag must show. The report is opened in
headless Chromium (Debian's ``chromium``): plotly must have drawn its SVG in every plot, and the
screenshot must not be blank.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from cloud.demo.browser import chromium, render
from cloud.demo.offline import LoopStrategy, kpi_match, offline, offline_of_run, synthetic_run
from cloud.demo.plots import columns, cumulative, hours_of, sankey, storage
from cloud.demo.report import PLOT_IDS, SECTIONS, write_report
from cloud.demo.runfiles import Run, load_run
from sim_env.graph.baselines import make_graph_strategy
from sim_env.graph.evaluate import evaluate
from sim_env.graph.report import ExchangeUse
from sim_env.graph.twin import resolve
from sim_env.plant.signals import park_signals

KRAAKOYA = "aisym/parks/kraakoya.yaml"
KALUNDBORG = "aisym/parks/kalundborg.yaml"
BLIND = range(10, 16)  # hours 10-15 of Kråkøya's run: the controller holds safe defaults


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Kråkøya 48 h with a blind spell and one step of lag; Kalundborg 24 h with nothing between."""
    root = tmp_path_factory.mktemp("demo")
    kr = synthetic_run(KRAAKOYA, root / "kraakoya", hours=48, blind=BLIND, lag=1,
                       faults=[{"t": 10, "what": "broker killed"}])
    ka = synthetic_run(KALUNDBORG, root / "kalundborg", hours=24)
    return {"kraakoya": kr, "kalundborg": ka, "reports": {k: write_report(v) for k, v in
                                                          (("kraakoya", kr), ("kalundborg", ka))}}


def test_no_transport_means_the_offline_kpis(runs):
    ka = runs["kalundborg"]
    match = kpi_match(ka)
    assert match["steps"] == 24
    assert match["max_abs_rel"] == 0.0
    # the loop's totals are the plant's outputs summed by hand
    run = load_run(ka)
    names = run.meta["kpi_names"]
    Y = np.array([r["y"] for r in run.plant])
    assert match["loop"]["cost"] == pytest.approx(Y[:, names.index("cost")].sum(), rel=1e-12)
    assert match["loop"]["co2_t"] == pytest.approx(Y[:, names.index("co2_kg")].sum() / 1000.0, rel=1e-12)
    assert match["loop"]["objective"] == pytest.approx(-Y[:, names.index("reward")].sum(), rel=1e-12)
    # Kalundborg's one action (the upgrader) has a tag, so nothing is held: offline rules = the rule baseline
    data = offline_of_run(ka)
    base = evaluate(make_graph_strategy("rule"), KALUNDBORG, hours=24)
    assert data["runs"]["offline"]["totals"]["objective"] == pytest.approx(base.objective, rel=1e-12)
    assert data["runs"]["rule"]["totals"]["cost"] == pytest.approx(base.cost, rel=1e-12)
    assert sum(data["runs"]["optimum"]["series"]["objective"]) == pytest.approx(
        data["runs"]["optimum"]["totals"]["objective"], rel=1e-9)


def test_the_loop_starting_mid_run_is_compared_from_its_levels(tmp_path):
    cp = resolve(KRAAKOYA)
    state0 = {k: 0.0 for k in cp.node_keys}
    state0.update({"digester.solids": 59178.08, "gas_holder.biogas": 630.0, "heat_store.heat": 2660.0,
                   "water_treatment.treated": 100.0})  # gas holder 90 %, heat store 20 %, tank 20 %
    run = synthetic_run(KRAAKOYA, tmp_path / "mid", hours=24, state0=state0)
    assert kpi_match(run)["max_abs_rel"] == 0.0  # offline_of_run started from run.json's state0
    assert load_run(run).plant[0]["S"][1] != 350.0  # the gas holder did not start half full
    fresh = offline(KRAAKOYA, "rule", hours=24, baselines=())
    assert fresh["runs"]["offline"]["totals"]["objective"] != pytest.approx(
        kpi_match(run)["offline"]["objective"], rel=1e-3)
    with pytest.raises(ValueError, match="no level for"):
        offline(KRAAKOYA, "rule", hours=2, state0={"gas_holder.biogas": 1.0}, baselines=())


def test_blind_and_lag_show_in_the_files_and_the_match(runs):
    kr = runs["kraakoya"]
    run = load_run(kr)
    cp = resolve(KRAAKOYA)
    sig = park_signals(cp)
    safe = {t: cp.graph.tags[t].control.safe_default for t in sig.actuators}
    assert run.meta["blind_steps"] == len(BLIND)
    assert [r["blind"] for r in run.controller].count(True) == len(BLIND)
    for i in BLIND:
        assert run.controller[i]["setpoints"] == safe
    # one step of lag: the plant applies what was commanded the step before, safe defaults first
    assert run.plant[0]["setpoints"] == safe
    for i in range(1, 48):
        assert run.plant[i]["setpoints"] == run.controller[i - 1]["setpoints"]
    # held actions as the plant holds them (flare 0, valves and units 1); driven ones = setpoint / full scale
    for rec in run.plant:
        for a, f in sig.held.items():
            assert rec["actions"][a] == f
    chp = sig.actuators["chp.power_setpoint"]
    assert chp.full == 150.0  # kW rated
    for rec in run.plant:
        assert rec["actions"][chp.action] == pytest.approx(rec["setpoints"]["chp.power_setpoint"] / 150.0)
    match = kpi_match(kr)
    assert match["max_abs_rel"] > 0.01  # six blind hours and a step of lag cost something measurable
    assert match["offline"]["cost"] == pytest.approx(offline_of_run(kr)["runs"]["offline"]["totals"]["cost"])


def test_loop_strategy_clips_setpoints_to_the_tag_limits():
    cp = resolve(KRAAKOYA)
    loop = LoopStrategy(make_graph_strategy("rule"), cp)
    a = np.ones(cp.n_actions)
    sp = loop.setpoints(a)
    assert sp["chp.power_setpoint"] == min(150.0, cp.graph.tags["chp.power_setpoint"].max)
    assert sp["upgrader.flow_setpoint"] == pytest.approx(min(40.0, cp.graph.tags["upgrader.flow_setpoint"].max))
    back = loop.applied({"chp.power_setpoint": 75.0})
    assert back[loop.actuators["chp.power_setpoint"].action] == pytest.approx(0.5)


def test_sankey_columns_and_widths():
    # a cycle 0 -> 1 -> 2 -> 0 is cut at its closing edge; 3 feeds 1
    x, y = columns(4, [(0, 1), (1, 2), (2, 0), (3, 1)])
    assert x[3] < x[1] < x[2]
    assert all(0 < v < 1 for v in x + y)
    cp = resolve(KRAAKOYA)
    heat = [lk for lk in cp.graph.links if lk.resource.value == "heat"][:2]
    uses = [ExchangeUse(heat[0].id, 300.0, "kWh", ""), ExchangeUse(heat[1].id, 100.0, "kWh", "")]
    fig = sankey(cp, uses)
    link = fig.data[0].link
    assert list(link.value) == [1.0, pytest.approx(1 / 3)]  # shares of the carrier's largest exchange
    assert "300.0 kWh of heat" in link.customdata[0]


def test_storage_levels_as_fractions_of_capacity():
    meta = {"stores": ["gas_holder.biogas"], "dt_h": 1.0, "start": 0, "store_capacity": {"gas_holder.biogas": 700.0}}
    fig = storage(Run(None, meta, [{"S": [350.0]}, {"S": [700.0]}, {"S": [70.0]}]))
    assert list(fig.data[0].y) == [0.5, 1.0, 0.1]
    assert list(fig.data[0].x) == [1.0, 2.0, 3.0]  # hours after each step
    fig = storage(Run(None, meta, [{"S": []}]))  # the levels missing: said on the figure
    assert "lack" in fig.layout.annotations[0].text
    late = Run(None, {**meta, "start": 8750})
    assert [hours_of(late, t) for t in (8745, 8750, 8759, 0, 5)] == [-5.0, 0.0, 9.0, 10.0, 15.0]  # before, across the year


def test_cumulative_cost_and_the_difference_to_the_rules():
    series = {"loop": {"cost": [1.0, 2.0, 3.0], "co2_kg": [1000.0, 0.0, 500.0]},
              "rule baseline": {"cost": [1.0, 1.0, 1.0], "co2_kg": [0.0, 0.0, 0.0]}}
    fig = cumulative(2.0, series, "EUR")
    loop = [t for t in fig.data if t.name == "loop"]
    assert list(loop[0].x) == [2.0, 4.0, 6.0]  # hours at the end of each 2 h step
    assert list(loop[0].y) == [1.0, 3.0, 6.0]  # EUR so far
    assert list(loop[1].y) == [1.0, 1.0, 1.5]  # t CO2 so far
    assert list(loop[2].y) == [0.0, 1.0, 3.0]  # EUR more than the rules
    assert list(loop[3].y) == [1.0, 1.0, 1.5]


def test_report_sections_and_tables(runs):
    page = runs["reports"]["kraakoya"].read_text(encoding="utf-8")
    for sid in SECTIONS:
        assert f"<section id='{sid}'>" in page
    for pid in PLOT_IDS:
        assert f'id="{pid}"' in page
    assert not re.search(r"<script[^>]+src=\"https?://", page)  # works offline: no CDN
    bundle = get_plotlyjs()
    assert bundle in page  # plotly's bundle inlined...
    assert "https://" not in page.replace(bundle, "")  # ...and nothing else fetched (the bundle's own topojson URL
    # serves geo maps only, which the report has none of)
    match = kpi_match(runs["kraakoya"])
    assert f"{match['loop']['cost']:,.0f}" in page
    assert "hour 10: broker killed" in page
    assert "6 (the controller held" in page
    data = json.loads((runs["kraakoya"] / "offline.json").read_text())
    assert set(data["runs"]) == {"offline", "rule", "optimum"}
    assert "+0.00 %" in page  # the optimum's own gap


def test_bad_run_folder_is_named(tmp_path, runs):
    with pytest.raises(FileNotFoundError, match=r"run\.json"):
        write_report(tmp_path)
    meta = json.loads((runs["kalundborg"] / "run.json").read_text())
    meta["kpi_names"] = meta["kpi_names"][:-1]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.json").write_text(json.dumps(meta))
    (bad / "plant.jsonl").write_text((runs["kalundborg"] / "plant.jsonl").read_text())
    with pytest.raises(ValueError, match=r"plant.jsonl:1: y has \d+ values, run.json kpi_names"):
        write_report(bad)


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("park", ["kraakoya", "kalundborg"])
def test_report_renders_in_headless_chromium(runs, park, tmp_path):
    from PIL import Image

    report = runs["reports"][park]
    png = tmp_path / "shot.png"
    dom = render(report, png, height=3000)
    starts = sorted((dom.index(f'id="{pid}"'), pid) for pid in PLOT_IDS)
    for k, (at, pid) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(dom)
        assert 'class="main-svg"' in dom[at:end], f"plotly drew nothing in {pid}"
    assert 'class="sankey"' in dom  # the Sankey trace itself, not just an empty frame
    img = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
    assert img.shape == (3000, 1300)
    plots = img[900:, :]  # below the tables: the plots
    assert plots.std() > 16.0  # not blank (a page whose plots did not draw: 11; drawn: 27 and 32)
    assert (plots < 200).mean() > 0.015  # ink of lines, links and text (undrawn: 0.4 %; drawn: 4.8 % and 8.3 %)
