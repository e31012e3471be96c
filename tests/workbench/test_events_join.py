"""Self-registration at an event with its short code (facilitation:enter_code, :event_join)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from .test_facilitation_matches import bakery_world


@pytest.fixture
def event(world):
    from cloud.workbench.facilitation.models import Event

    w = bakery_world(world)
    return Event.objects.create(park=w.bakery_park, name="Work session", date=datetime.date(2027, 3, 4))


def _join(e, code=None) -> str:
    return reverse("facilitation:event_join", kwargs={"park": e.park.slug, "code": code or e.code})


def test_the_code_leads_to_the_registration(event, world):
    c = world.client("anonymous")
    enter = reverse("facilitation:enter_code", kwargs={"park": event.park.slug})
    assert c.get(enter).status_code == 200
    r = c.post(enter, {"code": event.code.lower()})  # typed on a phone: case does not matter
    assert r.status_code == 302 and r["Location"] == _join(event)
    r = c.post(enter, {"code": "XXXXXX"})
    assert r.status_code == 400 and "No open event of this park has the code XXXXXX" in r.content.decode()


def test_an_attendee_registers_a_new_company_and_gets_their_cards(event, world):
    from cloud.workbench.facilitation.models import Attendee

    c = world.client("anonymous")
    assert "company" not in c.get(_join(event)).context["form"].fields  # no account: no park company to pick
    r = c.post(_join(event), {"name": "Eva", "email": "eva@example.org", "new_company": "Kaffebrenneriet",
                              "nace": "10.83", "location": "Havna 3"})
    assert r.status_code == 302
    a = Attendee.objects.get(event=event, email="eva@example.org")
    assert a.self_registered and a.company.name == "Kaffebrenneriet" and a.company.park_id == event.park_id
    assert r["Location"] == reverse("facilitation:card", kwargs={"park": event.park.slug, "token": a.token})
    from django.core import mail

    hers = [m for m in mail.outbox if m.to == ["eva@example.org"]]
    assert len(hers) == 1 and r["Location"] in hers[0].body  # her own link, to reopen her cards and meetings


def test_bad_registration_is_refused_field_by_field(event, world):
    r = world.client("anonymous").post(_join(event), {"name": "Eva", "email": "not-an-address", "new_company": "",
                                                      "nace": "99.99", "location": ""})
    assert r.status_code == 400
    assert set(r.context["form"].errors) == {"email", "nace", "new_company"}
    assert 'value="Eva"' in r.content.decode()


def test_a_member_may_register_for_their_own_company(event, world):
    from cloud.workbench.facilitation.models import Attendee

    c = world.client("member_a2")  # works at the bakery
    form = c.get(_join(event)).context["form"]
    assert [x.slug for x in form.fields["company"].queryset] == ["bakery"]
    bakery = event.park.companies.get(slug="bakery")
    assert c.post(_join(event), {"name": "Per", "email": "per@example.org", "company": bakery.pk}).status_code == 302
    assert Attendee.objects.get(event=event, email="per@example.org").company == bakery
    greenhouse = event.park.companies.get(slug="greenhouse")  # not theirs: not a choice
    r = c.post(_join(event), {"name": "Per", "email": "per2@example.org", "company": greenhouse.pk})
    assert r.status_code == 400 and "company" in r.context["form"].errors


def test_a_closed_event_takes_no_one(event, world):
    fac = world.client("facilitator_a")
    fac.post(reverse("facilitation:event", kwargs={"park": event.park.slug, "event": event.pk}), {"open": "0"})
    assert world.client("anonymous").get(_join(event)).status_code == 404
    assert world.client("anonymous").get(_join(event, "WRONG1")).status_code == 404
