"""Every company can be simulated: a template's (or an estimate's) flow becomes a source or a demand of the
twin, its benefit matches a hand calculation, and an implausible simulated figure is flagged, not ranked."""

from __future__ import annotations

import copy

import pytest

from aisym.park.graph import parse_graph
from sim_env.match.companies_in_twin import implausible
from sim_env.match.estimates import estimate_profile
from sim_env.match.importers import read_profiles
from sim_env.match.park import match_park, park_options
from sim_env.match.simulate import park_doc, plan, simulate_plans

HOURS = 168  # a week, scaled to a year: every profile here is flat
PARK = """schema_version: 2
park: {id: small_bio, name: Small biogas park, currency: DKK, exchange_rates: {EUR: 7.46}}
companies:
  - id: biogas
    name: Biogas plant
    nace: "35.21"
    assets:
      - id: plant
        components:
          - {type: demand, id: feed, carrier: {resource: biomass}, profile: 100 kg/h,
             backup: {cost: 0.3 DKK/kg, name: bought maize silage}}
"""
BAKERY = ("company_id,company_name,nace,direction,flow_id,resource,material,ewc,quantity,cost,route\n"
          "bakery,Bakery,10.71,output,bread,material,bread,02 06 01,50 t/yr,500 DKK/t,collected as food waste\n")


@pytest.fixture(scope="module")
def bakery_plans(tmp_path_factory):
    path = tmp_path_factory.mktemp("bakery") / "bakery.csv"
    path.write_text(BAKERY, encoding="utf-8")
    found, problems = read_profiles(path, "DKK")
    assert problems == []
    g = parse_graph(PARK, "small.yaml")
    opts = park_options(g)
    cands, _, _ = match_park(g, opts, found)
    return g, park_doc(g), plan(g, cands, opts.rate)


def test_a_template_bakery_bread_to_the_biogas_plant_is_simulated_as_by_hand(bakery_plans):
    g, doc, plans = bakery_plans
    (p,) = plans
    assert p.candidate is not None and p.why_not == ""  # no longer "not a port of the park"
    (company, asset), = p.placed
    assert company == "bakery" and asset["components"][0]["type"] == "source"
    out = simulate_plans(doc, g, plans, hours=HOURS)
    (s,) = out.simulated
    # by hand, per year: 50 t of bread leave the bakery's present route (500 DKK/t) for the plant, which buys
    # 50 t less maize silage (300 DKK/t); a truck over the 2 km assumed costs (5 + 0.12 x 2) EUR/t x 7.46 DKK/EUR
    truck = (5.0 + 0.12 * 2.0) * 7.46  # 39.0904 DKK/t
    assert s.delivered == pytest.approx(50000.0, rel=1e-9)
    assert s.saved == pytest.approx(50 * (500 + 300 - truck), rel=1e-9)  # 38,045.48 DKK/yr
    assert s.saved == pytest.approx(38045.48, abs=0.01)
    assert s.companies["bakery"] == pytest.approx(50 * 500, rel=1e-9)  # its disposal saved
    assert s.companies["biogas"] == pytest.approx(50 * 300, rel=1e-9)  # its purchase avoided
    assert s.running == pytest.approx(50 * truck, rel=1e-9)
    assert s.rules_offset == pytest.approx(0.0, abs=1e-6)  # the bakery's source is in the park's own run too


def test_a_price_typo_in_the_simulated_park_is_flagged_not_ranked(bakery_plans):
    g, doc, plans = bakery_plans
    typo = copy.deepcopy(doc)  # 300 DKK/kg of maize silage where 0.3 was meant
    typo["companies"][0]["assets"][0]["components"][0]["backup"]["cost"] = 300.0
    out = simulate_plans(typo, g, [copy.copy(p) for p in plans], hours=HOURS)
    assert out.simulated == []
    (p,) = out.skipped
    assert p.why_not.startswith("simulated, flagged and not ranked: implausible: ")
    assert "above the most biomass is worth (2 EUR)" in p.why_not


def test_a_flagged_candidate_is_not_picked_for_the_best_set(tmp_path):
    park = PARK + """  - id: biogas_b
    name: Second biogas plant
    nace: "35.21"
    assets:
      - id: plant_b
        components:
          - {type: demand, id: feed, carrier: {resource: biomass}, profile: 100 kg/h,
             backup: {cost: 0.2 DKK/kg, name: bought maize silage}}
"""
    path = tmp_path / "bakery.csv"
    path.write_text(BAKERY, encoding="utf-8")
    g = parse_graph(park, "small2.yaml")
    opts = park_options(g)
    cands, _, _ = match_park(g, opts, read_profiles(path, "DKK")[0])
    plans = plan(g, cands, opts.rate)
    assert len(plans) == 2
    typo = park_doc(g)  # the first plant's silage at 300 DKK/kg where 0.3 was meant
    typo["companies"][0]["assets"][0]["components"][0]["backup"]["cost"] = 300.0
    out = simulate_plans(typo, g, plans, hours=HOURS, set_size=2)
    (s,) = out.simulated
    assert s.plan.match.receiver == "biogas_b"
    assert [b[0] for b in out.best] == [s.plan.id]  # the flagged one, worth far more, is not in the set


def test_a_loss_larger_than_the_park_costs_is_implausible():
    from aisym.park.graph.carriers import Resource

    assert implausible(-2e6, 10.0, Resource.heat, 7.46, 1e6).startswith("implausible: a loss of 2,000,000 a year")
    assert implausible(100.0, 1000.0, Resource.heat, 7.46, 1e6) == ""


def test_a_bakery_known_by_its_code_and_size_is_simulated_with_its_estimate():
    g = parse_graph(PARK, "small.yaml")
    opts = park_options(g)
    est, _ = estimate_profile("bakery", "10.71", 12, "Bakery")
    cands, _, _ = match_park(g, opts, estimated=[est])
    plans = plan(g, [c for c in cands if c.supplier == "bakery"], opts.rate)
    (p,) = plans
    assert p.candidate is not None
    assert any("cost of its present route is not known" in n for n in p.notes)
    (s,) = simulate_plans(park_doc(g), g, plans, hours=HOURS).simulated
    truck = (5.0 + 0.12 * 2.0) * 7.46
    food = 11e6 * 1000 / 4.82e6 * 12  # kg/yr, as the estimate test works it out
    assert s.delivered == pytest.approx(food, rel=1e-9)
    assert s.saved == pytest.approx(food / 1000 * (300 - truck), rel=1e-9)  # its disposal counted 0
