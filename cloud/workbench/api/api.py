"""The JSON API with its OpenAPI schema (django-ninja, at /api/docs and /api/openapi.json).

django-ninja over DRF + drf-spectacular: the schemas are pydantic models (pydantic is already
the core's validation library), the OpenAPI document comes from the same type hints with no
second package, and it is one small dependency. Every endpoint reads through
:mod:`cloud.workbench.tenancy`, like the pages.
"""

from __future__ import annotations

from django.http import Http404
from ninja import NinjaAPI
from ninja.security import django_auth

from cloud.workbench import tenancy

# session auth: CSRF is checked on writes
api = NinjaAPI(title="AISYM workbench", version="1", urls_namespace="api", auth=django_auth)


@api.get("/companies", summary="Companies visible to the caller, with the fields of their tier")
def companies(request, park: str | None = None, limit: int = 100, offset: int = 0):
    v = tenancy.viewer(request)
    qs = tenancy.companies(v)
    if park:
        qs = qs.filter(park__slug=park)
    limit = max(1, min(limit, 500))
    return [{"park": c.park.slug, "id": c.slug, "tier": tenancy.tier(v, c), **tenancy.visible(v, c)}
            for c in qs[offset:offset + limit]]


@api.get("/parks/{park}/companies/{company}", summary="One company and its listings, within the caller's tier")
def company(request, park: str, company: str):
    v = tenancy.viewer(request)
    try:
        c = tenancy.company_or_404(v, park, company)
    except Http404:
        raise Http404("no such company") from None
    return {"park": c.park.slug, "id": c.slug, "tier": tenancy.tier(v, c), **tenancy.visible(v, c),
            "listings": [{"id": x.slug, "status": x.status, **tenancy.visible(v, x, c)} for x in c.listings.all()]}


@api.get("/parks/{park}/companies/{company}/private", summary="Costs and prices: the company's own members only")
def company_private(request, park: str, company: str):
    v = tenancy.viewer(request)
    c = tenancy.company_or_404(v, park, company, need=tenancy.PRIVATE)
    return {"id": c.slug, "listings": [{"id": x.slug, "cost": x.cost, "price": x.price} for x in c.listings.all()]}
