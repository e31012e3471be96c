"""Estimates where nothing is known: a company's flows from its sector and size, from cited sector figures,
marked as estimates wherever they show, and replaced by what the company states."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park.graph import parse_graph
from sim_env.match.estimates import EstimateError, apply, estimate_profile, load_flow_rules, load_totals
from sim_env.match.importers import read_profiles
from sim_env.match.park import match_park, park_options

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


def test_a_12_person_bakery_gets_food_waste_heat_and_electricity_from_the_cited_figures():
    prof, notes = estimate_profile("bakery", "10.71", 12, "Bakery")
    flows = {f.id: f for f in prof.flows}
    assert set(flows) == {"est_food_waste", "est_electricity", "est_heat"}
    assert notes == ["no water estimate for NACE 10.71: no water use per person employed or per tonne was found "
                     "for food and drink"]
    # by hand: food and drink manufacturing wasted 11,000,000 t in 2022 (Eurostat env_wasfw) and employed
    # 4,820,000 persons (Eurostat SBS via FoodDrinkEurope): 2.2822 t per employee, 27,385.9 kg for 12
    assert flows["est_food_waste"].annual == pytest.approx(11e6 * 1000 / 4.82e6 * 12, rel=1e-9)
    assert flows["est_food_waste"].annual == pytest.approx(27385.89, abs=0.01)
    assert flows["est_food_waste"].carrier.ewc == "02 06 01"  # baking and confectionery: its own sub-chapter
    # 1,156 PJ of final energy in food, beverages and tobacco (nrg_bal_c 2022) = 3.2111e11 kWh, 66,620.6 kWh per
    # employee, 799,446 kWh for 12; electricity 33.3 % of industry's final energy, the rest heat
    per = 1156e15 / 3.6e6 / 4.82e6
    assert per == pytest.approx(66620.6, abs=0.1)
    assert flows["est_electricity"].annual == pytest.approx(per * 12 * 0.333, rel=1e-9)
    assert flows["est_heat"].annual == pytest.approx(per * 12 * 0.667, rel=1e-9)
    assert flows["est_heat"].annual == pytest.approx(533231.0, abs=1.0)
    for f in prof.flows:  # marked as estimates, saying from what
        assert f.estimate.startswith("estimate from NACE 10.71 and 12 employees: Eurostat ")
        assert f.estimate in f.amount_text()


def test_a_sector_without_persons_employed_says_why_it_gets_no_estimate():
    # electricity supply has no figure of any family: each says why
    prof, notes = estimate_profile("power", "35.11", 80)
    assert prof.flows == [] and len(notes) == 3
    assert notes[1] == ("no energy estimate for NACE 35.11: no total paired with persons employed of the same year "
                        "and place was found")


def test_stating_its_own_bread_waste_replaces_the_estimate(tmp_path):
    est, _ = estimate_profile("bakery", "10.71", 12)
    stated = tmp_path / "bakery.csv"
    stated.write_text("company_id,company_name,nace,direction,flow_id,resource,material,ewc,quantity,cost\n"
                      "bakery,Bakery,10.71,output,bread,material,bread,02 06 01,50 t/yr,500 DKK/t\n", encoding="utf-8")
    found, problems = read_profiles(stated, "DKK")
    assert problems == []
    merged = apply({p.id: p for p in found}, [est])["bakery"]
    assert {f.id for f in merged.flows} == {"bread", "est_electricity", "est_heat"}  # its own bread wins
    g = parse_graph(PARK, "small.yaml")
    opts = park_options(g)
    cands, _, _ = match_park(g, opts, found, estimated=[est])
    bread = next(c for c in cands if c.supplier == "bakery")
    assert bread.output.id == "bread" and not bread.output.estimate and bread.annual == pytest.approx(50000.0)
    # known only by its code and size, the estimate is the candidate, and its reason says it is one
    cands, _, _ = match_park(g, opts, estimated=[est])
    food = next(c for c in cands if c.supplier == "bakery")
    assert food.output.id == "est_food_waste" and food.annual == pytest.approx(27385.89, abs=0.01)
    assert "estimate from NACE 10.71 and 12 employees" in food.reason()


def test_the_loaders_refuse_a_row_without_a_source(tmp_path):
    totals = tmp_path / "totals.csv"
    totals.write_text("id,nace,figure,value,unit,per,geo,year,table,source,note\n"
                      "p,10,persons_employed,100,persons,,EU,2022,sbs_na_ind_r2,https://example.org/sbs,\n"
                      "w,10,food_waste,5,t/yr,p,EU,2022,env_wasfw,,no source\n", encoding="utf-8")
    with pytest.raises(EstimateError, match=r"totals\.csv:3: source: every figure names its source"):
        load_totals(totals)
    flows = tmp_path / "flows.csv"
    flows.write_text("figure,nace,direction,flow_id,resource,ewc,material,share,source,note\n"
                     "food_waste,10,output,w,material,02 03 04,food,1,see the report,\n", encoding="utf-8")
    with pytest.raises(EstimateError, match=r"flows\.csv:2: source: "):
        load_flow_rules(flows)
    assert all(t.source.startswith("http") and t.table for t in load_totals().values())  # the shipped rows
    assert all(r.source.startswith("http") for r in load_flow_rules())


def test_the_cli_estimates_a_company_and_refuses_a_bad_one(tmp_path):
    park = tmp_path / "small.yaml"
    park.write_text(PARK, encoding="utf-8")
    res = CliRunner().invoke(app, ["match", str(park), "--estimate", "bakery:10.71:12", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"output": "estimate from NACE 10.71 and 12 employees' in res.output
    res = CliRunner().invoke(app, ["match", str(park), "--estimate", "bakery:12"])
    assert res.exit_code == 2 and "--estimate: write ID:NACE:EMPLOYEES, like bakery:10.71:12" in res.output
