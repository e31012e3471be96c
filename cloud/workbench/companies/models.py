# ruff: noqa: RUF012  (Django idiom: Meta options, choices and the TIERS table are class-level lists and dicts)
"""Companies and their listings, each field in one of three confidentiality tiers.

- public: anyone signed in (the directory across parks): sector, country, resource family;
- park: the park's companies and facilitators: quantities, profiles, qualities;
- private: the company's own members (and the facilitator where the company grants it): costs and prices.

``TIERS`` on each model says which tier each shown field is in; :mod:`cloud.workbench.tenancy`
reads it, so a new field without a tier is refused by a test instead of leaking.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

PUBLIC, PARK, PRIVATE = 0, 1, 2
TIER_NAMES = {PUBLIC: "public", PARK: "park", PRIVATE: "private"}


class Company(models.Model):
    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="companies")
    slug = models.SlugField(_("identifier"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    nace = models.CharField(_("sector (NACE Rev. 2)"), max_length=8, blank=True)
    country = models.CharField(_("country"), max_length=64, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    share_private_with_facilitator = models.BooleanField(
        _("let the park's facilitator see our costs and prices"), default=False)
    # matchmaking describes a company to its possible partners by sector and distance unless it says so
    named_to_partners = models.BooleanField(_("show our name to possible partners"), default=False)
    # what of the v2 file's company the workbench does not edit (assets), kept for the round trip
    document = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic concurrency: bumped by every save
    # the onboarding step reached: the draft is the company itself, saved at every step
    onboarding_step = models.CharField(max_length=16, default="done", blank=True)
    created = models.DateTimeField(auto_now_add=True)

    TIERS = {
        "name": PUBLIC, "nace": PUBLIC, "country": PUBLIC, "location": PUBLIC, "lat": PUBLIC, "lon": PUBLIC,
        "description": PARK, "employees": PARK,
        "share_private_with_facilitator": PRIVATE, "named_to_partners": PARK,
    }

    class Meta:
        ordering = ["park", "name"]
        constraints = [models.UniqueConstraint(fields=["park", "slug"], name="company_slug_unique_in_park")]

    def __str__(self) -> str:
        return self.name


class Listing(models.Model):
    """One output (Available) or input (Wanted) of a company; Partial while its quantity is missing."""

    OUTPUT, INPUT = "output", "input"
    DIRECTIONS = [(OUTPUT, _("we have it (output)")), (INPUT, _("we want it (input)"))]
    FREQUENCIES = [("continuous", _("continuous")), ("one_off", _("one-off")), ("seasonal", _("seasonal"))]

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="listings")
    slug = models.SlugField(_("identifier"), max_length=64)
    direction = models.CharField(_("direction"), max_length=6, choices=DIRECTIONS)
    name = models.CharField(_("what it is, in words"), max_length=200)
    resource = models.CharField(_("resource family"), max_length=32)
    ewc = models.CharField(_("EWC code"), max_length=10, blank=True)
    material = models.CharField(_("material"), max_length=100, blank=True)
    quality = models.JSONField(_("quality"), default=dict, blank=True)  # temperature_c, grade, dry matter...
    quantity = models.FloatField(_("quantity"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    frequency = models.CharField(_("how often"), max_length=12, choices=FREQUENCIES, default="continuous")
    months = models.JSONField(_("months (seasonal)"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    route = models.CharField(_("present route"), max_length=200, blank=True)
    cost = models.FloatField(_("cost of the present route, per unit"), null=True, blank=True)
    price = models.FloatField(_("asking or paid price, per unit"), null=True, blank=True)
    document = models.JSONField(default=dict, blank=True)  # the v2 flow's other fields, for the round trip
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)

    TIERS = {
        "name": PUBLIC, "direction": PUBLIC, "resource": PUBLIC, "ewc": PUBLIC, "material": PUBLIC,
        "quality": PARK, "quantity": PARK, "unit": PARK, "frequency": PARK, "months": PARK,
        "description": PARK, "route": PARK,
        "cost": PRIVATE, "price": PRIVATE,
    }

    class Meta:
        ordering = ["company", "direction", "name"]
        constraints = [models.UniqueConstraint(fields=["company", "slug"], name="listing_slug_unique_in_company")]

    def __str__(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        """Available, Wanted, or Partial (no quantity yet: still matched).

        A missing price does not make a listing Partial here: prices are private, and a status
        shown to the park must not tell whether a company entered one.
        """
        if self.quantity is None:
            return "partial"
        return "available" if self.direction == self.OUTPUT else "wanted"
