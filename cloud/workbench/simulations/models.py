# ruff: noqa: RUF012  (Django idiom: Meta options and choices are class-level lists)
"""A twin test of candidates ("Test it in the twin") and the park's twin settings.

A :class:`Job` is one ``aisym match --simulate`` of some candidates on one version of the park
file. Its result is written once, in the same transaction that marks it done, so a job is either
done with its whole result or not done at all. A worker that dies leaves its pid and heartbeat
behind: :func:`cloud.workbench.simulations.runner.check` turns such a job into a failed one when
it is read (see there).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATES = [(QUEUED, _("waiting")), (RUNNING, _("running")), (DONE, _("done")), (FAILED, _("failed"))]
    # what the worker runs: candidates (``aisym match --simulate``) or the impact page's year of the park
    # as it runs, per exchange and month (cloud.workbench.impact.report.run_twin_job; keys: the pipeline's
    # running candidates, params: its TwinMonths row's "running" hash and "seed")
    CANDIDATES, IMPACT = "candidates", "impact"
    KINDS = [(CANDIDATES, _("candidates")), (IMPACT, _("the park's year, for its impact"))]

    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="twin_jobs")
    version = models.CharField(max_length=16, db_index=True)  # engine.park_version: the park file's hash
    keys = models.JSONField(default=list)  # engine.key of each candidate, in matchmaking rank order
    signature = models.CharField(max_length=64, db_index=True)  # hash of keys, set size, hours: the cache key
    set_size = models.PositiveSmallIntegerField(default=0)
    hours = models.FloatField(default=8760.0)
    # who asked, and for which company (None: the park's facilitator, for the whole park)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    company = models.ForeignKey("companies.Company", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="twin_jobs")
    ray_address = models.CharField(max_length=200, blank=True)  # the park's cluster when the job was asked
    kind = models.CharField(max_length=10, choices=KINDS, default=CANDIDATES)
    params = models.JSONField(default=dict, blank=True)  # what else the kind's run needs
    state = models.CharField(max_length=8, choices=STATES, default=QUEUED, db_index=True)
    progress_text = models.CharField(max_length=200, blank=True)
    progress = models.FloatField(default=0.0)  # 0..1
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)  # report_data of the run; set only with state done
    candidate_ids = models.JSONField(default=dict, blank=True)  # engine.key -> the candidate's id in result
    seconds = models.FloatField(null=True, blank=True)  # the worker's wall time, for the benchmark and the page
    hits = models.PositiveIntegerField(default=0)  # requests answered from this job's cached result
    attempts = models.PositiveSmallIntegerField(default=0)
    # the worker process: its host and pid (checked when the job is read), and its last sign of life
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["park", "version", "signature"], name="twin_job_cache")]

    def __str__(self) -> str:
        return f"twin job {self.pk} ({self.state})"

    @property
    def finished_state(self) -> bool:
        return self.state in (self.DONE, self.FAILED)


class TwinSettings(models.Model):
    """The park's twin configuration, edited by its facilitator."""

    park = models.OneToOneField("parks.Park", on_delete=models.CASCADE, related_name="twin_settings")
    ray_address = models.CharField(
        _("Ray cluster"), max_length=200, blank=True,
        help_text=_("HOST:PORT of the Ray cluster's head (or ray://HOST:PORT). Empty: jobs run on this server."))

    def __str__(self) -> str:
        return f"twin settings of {self.park}"
