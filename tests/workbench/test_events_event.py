"""A matchmaking event from its creation to its agenda (facilitation:events, :event, :pairs, :agenda)."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from .test_facilitation_matches import bakery_world


@pytest.fixture
def bakery(world):
    return bakery_world(world)


def _url(name: str, **kw) -> str:
    return reverse(f"facilitation:{name}", kwargs={"park": "bakery_park", **kw})


def create_event(client, slots: int = 3) -> int:
    r = client.post(_url("events"), {"name": "Work session 1", "date": "2027-03-04", "start": "09:00",
                                     "place": "Town hall", "slot_minutes": "15", "slots": str(slots)})
    assert r.status_code == 302, r.content.decode()[-2000:]
    return int(re.search(r"/events/(\d+)/$", r["Location"]).group(1))


def register(client, event: int, name: str, *, company=None, new=None, status=302):
    data = {"name": name, "email": f"{name.lower()}@example.org", "company": company.pk if company else "",
            "new_company": new[0] if new else "", "nace": new[1] if new else "", "location": new[2] if new else ""}
    r = client.post(_url("event", event=event), data)
    assert r.status_code == status, r.content.decode()[-3000:]
    return r


def fill_card(client, token: str, **fields):
    data = {"direction": "output", "frequency": "continuous", **fields}
    return client.post(_url("card", token=token), data)


def test_an_event_from_creation_to_agenda(bakery):
    from cloud.workbench.companies.models import Listing
    from cloud.workbench.facilitation.agenda import check
    from cloud.workbench.facilitation.models import Attendee, Event

    park = bakery.bakery_park
    fac = bakery.client("facilitator_a")
    event = create_event(fac)
    e = Event.objects.get(pk=event)
    assert (e.slots, e.slot_minutes, e.park_id) == (3, 15, park.pk) and len(e.code) == 6
    companies = {c.slug: c for c in park.companies.all()}
    register(fac, event, "Anna", company=companies["bakery"])
    register(fac, event, "Bo", company=companies["greenhouse"])
    register(fac, event, "Cato", company=companies["biogas"])
    register(fac, event, "Dina", new=("Kaffebrenneriet", "10.83", "Havna 3"))
    r = register(fac, event, "Dina", new=("Kaffe 2", "10.83", ""), status=400)  # the same e-mail twice
    assert "dina@example.org is already registered for this event" in r.content.decode()
    dina = Attendee.objects.get(event=e, name="Dina")
    assert dina.company.park_id == park.pk and dina.company.nace == "10.83"

    # Dina's card on her phone: coffee grounds become a listing of her new company
    r = fill_card(bakery.client("anonymous"), dina.token, words="coffee grounds", resource="biomass", quantity="30",
                  unit="t/yr")
    assert r.status_code == 302
    listing = Listing.objects.get(company=dina.company)
    assert (listing.name, listing.resource, listing.quantity, listing.unit) == ("coffee grounds", "biomass", 30, "t/yr")
    anna = Attendee.objects.get(event=e, name="Anna")
    assert fill_card(bakery.client("anonymous"), anna.token, direction="input", words="cooling water",
                     resource="water", quantity="2", unit="m3/h").status_code == 302

    page = fac.get(_url("event", event=event))
    assert page.status_code == 200
    assert page.context["cards"] == 2 and len(page.context["attendees"]) == 4
    pairs = page.context["pairs"]
    fac.get(_url("pairs", event=event))
    t0 = time.perf_counter()
    partial = fac.get(_url("pairs", event=event)).content.decode()  # what the page polls: the same pairs
    poll_ms = (time.perf_counter() - t0) * 1000
    assert f"{len(pairs)} pairs of attendees" in partial and "4 attendees, 2 cards" in partial
    assert "<html" not in partial
    names = [(p.a.slug, p.b.slug) for p in pairs]
    # the bakery's heat and bread waste, and the new company's coffee grounds to the digester
    assert ("bakery", "greenhouse") in names and ("bakery", "biogas") in names
    assert (dina.company.slug, "biogas") in names
    assert [p.rank for p in pairs] == sorted(p.rank for p in pairs)
    assert "fits" in pairs[0].reason

    agenda = fac.get(_url("agenda", event=event))
    assert agenda.status_code == 200
    slots = agenda.context["slots"]
    booked = [p for s in slots for p in s["meetings"]]
    check(type("A", (), {"meetings": [s["meetings"] for s in slots]})())  # no one twice in a slot, no pair twice
    assert len(booked) + len(agenda.context["unscheduled"]) == len(pairs)
    for person in agenda.context["people"]:
        mine = [d for d in person["day"] if d["pair"] is not None]
        assert len({d["slot"] for d in mine}) == len(mine)
    body = agenda.content.decode()
    assert "Anna · Fjordbakeriet" in body and "09:00–09:15" in body
    print(f"event: 4 attendees, 2 cards, {len(pairs)} pairs, {len(booked)} meetings in {len(slots)} slots, "
          f"{len(agenda.context['unscheduled'])} without a slot; a poll of the pairs (ranking cached) {poll_ms:.0f} ms")


def test_the_events_page_in_norwegian(bakery):
    r = bakery.client("facilitator_a").get(_url("events"), HTTP_ACCEPT_LANGUAGE="nb")
    body = r.content.decode()
    assert 'lang="nb"' in body and "Nytt arrangement" in body and "Opprett arrangementet" in body
