"""Issue 23 item 1: the List of Waste and NACE as data, the broad cited knowledge base, near neighbours."""

from __future__ import annotations

import csv

import pytest

from aisym.park.graph.carriers import Carrier, Resource
from sim_env.match import classifications as cl
from sim_env.match.knowledge import load, rank_receivers, support


def test_list_of_waste_is_whole_and_looked_up_at_every_level():
    entries = [e for e in cl.ewc_list().values() if e.level == "entry"]
    assert len(entries) == 842
    assert sum(e.level == "chapter" for e in cl.ewc_list().values()) == 20
    assert sum(e.level == "sub-chapter" for e in cl.ewc_list().values()) == 111
    assert cl.ewc("10").description.startswith("WASTES FROM THERMAL PROCESSES")
    assert "power stations" in cl.ewc("10 01").description
    gypsum = cl.ewc("100105")
    assert gypsum.code == "10 01 05" and "desulphurisation" in gypsum.description and not gypsum.hazardous
    assert cl.ewc("10 01 04").hazardous and cl.ewc("10 01 04").code.endswith("*")
    assert [e.code for e in cl.ewc_path("19 08 05")] == ["19", "19 08", "19 08 05"]
    assert "19 08 05" in [e.code for e in cl.search_ewc("sludges urban waste water")]
    assert all(e.source for e in cl.ewc_list().values())


def test_nace_looked_up_at_every_level_and_by_words():
    assert [e.level for e in cl.nace_path("10.71")] == ["section", "division", "group", "class"]
    assert [e.code for e in cl.nace_path("2362")] == ["C", "23", "23.6", "23.62"]
    assert cl.nace("01").level == "division"  # a two-digit division is a code too
    assert "10.71" in [e.code for e in cl.search_nace("bread")]


@pytest.mark.parametrize("which", ["ewc", "nace"])
def test_a_list_row_without_a_source_is_refused_with_its_line(tmp_path, which):
    src = cl.EWC_FILE if which == "ewc" else cl.NACE_FILE
    with open(src, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[5][-1] = ""  # the source column is the last
    bad = tmp_path / f"{which}.csv"
    with open(bad, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    loader = cl.ewc_list if which == "ewc" else cl.nace_list
    with pytest.raises(cl.ListError, match=rf"{which}\.csv:6: source: empty"):
        loader(bad)


def test_known_uses_cover_every_chapter_and_carrier_and_state_processing():
    uses = load()
    chapters = {c[:2] for u in uses for c in u.ewc}
    assert chapters == {f"{i:02d}" for i in range(1, 21)}  # was 12 of 20 on main
    carriers = {u.resource for u in uses if u.resource}
    wanted = set(Resource) - {Resource.material, Resource.volatile_solids}
    assert wanted <= carriers  # was 4 of 13 on main (heat, steam, CO2, water)
    for u in uses:
        for c in u.ewc:
            assert cl.ewc(c) is not None, f"{u.id}: {c} is not in the List of Waste"


@pytest.mark.parametrize("code,donor,receivers,first", [
    ("19 09 02", "36.00", ["10.71", "39.00", "24.10"], "39.00"),  # waterworks sludge: support 0 on main
    ("06 09 04", "20.15", ["10.71", "23.62", "24.10"], "23.62"),  # phosphogypsum -> plasterboard: 0 on main
    ("06 11 01", "20.12", ["10.71", "23.62", "24.10"], "23.62"),  # titanogypsum: 0 on main
    ("20 01 40", None, ["10.71", "24.10", "23.62"], "24.10"),  # municipal scrap: 0 on main
    ("02 04 99", "10.81", ["24.10", "11.01", "23.62"], "11.01"),  # molasses -> alcohol: 0 on main
])
def test_near_neighbours_and_new_uses_are_reachable(code, donor, receivers, first):
    ranked = rank_receivers(code, donor, receivers)
    assert ranked[0][0] == first and ranked[0][1] > 0.5, ranked


def test_every_carrier_reaches_a_receiver():
    for res, receiver in [("electricity", "19.20"), ("hydrogen", "20.15"), ("natural_gas", "23.62"),
                          ("biogas", "20.16"), ("oxygen", "24.10"), ("cooling", "52.10")]:
        s = support(Carrier(resource=Resource(res)), None, receiver)
        assert s is not None and s.weight >= 0.85 and s.use.processing, res


def test_water_entries_are_about_their_grades():
    from sim_env.match.knowledge import support as sup

    def water(g):
        return Carrier(resource=Resource.water, grade=g)

    assert sup(water("wastewater"), "19.20", "37.00").use.id == "waste_water_to_treatment"
    assert sup(water("demineralised"), "19.20", "37.00") is None  # a condensate is not sent to the sewage works
    assert sup(water("treated"), "37.00", "35.11").weight == 1.0
