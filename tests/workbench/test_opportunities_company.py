"""The company's "Your opportunities" page (opportunities:company): per role, the bakery's
candidates with their reasons and its own share, partners named only where they chose it, the
filter by resource, and no other company's costs."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .conftest import DATA

BAKERY_PARK = DATA / "bakery_park.yaml"
GREENHOUSE_COST = "0.85"  # the greenhouse's gas-boiler cost per kWh in the park file


class Bakery:
    """The bakery park with a member per company, a facilitator and an admin."""

    def __init__(self, world) -> None:
        from cloud.workbench.accounts.audit import acting_as
        from cloud.workbench.accounts.models import Facilitator, Membership
        from cloud.workbench.parks.importer import import_park

        # the same file each time: the park's version, and so its cached ranking, is shared by the tests
        self.world = world
        self.park = import_park(BAKERY_PARK, actor="test")
        self.companies = {c.slug: c for c in self.park.companies.all()}
        User = type(world.users["admin"])
        self.users = {}
        with acting_as(None, "test"):
            for slug, company in self.companies.items():
                self.users[slug] = User.objects.create_user(f"{slug}_member", password="x")
                Membership.objects.create(user=self.users[slug], company=company)
            self.users["facilitator"] = User.objects.create_user("bakery_facilitator", password="x")
            Facilitator.objects.create(user=self.users["facilitator"], park=self.park)

    def client(self, who: str):
        from django.test import Client

        if who in self.world.users or who == "anonymous":
            return self.world.client(who)
        c = Client()
        c.force_login(self.users[who])
        return c

    def url(self, company: str = "bakery", name: str = "company") -> str:
        return reverse(f"opportunities:{name}", kwargs={"park": self.park.slug, "company": company})


@pytest.fixture
def bakery(world) -> Bakery:
    return Bakery(world)


def articles(html: str) -> list[str]:
    return re.findall(r"<article class=\"opportunity\".*?</article>", html, flags=re.S)


def test_the_bakery_sees_its_opportunities_with_reasons_and_its_share(bakery):
    r = bakery.client("bakery").get(bakery.url())
    assert r.status_code == 200
    html = r.content.decode()
    found = articles(html)
    tests = [a for a in found if "Test it in the twin" in a] if "Test it in the twin" in html else \
        [a for a in found if "cannot test" not in a]
    print(f"bakery: {len(found)} opportunities, {len(tests)} the twin can test")
    assert len(found) >= 3 and len(tests) >= 2
    first = found[0]
    assert "heat 85 °C" in first and "it fits directly" in first and "it replaces gas boiler" in first
    assert "cost sharing" in html  # the park's rule, said once at the top
    # vented heat saves the bakery nothing under cost sharing; the other rules' shares are its own too
    assert "Your money per year</dt><dd>0.00 NOK" in first
    assert "Your money under the other rules</dt><dd>50/50: 553 k NOK; transfer price: 553 k NOK" in first
    bread = next(a for a in found if "EWC 02 06 01" in a)
    assert "450 k NOK" in bread  # its own share of the bread-waste candidate under cost sharing: disposal saved
    assert "matchmaking&#x27;s estimate" in bread or "matchmaking's estimate" in bread


def test_who_may_read_the_page(bakery):
    """Its members only: the shares come from its own costs (the facilitator and admins read the park tier)."""
    want = {"anonymous": 302, "nobody": 404, "admin": 404, "greenhouse": 404, "facilitator": 404, "member_a": 404,
            "bakery": 200}
    assert {who: bakery.client(who).get(bakery.url()).status_code for who in want} == want
    assert bakery.client("bakery").get(bakery.url("nowhere")).status_code == 404


def test_the_facilitator_reads_it_where_the_company_shares_its_costs(bakery):
    bakery.companies["bakery"].share_private_with_facilitator = True
    bakery.companies["bakery"].save()
    assert bakery.client("facilitator").get(bakery.url()).status_code == 200


def test_partners_are_named_only_where_they_chose_it(bakery):
    html = bakery.client("bakery").get(bakery.url()).content.decode()
    assert "Grønt Veksthus" not in html and "Midt Biogass" not in html
    assert "a farming company 0.8 km away" in html  # the greenhouse (01.13), 0.75 km from the bakery
    assert "an energy company 1.5 km away" in html  # the biogas plant (35.21)
    assert "a fish farming company 4.2 km away" in html
    greenhouse = bakery.companies["greenhouse"]
    greenhouse.named_to_partners = True
    greenhouse.save()
    html = bakery.client("bakery").get(bakery.url()).content.decode()
    assert "Grønt Veksthus" in html and "a farming company 0.8 km away" not in html


def test_filter_by_resource(bakery):
    c = bakery.client("bakery")
    full = articles(c.get(bakery.url()).content.decode())
    part = c.get(bakery.url() + "?resource=biomass", headers={"HX-Request": "true"})
    assert part.status_code == 200
    html = part.content.decode()
    assert "<html" not in html  # the list alone, for htmx
    shown = articles(html)
    assert 1 <= len(shown) < len(full) and all("biomass" in a for a in shown)


def test_no_other_company_costs_reach_the_page(bakery):
    """The greenhouse's cost (private) changes the bakery's estimate but never appears on its page."""
    listing = bakery.companies["greenhouse"].listings.get(slug="heating")
    listing.cost = 0.8765432
    listing.save()
    html = bakery.client("bakery").get(bakery.url()).content.decode()
    assert "0.8765432" not in html and "0.877" not in html and "87654" not in html
    own = bakery.client("greenhouse").get(bakery.url("greenhouse")).content.decode()
    assert "450 k NOK" not in own  # the bakery's share of the bread waste is not on anyone else's page


def test_a_park_matchmaking_cannot_price_says_why(world):
    """Park A is in NOK without an EUR rate: the page says so in one line instead of failing."""
    r = world.client("member_a").get(reverse("opportunities:company", kwargs={"park": "park_a", "company": "fish"}))
    assert r.status_code == 200
    assert "Matchmaking cannot run on this park yet" in r.content.decode()
    assert "state its rate" in r.content.decode()


def test_the_page_in_norwegian(bakery):
    html = bakery.client("bakery").get(bakery.url(), headers={"Accept-Language": "nb"}).content.decode()
    assert "Deres muligheter" in html and "en bedrift innen landbruk, 0.8 km unna" in html
    assert "dere gir det" in html and "kostnadsdeling" in html


def test_a_candidate_tested_in_the_twin_shows_the_twins_share(bakery):
    """After a twin test (a finished job of the simulations app, run here by the engine itself), the
    page shows the company's share from the simulated year, the same figure the engine gave."""
    from cloud.workbench import engine
    from cloud.workbench.opportunities.matches import park_match
    from cloud.workbench.simulations.models import Job
    from sim_env.match.readable import money

    key = "ovens.bread_waste>digester.feed:direct"
    # the park as a request reads it: on PostgreSQL, JSONB gives the document's keys back in its own
    # order, so the park file (and its version) of the freshly imported object differs from the stored one
    pm = park_match(type(bakery.park).objects.get(pk=bakery.park.pk))
    result = engine.simulate(pm.ranked, [key], hours=168)
    cid = result["ranking"][0]["id"]
    Job.objects.create(park=bakery.park, version=pm.version, keys=[key], signature="test", hours=168,
                       state=Job.DONE, result=result, candidate_ids={key: cid}, company=bakery.companies["bakery"])
    share = next(s for s in result["companies"]["bakery"] if s["candidate"] == cid and s["rule"] == "cost sharing")
    bread = next(a for a in articles(bakery.client("bakery").get(bakery.url()).content.decode()) if "02 06 01" in a)
    assert "a year simulated in the park's twin" in bread
    assert f"Your money per year</dt><dd>{money(share['gain_per_year'], 'NOK')}</dd>" in bread
    # each simulatable candidate has its button, posting its key and the company to the twin's start
    assert 'action="/parks/bakery_park/twin/start/"' in bread or "Test it in the twin" in bread
    assert f'name="key" value="{key.replace(">", "&gt;")}"' in bread and 'name="company" value="bakery"' in bread
