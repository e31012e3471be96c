"""Tenancy rules of the facilitation app: the facilitator's tools are park A's facilitators' and
admins'; an event's self-registration is open to anyone with its code; an attendee's cards open
only with their own token (a wrong one is 404 for everyone)."""

from __future__ import annotations

import datetime


def _event(world):
    from cloud.workbench.facilitation.models import Event

    return Event.objects.create(park=world.park_a, name="Workshop", date=datetime.date(2027, 3, 1))


def _search(world):
    from cloud.workbench.facilitation.models import BestSetSearch

    return BestSetSearch.objects.create(park=world.park_a, size=2, keys=["a>b:direct"], error="not submitted").pk


RULES = {
    "facilitation:matches": "run_park", "facilitation:shortlist": "run_park", "facilitation:best_set": "run_park",
    "facilitation:events": "run_park", "facilitation:event": "run_park", "facilitation:pairs": "run_park",
    "facilitation:agenda": "run_park", "facilitation:enter_code": "anyone", "facilitation:event_join": "anyone",
    "facilitation:card": "token",
}
PARAMS = {
    "event": lambda world: _event(world).pk,
    "code": lambda world: _event(world).code,
    "search": _search,
}
