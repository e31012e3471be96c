"""The printable agenda (facilitation:agenda) and its schedule: best pairs first, no attendee
double-booked, each pair at most once."""

from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse

from .test_facilitation_matches import bakery_world


def _pair(a: int, b: int, rank: int):
    from cloud.workbench.facilitation.agenda import Pair

    return Pair(SimpleNamespace(pk=a, name=f"c{a}"), SimpleNamespace(pk=b, name=f"c{b}"), rank, "why", "heat")


def test_the_greedy_schedule():
    from cloud.workbench.facilitation.agenda import check, schedule

    event = SimpleNamespace(date=datetime.date(2027, 3, 4), start=datetime.time(9, 0), slot_minutes=20, slots=2)
    # company 1 is wanted by everyone: its three pairs cannot all fit in two slots
    pairs = [_pair(1, 2, 1), _pair(1, 3, 2), _pair(3, 4, 3), _pair(1, 4, 4), _pair(2, 3, 5)]
    plan = schedule(event, pairs)
    check(plan)
    assert [[p.rank for p in slot] for slot in plan.meetings] == [[1, 3], [2]]
    assert [p.rank for p in plan.unscheduled] == [4, 5]  # 2+3 could only meet in slot 2, where 3 is busy
    assert plan.slots[1] == (datetime.datetime(2027, 3, 4, 9, 20), datetime.datetime(2027, 3, 4, 9, 40))
    day = plan.of(3)
    assert [p.rank if p else None for _, p in day] == [3, 2]


@pytest.fixture
def event(world):
    from cloud.workbench.facilitation.models import Attendee, Event

    w = bakery_world(world)
    e = Event.objects.create(park=w.bakery_park, name="Work session", date=datetime.date(2027, 3, 4), slots=2)
    for name, slug in (("Anna", "bakery"), ("Bo", "greenhouse"), ("Cato", "biogas"), ("Dag", "foodco")):
        Attendee.objects.create(event=e, name=name, email=f"{name}@example.org",
                                company=w.bakery_park.companies.get(slug=slug))
    return e


def test_the_agenda_is_printable(event, world):
    r = world.client("facilitator_a").get(reverse("facilitation:agenda", kwargs={"park": event.park.slug,
                                                                                 "event": event.pk}))
    assert r.status_code == 200
    body = r.content.decode()
    assert 'href="/static/facilitation/agenda.css"' in body
    css = (Path(__file__).resolve().parents[2] / "cloud/workbench/facilitation/static/facilitation/agenda.css").read_text()
    assert "@media print" in css and "break-before: page" in css
    people = r.context["people"]
    assert [p["attendee"].name for p in people] == ["Anna", "Bo", "Cato", "Dag"]
    anna = [d for d in people[0]["day"] if d["pair"] is not None]
    assert [d["other"].slug for d in anna] == ["greenhouse", "biogas"]  # the bakery's two best pairs, in order
    assert [w.name for w in anna[0]["with"]] == ["Bo"]
    booked = [(s["slot"][0].strftime("%H:%M"), p.a.slug, p.b.slug) for s in r.context["slots"] for p in s["meetings"]]
    assert booked[0] == ("09:00", "bakery", "greenhouse")
    print(f"agenda: {len(booked)} meetings, {len(r.context['unscheduled'])} pairs without a slot")
