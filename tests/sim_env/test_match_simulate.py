"""Matchmaking candidates simulated in the twin: against the park run directly with the candidate
built, one batch against single runs, the companies' books, split rules, payback and Shapley."""

from __future__ import annotations

import copy
import math

import pytest
import yaml

from aisym.park.graph import load_graph, parse_graph
from sim_env.graph.baselines import GraphRules
from sim_env.graph.compile import compile_park
from sim_env.graph.evaluate import evaluate
from sim_env.graph.sweep import Candidate, simulate, with_candidates
from sim_env.match import costs
from sim_env.match.benefits import Investment, Share, investment, shapley, splits
from sim_env.match.park import match_park, park_options
from sim_env.match.simulate import park_doc, plan, simulate_plans, subset_values

HOURS = 168


@pytest.fixture(scope="module")
def kalundborg():
    g = load_graph("aisym/parks/kalundborg.yaml")
    opts = park_options(g, existing="exclude")
    cands, _, _ = match_park(g, opts)
    return g, park_doc(g), plan(g, cands[:10], opts.rate)


def _built(doc: dict, cand: Candidate) -> dict:
    """The park file with the candidate built, as a person would write it."""
    built = copy.deepcopy(doc)
    built["exchanges"] = [*built["exchanges"], *copy.deepcopy(cand.exchanges)]
    for company, asset in cand.assets:
        next(c for c in built["companies"] if c["id"] == company)["assets"].append(copy.deepcopy(asset))
    return built


def _direct(doc: dict) -> float:
    cp = compile_park(parse_graph(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), "built.yaml"))
    return evaluate(GraphRules(), cp, hours=HOURS).objective


def test_kalundborg_candidates_match_the_park_run_with_each_built(kalundborg):
    g, doc, plans = kalundborg
    out = simulate_plans(doc, g, plans, hours=HOURS)
    by_kind = {}
    for s in out.simulated:
        by_kind.setdefault(s.plan.match.conversion.kind, s)
    # a direct pipe (the waterworks' water to the refinery's boiler water), a let-down station and a heat pump
    # (the wastewater's heat to the town) added as assets
    assert {"direct", "let-down", "heat pump"} <= set(by_kind)
    base = _direct(doc)
    # these candidates do not change what the rules value: the batch's idle row is the park as it is
    assert out.base.objective == pytest.approx(base, rel=1e-12)
    assert all(s.rules_offset == pytest.approx(0.0, abs=1e-6) for s in out.simulated)
    for s in (by_kind["direct"], by_kind["let-down"], by_kind["heat pump"]):
        direct = _direct(_built(doc, s.plan.candidate))
        assert s.benefit.saved == pytest.approx(base - direct, rel=1e-9, abs=1e-6)
        # the companies' books add up to the park's money: each one's saving less the candidate's running cost
        assert sum(s.companies.values()) - s.running == pytest.approx(s.benefit.cost_saved * s.per_year, rel=1e-9,
                                                                      abs=1e-3)
    hp = by_kind["heat pump"]
    cid = hp.plan.candidate.id
    assert hp.delivered > 0  # its power is what it delivered over its COP, bought from the grid market
    assert hp.benefit.carried[f"{cid}_power"] == pytest.approx(hp.benefit.carried[cid] / hp.plan.match.conversion.cop)
    # the refinery stops demineralising lake water for its boilers: it gains what the twin's books say, by hand
    water = next(s for s in out.simulated if s.plan.match.input.port == "refinery.boiler_water")
    m3 = water.benefit.carried[water.plan.delivery]
    assert m3 > 0
    assert {r.rule for r in water.shares} == {"cost sharing", "50/50", "transfer price"}
    # not simulated, each with why: known uses across carriers the park's ports do not take
    assert all(p.why_not.startswith("not simulated: ") for p in out.skipped)
    assert [s.net for s in out.simulated] == sorted((s.net for s in out.simulated), reverse=True)


def test_a_heat_pump_candidate_is_built_with_its_asset_and_grid_power():
    g = load_graph("aisym/parks/kraakoya.yaml")
    opts = park_options(g, existing="exclude")
    cands, _, _ = match_park(g, opts)
    plans = plan(g, cands, opts.rate)
    hp = next(p for p in plans if p.match.conversion.kind == "heat pump" and p.candidate is not None)
    cand = hp.candidate
    assert [e["from"] for e in cand.exchanges] == [hp.match.output.port, "grid.electricity", f"{cand.id}_hp.heat"]
    (company, asset), = cand.assets
    assert company == hp.match.receiver
    ratio = asset["components"][0]["inputs"]
    assert ratio["electricity"]["ratio"] + ratio["source_heat"]["ratio"] == pytest.approx(1.0)  # 1/COP + (1 - 1/COP)
    doc = park_doc(g)
    alone, built = _direct(doc), _direct(_built(doc, cand))
    _, (b,), _ = simulate(doc, [cand], hours=HOURS, own_base=True)
    assert b.saved == pytest.approx(alone - built, rel=1e-9, abs=1e-6)
    # the rules value the upgrader's heat bus over the heat pump's exchanges even while they are off,
    # so the batch's idle row differs from the park alone: against that row the benefit is less by the difference
    base, (b,), _ = simulate(doc, [cand], hours=HOURS)
    assert base.objective == pytest.approx(built) and b.saved == pytest.approx(0.0, abs=1e-9)
    assert alone - base.objective == pytest.approx(alone - built, rel=1e-9)


def test_a_batch_of_candidates_equals_single_runs():
    g = load_graph("aisym/parks/kraakoya.yaml")
    opts = park_options(g, existing="exclude")
    cands, _, _ = match_park(g, opts)
    doc = park_doc(g)
    # the ones that compile together (a candidate closing a loop of waiting assets is left out by the plan)
    chosen = [p.candidate for p in plan(g, cands, opts.rate) if p.candidate is not None][:4]
    chosen = [c for c in chosen if _compiles(doc, c)][:3]
    assert len(chosen) >= 2
    _, batch, _ = simulate(doc, chosen, hours=HOURS)
    for c, b in zip(chosen, batch, strict=True):
        _, (single,), _ = simulate(doc, [c], hours=HOURS)
        assert b.saved == pytest.approx(single.saved, rel=1e-12, abs=1e-9)
        assert b.carried == pytest.approx(single.carried, rel=1e-12, abs=1e-9)


def _compiles(doc, c) -> bool:
    try:
        with_candidates(doc, [c])
    except Exception:
        return False
    return True


HEAT90 = {"resource": "heat", "temperature_c": 90}


def _greenhouse(gid: str, kw: float) -> dict:
    return {"id": gid, "name": gid, "assets": [{"id": gid, "components": [
        {"type": "demand", "id": "heat", "carrier": {"resource": "heat", "temperature_c": 60}, "profile": f"{kw} kW",
         "backup": {"cost": "80 EUR/MWh", "name": "gas boiler"}}]}]}


def _park(source_kw: float) -> dict:
    return {"schema_version": 2, "park": {"id": "shapley", "name": "A foundry and two twin greenhouses", "currency": "EUR"},
            "companies": [{"id": "foundry", "name": "Foundry", "assets": [{"id": "furnace", "components": [
                {"type": "source", "id": "waste_heat", "carrier": HEAT90, "profile": f"{source_kw} kW",
                 "surplus": {"cost": 0, "name": "cooling tower"}}]}]},
                _greenhouse("east", 300), _greenhouse("west", 300)], "exchanges": []}


PIPES = [Candidate(f"pipe_{x}", [{"id": f"pipe_{x}", "from": "furnace.waste_heat", "to": f"{x}.heat", "capacity": "1 MW"}])
         for x in ("east", "west")]


@pytest.mark.parametrize("source_kw, foundry, each", [
    (600, 2 * 300 * 0.08 * 8760 / 2, 300 * 0.08 * 8760 / 2),  # enough for both: each pipe's 300 kW shared 50/50
    (300, 2 / 3 * 300 * 0.08 * 8760, 1 / 6 * 300 * 0.08 * 8760),  # they compete: the foundry is in every coalition
])
def test_the_shapley_split_sums_to_the_set_and_treats_twin_greenhouses_alike(source_kw, foundry, each):
    doc = _park(source_kw)
    cp, masks = with_candidates(doc, PIPES)
    value = subset_values(cp, masks, [0, 1], hours=24)
    assert value[0] == 0.0 and value[1] == pytest.approx(300 * 0.08 * 8760)  # a year of 300 kW at 80 EUR/MWh
    phi = shapley(["foundry", "east", "west"], [("foundry", "east"), ("foundry", "west")], value)
    assert sum(phi.values()) == pytest.approx(value[3])
    assert phi["east"] == pytest.approx(phi["west"])
    assert phi["foundry"] == pytest.approx(foundry) and phi["east"] == pytest.approx(each)


def test_split_rules_and_payback_by_hand():
    inv = Investment(1_000_000.0)
    # the supplier saves 40k of disposal, the receiver 160k of purchases; trucks cost 20k; 100 t delivered
    shares = {(s.rule, s.company): s for s in splits("sup", "rec", 40e3, 160e3, 20e3, 100.0, inv)}
    cs_s, cs_r = shares[("cost sharing", "sup")], shares[("cost sharing", "rec")]
    assert cs_s.investment == pytest.approx(200e3) and cs_r.investment == pytest.approx(800e3)  # 20 % / 80 %
    assert cs_s.gain == pytest.approx(40e3 - 0.2 * 20e3) and cs_r.gain == pytest.approx(160e3 - 0.8 * 20e3)
    assert cs_s.payback_years == pytest.approx(200e3 / 36e3) and cs_r.payback_years == pytest.approx(800e3 / 144e3)
    half = shares[("50/50", "rec")]
    assert half.gain == pytest.approx(90e3) and half.payback_years == pytest.approx(500e3 / 90e3)
    assert half.net == pytest.approx(90e3 - 500e3 * costs.ANNUITY)
    # midway between the supplier's floor (-400/t: it would pay that to be rid of it) and the receiver's 1600/t
    tp_s, tp_r = shares[("transfer price", "sup")], shares[("transfer price", "rec")]
    assert tp_s.gain == pytest.approx(40e3 + 600 * 100) and tp_r.gain == pytest.approx(160e3 - 600 * 100 - 20e3)
    assert tp_s.payback_years == 0.0 and tp_r.payback_years == pytest.approx(1e6 / 80e3)
    assert sum(s.gain for s in shares.values() if s.rule == "transfer price") == pytest.approx(180e3)
    assert Share("x", "c", -1.0, 10.0, -1.0).payback_years == math.inf


def test_a_heat_pumps_investment_is_its_pipe_and_its_compressor_by_hand(kalundborg):
    _, _, plans = kalundborg
    hp = next(p for p in plans if p.match.conversion.kind == "heat pump")
    m, rate = hp.match, 7.46  # the park states exchange_rates: {EUR: 7.46} (the ERM II central rate)
    t = m.transport
    d = costs.pipe_diameter_m(m.output.carrier, m.capacity / m.conversion.gain / (1 - t.loss))
    pipe = (costs.PIPE_C1_EUR_M + costs.PIPE_C2_EUR_M2 * d) * t.distance_km * 1000 * rate  # heat: factor 1
    compressor = m.capacity / m.conversion.cop * 218e6 / 30.3e3 / 7.46038 * rate
    inv = investment(m, t, m.capacity, rate)
    assert inv.capex == pytest.approx(pipe + compressor, rel=1e-9)
    assert inv.annuity == pytest.approx(inv.capex * (0.04 / (1 - 1.04 ** -30) + 0.01))
