"""An attendee's quick listing card on a phone (facilitation:card): a listing of their company, or
refused field by field with nothing typed lost."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from .test_facilitation_matches import bakery_world


@pytest.fixture
def attendee(world):
    from cloud.workbench.facilitation.models import Attendee, Event

    w = bakery_world(world)
    e = Event.objects.create(park=w.bakery_park, name="Work session", date=datetime.date(2027, 3, 4))
    return Attendee.objects.create(event=e, name="Anna", email="anna@example.org",
                                   company=w.bakery_park.companies.get(slug="fishfarm"))


def _url(a, token=None) -> str:
    return reverse("facilitation:card", kwargs={"park": a.event.park.slug, "token": token or a.token})


def test_a_bad_card_is_refused_field_by_field_and_nothing_is_lost(attendee, world):
    from cloud.workbench.companies.models import Listing

    before = Listing.objects.filter(company=attendee.company).count()
    r = world.client("anonymous").post(_url(attendee), {
        "direction": "output", "words": "fish sludge from the smolt tanks", "resource": "", "quantity": "-3",
        "unit": "t/yr", "frequency": "seasonal"})
    assert r.status_code == 400
    form = r.context["form"]
    assert set(form.errors) == {"resource", "quantity"}
    body = r.content.decode()
    assert "This card is not saved yet; nothing you typed is lost" in body
    assert 'value="fish sludge from the smolt tanks"' in body and 'value="-3"' in body and 'value="t/yr"' in body
    assert Listing.objects.filter(company=attendee.company).count() == before

    r = world.client("anonymous").post(_url(attendee), {
        "direction": "output", "words": "fish sludge", "resource": "biomass", "quantity": "", "unit": "kW",
        "frequency": "seasonal"})
    assert r.status_code == 400
    assert set(r.context["form"].errors) == {"months", "quantity"}  # a season needs its months; a unit its amount
    assert "Give the amount in kW too, or clear the unit." in r.content.decode()

    r = world.client("anonymous").post(_url(attendee), {
        "direction": "output", "words": "fish sludge", "resource": "biomass", "quantity": "80", "unit": "kW",
        "frequency": "continuous"})
    assert r.status_code == 400 and "Pick a unit of biomass" in r.context["form"].errors["unit"][0]
    assert Listing.objects.filter(company=attendee.company).count() == before


def test_a_good_card_becomes_a_listing_of_the_attendees_company(attendee, world):
    from cloud.workbench.accounts.models import AuditEntry

    c = world.client("anonymous")
    r = c.post(_url(attendee), {"direction": "output", "words": "fish sludge", "resource": "biomass",
                                "quantity": "80", "unit": "t/yr", "frequency": "seasonal", "months": ["5", "6"]})
    assert r.status_code == 302
    card = attendee.cards.get()
    x = card.listing
    assert (x.company_id, x.direction, x.resource, x.quantity, x.unit, x.months) == (
        attendee.company_id, "output", "biomass", 80, "t/yr", [5, 6])
    assert AuditEntry.objects.filter(model="companies.Listing", object_pk=str(x.pk), actor__startswith="Anna").exists()
    page = c.get(_url(attendee))
    assert page.status_code == 200 and "1 card so far" in page.content.decode()
    assert 'name="viewport"' in page.content.decode() and "facilitation/card.css" in page.content.decode()


def test_a_wrong_token_is_404(attendee, world):
    assert world.client("facilitator_a").get(_url(attendee, "nope")).status_code == 404
    assert world.client("anonymous").get(reverse("facilitation:card", kwargs={
        "park": "park_a", "token": attendee.token})).status_code == 404  # another park's address


def test_each_field_of_the_card_links_to_the_paragraph_that_explains_it(attendee, world):
    pytest.importorskip("cloud.workbench.learning.help", reason="the learning modules are not installed")
    body = world.client("anonymous").get(_url(attendee)).content.decode()
    for anchor in ("have-or-want", "name-it", "resource-family", "quantity-unit", "how-often"):
        assert f'href="/learn/mapping-resources/#{anchor}"' in body, anchor
