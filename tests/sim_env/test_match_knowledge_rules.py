"""Issue 23 item 1: the knowledge base is broad (every chapter, every carrier, hundreds of cited
entries), every code in it is a real code, and heat is matched by its temperature band."""

from __future__ import annotations

import re

import pytest

from aisym.park.graph.carriers import Carrier, Resource
from aisym.yamlfile import DocumentError
from sim_env.match import classifications as cl
from sim_env.match.knowledge import KNOWN_USES, load, rank_receivers, support


def test_hundreds_of_cited_entries_with_their_processing():
    uses = load()
    assert len(uses) >= 200  # 69 on main
    assert {c[:2] for u in uses for c in u.ewc} == {f"{i:02d}" for i in range(1, 21)}
    by_resource = {r: sum(1 for u in uses if u.resource == r) for r in Resource}
    for r in set(Resource) - {Resource.material, Resource.volatile_solids}:
        assert by_resource[r] >= 2, r  # every carrier more than once
    assert sum(1 for u in uses if u.processing) >= 180  # what it takes, stated
    for u in uses:
        for c in u.ewc:
            assert cl.ewc(c.rstrip("*")) is not None, (u.id, c)
        for c in u.receiver_nace + u.donor_nace:
            assert cl.nace(c) is not None, (u.id, c)


def _bad(tmp_path, old: str, new: str):
    text = KNOWN_USES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "kb.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,why", [
    ('ewc: ["10 02 02", "10 02 01"]', 'ewc: ["10 02 02", "10 02 77"]', r"ewc\[1\]: '10 02 77' is not in the List of Waste"),
    ('receiver_nace: ["42.11", "08.12", "23.63", "01.11"]', 'receiver_nace: ["42.11", "08.12", "23.63", "01.19", "16.10"]',
     r"receiver_nace\[4\]: '16.10' is not a NACE code of data/nace.csv .*16.10 as '16.1'"),
    ('donor_nace: ["24.10"]\n    receiver_nace: ["42.11", "23.99"',
     'donor_nace: ["99.99"]\n    receiver_nace: ["42.11", "23.99"', r"donor_nace\[0\]: '99.99' is not a NACE code"),
    ("temperature_c: [10, 45]", "temperature_c: [45, 10]", r"temperature_c.*lowest first"),
    ('residue: basic oxygen furnace (converter) slag', 'residue: slag\n    temperature_c: [20, 30]',
     r"temperature_c: a temperature band is for heat, steam, cooling or water"),
])
def test_a_code_that_is_not_in_the_lists_or_a_bad_band_is_refused_with_its_line(tmp_path, old, new, why):
    with pytest.raises(DocumentError, match=rf"kb\.yaml:\d+:\d+: uses\[\d+\]\.{why}"):
        load(_bad(tmp_path, old, new))


def test_heat_is_matched_by_its_temperature_band():
    def best(t, receiver):
        s = support(Carrier(resource=Resource.heat, temperature_c=t), None, receiver)
        return s.use.id if s else None

    # 30 °C heat reaches a fish farm directly and district heating through a heat pump, drives no turbine
    assert best(30, "03.22") in ("low_grade_heat_via_heat_pump", "warm_water_to_aquaculture_and_algae")
    dh = support(Carrier(resource=Resource.heat, temperature_c=30), None, "35.30").use
    assert "heat pump" in dh.processing + dh.use
    low_to_power = support(Carrier(resource=Resource.heat, temperature_c=30), None, "35.11")
    assert low_to_power.use.id != "high_heat_to_power" and low_to_power.weight <= 0.4  # only a neighbouring sector
    assert best(400, "35.11") == "high_heat_to_power"  # hot flue gas: a waste heat boiler and a turbine
    assert best(150, "35.11") == "high_heat_to_power"  # a band includes its edges: [150, 1000]
    assert best(70, "10.91") == "medium_heat_to_drying"
    assert best(400, "10.91") != "medium_heat_to_drying"  # the drying entry takes no 400 °C heat
    # a supply without a temperature is matched by every band
    assert support(Carrier(resource=Resource.heat), None, "35.11") is not None


@pytest.mark.parametrize("code,donor,receivers,first", [
    ("10 01 05", "35.11", ["10.71", "23.62", "24.10"], "23.62"),  # FGD gypsum, with a source not about Kalundborg
    ("06 09 04", "20.15", ["10.71", "23.62", "24.10"], "23.62"),  # phosphogypsum
    ("19 08 05", "37.00", ["10.71", "35.21", "24.10"], "35.21"),  # sewage sludge
    ("19 09 02", "36.00", ["10.71", "23.32", "24.10"], "23.32"),  # its neighbour: waterworks sludge to bricks
    ("10 02 02", "24.10", ["10.71", "42.11", "35.21"], "42.11"),  # steel slag to roads
    ("03 03 09", "17.11", ["10.71", "23.51", "35.21"], "23.51"),  # lime mud to cement
    ("16 01 03", None, ["10.71", "23.51", "35.21"], "23.51"),  # tyres to kilns
    ("02 06 01", "10.71", ["24.10", "10.91", "23.51"], "10.91"),  # bread to feed
])
def test_near_neighbours_and_sector_reviews_are_reachable(code, donor, receivers, first):
    ranked = rank_receivers(code, donor, receivers)
    assert ranked[0][0] == first and ranked[0][1] >= 0.85, ranked
    assert re.search(r"doi:|https://", ranked[0][2])


def test_a_listed_division_says_less_than_a_listed_class():
    """An entry listing a whole division ("20.": most of chemistry) supports one of its classes less than
    an entry naming that class; a listed group counts as the class does."""
    from sim_env.match.knowledge import nace_fit

    assert nace_fit(["20.14"], "20.14") == 1.0
    assert nace_fit(["23.6"], "23.62") == 1.0
    assert nace_fit(["20."], "20.14") == pytest.approx(0.7)
    assert nace_fit(["35.11", "20."], "20.14") == pytest.approx(0.85 * 0.7)
