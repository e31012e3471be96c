"""A park's impact over a year of months: per running exchange and for the park, as one viewer may see it.

Each exchange-month's amount is metered where its meter has readings that month, else the twin's
(:mod:`.sources`); the indicators are that amount times the exchange's factors (:mod:`.indicators`).
Money figures come from a company's private costs: they are kept only where the viewer may read
that company's private tier (:func:`cloud.workbench.tenancy.tier`), and are ``HIDDEN`` otherwise,
so no page, chart or CSV can carry them to anyone else.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cloud.workbench import engine, tenancy
from cloud.workbench.companies.models import PRIVATE

from .indicators import KEYS, MONEY, Exchange, Why, exchange_of, figures, park_exchanges

HIDDEN = "hidden"  # a money figure this viewer may not read (shown "—")


@dataclass
class Cell:
    """One exchange in one month."""

    amount: float | None  # canonical amount; None: neither metered nor simulated
    source: str  # "metered", "twin" or ""
    hours: int | None  # metered: hours with a reading
    figures: dict[str, float | str | None]


@dataclass
class Row:
    exchange: Exchange
    supplier: str  # company names
    receiver: str
    cells: list[Cell]
    total: dict[str, float | str | None] = field(default_factory=dict)

    @property
    def source_list(self) -> list[str]:
        """Where its months came from: "metered", "twin" or both."""
        return sorted({c.source for c in self.cells if c.source})

    @property
    def sources(self) -> str:
        return ", ".join(self.source_list)


@dataclass
class Report:
    park: object
    currency: str
    months: list[tuple[int, int]]
    rows: list[Row]
    park_months: list[dict[str, float | str | None]]
    park_total: dict[str, float | str | None]
    left_out: list  # (exchange id or candidate key, Why)
    notes: list[str]
    version: str
    pending: object = None  # the worker job still computing the twin's year (simulations.Job), if one is


def _sum(values: list) -> float | str | None:
    """A total: hidden if any part is hidden, None if no part is known, else the sum of the known."""
    if any(v == HIDDEN for v in values):
        return HIDDEN
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def running_keys(park) -> list[str]:
    """The candidate keys of the pipeline's running opportunities of the park, sorted.

    The pipeline app (cloud.workbench.pipeline) is optional here: without it there are none.
    """
    from django.db import connection

    try:
        from cloud.workbench.pipeline.models import RUNNING, Opportunity
    except ImportError:
        return []
    if Opportunity._meta.db_table not in connection.introspection.table_names():
        return []  # the pipeline's models without their migration yet
    return sorted(set(Opportunity.objects.filter(park=park, stage=RUNNING).exclude(key="").values_list("key", flat=True)))


def running_candidates(park, text: str, graph, profiles, keys: list[str]) -> tuple[list[Exchange], list, list]:
    """The pipeline's running candidates named by ``keys``: (exchanges, twin candidates, left out with why)."""
    if not keys:
        return [], [], []
    from sim_env.match.simulate import plan

    ranked = engine.rank(park, text=text)
    index = {engine.key(c): i for i, c in enumerate(ranked.candidates)}
    plans = plan(ranked.graph, ranked.candidates, ranked.opts.rate)
    existing = {(lk.src, lk.dst): lk.id for lk in graph.links}
    running, cands, left_out = [], [], []
    for k in keys:
        if k not in index:
            left_out.append((k, Why(gettext_noop("running in the pipeline, but no longer a candidate of this park version"))))
            continue
        p = plans[index[k]]
        m = p.match
        if (m.output.port, getattr(m.input, "port", None)) in existing:
            left_out.append((k, Why(gettext_noop("running in the pipeline and in the park file as %(id)s: counted once, "
                                                 "from the file"), (("id", existing[(m.output.port, m.input.port)]),))))
            continue
        if p.candidate is None:
            left_out.append((k, Why(gettext_noop("running in the pipeline; the twin cannot simulate it: %(why)s"),
                                    (("why", p.why_not),))))
            continue
        x, why = exchange_of(p.delivery, m.supplier, m.receiver, m.output.port, m.input.port, m.output.carrier,
                             None, profiles, origin="pipeline")
        if x is None:
            left_out.append((k, why))
            continue
        running.append(x)
        cands.append(p.candidate)
    return running, cands, left_out


def _running_hash(running_keys: list[str]) -> str:
    return hashlib.sha256("\n".join(running_keys).encode()).hexdigest()[:16]


def twin_of(park, version: str, running_keys: list[str], *, hours: float, seed: int = 0):
    """The twin's months of this park version, kept (:class:`~.models.TwinMonths`); or, not yet computed,
    the worker job computing them (the simulations app's, :func:`~cloud.workbench.simulations.store.submit_twin_year`):
    a year of the twin takes seconds to minutes, too long for a request.

    :returns: (months or None, the job or None)
    """
    from cloud.workbench.simulations.store import submit_twin_year

    from .models import TwinMonths

    running = _running_hash(running_keys)

    def kept():
        with tenancy.system_access():
            return TwinMonths.objects.filter(park=park, version=version, running=running, hours=hours, seed=seed).first()

    found = kept()
    if found is None:
        job = submit_twin_year(park, version, running_keys, running, hours=hours, seed=seed)
        found = kept() if job.state == job.DONE else None  # done already: run inline, or just finished
        if found is None:
            return None, job
    return found.months, None


def run_twin_job(job, text: str, progress):
    """The worker's side of :func:`twin_of`: the year of ``job``'s park version, month by month.

    :returns: (the job's result, a function that keeps the months: the worker calls it in the
        transaction that marks the job done)
    """
    from .models import TwinMonths
    from .sources import twin_months

    seed = int(job.params.get("seed", 0))
    progress("reading the park's exchanges")
    p = _parsed(job.park, text, job.version, list(job.keys), seed)
    ids = [x.id for x in p.running]
    t0 = time.perf_counter()
    months = twin_months(p.graph, ids, hours=job.hours, seed=seed, candidates=p.candidates,
                         progress=lambda m, n: progress(f"month {m} of {n} simulated", m / n))
    seconds = time.perf_counter() - t0

    def save() -> None:
        TwinMonths.objects.get_or_create(park=job.park, version=job.version, running=job.params["running"],
                                         hours=job.hours, seed=seed, defaults={"months": months, "seconds": seconds})

    return {"exchanges": len(ids), "seconds": seconds}, save


@dataclass
class Parsed:
    """What one park version (and set of running pipeline candidates) resolves to: kept in memory."""

    graph: object
    running: list[Exchange]
    left_out: list
    candidates: list  # sweep candidates of the pipeline's running entries


_PARSED: OrderedDict[tuple, Parsed] = OrderedDict()
_PARSED_KEEP = 8  # park versions kept: a page view of a known version skips the parse, the profiles, the ranking


def _parsed(park, text: str, version: str, keys: list[str], seed: int) -> Parsed:
    from sim_env.match.profiles import park_profiles

    k = (park.pk, version, tuple(keys), seed)
    hit = _PARSED.get(k)
    if hit is not None:
        _PARSED.move_to_end(k)
        return hit
    graph = engine.graph_of(park, text)
    profiles = park_profiles(graph, seed)
    running, left_out = park_exchanges(graph, profiles)
    extra, cands, more = running_candidates(park, text, graph, profiles, keys)
    _PARSED[k] = out = Parsed(graph, running + extra, left_out + more, cands)
    while len(_PARSED) > _PARSED_KEEP:
        _PARSED.popitem(last=False)
    return out


def build(park, viewer, months: list[tuple[int, int]], *, client=None, client_note: str = "",
          hours: float = 8760.0, seed: int = 0) -> Report:
    """The park's impact over ``months`` ((year, month), oldest first) for ``viewer``.

    :param client: an :class:`aisym.influx.InfluxV1` on the park's telemetry (read-only), or None
    :param client_note: why there is no client (said on the page)
    :param hours: how much of the twin's year to run (whole months only)
    """
    from aisym.influx import InfluxError

    from .sources import meter_months

    with tenancy.system_access():  # the server-side engine reads the whole park; the viewer's rules apply below
        # as the worker reads it: an instance not read back (just imported) exports its JSON in its own key
        # order, where PostgreSQL's jsonb gives another, and the worker would find another park version
        park = type(park).objects.get(pk=park.pk)
        text = engine.park_text(park)
        version, keys = engine.version_of(text), running_keys(park)
        p = _parsed(park, text, version, keys, seed)
    running, left_out = p.running, p.left_out
    notes = [client_note] if client_note else []
    metered: dict = {}
    if client is not None and any(x.meter_tag for x in running):
        try:
            metered = meter_months(client, p.graph, p.graph.id, running, months, park.timezone)
        except (InfluxError, ValueError) as e:
            notes.append(_("Telemetry could not be read, so every figure is the twin's: %(why)s") % {"why": str(e)[:200]})
    twin: dict = {}
    job = None
    if running:  # computed once per version by a worker: meanwhile the page shows what is metered
        months_kept, job = twin_of(park, version, keys, hours=hours, seed=seed)
        twin = months_kept or {}
        if job is not None and job.state == job.FAILED:
            logging.getLogger(__name__).warning("the twin's year of park %s failed: %s", park.slug, job.error)
            notes.append(_("The twin could not run this park's year, so only metered months have figures: %(why)s")
                         % {"why": job.error[:200]})
    readable = {c.slug for c in park.companies.all() if (tenancy.tier(viewer, c) or 0) >= PRIVATE}
    names = {c.id: c.name for c in p.graph.doc.companies}
    rows = [_row(x, names, months, metered.get(x.id, {}), twin.get(x.id, [None] * 12), readable) for x in running]
    park_months = [{k: _sum([r.cells[i].figures[k] for r in rows]) for k in KEYS} for i in range(len(months))]
    park_total = {k: _sum([m[k] for m in park_months]) for k in KEYS}
    return Report(park, p.graph.currency, months, rows, park_months, park_total, left_out, notes, version,
                  job if job is not None and not job.finished_state else None)


def _row(x: Exchange, names: dict, months, metered: dict, twin: list, readable: set[str]) -> Row:
    cells = []
    for y, m in months:
        if (y, m) in metered:
            amount, hrs = metered[(y, m)]
            source = "metered"
        else:
            amount, hrs = twin[m - 1], None
            source = "twin" if amount is not None else ""
        figs: dict[str, float | str | None] = figures(x, amount) if amount is not None else dict.fromkeys(KEYS)
        owner = {"disposal_cost": x.supplier, "purchase_cost": x.receiver}
        for k in MONEY:
            if owner[k] not in readable and figs[k] is not None:
                figs[k] = HIDDEN
        cells.append(Cell(amount, source, hrs, figs))
    row = Row(x, names.get(x.supplier, x.supplier), names.get(x.receiver, x.receiver), cells)
    row.total = {k: _sum([c.figures[k] for c in cells]) for k in KEYS}
    return row


def factor_text(x: Exchange, currency: str, readable: bool, side: str) -> str:
    """The factor behind a money or CO2 figure, in words; a private cost only where it may be read."""
    cost, co2, route = ((x.disposal_cost, x.disposal_co2, x.disposal_route) if side == "disposal"
                        else (x.purchase_cost, x.purchase_co2, x.purchase_route))
    parts = [route] if route else []
    if cost is not None:
        parts.append(f"{cost:.6g} {currency}/{x.unit}" if readable else _("cost private"))
    if co2 is not None:
        parts.append(f"{co2:.6g} kg CO2e/{x.unit}")
    return "; ".join(parts)
