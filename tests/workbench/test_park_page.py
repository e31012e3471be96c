"""The park page (parks:detail): its companies 50 a page in natural name order, searched by name or sector."""

from __future__ import annotations

import re


def _companies(r) -> str:
    """The companies part of the page (the search form and park tools above it are left out)."""
    return r.content.decode().split('id="companies"', 1)[-1]


def _more_firms(world, n: int) -> None:
    from cloud.workbench.companies.models import Company

    # created in reverse: the page's order must come from the names, not from creation
    Company.objects.bulk_create([Company(park=world.park_a, slug=f"firm{i}", name=f"Firm {i}", nace="10.71")
                                 for i in range(n, 0, -1)])


def test_51_companies_make_two_pages_in_natural_order(world):
    _more_firms(world, 49)  # with the fish farm and the biogas plant: 51
    c = world.client("member_a2")
    first = _companies(c.get("/parks/park_a/"))
    names = re.findall(r'/companies/[^/"]+/">([^<]+)</a>', first)
    assert len(names) == 50 and names[:4] == ["Biogas plant", "Firm 1", "Firm 2", "Firm 3"]
    assert names.index("Firm 9") + 1 == names.index("Firm 10")  # natural: not "Firm 1", "Firm 10", "Firm 11"
    assert "page 1 of 2" in first
    nav = first.split('aria-label="Pages of companies"', 1)[1]
    assert '<a href="?page=1" aria-current="page">1</a>' in nav and '<a href="?page=2">2</a>' in nav
    assert '<a href="?page=2">Next</a>' in nav and "Previous" not in nav
    second = _companies(c.get("/parks/park_a/", {"page": "2"}))
    assert re.findall(r'/companies/[^/"]+/">([^<]+)</a>', second) == ["Fish farm"]
    assert '<a href="?page=2" aria-current="page">2</a>' in second and '<a href="?page=1">Previous</a>' in second
    for wrong in ("3", "0", "two", "²", "-1", "9" * 30):  # a page that is not there is named as such, not replaced by another
        assert c.get("/parks/park_a/", {"page": wrong}).status_code == 404


def test_one_page_has_no_page_nav(world):
    body = _companies(world.client("member_a").get("/parks/park_a/"))
    assert "Fish farm" in body and "Biogas plant" in body and "Pages of companies" not in body


def test_search_by_name_or_sector_keeps_the_words_in_the_page_links(world):
    _more_firms(world, 60)
    c = world.client("member_b")  # another park's member: the public tier, as on the page itself
    assert "Biogas plant" in _companies(c.get("/parks/park_a/", {"q": "biogas"}))  # by name
    by_code = _companies(c.get("/parks/park_a/", {"q": "03.22"}))
    assert "Fish farm" in by_code and "Firm" not in by_code
    bakeries = _companies(c.get("/parks/park_a/", {"q": "bakery"}))  # sector words -> NACE 10.71
    assert "Firm 50<" in bakeries and "Firm 51<" not in bakeries and "Fish farm" not in bakeries
    assert '<a href="?q=bakery&amp;page=2">2</a>' in bakeries
    assert "No company here matches “no such firm”." in _companies(c.get("/parks/park_a/", {"q": "no such firm"}))


def test_an_htmx_search_gets_only_the_companies(world):
    r = world.client("member_a").get("/parks/park_a/", {"q": "fish"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "<html" not in body and "Park tools" not in body and "Fish farm" in body and "Biogas plant" not in body


def test_costs_stay_off_the_page_for_others(world):
    from cloud.workbench.companies.models import Listing

    Listing.objects.filter(company=world.fish).update(cost=123.45, price=67.89)
    for role in ("member_a2", "member_b", "facilitator_a", "nobody"):
        body = world.client(role).get("/parks/park_a/", {"q": "fish"}).content.decode()
        assert "123.45" not in body and "67.89" not in body
