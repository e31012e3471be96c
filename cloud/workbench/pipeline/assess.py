"""Opportunities assessed in the park's twin: each candidate's simulated year, kept per park version.

The figures are those of ``aisym match --simulate`` (:func:`cloud.workbench.engine.simulate`), never
recomputed here. A result the "Test it in the twin" jobs already cached for this park version
(:func:`cloud.workbench.simulations.store.candidate_result`) is taken as it is; otherwise the
pipeline runs the engine itself and keeps each candidate's result as an :class:`Assessment`.
"""

from __future__ import annotations

from cloud.workbench import engine

from .models import Assessment, Opportunity

YEAR_H = 8760.0


def _split(data: dict, key_of_rank: dict[int, str]) -> dict[str, dict]:
    """Per candidate key: its report row and every company's shares (or why it was not simulated)."""
    out: dict[str, dict] = {}
    for row in data.get("ranking", []):
        k = key_of_rank.get(row["match_rank"])
        if k is None:
            continue
        shares = {company: [s for s in rows if s["candidate"] == row["id"]] for company, rows in data["companies"].items()}
        out[k] = {"row": row, "shares": {c: s for c, s in shares.items() if s}, "currency": data.get("currency", ""),
                  "hours_simulated": data.get("hours_simulated")}
    for skipped in data.get("not_simulated", []):
        k = key_of_rank.get(skipped["match_rank"])
        if k is not None:
            out[k] = {"why": skipped["why"]}
    return out


def _from_store(park, version: str, key: str) -> dict | None:
    """The simulations app's cached result for this candidate and park version, if it has one."""
    try:
        from cloud.workbench.simulations.store import candidate_result
    except ImportError:  # the twin jobs' cache is not installed: the pipeline simulates by itself
        return None
    found = candidate_result(park, version, key)
    if not found:
        return None
    row = {k: v for k, v in found.items() if k not in ("companies", "currency", "job", "hours")}
    return {"row": row, "shares": found.get("companies", {}), "currency": found.get("currency", ""),
            "hours_simulated": found.get("hours"), "job": found.get("job")}


def assessments(park, keys: list[str], version: str | None = None) -> dict[str, Assessment]:
    """What is known of ``keys`` on the park's current version (else the latest earlier one, marked so)."""
    version = version or engine.park_version(park)
    out: dict[str, Assessment] = {}
    for a in Assessment.objects.filter(park=park, key__in=keys).order_by("created", "id"):
        if a.key not in out or a.version == version or out[a.key].version != version:
            out[a.key] = a
    for k in keys:
        if k in out and out[k].version == version:
            continue
        found = _from_store(park, version, k)
        if found is not None:
            out[k], _ = Assessment.objects.update_or_create(park=park, version=version, key=k, defaults={
                "hours": found.get("hours_simulated") or YEAR_H, "data": found})
    return out


def _ranked(park, text: str) -> engine.Ranked:
    try:  # the twin jobs keep the park's matchmaking per version: rank once for both
        from cloud.workbench.simulations.store import ranked
    except ImportError:
        return engine.rank(park, text=text)
    return ranked(park, text)


def assess(park, keys: list[str], *, hours: float = YEAR_H, progress=None) -> tuple[dict[str, Assessment], list[str]]:
    """Simulate the candidates among ``keys`` that this park version has no result for yet.

    :returns: the assessments of every key found, and the keys that are no candidate of this version
    """
    text = engine.park_text(park)
    version = engine.version_of(text)
    have = assessments(park, keys, version)
    todo = [k for k in dict.fromkeys(keys) if not (k in have and have[k].version == version)]
    gone: list[str] = []
    if todo:
        ranked = _ranked(park, text)
        index = {engine.key(c): i + 1 for i, c in enumerate(ranked.candidates)}
        gone = [k for k in todo if k not in index]
        run = [k for k in todo if k in index]
        if run:
            data = engine.simulate(ranked, run, hours=hours, progress=progress)
            for k, found in _split(data, {index[k]: k for k in run}).items():
                have[k], _ = Assessment.objects.update_or_create(park=park, version=version, key=k,
                                                                 defaults={"hours": hours, "data": found})
    return have, gone


def to_assess(park, keys: list[str]) -> tuple[list[str], list[str]]:
    """(the keys this park version has no result for, the keys that are no candidate of it any more)."""
    text = engine.park_text(park)
    version = engine.version_of(text)
    index = _ranked(park, text).by_key()
    have = assessments(park, [k for k in keys if k in index], version)
    todo = [k for k in dict.fromkeys(keys) if k in index and not (k in have and have[k].version == version)]
    return todo, [k for k in dict.fromkeys(keys) if k not in index]


def fill_from_ranking(park, count: int, *, user=None) -> list[Opportunity]:
    """Put the park's best ``count`` candidates that the twin can simulate into the pipeline as ideas
    (those not in it yet, and not already exchanges of the park)."""
    from sim_env.match.simulate import plan

    from .changes import create

    ranked = _ranked(park, engine.park_text(park))
    plans = plan(ranked.graph, ranked.candidates, ranked.opts.rate)
    taken = set(Opportunity.objects.filter(park=park).exclude(key="").values_list("key", flat=True))
    companies = {c.slug: c for c in park.companies.all()}
    made = []
    for c, p in zip(ranked.candidates, plans, strict=True):
        k = engine.key(c)
        if len(made) >= count:
            break
        if k in taken or p.why_not:
            continue
        carrier, supplier, receiver = c.output.carrier, companies.get(c.supplier), companies.get(c.receiver)
        # both companies' members read the title: it names the flows, not the partner (Lens names it, or not)
        into = c.input.id if c.input is not None else c.receiver
        title = f"{c.output.id.replace('_', ' ')} → {into.replace('_', ' ')} ({carrier.material or carrier.resource})"
        made.append(create(park, user, key=k, title=title[:200], supplier=supplier, receiver=receiver,
                           resource=str(carrier.resource), material=carrier.material or "", ewc=carrier.ewc or "",
                           conversion=c.conversion.kind, owner=user))
    return made
