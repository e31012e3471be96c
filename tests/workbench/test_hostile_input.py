"""Hostile input, counted: CSRF on every POST of the URL configuration, XSS payloads in every
free-text field rendered escaped on every page, SQL-injection strings in search doing no harm."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from cloud.workbench.companies.forms import CompanyForm, ListingForm
from cloud.workbench.companies.models import Company, Listing
from cloud.workbench.companies.onboarding_forms import JoinForm, ListingStepForm, LocationForm, SectorForm

from .test_tenancy_matrix import views

XSS = '<script>alert("x")</script>'
XSS_SHORT = "<i>x</i>"  # fits an 8-character field


def test_csrf_is_enforced_on_every_post(world):
    """Every view, POSTed without a token by a signed-in member and by a visitor: refused, nothing changed."""
    refused, accepted = 0, []
    before = (Company.objects.count(), Listing.objects.count(), world.fish.version)
    for role in ("member_a", "anonymous"):
        c = Client(enforce_csrf_checks=True)
        if role != "anonymous":
            c.force_login(world.users[role])
            c.get("/")  # holds the CSRF cookie: only the token in the form is missing
        for name, kwargs in views(world):
            r = c.post(reverse(name, kwargs=kwargs), {"name": "changed", "nace": "10.71", "words": "bread"})
            if r.status_code in (403, 405, 401) or (r.status_code == 404 and name == "accounts:link_use"):
                refused += 1
            else:
                accepted.append(f"{role} POST {name}: {r.status_code}")
    world.fish.refresh_from_db()
    assert not accepted, accepted
    assert (Company.objects.count(), Listing.objects.count(), world.fish.version) == before
    print(f"CSRF: {refused} of {2 * len(views(world))} tokenless POSTs refused")


def _free_text_fields() -> dict[str, set[str]]:
    out = {}
    for form in (CompanyForm, ListingForm, JoinForm, ListingStepForm, LocationForm, SectorForm):
        out[form.__name__] = {n for n, f in form.base_fields.items()
                              if type(f) in (forms.CharField, forms.EmailField) and n != "password"}
    return out


def test_xss_in_every_free_text_field_is_rendered_escaped(world):
    fields = _free_text_fields()
    covered: dict[str, set[str]] = {k: set() for k in fields}
    member = world.client("member_a")
    # company and listing forms: every text field at once
    company = {"name": XSS, "nace": XSS_SHORT, "location": XSS, "description": XSS, "employees": "", "version": "1"}
    r = member.post("/parks/park_a/companies/fish/edit/", company)
    assert r.status_code == 400 and "is not a NACE Rev. 2 class" in r.content.decode()  # a code is checked
    assert XSS_SHORT not in r.content.decode()
    company["nace"] = "03.22"
    assert member.post("/parks/park_a/companies/fish/edit/", company).status_code == 302
    covered["CompanyForm"] |= {"name", "nace", "location", "description"}
    listing = {"name": XSS, "direction": "output", "resource": "material", "ewc": "", "material": XSS, "quantity": "",
               "unit": "", "frequency": "continuous", "description": XSS, "route": XSS, "version": "1"}
    assert member.post("/parks/park_a/companies/fish/listings/sludge/edit/", listing).status_code == 302
    bad = {**listing, "ewc": XSS_SHORT, "unit": XSS_SHORT, "version": "2"}
    r = member.post("/parks/park_a/companies/fish/listings/sludge/edit/", bad)
    assert r.status_code == 400 and XSS_SHORT not in r.content.decode()
    covered["ListingForm"] |= {"name", "material", "description", "route", "ewc", "unit"}
    # joining and onboarding: a new company named with the payload
    joiner = Client()
    join = {"join_code": XSS, "company_name": XSS, "username": XSS, "email": XSS, "password": "a long enough password"}
    r = joiner.post("/join/", join)
    assert r.status_code == 400 and XSS not in r.content.decode()
    assert r.content.decode().count("&lt;script&gt;") >= 3  # kept in the form, escaped
    r = joiner.post("/join/", {**join, "join_code": world.park_a.join_code, "username": "xss", "email": "x@example.org"})
    assert r.status_code == 302, r.content.decode()[:2000]
    covered["JoinForm"] |= {"join_code", "company_name", "username", "email"}
    new = Company.objects.exclude(slug="fish").get(name=XSS)
    base = f"/parks/park_a/companies/{new.slug}/onboarding"
    pages = [joiner.post(f"{base}/sector/", {"words": XSS, "nace": XSS_SHORT}),
             joiner.post(f"{base}/sector/", {"words": "bakery", "nace": "10.71"}),
             joiner.post(f"{base}/listings/", {"direction": "output", "words": XSS, "choice": "", "resource": "material",
                                               "quantity": "1", "unit": XSS_SHORT, "frequency": "continuous"}),
             joiner.post(f"{base}/listings/", {"direction": "output", "words": XSS, "choice": "", "resource": "material",
                                               "quantity": "1", "unit": "t/yr", "frequency": "continuous"}),
             joiner.post(f"{base}/location/", {"location": XSS, "lat": "", "lon": ""}),
             joiner.get(f"{base}/sectors/", {"words": XSS}), joiner.get(f"{base}/resources/", {"words": XSS})]
    covered["SectorForm"] |= {"words", "nace"}
    covered["ListingStepForm"] |= {"words", "choice", "unit"}
    covered["LocationForm"] |= {"location"}
    assert covered == fields, "free-text fields not tried"
    # every page each role can open, and the pages above: the payload never arrives as markup
    seen = 0
    for role in ("member_a", "member_a2", "member_b", "facilitator_a", "admin"):
        c = world.client(role)
        urls = [reverse(n, kwargs=k) for n, k in views(world) if not n.startswith("api:") and n != "set_language"]
        urls += [f"/parks/park_a/companies/{new.slug}/", f"/directory/?q={XSS}", "/directory/?q=script"]
        for url in urls:
            pages.append(c.get(url))
    for r in pages:
        if r.status_code == 200 and r["Content-Type"].startswith("text/html"):
            body = r.content.decode()
            seen += body.count("&lt;script&gt;alert(")
            assert XSS not in body and XSS_SHORT not in body and "<script>alert" not in body, r.request["PATH_INFO"]
    assert seen > 20  # the payload was really shown (escaped), not merely absent
    print(f"XSS: {sum(len(v) for v in covered.values())} free-text fields, {len(pages)} pages, {seen} escaped copies")


SQLI = ["' OR '1'='1", "%' UNION SELECT password, username FROM auth_user --", "\"; DROP TABLE companies_company; --",
        "') OR 1=1 --", "\\'; SELECT pg_sleep(5); --", "%%", "_"]


@pytest.mark.parametrize("payload", SQLI)
def test_sql_injection_strings_in_search_do_no_harm(world, payload):
    before = (Company.objects.count(), Listing.objects.count())
    c = world.client("member_b")
    for url, params in (("/directory/", {"q": payload}), ("/directory/", {"q": "fish", "country": payload}),
                        ("/api/companies", {"park": payload})):
        r = c.get(url, params)
        assert r.status_code == 200, (url, payload)
        body = r.content.decode()
        assert not re.search(r"(argon2|md5|pbkdf2_sha256)\$", body)
        assert "Fish farm" not in body or payload in ("%%", "_") or url != "/api/companies"
    assert (Company.objects.count(), Listing.objects.count()) == before
