"""A quick listing card becomes a listing of the attendee's company, as the onboarding writes one."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from cloud.workbench import tenancy
from cloud.workbench.companies.models import Listing

from .models import Attendee, Card


def add_card(a: Attendee, d: dict) -> Listing:
    """The listing of ``a``'s company from a valid :class:`~.forms.CardForm`'s cleaned data, and its card.

    Written by the server (the attendee's link is no account: the row policies know no viewer),
    under the audit actor the view names.
    """
    picked = d["picked"]
    with transaction.atomic(), tenancy.system_access():
        company = a.company
        base = slugify(d["words"])[:40].replace("-", "_") or "listing"  # the onboarding's slug rule
        slug, n = base, 1
        while company.listings.filter(slug=slug).exists():
            n += 1
            slug = f"{base}_{n}"
        listing = Listing.objects.create(
            company=company, slug=slug, direction=d["direction"], name=d["words"], resource=picked["resource"],
            ewc=picked["ewc"], material=picked["material"], quality=picked["quality"], quantity=d["quantity"],
            unit=d["unit"] if d["quantity"] is not None else "", frequency=d["frequency"],
            months=d["months"] if d["frequency"] == "seasonal" else [])
        Card.objects.create(attendee=a, listing=listing)
    return listing
