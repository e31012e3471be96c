"""Search companies and listings across parks by words, sector, country or code; public tier only
for other parks' companies (the park tier shows where the viewer is at home)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render

from cloud.workbench import tenancy
from cloud.workbench.companies.models import Listing

MAX_RESULTS = 100


@login_required
def search(request):
    v = tenancy.viewer(request)
    q = request.GET.get("q", "").strip()[:200]
    country = request.GET.get("country", "").strip()[:64]
    companies = tenancy.companies(v)
    if q:
        # words match names, sectors and codes; the ORM binds them as parameters (no SQL is built from text)
        companies = companies.filter(
            Q(name__icontains=q) | Q(nace__startswith=q) | Q(listings__name__icontains=q)
            | Q(listings__ewc__startswith=q) | Q(listings__material__icontains=q)
            | Q(listings__resource__iexact=q)).distinct()
    if country:
        companies = companies.filter(country__iexact=country)
    rows = []
    for c in companies[:MAX_RESULTS]:
        hits = [x for x in c.listings.all() if not q or q.lower() in (x.name + " " + x.material).lower()
                or x.ewc.startswith(q) or x.resource == q.lower()] if q else []
        rows.append({"company": c, "fields": tenancy.visible(v, c),
                     "listings": [tenancy.visible(v, x, c) for x in hits[:10]]})
    return render(request, "directory/search.html#results" if request.htmx else "directory/search.html",
                  {"q": q, "country": country, "rows": rows, "Listing": Listing})
