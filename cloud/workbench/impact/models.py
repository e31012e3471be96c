# ruff: noqa: RUF012  (Django idiom: Meta options are class-level lists)
"""What the impact pages keep: the facilitator's public-summary switch and the twin's months per park version."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicSummary(models.Model):
    """Whether the park's physical totals are published to the public authority (anyone, no sign-in)."""

    park = models.OneToOneField("parks.Park", on_delete=models.CASCADE, related_name="impact_public")
    enabled = models.BooleanField(_("publish the park's physical totals"), default=False)
    changed = models.DateTimeField(auto_now=True)


class TwinMonths(models.Model):
    """The twin's year of a park version, summed per exchange and month (canonical amounts).

    ``running`` names the pipeline's running candidates simulated with the park's own exchanges
    (their keys, sorted): another set is another run. ``months``: exchange id -> 12 amounts (null:
    month not simulated).
    """

    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="+")
    version = models.CharField(max_length=16)
    running = models.CharField(max_length=64)  # hash of the running candidates' keys
    hours = models.FloatField()
    seed = models.IntegerField(default=0)
    months = models.JSONField(default=dict)
    seconds = models.FloatField(default=0.0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["park", "version", "running", "hours", "seed"],
                                               name="twin_months_unique_per_run")]
