# ruff: noqa: RUF012  (Django idiom: Meta options, choices and the TIERS table are class-level lists and dicts)
"""Roles, login attempts and the audit log.

Roles: a user is a *member* of companies (:class:`Membership`), a *facilitator* of parks
(:class:`Facilitator`), or an *admin* (``is_superuser``). Nothing else grants access.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.company}"


class Facilitator(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="facilitations")
    park = models.ForeignKey("parks.Park", on_delete=models.CASCADE, related_name="facilitators")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "park"], name="facilitator_unique")]

    def __str__(self) -> str:
        return f"{self.user} facilitates {self.park}"


class LoginFailure(models.Model):
    """A failed login, kept for the rate limit (per client address and per user name)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    client = models.CharField(max_length=64, db_index=True)
    username = models.CharField(max_length=150, db_index=True)


class LoginToken(models.Model):
    """A one-time login link sent by e-mail: only the token's hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    used = models.DateTimeField(null=True, blank=True)


class AuditEntry(models.Model):
    """One change to the park's data: who, when, what, and on whose behalf."""

    CREATE, UPDATE, DELETE = "create", "update", "delete"
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(_("who"), max_length=150)  # kept when the user is deleted; "cli" outside a request
    action = models.CharField(max_length=6)
    model = models.CharField(max_length=64)
    object_pk = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    # plain ids, not foreign keys: the log outlives what it records (a deleted company keeps its trail)
    park_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    company_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    on_behalf = models.BooleanField(default=False)  # made by someone who is not the company's member
    changes = models.JSONField(default=dict)  # field -> [old, new]; private fields say only that they changed

    class Meta:
        ordering = ["-at", "-id"]


class ApiToken(models.Model):
    """A personal API token: the API acts as its user, under the same tenancy. Only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("what it is for"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)  # shown in the list, so a person can tell tokens apart
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
