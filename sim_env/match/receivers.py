"""Every output of a park ranked against every other company: the full ranking of issue 23.

The model and the sector prior are fitted on the documented exchanges (``corpus.py``) once per
process. A company without a NACE code is still ranked (by what any sector is like). Where the
pairwise match (``score.match``) found an input of the receiver that the output can serve, the
receiver is marked as fitting by physics, and its band says so if nothing stronger does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from . import corpus, ranking
from .prior import SectorPrior
from .profiles import Flow, Profile

UNKNOWN_SECTOR = "00"  # not a NACE division: a company that states none is ranked as any sector


@lru_cache(maxsize=4)
def corpus_model(outcomes: tuple[str, ...] = ()) -> tuple[ranking.Model, SectorPrior]:
    """The model and prior, refitted with a park's recorded outcomes (tables of corpus.py's columns)."""
    xs = corpus.load() + [x for path in outcomes for x in corpus.load(path)]
    return ranking.fit(xs), SectorPrior(xs)


def resource_of(flow: Flow) -> str:
    """The corpus's name for an output: its EWC code, else its carrier (a material without a code: its family)."""
    c = flow.carrier
    if c.ewc:
        return c.ewc.rstrip("*")
    return c.resource.value


@dataclass(frozen=True)
class OutputRanking:
    supplier: Profile
    output: Flow
    ranked: list[ranking.Ranked]


def rank_outputs(profiles: dict[str, Profile], candidates=(), outcomes: tuple[str, ...] = ()) -> list[OutputRanking]:
    """For each output of each company, every other company ranked as its receiver."""
    model, prior = corpus_model(tuple(str(p) for p in outcomes))
    fits = {(c.supplier, c.output.id, c.receiver) for c in candidates}
    # the park's own word on a pair outranks any estimate: rejected pairs go last, with the reason
    recorded = {(x.giver, x.resource, x.receiver): x.status for path in outcomes for x in corpus.load(path)}
    out = []
    for sup in profiles.values():
        others = [(p.id, p.nace or UNKNOWN_SECTOR) for p in profiles.values() if p.id != sup.id]
        for f in sup.flows:
            if f.direction != "output" or not others:
                continue
            ranked = ranking.rank(sup.nace or None, resource_of(f), others, model, prior)
            marked = []
            for r in ranked:
                if (sup.id, f.id, r.name) in fits:
                    band = r.band if r.band != ranking.BANDS[3] else ranking.BANDS[2]
                    r = replace(r, band=band, reasons=(*r.reasons, "an input of theirs can take it"))
                said = recorded.get((sup.id, resource_of(f), r.name))
                if said:
                    r = replace(r, reasons=(f"the park recorded: {said}", *r.reasons))
                marked.append(r)
            marked.sort(key=lambda r: _recorded_order(r))
            out.append(OutputRanking(sup, f, marked))
    return out


def _recorded_order(r: ranking.Ranked) -> tuple[int, float]:
    said = r.reasons[0] if r.reasons and r.reasons[0].startswith("the park recorded: ") else ""
    status = said.removeprefix("the park recorded: ").lower()
    rank = 2 if status.startswith("rejected") else 0 if said else 1
    return rank, -r.score


def as_json(rankings: list[OutputRanking]) -> list[dict]:
    return [{"supplier": o.supplier.id, "output": o.output.port or o.output.id, "resource": resource_of(o.output),
             "ranked": [{"rank": i + 1, "company": r.name, "nace": r.nace, "score": round(r.score, 4), "band": r.band,
                         "reasons": list(r.reasons)} for i, r in enumerate(o.ranked)]} for o in rankings]


def lines(rankings: list[OutputRanking], profiles: dict[str, Profile], top: int) -> list[str]:
    """Each output's receivers in words, ``top`` of each shown (all of them are ranked)."""
    def name(cid: str) -> str:
        p = profiles.get(cid)
        return p.name if p is not None and p.name else cid

    out = []
    for o in rankings:
        out.append(f"{name(o.supplier.id)}: {o.output.carrier.label()} ({o.output.port or o.output.id}), "
                   f"{len(o.ranked)} companies ranked")
        for i, r in enumerate(o.ranked[:top], start=1):
            why = "; ".join(r.reasons) or "no part stands out"
            out.append(f"  {i}. {name(r.name)} ({r.nace if r.nace != UNKNOWN_SECTOR else 'no NACE'}): "
                       f"{r.score:.2f}, {r.band}: {why}")
    return out
