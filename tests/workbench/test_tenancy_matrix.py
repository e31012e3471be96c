"""The tenancy matrix: every view of the URL configuration × every role, generated, so that a new
view cannot escape it (a view without a rule here fails the first test).

The target is park A's fish farm (member_a's company) with a cost and a price only its members
may read. For each view and role the status must be what the view's rule says, and no page,
partial or API answer to anyone but the fish farm's own members may contain the cost or price.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cloud.workbench.companies.onboarding import STEPS

from .conftest import ROLES

COST, PRICE = "45678.9", "98765.4"  # distinctive numbers that no page shows by chance

# who gets the view: anyone; signed_in (public tier); private (the fish farm's members);
# edit (its members, the park's facilitators, admins); run_park (facilitators of park A, admins);
# token (a one-time link: a wrong token is 404 for everyone)
RULES = {
    "parks:start": "anyone", "parks:join": "anyone", "accounts:login": "anyone", "accounts:link": "anyone",
    "set_language": "anyone_redirect", "accounts:logout": "post_only", "accounts:link_use": "token",
    "api:openapi-json": "anyone", "api:openapi-view": "anyone", "api:api-root": "nothing",
    "accounts:tokens": "signed_in", "parks:detail": "signed_in", "directory:search": "signed_in",
    "companies:detail": "signed_in",
    "companies:listing": "signed_in", "api:companies": "signed_in", "api:company": "signed_in",
    "companies:private": "private", "api:company_private": "private",
    "companies:edit": "edit", "companies:listing_edit": "edit", "companies:sector_choices": "edit",
    "companies:resource_choices": "edit", "companies:onboarding": "edit",
    "parks:audit": "run_park", "parks:flows": "park_tier", "parks:import": "run_park", "parks:export": "run_park",
    "parks:map": "signed_in",
}
# part 2's apps state their views' rules beside their tests: tests/workbench/tenancy_rules_<app>.py
# with RULES (url name -> rule), optionally KINDS (a rule of its own: name -> roles allowed) and
# PARAMS (url parameter -> function of the world giving the target object's value)
KINDS: dict[str, set[str]] = {}
PARAMS: dict = {}
for _mod in sorted(Path(__file__).parent.glob("tenancy_rules_*.py")):
    _m = importlib.import_module(f"{__package__}.{_mod.stem}")
    RULES.update(_m.RULES)
    KINDS.update(getattr(_m, "KINDS", {}))
    PARAMS.update(getattr(_m, "PARAMS", {}))
MEMBERS, EDITORS, RUNNERS = {"member_a"}, {"member_a", "facilitator_a", "admin"}, {"facilitator_a", "admin"}
PARK_ROLES = {"member_a", "member_a2", "facilitator_a", "admin"}


def _walk(patterns, ns=None, outer=frozenset()):
    """(url name, its parameters, those of the includes above it too) of every view."""
    for p in patterns:
        params = outer | set(p.pattern.regex.groupindex)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, ":".join(x for x in (ns, p.namespace) if x) or None, params)
        elif isinstance(p, URLPattern):
            yield f"{ns}:{p.name}" if ns else p.name, params


def views(world=None) -> list[tuple[str, dict]]:
    """(url name, kwargs) of every view, with the fish farm as target and each onboarding step
    (with ``world``: the other parameters from the rules modules' PARAMS; without: placeholders)."""
    out = []
    for name, params in _walk(get_resolver().url_patterns):
        kwargs = {k: v for k, v in {"park": "park_a", "company": "fish", "listing": "sludge",
                                    "token": "not-a-token"}.items() if k in params}
        kwargs.update({k: (f(world) if world is not None else None) for k, f in PARAMS.items() if k in params})
        if "step" in params:
            out += [(name, {**kwargs, "step": s}) for s in STEPS[:-1]]
        else:
            out.append((name, kwargs))
    return out


def expected(rule: str, role: str, name: str, kwargs: dict) -> set[int]:
    anon, api = role == "anonymous", name.startswith("api:")
    denied_anon = {401} if api else {302}
    if rule == "anyone":
        return {200}
    if rule == "anyone_redirect":
        return {302}
    if rule in ("post_only",):
        return {405}
    if rule in ("token", "nothing"):
        return {404}
    if anon:
        return denied_anon
    if rule in KINDS:
        return {200} if role in KINDS[rule] else {404}
    allowed = {"signed_in": True, "park_tier": role in PARK_ROLES, "private": role in MEMBERS, "edit": role in EDITORS,
               "run_park": role in RUNNERS}[rule]
    if not allowed:
        return {404}
    if name == "companies:onboarding" and kwargs["step"] == "costs" and role not in MEMBERS:
        return {302}  # costs are private: the facilitator's onboarding on the company's behalf skips them
    return {200}


def test_every_view_has_a_rule():
    names = {n for n, _ in views()}
    assert names - set(RULES) == set(), "views without a tenancy rule in RULES"
    assert set(RULES) - names == set(), "rules of views that no longer exist"


@pytest.fixture
def priced(world):
    listing = world.fish.listings.get(slug="sludge")
    listing.cost, listing.price = float(COST), float(PRICE)
    listing.save()
    return world


def test_matrix(priced):
    world = priced
    cells, wrong, leaks = 0, [], []
    clients = {role: world.client(role) for role in ROLES}
    for name, kwargs in views(world):
        url = reverse(name, kwargs=kwargs)
        for role in ROLES:
            r = clients[role].get(url)
            cells += 1
            want = expected(RULES[name], role, name, kwargs)
            if r.status_code not in want:
                wrong.append(f"{role} GET {url}: {r.status_code}, want {sorted(want)}")
            body = r.content.decode(errors="replace")
            if role not in MEMBERS and (COST in body or PRICE in body):
                leaks.append(f"{role} GET {url}")
    print(f"tenancy matrix: {len(views())} views x {len(ROLES)} roles = {cells} cells")
    assert not wrong, "\n".join(wrong)
    assert not leaks, "private values shown to: " + ", ".join(leaks)
    assert cells == len(views()) * len(ROLES) >= 25 * 7
