"""The park's matchmaking as the facilitator sees it: ``aisym match PARK``'s ranking, cached per
park version, with only the figures the viewer may read.

A candidate's money comes from both companies' costs and prices (the private tier), so it is
shown only to a viewer who may read both; the matchmaker's notes that tell whether a company has
a cost on file are left out of the reason for everyone else (tenancy: a page does not even tell
whether a company has costs on file).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from cloud.workbench import engine, tenancy
from cloud.workbench.companies.models import PRIVATE

_CACHE: OrderedDict[tuple[int, str], tuple[engine.Ranked, float]] = OrderedDict()
_LOCK = threading.Lock()
_KEEP = 16  # park versions kept in memory (a Ranked holds the park's graph and profiles)

# the notes of sim_env.match.score that say whether a cost or price is known
_COST_NOTES = ("what the receiver pays now", "the supplier's cost of making it", "the heat pump's power is not priced")


class RankError(Exception):
    """Matchmaking cannot run on the park as it is: the one-line reason."""


@dataclass
class Ranking:
    ranked: engine.Ranked
    computed_at: float  # time.time() of the computation


def ranked(park, *, force: bool = False) -> Ranking:
    """The park's ranking at its current version: from the cache unless ``force``.

    :raises RankError: the park's file or options are refused by matchmaking (one line, from its loader)
    """
    from aisym.park import ParkError

    try:
        text = engine.park_text(park)
        version = engine.version_of(text)
        with _LOCK:
            hit = None if force else _CACHE.get((park.pk, version))
            if hit is not None:
                _CACHE.move_to_end((park.pk, version))
                return Ranking(*hit)
        result = engine.rank(park, text=text)
    except (ParkError, ValueError) as e:
        raise RankError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
    with _LOCK:
        for k in [k for k in _CACHE if k[0] == park.pk]:  # an older version of this park is not shown again
            del _CACHE[k]
        _CACHE[(park.pk, version)] = (result, time.time())
        while len(_CACHE) > _KEEP:
            _CACHE.popitem(last=False)
    return Ranking(result, _CACHE[(park.pk, version)][1])


def reason(c, may_read_costs: bool) -> str:
    """The candidate in words; without the notes that depend on costs for who may not read them."""
    if may_read_costs:
        return c.reason()
    return replace(c, notes=[n for n in c.notes if not n.startswith(_COST_NOTES)]).reason()


def rows(v: tenancy.Viewer, park, candidates, shortlisted: dict[str, object] | None = None) -> list[dict]:
    """One dict per candidate: what ``v`` may read of it."""
    companies = {c.slug: c for c in park.companies.all()}
    shortlisted = shortlisted or {}
    out = []
    for rank, c in enumerate(candidates, start=1):
        supplier, receiver = companies.get(c.supplier), companies.get(c.receiver)
        private = all(x is not None and tenancy.tier(v, x) == PRIVATE for x in (supplier, receiver))
        k = engine.key(c)
        out.append({
            "rank": rank, "key": k, "supplier": supplier.name if supplier else c.supplier,
            "receiver": receiver.name if receiver else c.receiver, "supplier_slug": c.supplier,
            "receiver_slug": c.receiver, "resource": c.output.carrier.resource.value, "score": c.score,
            "reason": reason(c, private), "co2_t": None if c.co2 is None else c.co2 / 1000.0,
            "money": c.money if private else None, "money_hidden": not private and c.money is not None,
            "existing": c.existing, "shortlisted": shortlisted.get(k),
        })
    return out


def filtered(table: list[dict], resource: str = "", company: str = "") -> list[dict]:
    """The rows of one resource family and/or with one company (slug) on either side."""
    return [r for r in table if (not resource or r["resource"] == resource)
            and (not company or company in (r["supplier_slug"], r["receiver_slug"]))]
