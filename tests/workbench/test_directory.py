"""The directory across parks: by words, code, country and distance, within the viewer's tier."""

from __future__ import annotations

from cloud.workbench.directory.views import km_between


def _names(r) -> str:
    """The results part of the page (the form above names the viewer's own companies)."""
    return r.content.decode().split('id="results"', 1)[-1]


def test_words_find_sectors_and_listings_across_parks(world):
    c = world.client("member_a")
    body = _names(c.get("/directory/", {"q": "spent grain"}))
    assert "Brewery" in body and "EWC 02 07 04" in body and "Fish farm" not in body
    body = _names(c.get("/directory/", {"q": "brewery"}))  # a sector in words -> NACE 11.05
    assert "Brewery" in body
    body = _names(c.get("/directory/", {"q": "02 01"}))  # a code
    assert "Fish farm" in body and "Brewery" not in body
    body = _names(c.get("/directory/", {"q": "fish", "country": "DK"}))
    assert "Nothing found." in body


def test_what_it_shows_respects_the_tiers(world):
    # park A's own member sees the fish farm's quantity; the brewery's member (park B) does not
    assert "900.0 t/yr" in _names(world.client("member_a2").get("/directory/", {"q": "sludge"}))
    other = _names(world.client("member_b").get("/directory/", {"q": "sludge"}))
    assert "Fish farm" in other and "900" not in other and "450" not in other


def test_distance_from_the_viewers_site(world):
    assert 1.0 < km_between((63.0, 8.0), (63.01, 8.0)) < 1.2
    c = world.client("member_a")  # the fish farm at 63.0, 8.0; the biogas plant 1.1 km north
    near = _names(c.get("/directory/", {"q": "", "km": "2", "from": str(world.fish.pk)}))
    assert "Biogas plant" in near and "1.1 km" in near and "Brewery" not in near  # no site: not near anything
    assert "Biogas plant" not in _names(c.get("/directory/", {"km": "0.5", "from": str(world.fish.pk)}))


def test_an_htmx_search_gets_only_the_results(world):
    r = world.client("member_a").get("/directory/", {"q": "brewery"}, HTTP_HX_REQUEST="true")
    assert "<html" not in r.content.decode() and "Brewery" in r.content.decode()


def test_names_in_natural_order(world):
    from cloud.workbench.companies.models import Company
    from cloud.workbench.directory.ordering import natural_key

    assert natural_key("Firm 2") < natural_key("firm 10") < natural_key("Firm 010a") < natural_key("Firma")
    for name in ["Firm 10", "Firm 2", "Firm 1", "firm 11", "Élan 3"]:  # created out of order
        Company.objects.create(park=world.park_b, slug=f"x{len(name)}{name[-1]}", name=name, nace="10.71")
    body = _names(world.client("member_b").get("/directory/", {"q": "10.71"}))
    found = [n for n in ["Firm 1<", "Firm 2<", "Firm 10<", "firm 11<", "Élan 3<"] if n in body]
    assert sorted(found, key=body.index) == ["Élan 3<", "Firm 1<", "Firm 2<", "Firm 10<", "firm 11<"]
