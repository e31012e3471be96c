"""Outcomes teach the matchmaker (issue 20, item 6).

:func:`record_outcome` stores one word on a candidate: a company is not interested (rejected,
with its reason), the pipeline's opportunity is agreed (accepted), running (implemented) or
stopped (rejected). :func:`corpus_rows` gives the park's outcomes as rows of the documented
exchanges' table, which :func:`sim_env.match.receivers.rank_outputs_of` refits the ranking model
on, the code behind ``aisym match --receivers K --outcomes FILE``. :func:`feedback` compares every
output's ranking of receivers with and without them: how many the park's own word changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sim_env.match.corpus import Exchange
from sim_env.match.receivers import UNKNOWN_SECTOR, rank_outputs_of, resource_of

from .matches import ParkMatch, park_match
from .models import Outcome

STATUSES = (Outcome.ACCEPTED, Outcome.IMPLEMENTED, Outcome.REJECTED)


def _pair(park, pm: ParkMatch, key: str) -> dict:
    """The candidate's pair as the corpus names one, from the ranking, else from an earlier word on it."""
    c = pm.ranked.by_key().get(key) if pm.ranked is not None else None
    if c is not None:
        profiles = pm.ranked.profiles
        return {"supplier": c.supplier, "receiver": c.receiver, "resource": resource_of(c.output),
                "supplier_nace": getattr(profiles.get(c.supplier), "nace", "") or "",
                "receiver_nace": getattr(profiles.get(c.receiver), "nace", "") or ""}
    earlier = Outcome.objects.filter(park=park, key=key).order_by("-created", "-pk").first()
    if earlier is None:  # a word on a candidate that never was one would teach the model nonsense
        raise KeyError(f"key: {key!r} is not a candidate of park {park.slug} (version {pm.version or '?'})")
    return {f: getattr(earlier, f) for f in ("supplier", "receiver", "resource", "supplier_nace", "receiver_nace")}


def record_outcome(park, key: str, status: str, *, company=None, reason: str = "", user=None) -> Outcome:
    """Store an outcome of candidate ``key`` of ``park``.

    :param status: ``accepted``, ``implemented`` or ``rejected``
    :param company: the company that said it (a :class:`~cloud.workbench.companies.models.Company` of
        the pair); None: said for both (the pipeline)
    :param reason: why, in words (kept with a rejection: the ranking shows it)
    :raises ValueError: a status that is not one of the three, or a company outside the pair
    :raises KeyError: ``key`` names no candidate of the park, now or in an earlier outcome
    """
    if status not in STATUSES:
        raise ValueError(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    pair = _pair(park, park_match(park), key)
    if company is not None and (company.park_id != park.pk or company.slug not in (pair["supplier"], pair["receiver"])):
        raise ValueError(f"company: {company.slug} is neither the supplier nor the receiver of {key}")
    return Outcome.objects.create(park=park, key=key, status=status, company=company, reason=reason[:500].strip(),
                                  user=user if user is not None and user.is_authenticated else None, **pair)


def said(park) -> list[Outcome]:
    """Every word still said on the park's candidates, oldest first (read once per page)."""
    return list(Outcome.objects.filter(park=park, withdrawn=False).order_by("created", "pk"))


def latest(park, words: list[Outcome] | None = None) -> dict[str, Outcome]:
    """The last word still said on each candidate (key -> outcome)."""
    out: dict[str, Outcome] = {}
    for o in said(park) if words is None else words:
        out[o.key] = o
    return out


def hidden(park, company, words: list[Outcome] | None = None) -> dict[str, Outcome]:
    """The candidates ``company`` said no to (or the pipeline stopped): they leave its list."""
    out: dict[str, Outcome] = {}
    for o in said(park) if words is None else words:
        if o.company_id in (company.pk, None) and company.slug in (o.supplier, o.receiver):
            if o.status == Outcome.REJECTED:
                out[o.key] = o
            else:  # a later yes (agreed in the pipeline) brings it back
                out.pop(o.key, None)
    return out


def show_again(park, company, key: str) -> int:
    """Withdraw the company's own "not interested" on ``key``; the number of words withdrawn."""
    return Outcome.objects.filter(park=park, company=company, key=key, status=Outcome.REJECTED,
                                  withdrawn=False).update(withdrawn=True)


def corpus_rows(park, words: list[Outcome] | None = None) -> tuple[Exchange, ...]:
    """The park's outcomes as rows of the documented exchanges' table (the last word per candidate)."""
    rows = []
    for o in latest(park, words).values():
        status = f"rejected: {o.reason}" if o.status == Outcome.REJECTED and o.reason else o.status
        rows.append(Exchange(park.slug, o.created.year, o.supplier, o.supplier_nace or UNKNOWN_SECTOR, o.resource,
                             o.receiver, o.receiver_nace or UNKNOWN_SECTOR, status,
                             f"https://aisym.invalid/parks/{park.slug}/outcomes/{o.pk}"))
    return tuple(rows)


@dataclass(frozen=True)
class Feedback:
    """What the park's own outcomes changed in its rankings of receivers."""

    outcomes: int  # the words still said
    changed: int  # rankings (one per output) whose order changed
    rankings: int
    companies: int  # companies whose outputs' rankings changed


_FEEDBACK: OrderedDict[tuple, Feedback] = OrderedDict()
_LOCK = threading.Lock()


def feedback(park, pm: ParkMatch | None = None, words: list[Outcome] | None = None) -> Feedback:
    """Every output's receivers ranked with and without the park's outcomes, compared (cached per
    park version and outcomes; the refit with new outcomes takes about 2 s, once)."""
    pm = pm or park_match(park)
    rows = corpus_rows(park, words)
    if pm.ranked is None or not rows:
        return Feedback(len(rows), 0, 0, 0)
    cache_key = (pm.version, rows)
    with _LOCK:
        hit = _FEEDBACK.get(cache_key)
    if hit is not None:
        return hit
    profiles, cands = pm.ranked.profiles, pm.ranked.candidates
    before = {(o.supplier.id, o.output.id): [r.name for r in o.ranked] for o in rank_outputs_of(profiles, cands)}
    after = {(o.supplier.id, o.output.id): [r.name for r in o.ranked] for o in rank_outputs_of(profiles, cands, rows)}
    changed = [k for k in after if before.get(k) != after[k]]
    result = Feedback(len(rows), len(changed), len(after), len({s for s, _ in changed}))
    with _LOCK:
        _FEEDBACK[cache_key] = result
        while len(_FEEDBACK) > 16:
            _FEEDBACK.popitem(last=False)
    return result

