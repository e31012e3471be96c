# ruff: noqa: RUF012  (Django idiom: Meta options are class-level lists)
"""A user's progress through the learning modules: one row per user and module."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PASS_MARK = 2  # of the three questions right: the check is passed


class Progress(models.Model):
    """What one user did with one module (modules are files: the row names the module by its slug)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learning")
    module = models.SlugField(_("module"), max_length=64)
    read = models.DateTimeField(_("first read"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("checks taken"), default=0)
    score = models.PositiveSmallIntegerField(_("last score"), null=True, blank=True)
    best = models.PositiveSmallIntegerField(_("best score"), null=True, blank=True)
    passed = models.DateTimeField(_("check first passed"), null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "module"], name="learning_progress_one_per_module")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.module}"
