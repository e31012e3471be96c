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

    # who the user is decides the row policies' settings, so it is read before them, as the server
    with system_access():
        rows = list(Membership.objects.filter(user=user).values_list("company_id", "company__park_id"))
        facilitates = frozenset(Facilitator.objects.filter(user=user).values_list("park_id", flat=True))
    return Viewer(
        user_id=user.pk,
        is_admin=user.is_superuser,
        member_of=frozenset(c for c, _ in rows),
        member_parks=frozenset(p for _, p in rows),
        facilitates=facilitates,
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


# --- PostgreSQL row-level security: the database enforces the same rules for rows ---------------
# Each request runs in one transaction whose SET LOCALs tell the policies (migration
# companies/0003_row_level_security) who is asking. Rows only: the private tier is columns
# (cost, price) of rows the park may read, so the application layer above keeps guarding those.


def _is_postgres(connection) -> bool:
    return connection.vendor == "postgresql"


def db_context(v: Viewer) -> dict[str, str]:
    """The settings the policies read for viewer ``v``."""
    from cloud.workbench.parks.models import Park

    editable = set(v.member_of)
    return {
        "app.viewer": str(v.user_id or ""),
        "app.admin": "on" if v.is_admin else "off",
        "app.editable": ",".join(map(str, sorted(editable))),
        "app.parks_run": ",".join(map(str, sorted(v.facilitates if not v.is_admin else
                                                  Park.objects.values_list("pk", flat=True)))),
        "app.system": "off",
    }


def set_db_context(values: dict[str, str]) -> None:
    from django.db import connection

    if not _is_postgres(connection):
        return
    with connection.cursor() as cur:
        for name, value in values.items():
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])  # true: until the transaction ends


class RowSecurityMiddleware:
    """On PostgreSQL: the request in one transaction, with the viewer told to the row policies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import connection, transaction

        if not _is_postgres(connection):
            return self.get_response(request)
        with transaction.atomic():
            values = db_context(viewer(request))
            with connection.cursor() as cur:  # put back afterwards: matters only inside an outer transaction (tests)
                cur.execute("SELECT " + ", ".join(["coalesce(current_setting(%s, true), '')"] * len(values)), list(values))
                before = dict(zip(values, cur.fetchone(), strict=True))
            set_db_context(values)
            try:
                return self.get_response(request)
            finally:
                if not connection.needs_rollback:
                    set_db_context(before)


class system_access:  # lower case: used as a context manager, like transaction.atomic
    """Server code acting for no viewer (the CLI's import and export, a company joining): the
    policies let it through. Within a transaction it lasts until the block ends."""

    def __enter__(self):
        from django.db import connection

        self.active = _is_postgres(connection)
        if self.active:
            with connection.cursor() as cur:
                cur.execute("SELECT coalesce(current_setting('app.system', true), ''), set_config('app.system', 'on', %s)",
                            [connection.in_atomic_block])
                self.before = cur.fetchone()[0] or "off"
        return self

    def __exit__(self, *exc):
        from django.db import DatabaseError, connection

        if self.active:
            try:
                with connection.cursor() as cur:
                    cur.execute("SELECT set_config('app.system', %s, %s)", [self.before, connection.in_atomic_block])
            except DatabaseError:  # an aborted transaction: its local settings go with it
                pass
        return False
