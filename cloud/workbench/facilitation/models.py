# ruff: noqa: RUF012  (Django idiom: Meta options are class-level lists)
"""The facilitator's own records: a park's shortlist, its best-set searches, its matchmaking events.

Candidates are named by :func:`cloud.workbench.engine.key`, which survives re-ranking, so a
shortlisted candidate keeps its note after a company changes a listing. Attendees' quick
listing cards are ordinary :class:`~cloud.workbench.companies.models.Listing` rows of their
company; :class:`Card` only remembers which attendee wrote which.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# event codes are typed on a phone: no 0/O, 1/I/L to confuse
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def new_token() -> str:
    return secrets.token_urlsafe(18)


class ShortlistEntry(models.Model):
    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="shortlist")
    key = models.CharField(_("candidate"), max_length=300)
    note = models.CharField(_("note"), max_length=500, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]
        constraints = [models.UniqueConstraint(fields=["park", "key"], name="shortlist_key_unique_in_park")]

    def __str__(self) -> str:
        return self.key


class BestSetSearch(models.Model):
    """"Find the best set of K" of the shortlist: the twin job it was submitted as."""

    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="best_set_searches")
    size = models.PositiveSmallIntegerField(_("set size K"))
    keys = models.JSONField(default=list)  # the shortlist's candidates when it was submitted
    version = models.CharField(max_length=16)  # the park version they were candidates of
    job = models.CharField(max_length=64, blank=True)  # the simulations app's job id
    error = models.CharField(max_length=500, blank=True)  # why it could not be submitted
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]


class Event(models.Model):
    """A matchmaking event: attendees fill cards, meet the best pairs in slots of ``slot_minutes``."""

    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="events")
    name = models.CharField(_("name"), max_length=200)
    date = models.DateField(_("date"))
    start = models.TimeField(_("first meeting at"), default="09:00")
    place = models.CharField(_("place"), max_length=200, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("minutes per meeting"), default=20)
    slots = models.PositiveSmallIntegerField(_("number of meeting slots"), default=6)
    code = models.CharField(_("event code"), max_length=12, unique=True, default=new_code)
    open = models.BooleanField(_("attendees may register themselves with the code"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return self.name


class Attendee(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendees")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail address"))
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="attendances")
    # the attendee's own link to their cards and meetings (no account needed on the day)
    token = models.CharField(max_length=32, unique=True, default=new_token)
    self_registered = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "email"], name="attendee_email_unique_in_event")]

    def __str__(self) -> str:
        return self.name


class Card(models.Model):
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="cards")
    listing = models.OneToOneField("companies.Listing", on_delete=models.CASCADE, related_name="card")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]
