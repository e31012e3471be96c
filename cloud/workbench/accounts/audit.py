"""The audit log: every save and delete of the park's data is recorded, whoever made it.

The record is written by model signals, not by the views, so that no view, form, import or
command can change data without a trace. Who acted comes from a context variable that the
middleware sets per request (``acting_as`` does it for the command line).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.db.models.signals import post_delete, post_save, pre_save

_actor: contextvars.ContextVar[tuple[object | None, str]] = contextvars.ContextVar("audit_actor", default=(None, "system"))
AUDITED = ("parks.Park", "companies.Company", "companies.Listing", "accounts.Membership", "accounts.Facilitator")
_SKIP = {"version", "created"}


@contextlib.contextmanager
def acting_as(user, label: str | None = None) -> Iterator[None]:
    token = _actor.set((user, label or (user.get_username() if user is not None else "system")))
    try:
        yield
    finally:
        _actor.reset(token)


class AuditUserMiddleware:
    """Names the signed-in user as the actor of every change made while serving the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user if request.user.is_authenticated else None
        with acting_as(user, user.get_username() if user else "anonymous"):
            return self.get_response(request)


def _company_park(instance) -> tuple[int | None, int | None]:
    """The ids of the company and park a changed object belongs to (ids: it may be being deleted)."""
    from cloud.workbench.companies.models import Company

    label = instance._meta.label
    if label == "parks.Park":
        return None, instance.pk
    if label == "companies.Company":
        return instance.pk, instance.park_id
    company_id = getattr(instance, "company_id", None)
    if company_id is not None:
        return company_id, Company.objects.filter(pk=company_id).values_list("park_id", flat=True).first()
    return None, getattr(instance, "park_id", None)


def _values(instance) -> dict[str, object]:
    out = {}
    for f in instance._meta.concrete_fields:
        if f.name in _SKIP or f.primary_key:
            continue
        out[f.name] = f.value_from_object(instance)
    return out


def _shown(instance, name: str, value):
    from cloud.workbench.companies.models import PRIVATE

    # the log is read by the facilitator: a private value is never copied into it
    if getattr(type(instance), "TIERS", {}).get(name) == PRIVATE:
        return "(private)" if value not in (None, "") else None
    return value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)


def _before(sender, instance, **kwargs) -> None:
    old = sender._default_manager.filter(pk=instance.pk).first() if instance.pk else None
    instance._audit_before = _values(old) if old is not None else None


def _after_save(sender, instance, created, **kwargs) -> None:
    before = getattr(instance, "_audit_before", None) or {}
    after = _values(instance)
    changes = {k: [_shown(instance, k, before.get(k)), _shown(instance, k, v)]
               for k, v in after.items() if created or before.get(k) != v}
    if changes or created:
        _write(instance, "create" if created else "update", changes)


def _after_delete(sender, instance, **kwargs) -> None:
    _write(instance, "delete", {})


def _write(instance, action: str, changes: dict) -> None:
    from cloud.workbench.accounts.models import AuditEntry, Membership

    user, label = _actor.get()
    company_id, park_id = _company_park(instance)
    on_behalf = bool(user is not None and company_id is not None
                     and not Membership.objects.filter(user=user, company_id=company_id).exists())
    AuditEntry.objects.create(
        user=user if getattr(user, "pk", None) else None, actor=label[:150], action=action,
        model=instance._meta.label, object_pk=str(instance.pk), object_repr=str(instance)[:200],
        park_id=park_id, company_id=company_id, on_behalf=on_behalf, changes=changes)


def connect() -> None:
    from django.apps import apps

    for label in AUDITED:
        model = apps.get_model(label)
        pre_save.connect(_before, sender=model, dispatch_uid=f"audit-pre-{label}")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"audit-post-{label}")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"audit-del-{label}")
