# ruff: noqa: RUF012  (Django idiom: Meta options and choices are class-level lists)
"""The park's split rule, and the outcomes of candidates that matchmaking learns from.

An :class:`Outcome` is one word on one candidate (accepted, implemented, rejected), named by its
stable key (:func:`cloud.workbench.engine.key`), so it still names the candidate after the
ranking moves. It keeps the pair as the documented-exchanges corpus names one (giver and
receiver with their NACE codes, the resource as a code or carrier), captured when it was said:
the park's matchmaking model refits on these rows (:mod:`cloud.workbench.opportunities.outcomes`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# the rules of sim_env.match.benefits.splits (their names are the engine's, shown translated)
SPLIT_RULES = [("cost sharing", _("cost sharing")), ("50/50", _("50/50")), ("transfer price", _("transfer price"))]


class ParkSplitRule(models.Model):
    """How a park shares each exchange's gain and investment between its two companies."""

    park = models.OneToOneField("parks.Park", on_delete=models.CASCADE, related_name="split_rule")
    rule = models.CharField(_("split rule"), max_length=16, choices=SPLIT_RULES, default="cost sharing")
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.park}: {self.rule}"


def split_rule_of(park) -> str:
    row = ParkSplitRule.objects.filter(park=park).first()
    return row.rule if row is not None else "cost sharing"


class Outcome(models.Model):
    """What a company or the pipeline said of a candidate."""

    ACCEPTED, IMPLEMENTED, REJECTED = "accepted", "implemented", "rejected"
    STATUSES = [(ACCEPTED, _("accepted")), (IMPLEMENTED, _("implemented")), (REJECTED, _("rejected"))]

    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="outcomes")
    key = models.CharField(_("candidate"), max_length=300)
    supplier = models.CharField(_("supplier"), max_length=64)  # company ids, as the park file names them
    receiver = models.CharField(_("receiver"), max_length=64)
    supplier_nace = models.CharField(max_length=8, blank=True)
    receiver_nace = models.CharField(max_length=8, blank=True)
    resource = models.CharField(max_length=32)  # the corpus's name: an EWC code, else the carrier
    company = models.ForeignKey("companies.Company", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="outcomes")  # who said it (None: the pipeline, for both)
    status = models.CharField(_("status"), max_length=12, choices=STATUSES)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    withdrawn = models.BooleanField(default=False)  # "show it again": kept for the record, no longer said
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created", "pk"]
        indexes = [models.Index(fields=["park", "key"])]

    def __str__(self) -> str:
        return f"{self.key}: {self.status}"
