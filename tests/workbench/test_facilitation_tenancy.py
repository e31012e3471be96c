"""The facilitation app's part of the tenancy matrix, on its own: each of its views x each role,
with the rules of tenancy_rules_facilitation.py, and no page leaking the fish farm's costs."""

from __future__ import annotations

from django.urls import reverse

from .conftest import ROLES
from .tenancy_rules_facilitation import RULES
from .test_tenancy_matrix import COST, MEMBERS, PRICE, expected, views


def test_each_view_for_each_role(world):
    from cloud.workbench.facilitation.models import Attendee, Event

    sludge = world.fish.listings.get(slug="sludge")
    sludge.cost, sludge.price = float(COST), float(PRICE)
    sludge.save()
    mine = [(n, kw) for n, kw in views(world) if n.startswith("facilitation:")]
    assert {n for n, _ in mine} == set(RULES)
    wrong, leaks = [], []
    for role in ROLES:
        client = world.client(role)
        for name, kwargs in mine:
            r = client.get(reverse(name, kwargs=kwargs))
            if r.status_code not in expected(RULES[name], role, name, kwargs):
                wrong.append(f"{role} {name}: {r.status_code}")
            if role not in MEMBERS and (COST in r.content.decode() or PRICE in r.content.decode()):
                leaks.append(f"{role} {name}")
    # an attendee's own token opens their cards for anyone holding it, and only in its park
    e = Event.objects.create(park=world.park_a, name="Workshop", date="2027-03-01")
    a = Attendee.objects.create(event=e, name="Anna", email="anna@example.org", company=world.fish)
    for role in ROLES:
        r = world.client(role).get(reverse("facilitation:card", kwargs={"park": "park_a", "token": a.token}))
        if r.status_code != 200:
            wrong.append(f"{role} card with its token: {r.status_code}")
        if role not in MEMBERS and (COST in r.content.decode() or PRICE in r.content.decode()):
            leaks.append(f"{role} card")
    print(f"facilitation tenancy: {len(mine) + 1} views x {len(ROLES)} roles")
    assert not wrong, "\n".join(wrong)
    assert not leaks, leaks
