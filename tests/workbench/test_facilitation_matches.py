"""The facilitator's park-wide matchmaking page (facilitation:matches), on the bakery park."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from django.urls import reverse

DATA = Path(__file__).parent / "data"


@pytest.fixture
def bakery(world):
    return bakery_world(world)


def bakery_world(world):
    """The bakery park (5 companies, 5 candidates), run by facilitator_a; member_a2 works at the bakery."""
    from cloud.workbench.accounts.audit import acting_as
    from cloud.workbench.accounts.models import Facilitator, Membership
    from cloud.workbench.parks.importer import import_park

    park = import_park(DATA / "bakery_park.yaml", actor="test")
    with acting_as(None, "test"):
        Facilitator.objects.create(user=world.users["facilitator_a"], park=park)
        Membership.objects.create(user=world.users["member_a2"], company=park.companies.get(slug="bakery"))
    world.bakery_park = park
    return world


def url(park="bakery_park", **query) -> str:
    from urllib.parse import urlencode

    base = reverse("facilitation:matches", kwargs={"park": park})
    return base + ("?" + urlencode(query) if query else "")


def test_every_candidate_best_first_with_reasons(bakery):
    r = bakery.client("facilitator_a").get(url())
    assert r.status_code == 200
    body = r.content.decode()
    rows = r.context["rows"]
    assert [x["rank"] for x in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 5
    assert rows[0]["supplier"] == "Fjordbakeriet" and rows[0]["receiver"] == "Grønt Veksthus"
    assert "fits directly" in rows[0]["reason"] and rows[0]["reason"] in html.unescape(body)
    assert all(x["co2_t"] is not None for x in rows)
    print(f"matchmaking page: {len(rows)} candidates, version {r.context['version']}")


def test_money_only_where_both_companies_granted_it(bakery):
    r = bakery.client("facilitator_a").get(url())
    rows = r.context["rows"]
    assert all(x["money"] is None for x in rows)  # no company granted it
    assert sum(x["money_hidden"] for x in rows) >= 5  # each candidate with an estimate says it is not shared
    assert "not shared" in r.content.decode()
    park = bakery.bakery_park
    park.companies.filter(slug__in=["bakery", "greenhouse"]).update(share_private_with_facilitator=True)
    rows = bakery.client("facilitator_a").get(url()).context["rows"]
    shown = {(x["supplier_slug"], x["receiver_slug"]) for x in rows if x["money"] is not None}
    assert shown == {("bakery", "greenhouse")}


def test_cost_notes_are_left_out_for_who_may_not_read_costs(bakery):
    """The matchmaker's note that a cost is missing would tell whether a company has costs on file."""
    from dataclasses import replace

    from cloud.workbench.facilitation.ranking import RankError, ranked, reason

    try:
        c = ranked(bakery.bakery_park).ranked.candidates[0]
    except RankError as e:
        pytest.fail(str(e))
    c = replace(c, notes=["what the receiver pays now for it is not known (counted 0)", "truck 2 km"])
    assert "what the receiver pays now" in reason(c, True)
    assert "what the receiver pays now" not in reason(c, False) and "truck 2 km" in reason(c, False)


def test_filter_by_resource_and_company(bakery):
    c = bakery.client("facilitator_a")
    every = c.get(url()).context["rows"]
    rows = c.get(url(resource="biomass")).context["rows"]
    assert len(rows) >= 2 and {x["resource"] for x in rows} == {"biomass"}
    assert len(rows) == sum(x["resource"] == "biomass" for x in every)
    rows = c.get(url(company="foodco")).context["rows"]
    want = {x["rank"] for x in every if "foodco" in (x["supplier_slug"], x["receiver_slug"])}
    assert {x["rank"] for x in rows} == want and len(want) >= 2
    r = c.get(url(company="nosuch"))
    assert "No company “nosuch” in this park" in r.content.decode() and len(r.context["rows"]) == len(every)


def test_run_matchmaking_recomputes_for_the_current_version(bakery):
    from cloud.workbench.companies.models import Listing

    c = bakery.client("facilitator_a")
    before = c.get(url()).context["version"]
    r = c.post(url())
    assert r.status_code == 302
    assert "Matchmaking ran on park version" in c.get(url()).content.decode()
    fish = bakery.bakery_park.companies.get(slug="fishfarm")
    Listing.objects.create(company=fish, slug="smolt_sludge", direction="output", name="smolt sludge",
                           resource="biomass", quantity=80, unit="t/yr")
    r = c.get(url())
    assert r.context["version"] != before  # a new card or listing is a new park version: ranked again
    assert any(x["supplier_slug"] == "fishfarm" for x in r.context["rows"])


def test_a_park_matchmaking_refuses_is_one_line(world):
    # park A states costs in NOK and no EUR rate: matchmaking's own one-line reason, no traceback
    r = world.client("facilitator_a").get(url("park_a"))
    assert r.status_code == 200
    assert "Matchmaking cannot run on this park as it is:" in r.content.decode()
    assert "NOK" in r.context["error"] and "\n" not in r.context["error"]


@pytest.mark.parametrize("role,status", [("anonymous", 302), ("nobody", 404), ("member_a", 404), ("member_a2", 404),
                                         ("member_b", 404), ("facilitator_a", 200), ("admin", 200)])
def test_who_may_see_it(bakery, role, status):
    assert bakery.client(role).get(url()).status_code == status


def test_the_park_page_links_the_tools_for_who_may_use_them(bakery):
    link = 'href="/parks/bakery_park/facilitate/"'
    assert link in bakery.client("facilitator_a").get("/parks/bakery_park/").content.decode()
    assert link not in bakery.client("member_a2").get("/parks/bakery_park/").content.decode()
