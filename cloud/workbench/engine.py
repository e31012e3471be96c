"""The park's matchmaking and twin, called on what the workbench holds exactly as the CLI calls them.

The workbench keeps no second copy of the domain: a park is exported as its v2 file
(:func:`~cloud.workbench.parks.export.export_park`, the file ``aisym workbench export`` writes),
parsed by the CLI's loader, matched by :func:`sim_env.match.park.match_park` and simulated by
:func:`sim_env.match.simulate.simulate_plans`, the functions behind ``aisym match`` and
``aisym match --simulate``. The park's *version* is the hash of that file: a result computed on
one version is reused until a company or the facilitator changes something the file holds.

A company known by its NACE code and ``employees`` alone gets the flows ``aisym match --estimate
ID:NACE:EMPLOYEES`` estimates for it (:mod:`sim_env.match.estimates`): the park file has no field
for a head count, so :func:`park_text` writes each such company's ``--estimate`` argument as a
comment line under the file, and :func:`rank` reads them back from there. The text alone (and so
its hash, the version) says what is estimated, and ``aisym match FILE --estimate ARG...`` with those
arguments ranks what the web ranks.

Candidates are named by :func:`key`, which does not depend on their rank, so an outcome recorded
on a candidate ("not interested: the sludge is too wet") still names it after the ranking moves.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aisym.park.graph.loader import parse_graph


@dataclass
class Ranked:
    """A park's matchmaking, as ``aisym match PARK`` computes it (default options)."""

    version: str  # the park file's hash
    graph: object  # aisym.park.graph.ParkGraph
    opts: object  # sim_env.match.score.Options
    candidates: list  # sim_env.match.score.Candidate, best first
    rejected: list
    profiles: dict = field(default_factory=dict)

    def by_key(self) -> dict[str, object]:
        return {key(c): c for c in self.candidates}


_TEXTS: OrderedDict[str, str] = OrderedDict()  # rows' fingerprint -> the park file they export to
_TEXTS_KEPT = 16
_TEXTS_LOCK = threading.Lock()


def _values(obj) -> tuple:
    return tuple(getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields)


def fingerprint(park, companies: list | None = None) -> str:
    """A hash of every row the park's export reads (the park, its companies, their listings): ≈ 2 ms
    where the export and its check by the loader take 30 ms on a small park and 0.9 s on Kalundborg.

    :param companies: the park's companies, where the caller has read them already (a query saved)
    """
    from cloud.workbench.companies.models import Company, Listing

    if companies is None:
        companies = list(Company.objects.filter(park_id=park.pk))
    h = hashlib.sha256()
    h.update(repr(_values(park)).encode("utf-8"))
    h.update(repr(sorted(_values(c) for c in companies)).encode("utf-8"))
    h.update(repr(list(Listing.objects.filter(company__park_id=park.pk).order_by("pk").values_list())).encode("utf-8"))
    return h.hexdigest()


def park_text(park, companies: list | None = None) -> str:
    """The park's v2 file with every company's costs (the server-side engines read all of them).

    The export is a function of the park's, companies' and listings' rows alone: it is kept per
    :func:`fingerprint` of those rows, so an unchanged park is not exported again.
    """
    from cloud.workbench.parks.export import export_park

    fp = fingerprint(park, companies)
    with _TEXTS_LOCK:
        text = _TEXTS.get(fp)
        if text is not None:
            _TEXTS.move_to_end(fp)
            return text
    text = export_park(park) + "".join(f"{ESTIMATE}{a}\n" for a in estimate_args(park, companies))
    with _TEXTS_LOCK:
        _TEXTS[fp] = text
        while len(_TEXTS) > _TEXTS_KEPT:
            _TEXTS.popitem(last=False)
    return text


ESTIMATE = "# aisym match --estimate "  # a comment line under the park text: one company's --estimate argument


def estimate_args(park, companies: list | None = None) -> list[str]:
    """``ID:NACE:EMPLOYEES`` of each company that gives its sector and a head count, as the CLI's ``--estimate``."""
    from cloud.workbench.companies.models import Company

    if companies is None:
        companies = list(Company.objects.filter(park_id=park.pk))
    return [f"{c.slug}:{c.nace}:{c.employees}" for c in sorted(companies, key=lambda c: c.pk)
            if c.nace and c.employees]  # employees 0 or unknown: nothing to scale a sector's figure by


def estimated(text: str, graph) -> list:
    """The profiles the text's ``--estimate`` lines give, as :func:`sim_env.match.cli` builds them."""
    from sim_env.match.estimates import estimate_profile, parse_size

    names = {c.id: c.name for c in graph.doc.companies}
    out = []
    for line in text.splitlines():
        if line.startswith(ESTIMATE):
            cid, nace, n = line[len(ESTIMATE):].split(":")
            employees, tonnes = parse_size(n)  # the CLI's reading of the size (a head count, here)
            out.append(estimate_profile(cid, nace, employees, names.get(cid, ""), tonnes=tonnes)[0])
    return out


def version_of(text: str) -> str:
    """The version of a park file: its content's hash (16 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def park_version(park) -> str:
    return version_of(park_text(park))


def graph_of(park, text: str | None = None):
    """The park resolved by the CLI's loader (:class:`~aisym.park.graph.ParkGraph`)."""
    text = park_text(park) if text is None else text
    return parse_graph(text, f"{park.slug}.yaml")


def key(c) -> str:
    """A candidate's name that survives re-ranking: output port/flow, receiver's input (or the
    receiver, for a new input), and the conversion."""
    out = c.output.port or f"{c.output.company}.{c.output.id}"
    to = (c.input.port or f"{c.input.company}.{c.input.id}") if c.input is not None else f"{c.receiver}.(new input)"
    return f"{out}>{to}:{c.conversion.kind}"


def rank(park, *, existing: str = "mark", seed: int = 0, text: str | None = None) -> Ranked:
    """Every candidate of the park, ranked as ``aisym match PARK --existing EXISTING [--estimate ...]`` ranks them."""
    from sim_env.match.park import match_park, park_options

    text = park_text(park) if text is None else text
    graph = parse_graph(text, f"{park.slug}.yaml")
    opts = park_options(graph, existing=existing)
    cands, rejected, profs = match_park(graph, opts, None, seed, None, estimated(text, graph))
    return Ranked(version_of(text), graph, opts, cands, rejected, profs)


def simulate(ranked: Ranked, keys: list[str], *, hours: float = 8760.0, seed: int = 0, set_size: int = 0,
             ray_address: str | None = None, progress: Callable[[str, float], None] | None = None) -> dict:
    """Simulate the candidates named by ``keys`` for ``hours`` (scaled to a year) in the park's twin.

    Returns :func:`sim_env.match.report.report_data` of the outcome, the dict that
    ``aisym match --simulate --format json`` prints: per candidate its money, CO2, water and
    residues per year, each company's share under each split rule, the flows before and after.

    The candidates keep their matchmaking rank (their position in ``ranked.candidates``), so
    their ids are the ones the CLI gives them.

    :param progress: called with a text and the fraction of the simulation done (0..1): per batch and per round
        of the best set (:func:`~sim_env.match.simulate.simulate_plans`)
    :raises KeyError: a key that is not a candidate of this park version
    """
    from sim_env.match.report import report_data
    from sim_env.match.simulate import park_doc, plan, simulate_plans

    index = {key(c): i for i, c in enumerate(ranked.candidates)}
    missing = [k for k in keys if k not in index]
    if missing:
        raise KeyError(f"not a candidate of park version {ranked.version}: {', '.join(missing)}")
    if progress:
        progress(f"preparing {len(keys)} candidate(s)", 0.0)
    plans = plan(ranked.graph, ranked.candidates, ranked.opts.rate)
    chosen = [plans[index[k]] for k in keys]
    if progress:
        progress("simulating a year in the twin", 0.0)
    outcome = simulate_plans(park_doc(ranked.graph), ranked.graph, chosen, hours=hours, exo_seed=seed,
                             set_size=set_size, ray_address=ray_address, progress=progress)
    return report_data(outcome)
