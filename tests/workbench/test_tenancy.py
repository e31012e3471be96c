"""The three tiers through the one tenancy layer: who sees which field of which company."""

from __future__ import annotations

import json

import pytest

from cloud.workbench import tenancy
from cloud.workbench.companies.models import PARK, PRIVATE, PUBLIC


@pytest.mark.parametrize(("role", "fish", "biogas", "brewery"), [
    ("nobody", PUBLIC, PUBLIC, PUBLIC),
    ("member_a", PRIVATE, PARK, PUBLIC),
    ("member_a2", PARK, PRIVATE, PUBLIC),
    ("member_b", PUBLIC, PUBLIC, PRIVATE),
    ("facilitator_a", PARK, PARK, PUBLIC),
    ("admin", PARK, PARK, PARK),
])
def test_tier_of_each_role(world, role, fish, biogas, brewery):
    v = tenancy.viewer_of(world.users[role])
    assert [tenancy.tier(v, c) for c in (world.fish, world.biogas, world.brewery)] == [fish, biogas, brewery]


def test_anonymous_sees_nothing(world):
    assert tenancy.tier(tenancy.ANONYMOUS, world.fish) is None
    assert world.client(None).get("/parks/park_a/companies/fish/").status_code == 302  # to sign-in


def test_facilitator_sees_costs_only_when_the_company_grants_it(world):
    c = world.client("facilitator_a")
    assert c.get("/parks/park_a/companies/fish/private/").status_code == 404
    world.fish.share_private_with_facilitator = True
    world.fish.save()
    r = c.get("/parks/park_a/companies/fish/private/")
    assert r.status_code == 200 and "450" in r.content.decode()


def test_member_of_a_gets_404_for_b_private_fields_in_pages_partials_and_api(world):
    c = world.client("member_a")
    for url in ("/parks/park_a/companies/biogas/private/", "/parks/park_b/companies/brewery/private/",
                "/api/parks/park_a/companies/biogas/private", "/api/parks/park_b/companies/brewery/private"):
        assert c.get(url).status_code == 404, url
    assert c.get("/parks/park_a/companies/fish/private/").status_code == 200
    assert c.get("/api/parks/park_a/companies/fish/private").json()["listings"][0]["cost"] == 450


def test_pages_and_api_show_only_the_viewers_tier(world):
    # the brewery's member looks at park A's fish farm: public tier only, no quantity, no cost
    c = world.client("member_b")
    page = c.get("/parks/park_a/companies/fish/").content.decode()
    assert "Fish farm" in page and "03.22" in page
    assert "900" not in page and "450" not in page
    data = c.get("/api/parks/park_a/companies/fish").json()
    assert data["tier"] == PUBLIC and "quantity" not in json.dumps(data) and "cost" not in json.dumps(data)
    # the biogas plant, same park: quantities yes, costs no
    data = world.client("member_a2").get("/api/parks/park_a/companies/fish").json()
    assert data["listings"][0]["quantity"] == 900 and "cost" not in data["listings"][0]


def test_edit_is_for_members_and_the_facilitator_on_behalf_with_an_audit_trail(world):
    from cloud.workbench.accounts.models import AuditEntry

    url = "/parks/park_a/companies/fish/edit/"
    for role in ("nobody", "member_a2", "member_b"):
        assert world.client(role).get(url).status_code == 404, role
        assert world.client(role).post(url, {"name": "x"}).status_code == 404, role
    c = world.client("facilitator_a")
    form = c.get(url)
    assert form.status_code == 200 and "share_private_with_facilitator" not in form.content.decode()
    r = c.post(url, {"name": "Fish farm AS", "nace": "03.22", "location": "", "description": "Salmon",
                     "employees": "40", "version": "1"})
    assert r.status_code == 302, r.content.decode()[:2000]
    e = AuditEntry.objects.filter(model="companies.Company", action="update").latest("id")
    assert e.actor == "facilitator_a" and e.on_behalf
    assert e.changes["name"] == ["Fish farm", "Fish farm AS"]
    # the grant was not in the facilitator's form, so it stayed as it was
    world.fish.refresh_from_db()
    assert world.fish.share_private_with_facilitator is False


def test_audit_log_never_copies_a_private_value(world):
    from cloud.workbench.accounts.models import AuditEntry

    c = world.client("member_a")
    r = c.post("/parks/park_a/companies/fish/listings/sludge/edit/", {
        "name": "fish sludge", "direction": "output", "resource": "material", "ewc": "02 01 06",
        "material": "fish sludge", "quantity": "900", "unit": "t/yr", "frequency": "continuous",
        "description": "", "route": "truck", "cost": "999", "price": "", "version": "1"})
    assert r.status_code == 302, r.content.decode()[:2000]
    e = AuditEntry.objects.filter(model="companies.Listing", action="update").latest("id")
    assert not e.on_behalf and e.changes["cost"] == ["(private)", "(private)"]
    assert "999" not in json.dumps(e.changes)
    # the facilitator reads the log; members of the park do not
    assert world.client("facilitator_a").get("/parks/park_a/audit/").status_code == 200
    assert world.client("member_a").get("/parks/park_a/audit/").status_code == 404


def test_two_people_saving_one_listing_the_second_is_told(world):
    from cloud.workbench.companies.models import Listing

    fields = {"name": "fish sludge", "direction": "output", "resource": "material", "ewc": "02 01 06",
              "material": "fish sludge", "unit": "t/yr", "frequency": "continuous", "description": "",
              "route": "truck", "version": "1"}
    url = "/parks/park_a/companies/fish/listings/sludge/edit/"
    first = world.client("member_a").post(url, {**fields, "quantity": "1000"})
    second = world.client("facilitator_a").post(url, {**fields, "quantity": "5"})
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Someone else saved this" in second.content.decode() and 'value="5' in second.content.decode()
    assert Listing.objects.get(company=world.fish, slug="sludge").quantity == 1000
