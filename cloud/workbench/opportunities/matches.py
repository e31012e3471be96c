"""The park's matchmaking, cached per park version, and each company's candidates in it.

``engine.park_version`` exports the whole park (≈ 30 ms on a small park), too slow to ask on every
page view. The export is a function of the park's, companies' and listings' rows alone, so a hash
of those rows (≈ 2 ms) maps to the version it gave: a changed row gives a new hash and a fresh
export, and an unchanged park reuses the ranking of its version. What is cached is the same for
every viewer; what a viewer may read of it is chosen per request (partners' names, hidden
candidates, the simulated shares).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from aisym.park import ParkError
from cloud.workbench import engine
from cloud.workbench.companies.models import Company
from cloud.workbench.parks.models import Park
from sim_env.match import costs
from sim_env.match.readable import amount
from sim_env.match.receivers import resource_of
from sim_env.match.shares import estimated_splits
from sim_env.match.simulate import plan

KEPT = 8  # park versions kept per process (each holds its ranked candidates and plans)


@dataclass
class ParkMatch:
    """One park version's matchmaking: its candidates by key, the plans the twin would run, or why none."""

    version: str
    ranked: engine.Ranked | None
    error: str = ""  # matchmaking cannot run on this version: why, in the engine's words
    plans: dict = field(default_factory=dict)  # key -> sim_env.match.simulate.Plan
    rows: dict = field(default_factory=dict)  # company id -> its candidates (see :func:`rows_for`)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def candidates(self) -> list:
        return self.ranked.candidates if self.ranked is not None else []


_VERSIONS: OrderedDict[str, str] = OrderedDict()  # rows' hash -> park version
_MATCHES: OrderedDict[str, ParkMatch] = OrderedDict()  # park version -> its matchmaking
_LOCK = threading.Lock()


fingerprint = engine.fingerprint  # the rows' hash that maps to a park version


def _remember(table: OrderedDict, key: str, value) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > KEPT * 4:
        table.popitem(last=False)


def park_match(park: Park, companies: list[Company] | None = None) -> ParkMatch:
    """The park's matchmaking at its present version (computed once per version per process).

    :param park: as read from the database in this request (its fields are part of the version)
    :param companies: the park's companies as read in this request, if they were
    """
    fp = fingerprint(park, companies)
    with _LOCK:
        version = _VERSIONS.get(fp)
        hit = _MATCHES.get(version) if version else None
        if hit is not None:
            _MATCHES.move_to_end(version)
            return hit
    try:
        text = engine.park_text(park)
    except ParkError as e:  # the workbench holds a park its own loader refuses: say so, rank nothing
        return ParkMatch("", None, str(e).splitlines()[0])
    version = engine.version_of(text)
    with _LOCK:
        _remember(_VERSIONS, fp, version)
        hit = _MATCHES.get(version)
    if hit is not None:
        return hit
    try:
        ranked = engine.rank(park, text=text)
    except (ValueError, ParkError) as e:  # e.g. a currency without a stated EUR rate
        pm = ParkMatch(version, None, str(e).splitlines()[0])
    else:
        plans = plan(ranked.graph, ranked.candidates, ranked.opts.rate)
        pm = ParkMatch(version, ranked, plans={engine.key(p.match): p for p in plans})
    with _LOCK:
        _remember(_MATCHES, version, pm)
        while len(_MATCHES) > KEPT:
            _MATCHES.popitem(last=False)
    return pm


def _row(pm: ParkMatch, rank: int, c, company: str) -> dict:
    """What a company's page needs of one candidate, the same for every viewer of that company."""
    key = engine.key(c)
    p = pm.plans[key]
    role = "supplier" if c.supplier == company else "receiver"
    t = c.transport
    shares = {s.rule: {"gain": s.gain, "investment": s.investment, "net": s.net, "payback": s.payback_years}
              for s in estimated_splits(c, pm.ranked.opts, p.investment) if s.company == company}
    return {
        "key": key, "rank": rank, "role": role, "partner": c.receiver if role == "supplier" else c.supplier,
        "resource": c.output.carrier.resource.value, "carrier": c.output.carrier.label(),
        "corpus_resource": resource_of(c.output),
        "annual": c.annual, "unit": _unit(c), "overlap": c.overlap,
        "amount": amount(c.annual, _unit(c)) if c.annual is not None else "",
        "conversion": c.conversion.kind if c.input is not None else "new input", "cop": c.conversion.cop,
        "km": t.distance_km if t is not None else None, "mode": t.mode if t is not None else costs.mode(c.output.carrier),
        "replaces": c.input.route if c.input is not None else "",
        "instead_of": c.output.route if c.output.kind == "residue" else "",
        "known_use": c.support.use.use if c.support else "", "source": c.support.use.sources[0] if c.support else "",
        "co2_t": c.co2 / 1000.0 if c.co2 is not None else None,
        "shares": shares, "estimated": c.money is not None,
        "simulatable": p.candidate is not None, "why_not": p.why_not.removeprefix("not simulated: "),
        "existing": c.existing or "",
        # an end known only by its company's sector and size (sim_env.match.estimates): the CLI's words, said per viewer
        "estimates": [e for e in (c.output.estimate, c.input.estimate if c.input is not None else "") if e],
    }


def _unit(c) -> str:
    from aisym.park.graph.carriers import amount_unit

    return amount_unit(c.output.carrier.resource)


def rows_for(pm: ParkMatch, company: str) -> list[dict]:
    """The candidates where ``company`` (its id) supplies or receives, best first (matchmaking's order)."""
    with pm.lock:
        hit = pm.rows.get(company)
    if hit is not None:
        return hit
    rows = [_row(pm, i, c, company) for i, c in enumerate(pm.candidates, start=1)
            if company in (c.supplier, c.receiver)]
    with pm.lock:
        pm.rows[company] = rows
    return rows


def clear() -> None:
    """Forget every cached version (tests that change rows behind the ORM's back)."""
    with _LOCK:
        _VERSIONS.clear()
        _MATCHES.clear()
