"""The company's choice to be named to its possible partners (opportunities:named)."""

from __future__ import annotations

from .test_opportunities_company import bakery  # noqa: F401  (the fixture)


def test_a_company_chooses_to_be_named(bakery):  # noqa: F811
    greenhouse_page = bakery.url("greenhouse")
    assert "Fjordbakeriet" not in bakery.client("greenhouse").get(greenhouse_page).content.decode()
    r = bakery.client("bakery").post(bakery.url(name="named"), {"named_to_partners": "on"})
    assert r.status_code == 302
    bakery.companies["bakery"].refresh_from_db()
    assert bakery.companies["bakery"].named_to_partners and bakery.companies["bakery"].version == 2
    html = bakery.client("greenhouse").get(greenhouse_page).content.decode()
    assert "you take it: Fjordbakeriet" in html
    bakery.client("bakery").post(bakery.url(name="named"), {})  # unticked: described again
    assert "you take it: a food company 0.8 km away" in bakery.client("greenhouse").get(greenhouse_page).content.decode()


def test_only_its_members_choose(bakery):  # noqa: F811
    assert bakery.client("bakery").get(bakery.url(name="named")).status_code == 405
    assert bakery.client("greenhouse").post(bakery.url(name="named"), {"named_to_partners": "on"}).status_code == 404
    bakery.companies["bakery"].refresh_from_db()
    assert not bakery.companies["bakery"].named_to_partners
