"""The one tenant-aware query layer: who may see which company's data, at which tier.

Every view, partial, export and API endpoint reads companies and listings through the functions
here, never through ``Company.objects`` directly. What a viewer gets:

- anyone signed in: the public tier of every company (the directory across parks);
- a member of a company of park P, a facilitator of P, an admin: the park tier of P's companies
  (admins: of every park);
- a company's own members: its private tier; P's facilitators too when the company grants it.

What a viewer may not see does not exist for them: the lookups raise ``Http404``, never 403, so
that a page does not even tell whether a company has costs on file.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from cloud.workbench.companies.models import PARK, PRIVATE, PUBLIC, Company, Listing


@dataclass(frozen=True)
class Viewer:
    """What one user is: ids of the companies they belong to and of the parks they facilitate."""

    user_id: int | None
    is_admin: bool
    member_of: frozenset[int]
    member_parks: frozenset[int]
    facilitates: frozenset[int]

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Viewer(None, False, frozenset(), frozenset(), frozenset())


def viewer(request) -> Viewer:
    """The request's viewer, computed once per request."""
    cached = getattr(request, "_workbench_viewer", None)
    if cached is not None:
        return cached
    v = viewer_of(request.user)
    request._workbench_viewer = v
    return v


def viewer_of(user) -> Viewer:
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    from cloud.workbench.accounts.models import Facilitator, Membership

    rows = list(Membership.objects.filter(user=user).values_list("company_id", "company__park_id"))
    return Viewer(
        user_id=user.pk,
        is_admin=user.is_superuser,
        member_of=frozenset(c for c, _ in rows),
        member_parks=frozenset(p for _, p in rows),
        facilitates=frozenset(Facilitator.objects.filter(user=user).values_list("park_id", flat=True)),
    )


def tier(v: Viewer, company: Company) -> int | None:
    """The highest tier of ``company`` that ``v`` may read; None: nothing (not signed in)."""
    if not v.signed_in:
        return None
    if company.pk in v.member_of:
        return PRIVATE
    if company.park_id in v.facilitates:
        return PRIVATE if company.share_private_with_facilitator else PARK
    if v.is_admin or company.park_id in v.member_parks:
        return PARK
    return PUBLIC


def can_edit(v: Viewer, company: Company) -> bool:
    """Members edit their company; the park's facilitators and admins edit on its behalf (audited)."""
    return v.signed_in and (company.pk in v.member_of or company.park_id in v.facilitates or v.is_admin)


def can_run_park(v: Viewer, park_id: int) -> bool:
    return v.signed_in and (park_id in v.facilitates or v.is_admin)


def companies(v: Viewer) -> QuerySet[Company]:
    """Every company whose public tier ``v`` may read (none when not signed in)."""
    if not v.signed_in:
        return Company.objects.none()
    return Company.objects.select_related("park")


def company_or_404(v: Viewer, park_slug: str, slug: str, need: int = PUBLIC) -> Company:
    """The company, if ``v`` may read its tier ``need``; else 404 (as if it did not exist)."""
    company = companies(v).filter(park__slug=park_slug, slug=slug).first()
    t = tier(v, company) if company is not None else None
    if t is None or t < need:  # PUBLIC is 0: never test the tier for truth
        raise Http404("no such company")
    return company


def editable_company_or_404(v: Viewer, park_slug: str, slug: str) -> Company:
    company = company_or_404(v, park_slug, slug)
    if not can_edit(v, company):
        raise Http404("no such company")
    return company


def listing_or_404(v: Viewer, company: Company, slug: str) -> Listing:
    listing = company.listings.filter(slug=slug).first()
    if listing is None:
        raise Http404("no such listing")
    return listing


def visible(v: Viewer, obj: Company | Listing, company: Company | None = None) -> dict[str, object]:
    """The fields of ``obj`` that ``v`` may read, by the model's ``TIERS``."""
    company = company or (obj if isinstance(obj, Company) else obj.company)
    t = tier(v, company)
    if t is None:
        return {}
    return {name: getattr(obj, name) for name, need in type(obj).TIERS.items() if need <= t}
