"""The JSON API with its OpenAPI schema (django-ninja, at /api/docs and /api/openapi.json).

django-ninja over DRF + drf-spectacular: the schemas are pydantic models (pydantic is already
the core's validation library), the OpenAPI document comes from the same type hints with no
second package, and it is one small dependency. Every endpoint reads through
:mod:`cloud.workbench.tenancy`, like the pages.
"""

from __future__ import annotations

import hashlib

from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from cloud.workbench import tenancy


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``: a personal token made on the account's token page."""

    def authenticate(self, request, token: str):
        from cloud.workbench.accounts.models import ApiToken

        row = ApiToken.objects.select_related("user").filter(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), user__is_active=True).first()
        if row is None:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used=timezone.now())
        request.user = row.user  # the tenancy layer reads the request's user, as for a page
        request._workbench_viewer = tenancy.viewer_of(row.user)
        tenancy.set_db_context(tenancy.db_context(request._workbench_viewer))  # and so do PostgreSQL's row policies
        return row.user


# a browser's session (CSRF checked on writes) or a personal token
api = NinjaAPI(title="AISYM workbench", version="1", urls_namespace="api", auth=[django_auth, TokenAuth()])


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
