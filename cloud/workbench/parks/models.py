# ruff: noqa: RUF012  (Django idiom: Meta options, choices and the TIERS table are class-level lists and dicts)
"""A park, as its v2 description names it (``park:`` of the file)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Park(models.Model):
    """One industrial symbiosis park.

    ``document`` keeps what of the v2 file the workbench does not edit yet (carriers, series,
    exchanges, the park's other fields), so that the file can be written back without loss.
    """

    slug = models.SlugField(_("identifier"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    location = models.CharField(_("location"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=64, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    description = models.TextField(_("description"), blank=True)
    document = models.JSONField(default=dict, blank=True)
    # what a company needs to join the park by itself (the facilitator hands it out); empty: closed
    join_code = models.CharField(_("join code"), max_length=32, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
