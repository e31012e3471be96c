"""Every output of a park ranked against every other company: the full ranking of issue 23.

The model and the sector prior are fitted on the documented exchanges (``corpus.py``) once per
process. A company without a NACE code is still ranked (by what any sector is like). Where the
pairwise match (``score.match``) found an input of the receiver that the output can serve, the
receiver is marked as fitting by physics, and its band says so if nothing stronger does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from . import corpus, knowledge, ranking
from .prior import SectorPrior
from .profiles import Flow, Profile

UNKNOWN_SECTOR = "00"  # not a NACE division: a company that states none is ranked as any sector


def outcome_rows(outcomes: tuple[str, ...] = ()) -> tuple[corpus.Exchange, ...]:
    """A park's recorded outcomes read from tables of corpus.py's columns (``--outcomes FILE``)."""
    return tuple(x for path in outcomes for x in corpus.load(path))


def corpus_model(outcomes: tuple[str, ...] = ()) -> tuple[ranking.Model, SectorPrior]:
    """The model and prior, refitted with a park's recorded outcomes (tables of corpus.py's columns)."""
    return corpus_model_of(outcome_rows(outcomes))


@lru_cache(maxsize=4)
def corpus_model_of(rows: tuple[corpus.Exchange, ...] = ()) -> tuple[ranking.Model, SectorPrior]:
    """The model and prior fitted on the documented exchanges and a park's outcome rows (a file's
    or a database's: the workbench records them row by row)."""
    xs = corpus.load() + list(rows)
    return ranking.fit(xs), SectorPrior(xs)


def resource_of(flow: Flow) -> str:
    """The corpus's name for an output: its EWC code, else its carrier (water with its grade: ``water:treated``)."""
    c = flow.carrier
    if c.ewc:
        return c.ewc.rstrip("*")
    if c.resource.value == "water" and c.grade is not None:
        return f"water:{c.grade.value}"
    return c.resource.value


@dataclass(frozen=True)
class OutputRanking:
    supplier: Profile
    output: Flow
    ranked: list[ranking.Ranked]  # best first: all of them, or the best ``top``
    n_ranked: int  # every other company has a rank; this many


def rank_outputs(profiles: dict[str, Profile], candidates=(), outcomes: tuple[str, ...] = (),
                 top: int | None = None) -> list[OutputRanking]:
    """:func:`rank_outputs_of` with the outcomes read from files (``aisym match --receivers K --outcomes FILE``)."""
    return rank_outputs_of(profiles, candidates, outcome_rows(tuple(str(p) for p in outcomes)), top)


def rank_outputs_of(profiles: dict[str, Profile], candidates=(), rows: tuple[corpus.Exchange, ...] = (),
                    top: int | None = None) -> list[OutputRanking]:
    """For each output of each company, every other company ranked as its receiver.

    Scores depend on the sectors and the resource only, so they are computed once per giver
    sector and resource over the distinct sectors of the region, then gathered per company: a
    region of thousands of companies costs a few thousand model rows, not all pairs. ``top``
    keeps the best of each output (every company still has its rank: ``n_ranked``).

    :param rows: the park's recorded outcomes (giver and receiver by company id, status accepted,
        implemented or ``rejected: why``): the model refits on them, and the park's word puts a pair
        first or last; the last row of a pair is its word
    """
    rows = tuple(rows)
    model, prior = corpus_model_of(rows)
    fits = {(c.supplier, c.output.id, c.receiver) for c in candidates}
    # the park's own word on a pair outranks any estimate: accepted first, rejected last, with the reason
    recorded = {(x.giver, x.resource, x.receiver): x.status for x in rows}
    recorded_by: dict[tuple[str, str], dict[str, str]] = {}
    for (giver, res, receiver), status in recorded.items():
        recorded_by.setdefault((giver, res), {})[receiver] = status
    ids = list(profiles)
    index = {cid: i for i, cid in enumerate(ids)}
    naces = [profiles[i].nace or UNKNOWN_SECTOR for i in ids]
    sectors, where = np.unique(np.array(naces, dtype=object).astype(str), return_inverse=True)
    fits_of_sectors = knowledge.SectorFits(sectors)
    by_key: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    out = []
    for k, sup in enumerate(profiles.values()):
        if len(ids) < 2:
            break
        for f in sup.flows:
            if f.direction != "output":
                continue
            res = resource_of(f)
            key = (sup.nace or None, res)
            if key not in by_key:
                X = ranking.features_of_sectors(key[0], res, fits_of_sectors, prior)
                by_key[key] = (X, model.score(X))
            X, s_sector = by_key[key]
            s = s_sector[where]
            order_by = s.copy()
            order_by[k] = -np.inf
            said = {index[r]: st for r, st in recorded_by.get((sup.id, res), {}).items() if r in index}
            for i, status in said.items():  # scores are in (0, 1): +-2 puts the park's word first or last
                order_by[i] += -2.0 if status.lower().startswith("rejected") else 2.0
            n = len(ids) - 1
            pick = np.arange(len(ids)) if top is None or top >= n else np.argpartition(-order_by, top)[:top]
            pick = [int(i) for i in pick[np.argsort(-order_by[pick], kind="stable")] if i != k]
            ranked = []
            for i in pick:
                x = X[where[i]]
                r = ranking.Ranked(ids[i], naces[i], float(s[i]), ranking.band(x, prior, key[0], res, naces[i]),
                                   tuple(model.reasons(x)))
                if (sup.id, f.id, ids[i]) in fits:
                    band = r.band if r.band != ranking.BANDS[3] else ranking.BANDS[2]
                    r = replace(r, band=band, reasons=(*r.reasons, "an input of theirs can take it"))
                if i in said:
                    r = replace(r, reasons=(f"the park recorded: {said[i]}", *r.reasons))
                ranked.append(r)
            out.append(OutputRanking(sup, f, ranked, n))
    return out


def as_json(rankings: list[OutputRanking]) -> list[dict]:
    def one(i: int, r: ranking.Ranked) -> dict:
        return {"rank": i + 1, "company": r.name, "nace": r.nace, "score": round(r.score, 4), "band": r.band,
                "reasons": list(r.reasons)}

    return [{"supplier": o.supplier.id, "output": o.output.port or o.output.id, "resource": resource_of(o.output),
             "companies_ranked": o.n_ranked, "ranked": [one(i, r) for i, r in enumerate(o.ranked)]} for o in rankings]


def lines(rankings: list[OutputRanking], profiles: dict[str, Profile], top: int) -> list[str]:
    """Each output's receivers in words, ``top`` of each shown (all of them are ranked)."""
    def name(cid: str) -> str:
        p = profiles.get(cid)
        return p.name if p is not None and p.name else cid

    out = []
    for o in rankings:
        out.append(f"{name(o.supplier.id)}: {o.output.carrier.label()} ({o.output.port or o.output.id}), "
                   f"{o.n_ranked} companies ranked")
        for i, r in enumerate(o.ranked[:top], start=1):
            why = "; ".join(r.reasons) or "no part stands out"
            out.append(f"  {i}. {name(r.name)} ({r.nace if r.nace != UNKNOWN_SECTOR else 'no NACE'}): "
                       f"{r.score:.2f}, {r.band}: {why}")
    return out
