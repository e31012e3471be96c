"""The knowledge base of residue uses: every entry cited, and ranking receivers by sector and waste code alone."""

from __future__ import annotations

import re

import pytest

from aisym.park.graph.carriers import Carrier, Resource
from aisym.yamlfile import DocumentError
from sim_env.match.knowledge import KNOWN_USES, load, rank_receivers, support


def test_every_entry_carries_a_source():
    uses = load()
    assert len(uses) >= 20
    for u in uses:
        assert u.sources, u.id
        for s in u.sources:
            assert re.search(r"doi:10\.\d{4,9}/\S+|https?://\S+", s), f"{u.id}: {s}"
    assert len({u.id for u in uses}) == len(uses)
    # the examples of the issue are there
    ids = {u.id for u in uses}
    assert {"fgd_gypsum_to_plaster", "fly_ash_to_cement_and_concrete", "spent_grain_to_feed", "spent_yeast_to_feed",
            "fish_sludge_to_biogas"} <= ids


def test_an_entry_without_a_source_is_refused_with_its_line(tmp_path):
    text = KNOWN_USES.read_text(encoding="utf-8")
    bad = re.sub(r'(id: slag_to_cement[\s\S]*?sources:\n)\s+- "[^"]*"', r'\1      - "a book I read once"', text, count=1)
    assert bad != text
    path = tmp_path / "kb.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"kb\.yaml:\d+:\d+: uses\[2\]\.sources.*names a DOI"):
        load(path)


@pytest.mark.parametrize("ewc,donor,receivers,first", [
    ("10 01 05", "35.11", ["10.71", "23.51", "23.62", "01.46"], "23.62"),  # FGD gypsum -> plasterboard
    ("10 01 02", "35.11", ["23.62", "10.71", "23.51"], "23.51"),  # coal fly ash -> cement
    ("02 07 01", "11.05", ["23.51", "01.41", "35.21"], "01.41"),  # spent grain -> dairy cattle feed
    ("02 01 99", "03.21", ["01.41", "35.21", "23.62"], "35.21"),  # fish sludge -> biogas
    ("05 01 16", "19.20", ["23.51", "20.15", "35.11"], "20.15"),  # refinery sulphur -> fertiliser/acid
])
def test_receivers_ranked_by_known_uses_alone(ewc, donor, receivers, first):
    ranked = rank_receivers(ewc, donor, receivers)
    assert ranked[0][0] == first, ranked
    assert ranked[0][1] > ranked[1][1]
    assert "known use" in ranked[0][2] and ("doi:" in ranked[0][2] or "http" in ranked[0][2])


def test_support_factors():
    gypsum = Carrier(resource=Resource.material, ewc="10 01 05")
    assert support(gypsum, "35.11", "23.62").weight == pytest.approx(1.0)  # listed code, main use, listed donor
    assert support(gypsum, "35.11", "23.51").weight == pytest.approx(0.85)  # another listed use
    assert support(gypsum, "10.71", "23.62").weight == pytest.approx(0.7)  # a donor not listed
    assert support(gypsum, "35.11", "23.69").weight == pytest.approx(0.6)  # another class of a listed group
    near = Carrier(resource=Resource.material, ewc="10 01 99")  # a neighbouring code of the sub-chapter
    assert support(near, "35.11", "23.62").weight == pytest.approx(0.5)
    heat = Carrier(resource=Resource.heat, temperature_c=40)
    assert support(heat, None, "35.30").use.id == "waste_heat_to_district_heating"
    assert support(gypsum, "35.11", "56.10") is None  # restaurants take no gypsum
