"""Matchmaking on a park: its profiles, its prices and its exchanges, in one call."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from aisym.park import ParkError
from aisym.park.graph import ParkGraph
from aisym.park.graph.build import build_graph
from aisym.park.graph.carriers import Resource
from aisym.yamlfile import Problem

from . import costs
from .profiles import Profile, _hourly, _series_year, merge, park_profiles
from .score import Candidate, Options, Rejected, match


def electricity(graph: ParkGraph, seed: int = 0) -> tuple[float | None, float]:
    """Mean price (currency per kWh) and CO2 (kg per kWh) of the park's electricity purchase, if it has one."""
    series = None
    for n in graph.nodes:
        port = n.ports.get("port")
        if n.type == "market" and port is not None and port.carrier.resource == Resource.electricity \
                and "import_price" in n.val:
            series = series if series is not None else _series_year(graph, seed)
            return float(np.mean(_hourly(n.val["import_price"], series))), float(np.mean(_hourly(n.val["co2"], series)))
    return None, 0.0


def park_options(graph: ParkGraph, eur_rate: float | None = None, **changes) -> Options:
    """Options priced from the park: its currency's EUR rate, electricity and carbon prices.

    :param eur_rate: park currency per EUR; None: the park's own ``exchange_rates.EUR``, else the pegged rate
    :raises ValueError: the park's currency needs a stated EUR rate
    """
    if eur_rate is None:  # the rate the park file states is the park's word, as its prices are
        eur_rate = graph.doc.park.exchange_rates.get("EUR")
    price, co2 = electricity(graph)
    opts = Options(rate=costs.eur_rate(graph.currency, eur_rate), electricity_price=price, electricity_co2=co2,
                   carbon_price=graph.carbon_price_per_kg)
    return replace(opts, **changes)


def existing_links(graph: ParkGraph) -> dict[tuple[str, str], str]:
    return {(link.src, link.dst): link.id for link in graph.links}


def match_park(graph: ParkGraph, opts: Options | None = None, extra: list[Profile] | None = None,
               seed: int = 0, metered: dict | None = None,
               estimated: list[Profile] | None = None) -> tuple[list[Candidate], list[Rejected], dict[str, Profile]]:
    """Ranked candidates, rejected pairs and the profiles they came from.

    :param graph: the resolved park
    :param opts: matchmaking options (default: :func:`park_options`)
    :param extra: imported profiles (CSV/XLSX templates) added to the park's
    :param seed: seed of the year of series behind the hourly profiles
    :param metered: meters' years (:func:`sim_env.match.metered.read_meters`): they replace the profiles of
        the flows they meter, and a candidate with a metered end states its band
    :param estimated: profiles estimated from sector and size (:mod:`sim_env.match.estimates`): a flow the
        company states or meters of the same carrier replaces its estimate
    """
    opts = opts or park_options(graph)
    profiles = park_profiles(graph, seed)
    if extra:
        profiles = merge(profiles, extra)
    if metered:
        from .metered import apply, band_note

        apply(profiles, graph, metered)
    if estimated:
        from .estimates import apply as apply_estimates

        profiles = apply_estimates(profiles, estimated)
    cands, rejected = match(profiles, opts, existing_links(graph))
    for c in cands:  # an estimate is said wherever the candidate shows (its reason, the table, the JSON)
        if c.input is not None and c.input.estimate:
            c.notes.append(f"{c.input.label()}: {c.input.estimate}")
    if metered:
        for c in cands:
            band_note(c)
    return cands, rejected, profiles


def without_exchanges(graph: ParkGraph, ids: set[str]) -> ParkGraph:
    """The park with exchanges ``ids`` removed (to see whether matchmaking finds them again).

    :raises ParkError: an id is not an exchange, or the park is not valid without them
    """
    known = {e.id for e in graph.doc.exchanges}
    missing = sorted(ids - known)
    if missing:
        raise ParkError(graph.source, [Problem(("exchanges",), f"no exchange {', '.join(missing)}")])
    doc = graph.doc.model_copy(update={"exchanges": [e for e in graph.doc.exchanges if e.id not in ids]})
    g, problems = build_graph(doc, graph.source)
    if g is None:
        raise ParkError(graph.source, [Problem(loc, msg) for loc, msg in problems])
    return g
