"""A matchmaking event's pairs to meet and its agenda.

Pairs: the park's ranking (:mod:`.ranking`, so the attendees' new cards count) reduced to pairs of
attendees' companies, each pair once, ranked by its best candidate, with that candidate's reason.

Agenda: a greedy schedule in the pairs' rank order. Each pair, best first, takes the earliest
slot in which neither company already meets anyone; a pair that finds no free slot is listed as
not scheduled. Greedy rather than a maximum matching per slot because at an event the best pairs
must meet for sure (ENEA's and NISP's workshops put the strongest leads first), and a
facilitator can explain the rule in one sentence; it meets each pair at most once and books no
attendee twice in a slot, which :func:`check` asserts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Pair:
    a: object  # Company (the supplier of the best candidate)
    b: object  # Company (its receiver)
    rank: int  # the best candidate's rank in the park's matchmaking
    reason: str
    resource: str
    candidates: int = 1  # how many candidates link the two

    @property
    def ids(self) -> frozenset[int]:
        return frozenset((self.a.pk, self.b.pk))


@dataclass
class Agenda:
    slots: list[tuple[datetime, datetime]]
    meetings: list[list[Pair]]  # per slot
    unscheduled: list[Pair] = field(default_factory=list)

    def of(self, company_id: int) -> list[tuple[tuple[datetime, datetime], Pair | None]]:
        """One company's day: each slot with its meeting, or None (free)."""
        out = []
        for slot, pairs in zip(self.slots, self.meetings, strict=True):
            out.append((slot, next((p for p in pairs if company_id in p.ids), None)))
        return out


def pairs(table: list[dict], companies: dict[str, object]) -> list[Pair]:
    """Pairs of the attendees' ``companies`` (slug -> Company) from ranking rows, best first."""
    found: dict[frozenset[int], Pair] = {}
    for r in table:
        a, b = companies.get(r["supplier_slug"]), companies.get(r["receiver_slug"])
        if a is None or b is None or a.pk == b.pk:
            continue
        ids = frozenset((a.pk, b.pk))
        if ids in found:
            found[ids].candidates += 1
        else:
            found[ids] = Pair(a, b, r["rank"], r["reason"], r["resource"])
    return sorted(found.values(), key=lambda p: p.rank)


def schedule(event, ranked_pairs: list[Pair]) -> Agenda:
    start = datetime.combine(event.date, _time(event.start))
    step = timedelta(minutes=event.slot_minutes)
    slots = [(start + i * step, start + (i + 1) * step) for i in range(event.slots)]
    meetings: list[list[Pair]] = [[] for _ in slots]
    busy: list[set[int]] = [set() for _ in slots]
    agenda = Agenda(slots, meetings)
    for p in ranked_pairs:
        free = next((i for i, b in enumerate(busy) if not (p.ids & b)), None)
        if free is None:
            agenda.unscheduled.append(p)
            continue
        meetings[free].append(p)
        busy[free] |= p.ids
    check(agenda)
    return agenda


def check(agenda: Agenda) -> None:
    """No company twice in a slot, no pair twice in the day."""
    seen: set[frozenset[int]] = set()
    for pairs_ in agenda.meetings:
        booked = [c for p in pairs_ for c in p.ids]
        assert len(booked) == len(set(booked)), "a company is booked twice in one slot"
        for p in pairs_:
            assert p.ids not in seen, "a pair meets twice"
            seen.add(p.ids)


def _time(value):
    if isinstance(value, str):  # the model's default before a reload
        return datetime.strptime(value, "%H:%M").time()
    return value
