# ruff: noqa: RUF012  (Django idiom: Meta options and choices are class-level lists)
"""The facilitator's opportunity pipeline: each exchange a park works on, from an idea to a running
exchange (or stopped, and why), with a dated history of every stage change and the comments of the
companies it concerns.

An opportunity names a matchmaking candidate by its stable key (:func:`cloud.workbench.engine.key`)
when it came from the ranking, or only a title when the facilitator wrote it down at a workshop.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

IDEA, CONTACTED, FEASIBILITY, AGREED, RUNNING, STOPPED = "idea", "contacted", "feasibility", "agreed", "running", "stopped"
STAGES = [(IDEA, _("idea")), (CONTACTED, _("contacted")), (FEASIBILITY, _("feasibility")), (AGREED, _("agreed")),
          (RUNNING, _("running")), (STOPPED, _("stopped"))]
FORWARD = [IDEA, CONTACTED, FEASIBILITY, AGREED, RUNNING]  # the funnel's order; stopped leaves it
# what a stage tells matchmaking (cloud.workbench.opportunities.outcomes): the park decided on the candidate
OUTCOME_OF_STAGE = {AGREED: "accepted", RUNNING: "implemented", STOPPED: "rejected"}


class Opportunity(models.Model):
    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="opportunities")
    key = models.CharField(_("matchmaking candidate"), max_length=300, blank=True)  # engine.key; blank: a free title
    title = models.CharField(_("title"), max_length=200)
    supplier = models.ForeignKey("companies.Company", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("supplier"))
    receiver = models.ForeignKey("companies.Company", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("receiver"))
    resource = models.CharField(_("resource"), max_length=32, blank=True)
    # the carrier's words and the conversion, kept so the plan can suggest the rules that apply
    material = models.CharField(_("material"), max_length=100, blank=True)
    ewc = models.CharField(_("EWC code"), max_length=10, blank=True)
    conversion = models.CharField(_("conversion"), max_length=32, blank=True)
    stage = models.CharField(_("stage"), max_length=12, choices=STAGES, default=IDEA)
    stop_reason = models.CharField(_("why it stopped"), max_length=300, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("owner"))
    notes = models.TextField(_("notes"), blank=True)
    # the action plan's texts: blank means "the suggestion from the rules that apply" (pipeline.rules)
    permits = models.TextField(_("permits"), blank=True)
    risks = models.TextField(_("risks"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["park", "-updated", "-id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")

    def __str__(self) -> str:
        return self.title

    def company_ids(self) -> set[int]:
        return {c for c in (self.supplier_id, self.receiver_id) if c is not None}


class StageChange(models.Model):
    """One step of an opportunity's history: who moved it, when, from which stage to which, and why."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150)  # kept when the user is deleted
    from_stage = models.CharField(max_length=12, blank=True)  # blank: the opportunity was created
    to_stage = models.CharField(max_length=12)
    note = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, blank=True)  # what matchmaking was told, if anything

    class Meta:
        ordering = ["at", "id"]


class Comment(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="comments")
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150)
    text = models.TextField(_("comment"))

    class Meta:
        ordering = ["at", "id"]


class Assessment(models.Model):
    """A candidate simulated in the park's twin, kept per park version (the park file's hash).

    ``data``: the candidate's row of ``aisym match --simulate``'s report (money, CO2, water, residues,
    investment) and each company's share under each split rule; or ``why``, when the twin could not
    simulate it.
    """

    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="+")
    version = models.CharField(max_length=16)
    key = models.CharField(max_length=300)
    hours = models.FloatField()
    data = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["park", "version", "key"], name="assessment_unique_per_version")]
