"""Onboarding's words-to-EWC search over the whole List of Waste (sim_env/match/data/ewc.csv)."""

from __future__ import annotations

from cloud.workbench.companies.vocabulary import find_resources


def _codes(words: str) -> list[str]:
    return [s.ewc for s in find_resources(words)]


def test_words_find_the_official_entries_with_their_asterisk():
    sawdust = find_resources("sawdust")
    official = {s.ewc: s.label for s in sawdust if s.source == "List of Waste"}
    # both halves of the mirror pair, the hazardous one marked as the List marks it
    assert set(official) == {"03 01 04*", "03 01 05"}
    assert official["03 01 05"].startswith("sawdust, shavings, cuttings, wood, particle board and veneer")
    fly_ash = _codes("fly ash")
    assert {"10 01 02", "10 01 03", "10 01 04*"} <= set(fly_ash)
    # a word's start, not any substring: "ash" is not in "washing"
    assert "02 01 01" not in _codes("ash")  # sludges from washing and cleaning


def test_ranking_known_uses_before_official_descriptions():
    fly_ash = find_resources("fly ash")
    sources = [s.source for s in fly_ash]
    first_official = sources.index("List of Waste")
    assert first_official > 0 and all(s != "List of Waste" for s in sources[:first_official])
    assert "bread and bakery residues" in [s.label for s in find_resources("bread")]  # everyday words still first


def test_a_code_finds_its_entry_first():
    for typed in ("10 01 05", "100105"):
        found = find_resources(typed)
        assert found[0].ewc == "10 01 05" and found[0].source == "List of Waste"
        assert found[0].label.startswith("calcium-based reaction wastes from flue-gas desulphurisation")
        assert any(s.source == "fgd_gypsum_to_plaster" for s in found[1:])  # the known use of that code follows
    assert find_resources("10 01 04*")[0].ewc == "10 01 04*"
    assert _codes("03 01") == ["03 01 01", "03 01 04*", "03 01 05", "03 01 99"]  # a sub-chapter: its entries
    assert find_resources("99 99 99") == [] and find_resources("10.71") == []  # no such entry; a NACE class


def test_onboarding_offers_them_and_saves_the_pick(world):
    c = world.client("member_a")
    base = "/parks/park_a/companies/fish/onboarding/"
    body = c.get(base + "resources/", {"words": "sawdust"}, HTTP_HX_REQUEST="true").content.decode()
    assert "EWC 03 01 04*" in body and "EWC 03 01 05" in body
    words = find_resources("10 01 05")
    r = c.post(base + "listings/", {"words": "10 01 05", "choice": "0", "direction": "output", "quantity": "",
                                    "frequency": "continuous", "add": "1"})
    assert r.status_code == 302, r.content.decode()[:2000]
    saved = world.fish.listings.get(name="10 01 05")
    assert saved.ewc == words[0].ewc == "10 01 05" and saved.resource == "material"
