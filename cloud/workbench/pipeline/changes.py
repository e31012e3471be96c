"""Every change to an opportunity goes through here, so that each leaves its dated line in the history
and each decision on a matchmaking candidate (agreed, running, stopped) reaches matchmaking as an outcome."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import OUTCOME_OF_STAGE, STOPPED, Opportunity, StageChange


def _actor(user) -> str:
    return user.get_username() if user is not None else "system"


class NotTold(Exception):
    """The stage changed, but matchmaking could not take the outcome (the message says why)."""


def record_outcome(opp: Opportunity, stage: str, reason: str, user) -> str:
    """Tell matchmaking what the park decided on the candidate; returns the status told ("" if none).

    :raises NotTold: matchmaking refused it (a key that is no candidate of the park any more)
    """
    status = OUTCOME_OF_STAGE.get(stage)
    if status is None or not opp.key:
        return ""
    try:
        from cloud.workbench.opportunities.outcomes import record_outcome as record
    except ImportError:  # matchmaking's outcome store is not installed: the history keeps the decision
        return ""
    try:
        record(opp.park, opp.key, status, company=None, reason=reason, user=user)
    except (KeyError, ValueError) as e:
        raise NotTold(str(e).strip("'\"")) from None
    return status


@transaction.atomic
def create(park, user, *, stage: str = "idea", note: str = "", **fields) -> Opportunity:
    opp = Opportunity.objects.create(park=park, stage=stage, **fields)
    opp.problem = ""
    try:
        outcome = record_outcome(opp, stage, fields.get("stop_reason", "") or note, user)
    except NotTold as e:  # created at a stage for a key matchmaking does not know: kept, and the caller says so
        outcome, opp.problem = "", str(e)
    StageChange.objects.create(opportunity=opp, at=timezone.now(), user=user, actor=_actor(user), from_stage="",
                               to_stage=stage, note=note, outcome=outcome)
    return opp


@transaction.atomic
def change_stage(opp: Opportunity, stage: str, user, note: str = "", stop_reason: str = "") -> StageChange | None:
    """Move ``opp`` to ``stage``; None when it is already there (nothing to record).

    :raises ValueError: stopping without a reason
    """
    if stage == opp.stage:
        return None
    if stage == STOPPED and not stop_reason.strip():
        raise ValueError("stop_reason")
    before = opp.stage
    opp.stage = stage
    opp.stop_reason = stop_reason.strip() if stage == STOPPED else ""
    opp.save(update_fields=["stage", "stop_reason", "updated"])
    problem = ""
    try:
        outcome = record_outcome(opp, stage, opp.stop_reason or note, user)
    except NotTold as e:  # the decision is the park's either way: keep the change, say what was not told
        outcome, problem = "", str(e)
    change = StageChange.objects.create(opportunity=opp, at=timezone.now(), user=user, actor=_actor(user),
                                        from_stage=before, to_stage=stage, note=note, outcome=outcome)
    change.problem = problem
    return change
