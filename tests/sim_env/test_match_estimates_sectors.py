"""Estimates for every sector the data covers, not only food and drink (issue 23 item 3): waste by the
sector's own List of Waste sub-chapter, electricity and fuels/heat, process water, each a published total of
one place and year over the persons the sector employs there; production in tonnes where a per-tonne figure
is cited; the most specific figure wins; a sector without one says why. Hand calculations beside each."""

from __future__ import annotations

import numpy as np
import pytest

from aisym.park.graph.carriers import Carrier
from sim_env.match.estimates import (
    EstimateError,
    Total,
    apply,
    estimate_flows,
    estimate_profile,
    load_flow_rules,
    load_per_tonne,
    load_totals,
)
from sim_env.match.profiles import HOURS, Flow, Profile


def test_a_paper_mill_gets_waste_electricity_heat_and_water_from_cited_totals():
    prof, notes = estimate_profile("mill", "17.12", 50, "Paper mill")
    f = {x.id: x for x in prof.flows}
    assert set(f) == {"est_industrial_waste", "est_electricity", "est_heat", "est_process_water"} and notes == []
    # waste, by hand: Catalonia 2007 (Idescat, from the industrial waste declarations), CCAE-93 21 paper
    # 387,855 t + 22 publishing and graphic arts 173,859 t = 561,714 t over 57,000 persons employed in paper and
    # graphic arts the same year: 9.8546 t a person, 492.73 t for 50; of the pulp-and-paper sub-chapter 03 03
    waste = f["est_industrial_waste"]
    assert waste.annual == pytest.approx((387_855 + 173_859) * 1000 / 57_000 * 50, rel=1e-9)
    assert waste.annual == pytest.approx(492_731.58, abs=0.01)
    assert waste.carrier.ewc == "03 03 99" and waste.direction == "output"
    # energy, by hand: Norway 2010 (Statistics Norway), paper and paper products (17): electricity bought 4,623
    # + self-produced 251 = 4,874 GWh; fuels and heat (oils 1,050, gas 48, steam 85, waste fuels 427, self-produced
    # waste fuels 3,263; transport petroleum left out) = 4,873 GWh; over 4,594 persons employed in 17 in 2010
    assert f["est_electricity"].annual == pytest.approx(4_874e6 / 4_594 * 50, rel=1e-9)
    assert f["est_electricity"].annual == pytest.approx(53_047_453.2, abs=0.1)
    assert f["est_heat"].annual == pytest.approx((1_050 + 48 + 85 + 427 + 3_263) * 1e6 / 4_594 * 50, rel=1e-9)
    assert f["est_heat"].annual == pytest.approx(53_036_569.4, abs=0.1)
    # water, by hand: the forest industry's process water, over 50,000 m3 an hour (Finnish Environment
    # Institute) = 438,000,000 m3 a year, over 47,000 persons employed in 16-18 in 2019: 9,319 m3 a person
    assert f["est_process_water"].annual == pytest.approx(50_000 * 8760 / 47_000 * 50, rel=1e-9)
    assert f["est_process_water"].annual == pytest.approx(465_957.45, abs=0.01)
    for x in prof.flows:  # marked wherever they show, saying from what
        assert x.estimate.startswith("estimate from NACE 17.12 and 50 employees: ")
        assert x.estimate in x.amount_text() and np.allclose(x.hourly, x.annual / HOURS)
    assert "Idescat aec_15217 2007 (ES51 561,714 t) / 57,000 persons employed (Idescat basics_10501 2007), " \
           "average of NACE 17;18" in waste.estimate


def test_the_most_specific_waste_code_of_the_sector_is_given():
    codes = {c: {f.id: f.carrier.ewc for f in estimate_profile("x", c, 10)[0].flows}["est_industrial_waste"]
             for c in ("24.10", "24.42", "24.51", "24.53", "23.51", "23.13", "20.14", "21.10")}
    assert codes == {"24.10": "10 02 99", "24.42": "10 03 99", "24.51": "10 09 99", "24.53": "10 10 99",
                     "23.51": "10 13 99", "23.13": "10 11 99", "20.14": "07 01 99", "21.10": "07 05 99"}


def test_a_nace_group_covers_its_classes():
    """Before, a total listed by group ("24.1", the EU's iron and steel energy) did not cover its classes
    ("24.10"): a steelworks got neither an estimate nor a word why."""
    t = Total("s", ("24.1",), "final_energy", 1.0, "PJ/yr", "", "EU", 2022, "nrg_bal_c", "https://x.org", "")
    assert t.covers("24.10") and t.covers("24.1") and not t.covers("24.20") and not t.covers("24")
    d = Total("d", ("24",), "final_energy", 1.0, "PJ/yr", "", "EU", 2022, "nrg_bal_c", "https://x.org", "")
    assert d.covers("24.10") and d.covers("24") and not d.covers("25.62")


def test_the_most_specific_total_of_a_family_wins_and_one_without_persons_says_why(tmp_path):
    path = tmp_path / "totals.csv"
    path.write_text(
        "id,nace,figure,family,value,unit,per,geo,year,publisher,table,source,note\n"
        "p23,23,persons_employed,persons,1000,persons,,XX,2020,Office,tab_p,https://x.org/p,\n"
        "w23,23,industrial_waste,waste,1000,t/yr,p23,XX,2020,Office,tab_w,https://x.org/w,\n"
        "p235,23.5,persons_employed,persons,100,persons,,XX,2020,Office,tab_p,https://x.org/p,\n"
        "w235,23.5,industrial_waste,waste,500,t/yr,p235,XX,2020,Office,tab_w,https://x.org/w,\n"
        "e23,23,final_energy,energy,5,PJ/yr,,XX,2020,Office,tab_e,https://x.org/e,\n", encoding="utf-8")
    totals = load_totals(path)
    flows, notes = estimate_flows("c", "23.51", 10, totals)
    # cement (23.51) gets the group 23.5's 5 t a person (500 t / 100), not the division's 1 t: 50 t, once
    assert [(f.id, f.annual) for f in flows] == [("est_industrial_waste", pytest.approx(50_000.0))]
    assert notes[0] == "no final energy estimate for NACE 23.51: the data has no persons employed for 23 (e23)"
    assert [f.annual for f in estimate_flows("c", "23.20", 10, totals)[0]] == [pytest.approx(10_000.0)]


def test_a_steelworks_known_by_its_production_gets_its_by_products_per_tonne():
    prof, notes = estimate_profile("steel", "24.10", None, tonnes=1000)
    # by hand: worldsteel, 200 kg (electric arc furnace) to 400 kg (blast furnace) of by-products a tonne of
    # steel; the route is not in the NACE code, so at least 200 kg: 200,000 kg for 1,000 t
    assert [(f.id, f.carrier.ewc, f.annual) for f in prof.flows] == [("est_steel_byproducts", "10 02 99", 200_000.0)]
    assert prof.flows[0].estimate == ("estimate from NACE 24.10 and 1000 t/yr of production: worldsteel "
                                      "steel_industry_by_products (year not stated) (world 200 kg/t)")
    assert notes == ["no per-tonne energy figure for NACE 24.10: give its employees for a per-employee estimate",
                     "no per-tonne water figure for NACE 24.10: give its employees for a per-employee estimate"]
    # with its employees too, the per-tonne waste stands (no second waste flow) and energy is per employee
    both = {f.id for f in estimate_profile("steel", "24.10", 100, tonnes=1000)[0].flows}
    assert both == {"est_steel_byproducts", "est_electricity", "est_heat"}
    with pytest.raises(EstimateError, match="steel: size: state its employees or its production"):
        estimate_profile("steel", "24.10", None)
    with pytest.raises(EstimateError, match=r"steel: production: more than 0 t/yr \(got 0\)"):
        estimate_profile("steel", "24.10", None, tonnes=0)
    # a sector without a per-tonne figure refuses production alone, saying so for each family
    flows, notes = estimate_flows("mill", "17.12", None, tonnes=5000)
    assert flows == [] and len(notes) == 3 and all("no per-tonne" in n for n in notes)


def test_a_sector_without_figures_says_why_for_each_family():
    prof, notes = estimate_profile("power", "35.11", 40)
    assert prof.flows == []
    assert notes == [f"no {fam} estimate for NACE 35.11: no total paired with persons employed of the same year "
                     f"and place was found" for fam in ("waste", "energy", "water")]
    notes = estimate_profile("cars", "29.10", 40)[1]
    assert notes[0].startswith("no waste estimate for NACE 29.10: Idescat's 2007 waste table lists 34")


def test_a_stated_flow_replaces_the_estimate_of_its_family_only():
    est, _ = estimate_profile("mill", "17.12", 50)
    own = [Flow("mill", "sludge", "output", Carrier(resource="material", ewc="03 03 11"), "residue", np.ones(HOURS)),
           Flow("mill", "steam", "input", Carrier(resource="heat", temperature_c=150), "need", np.ones(HOURS))]
    merged = apply({"mill": Profile("mill", "Paper mill", "17.12", flows=own)}, [est])["mill"]
    # its own 03 03 sludge replaces the 03 03 99 estimate; its heat replaces the heat; electricity and water stay
    assert {f.id for f in merged.flows} == {"sludge", "steam", "est_electricity", "est_process_water"}


def test_the_loaders_refuse_a_code_outside_the_lists_and_a_total_beyond_its_persons(tmp_path):
    head = "id,nace,figure,family,value,unit,per,geo,year,publisher,table,source,note\n"
    p = "p,16,persons_employed,persons,10,persons,,XX,2020,Office,tab,https://x.org,\n"
    cases = {
        "w,16;17,industrial_waste,waste,5,t/yr,p,XX,2020,Office,tab,https://x.org,\n":
            r"w: nace: 16;17 is not within the persons it is divided by \(16\)",
        "w,99.99,industrial_waste,waste,5,t/yr,p,XX,2020,Office,tab,https://x.org,\n":
            r"totals\.csv:3: nace: 99\.99 is not a NACE Rev\. 2 code",
        "w,16,industrial_waste,waste,5,t/yr,p,XX,,Office,tab,https://x.org,\n":
            r"totals\.csv:3: year: a total and the persons it is divided by have a year",
        "w,16,industrial_waste,waste,5,kg/t,p,XX,2020,Office,tab,https://x.org,\n": r"totals\.csv:3: unit: one of",
    }
    for row, why in cases.items():
        (tmp_path / "totals.csv").write_text(head + p + row, encoding="utf-8")
        with pytest.raises(EstimateError, match=why):
            load_totals(tmp_path / "totals.csv")
    (tmp_path / "flows.csv").write_text(
        "figure,nace,direction,flow_id,resource,ewc,material,share,source,note\n"
        "industrial_waste,16,output,w,material,03 01 98,wood,1,https://x.org,\n", encoding="utf-8")
    with pytest.raises(EstimateError, match=r"flows\.csv:2: ewc: 03 01 98 is not in the List of Waste"):
        load_flow_rules(tmp_path / "flows.csv")
    (tmp_path / "tonne.csv").write_text(
        "id,nace,figure,family,value,unit,geo,year,publisher,table,source,note\n"
        "s,24.1,steel_byproducts,waste,200,kg/t,world,,worldsteel,tab,,\n", encoding="utf-8")
    with pytest.raises(EstimateError, match=r"tonne\.csv:2: source: every figure names its source"):
        load_per_tonne(tmp_path / "tonne.csv")
    shipped = [*load_totals().values(), *load_per_tonne().values()]
    assert all(t.source.startswith("http") and t.table and t.publisher for t in shipped)
    # every total of the shipped data is one place and year over persons of the same place and year
    totals = load_totals()
    assert all((t.geo, t.year) == (totals[t.per].geo, totals[t.per].year) for t in totals.values()
               if t.per and t.figure != "food_waste" and t.figure != "final_energy")


def test_the_cli_takes_production_as_size_and_refuses_an_ambiguous_ton(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app

    from .test_match_estimates import PARK

    park = tmp_path / "small.yaml"
    park.write_text(PARK, encoding="utf-8")
    res = CliRunner().invoke(app, ["match", str(park), "--estimate", "steel:24.10:5000t/yr", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "--estimate steel:24.10:5000t/yr: no per-tonne energy figure for NACE 24.10" in res.output
    res = CliRunner().invoke(app, ["match", str(park), "--estimate", "steel:24.10:5000 tons"])
    assert res.exit_code == 2 and "size: 'ton' is ambiguous (a short ton is 0.907 t): write t/yr" in res.output
