"""The directory: companies and listings across parks, by sector, country, resource (in words or
by code) and distance; what it shows of each is what the viewer's tier allows."""

from __future__ import annotations

import math

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.shortcuts import render

from cloud.workbench import tenancy
from cloud.workbench.companies.models import PARK, Company, Listing
from cloud.workbench.companies.vocabulary import find_resources, find_sectors

from .ordering import natural

MAX_RESULTS = 25  # a page a person reads; more words narrow it (a 100-row page cost 4x to render)
EARTH_KM = 6371.0


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), km."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _words_filter(q: str) -> tuple[Q, Q]:
    """(companies, listings) matching the words: names, codes, and what the words mean as codes."""
    listing = (Q(name__icontains=q) | Q(material__icontains=q) | Q(ewc__startswith=q) | Q(resource__iexact=q))
    company = Q(name__icontains=q) | Q(nace__startswith=q)
    codes = [s.code for s in find_sectors(q) if s.score >= 1]
    if codes:
        company |= Q(nace__in=codes)
    for s in find_resources(q):
        listing |= Q(ewc=s.ewc) if s.ewc else Q(resource=s.resource)
    return company, listing


def _status(v, company: Company, listing: Listing) -> str:
    # Partial says a quantity is missing: park-tier news; the public tier sees only have or want
    if (tenancy.tier(v, company) or 0) >= PARK:
        return listing.status
    return "wanted" if listing.direction == Listing.INPUT else "available"


@login_required
def search(request):
    v = tenancy.viewer(request)
    q = request.GET.get("q", "").strip()[:200]
    country = request.GET.get("country", "").strip()[:64]
    home = [c for c in Company.objects.filter(pk__in=v.member_of, lat__isnull=False)]
    try:
        km = float(request.GET.get("km", "") or 0)
    except ValueError:
        km = 0
    centre = next(((c.lat, c.lon) for c in home if str(c.pk) == request.GET.get("from")), None)
    companies = tenancy.companies(v)
    listings = Listing.objects.all()
    if q:
        # the ORM binds every word as a parameter: no SQL is ever built from the text
        by_company, by_listing = _words_filter(q)
        listings = listings.filter(by_listing)
        companies = companies.filter(by_company | Q(pk__in=listings.values("company_id")))
    if country:
        companies = companies.filter(country__iexact=country)
    if centre and km > 0:  # a box in SQL first, the exact distance after
        dlat = km / 111.0
        dlon = km / (111.0 * max(0.01, math.cos(math.radians(centre[0]))))
        companies = companies.filter(lat__range=(centre[0] - dlat, centre[0] + dlat),
                                     lon__range=(centre[1] - dlon, centre[1] + dlon))
    # by name in natural order ("Firm 2" before "Firm 10"); the database keeps only the first page
    # of its sort (a top-N sort), so the rows fetched stay 26 however many companies match
    companies = companies.order_by(natural("name"), "id").prefetch_related(
        Prefetch("listings", queryset=listings, to_attr="hits"))
    rows = []
    for c in companies[:MAX_RESULTS * 4 if centre else MAX_RESULTS + 1]:  # one more: are there more?
        distance = km_between(centre, (c.lat, c.lon)) if centre and c.lat is not None else None
        if centre and km > 0 and (distance is None or distance > km):
            continue
        rows.append({"company": c, "fields": tenancy.visible(v, c), "km": distance,
                     "listings": [tenancy.visible(v, x, c) | {"status": _status(v, c, x)}
                                  for x in (c.hits if q else [])[:10]]})
    more = len(rows) > MAX_RESULTS
    rows = rows[:MAX_RESULTS]
    return render(request, "directory/search.html#results" if request.htmx else "directory/search.html",
                  {"q": q, "country": country, "rows": rows, "home": home, "km": km or "", "more": more,
                   "from": request.GET.get("from", "")})
