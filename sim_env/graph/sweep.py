"""Simulate candidate exchanges before anyone invests: every candidate an edge of one compiled twin.

A :class:`Candidate` is one or more exchanges (a pipe; a pipe, a heat pump's feed and its
delivery) that would be built together. :func:`with_candidates` adds them all to the park's
document, switched off (``enabled: false``), and compiles it once; row 0 of the batch is the
park as it is, row ``k`` has candidate ``k``'s exchanges switched on through the edge mask. One
call of :func:`sim_env.graph.evaluate.evaluate_batch` then simulates the base and every
candidate for a year, under the generic rules, in one kernel call per step.

:func:`simulate` returns each candidate's benefit against the base (money saved with carbon at
the park's price, CO2 avoided, water bought less, residues diverted from disposal, and the change
of the park's resource efficiency); :func:`best_set` grows the best set greedily, one batch per
round, so that two candidates competing for the same heat show a marginal benefit below their
benefit alone; :func:`optimum_benefits` re-solves the park's LP with each candidate's capacity
switched from 0 to its value instead (no rebuild). The batch's rows are independent: ``workers``
shares them between local processes and ``ray_address`` spreads chunks of them over a Ray cluster
(:mod:`.sweep_workers`), with the numbers of one batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from aisym.park.graph import Resource

from .compile import I_TYPE, T_SOURCE, CompiledPark, compile_park
from .evaluate import GraphResult, evaluate_batch
from .sweep_workers import RayUnreachable, Rows, SweepPark, SweepWorkerError, check_ray  # noqa: F401 (re-exported)
from .whatif import headline


@dataclass
class Candidate:
    """Exchanges built together, as the park file writes exchanges (``from``, ``to``, ``capacity``...).

    :param id: the candidate's id (its exchanges' ids must be new to the park)
    :param exchanges: exchange entries of the park schema
    :param assets: ``(company id, asset entry)`` built with it (a heat pump, a let-down station):
        added to the park in every row; only its exchanges are switched off, so without them it is idle
    """

    id: str
    exchanges: list[dict[str, Any]]
    assets: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Benefit:
    """A candidate's simulated year against the park without it (positive: better)."""

    id: str
    saved: float  # cost + carbon, park currency
    cost_saved: float
    co2_avoided_t: float
    water_saved_m3: float
    residues_diverted_t: float
    efficiency_gain: float  # change of the resource efficiency, fraction points
    carried: dict[str, float] = field(default_factory=dict)  # exchange id -> amount carried over the run
    totals: dict[str, float] = field(default_factory=dict)  # the row's GraphResult.totals (per component, exchange)


def park_document(path: str | Path) -> dict:
    """A park file as a v2 document (a v1 file is migrated, as ``aisym park migrate`` does)."""
    text = Path(path).read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    if isinstance(doc, dict) and doc.get("schema_version") == 2:
        return doc
    from aisym.park import parse_park
    from aisym.park.graph import migrate

    return migrate(parse_park(text, str(path)))


def with_candidates(doc: dict, candidates: list[Candidate], source: str = "park") -> tuple[CompiledPark, np.ndarray]:
    """The park with every candidate's exchanges added switched off, compiled; and the masks
    ``(1 + len(candidates), n_exchanges)``: row 0 the park as it is, row k candidate k on."""
    merged = dict(doc)
    known = {e["id"] for e in doc.get("exchanges", [])}
    added: list[dict] = []
    companies = {c["id"]: {**c, "assets": list(c.get("assets", []))} for c in doc.get("companies", [])}
    for c in candidates:
        if not c.exchanges:
            raise ValueError(f"candidate {c.id}: no exchanges")
        for company, asset in c.assets:
            if company not in companies:
                raise ValueError(f"candidate {c.id}: no company {company!r} for its asset {asset.get('id')!r}")
            companies[company]["assets"].append(asset)
        for e in c.exchanges:
            if e.get("id") in known:
                raise ValueError(f"candidate {c.id}: exchange id {e.get('id')!r} is already in the park")
            known.add(e["id"])
            added.append({**e, "enabled": False})
    merged["exchanges"] = [*doc.get("exchanges", []), *added]
    merged["companies"] = list(companies.values())
    g = resolved(merged, f"{source} + {len(candidates)} candidates")
    cp = compile_park(g)
    masks = np.tile(cp.LE, (1 + len(candidates), 1))
    for k, c in enumerate(candidates, start=1):
        for e in c.exchanges:
            masks[k, cp.link_ids.index(e["id"])] = 1.0
    return cp, masks


def resolved(doc: dict, source: str):
    """A v2 document (plain data) validated and resolved as :func:`~aisym.park.graph.parse_graph` resolves a
    file, without writing it out as YAML and reading it back: that round trip was half of each of the
    many compiles of ``aisym match --simulate``, and its line numbers would point into text no one sees.

    :raises ~aisym.park.ParkError: as ``parse_graph`` does, without line numbers
    """
    from pydantic import ValidationError

    from aisym.park import ParkError
    from aisym.park.graph.build import build_graph
    from aisym.park.graph.document import ParkV2
    from aisym.yamlfile import Problem, pydantic_problems

    try:
        model = ParkV2.model_validate(doc)
    except ValidationError as e:
        raise ParkError(source, [Problem(loc, msg) for loc, msg in pydantic_problems(e)]) from None
    graph, problems = build_graph(model, source)
    if problems or graph is None:
        raise ParkError(source, [Problem(loc, msg) for loc, msg in problems])
    return graph


def resource_efficiency(cp: CompiledPark, res: GraphResult) -> float:
    """The mean, over the resources the park's sources give, of the share put to use (not surplus)."""
    produced: dict[Resource, float] = {}
    used: dict[Resource, float] = {}
    for n, node in enumerate(cp.graph.nodes):
        if cp.NI[n, I_TYPE] != T_SOURCE:
            continue
        r = next(iter(node.ports.values())).carrier.resource
        given = res.totals[f"activity:{cp.node_keys[n]}"]  # what the source gave; its surplus is under backup:
        surplus = res.totals[f"backup:{cp.node_keys[n]}"]
        produced[r] = produced.get(r, 0.0) + given
        used[r] = used.get(r, 0.0) + given - surplus
    shares = [used[r] / p for r, p in produced.items() if p > 0]
    return float(np.mean(shares)) if shares else 1.0


def _figures(cp: CompiledPark, res: GraphResult) -> tuple[float, float, float]:
    act = np.array([res.totals[f"activity:{k}"] for k in cp.node_keys])
    back = np.array([res.totals[f"backup:{k}"] for k in cp.node_keys])
    water, residues, _ = headline(cp, act, back)
    return water, residues, resource_efficiency(cp, res)


def benefits(cp: CompiledPark, base: GraphResult, rows: list[GraphResult], ids: list[str],
             candidates: list[Candidate], base_cp: CompiledPark | None = None) -> list[Benefit]:
    """Each row's benefit against ``base`` (a run of ``base_cp`` when given, else of ``cp``)."""
    w0, r0, e0 = _figures(base_cp or cp, base)
    out = []
    for res, cid, c in zip(rows, ids, candidates, strict=True):
        w, r, e = _figures(cp, res)
        carried = {x["id"]: res.totals[f"flow:{x['id']}"] for x in c.exchanges}
        out.append(Benefit(cid, base.objective - res.objective, base.cost - res.cost, base.co2_t - res.co2_t, w0 - w,
                           r0 - r, e - e0, carried, res.totals))
    return out


def simulate(doc: dict, candidates: list[Candidate], *, hours: float = 8760.0, exo_seed: int = 0,
             specialise: str | None = None, ray_address: str | None = None, chunk: int = 256,
             source: str = "park", own_base: bool = False,
             workers: int | None = None) -> tuple[GraphResult, list[Benefit], dict[str, float]]:
    """A year of the park and of each candidate alone, under the generic rules.

    The rules value each bus over every exchange the compiled park has, switched on or not, so an
    idle candidate can change their choices in every row (a heat pump's heat makes a bus worth
    more). Benefits are against row 0 of the batch (the same valuations in every row); with
    ``own_base`` against the park as it is run on its own, compiled without the candidates.

    :param doc: the park's v2 document (:func:`park_document`)
    :param candidates: what to simulate
    :param hours: simulated hours
    :param exo_seed: seed of the weather and price year
    :param specialise: kernel specialisation (``"fold"`` for large sweeps)
    :param ray_address: run chunks of ``chunk`` rows as Ray tasks on this cluster
    :param own_base: the base is the park run without the candidates compiled in (else row 0 of the batch)
    :param workers: local worker processes sharing the rows (:func:`~.sweep_workers.workers_for`; None: the
        usable cores when the sweep is long enough to pay for their start; 1: all in this process); the
        results are the same, bit for bit
    :returns: the base run, each candidate's benefit (in the given order) and timings: wall ``seconds``,
        ``cpu_s`` of this process and its workers, ``critical_cpu_s`` (this process's and its busiest
        worker's: the wall time if each had a core of its own), ``workers``, ``tasks``
    :raises SweepWorkerError: a chunk failed in its worker (its candidates named)
    """
    from .baselines import GraphRules

    t0, c0 = time.perf_counter(), time.process_time()
    cp, masks = with_candidates(doc, candidates, source)
    runs, used = run_batch(doc, candidates, hours=hours, exo_seed=exo_seed, specialise=specialise, source=source,
                           compiled=(cp, masks), workers=workers, ray_address=ray_address, chunk=chunk)
    base, base_cp = runs[0], None
    if own_base:
        base_cp, _ = with_candidates(doc, [], source)
        base = evaluate_batch(GraphRules(), base_cp, base_cp.LE[None, :], hours=hours, exo_seed=exo_seed,
                              specialise=specialise)[0]
    out = benefits(cp, base, runs[1:], [c.id for c in candidates], candidates, base_cp)
    seconds = time.perf_counter() - t0
    own = time.process_time() - c0  # this process: the compile, the benefits, the rows when it ran them
    busiest = used.pop("busiest_worker_cpu_s")
    return base, out, {"seconds": seconds, "candidate_years_per_min": 60.0 * len(candidates) * hours / 8760 / seconds,
                       "cpu_s": own + used.pop("workers_cpu_s"), "critical_cpu_s": own + busiest, **used}


def run_batch(doc: dict, candidates: list[Candidate], *, hours: float = 8760.0, exo_seed: int = 0,
              specialise: str | None = None, source: str = "park", compiled: tuple | None = None,
              workers: int | None = None, ray_address: str | None = None,
              chunk: int = 256) -> tuple[list[GraphResult], dict[str, float]]:
    """The batch of :func:`with_candidates` (row 0 the park as it is, row k candidate k alone), its rows
    shared as :func:`simulate` says; each row's run, and ``workers_cpu_s`` (the workers' CPU, start
    included), ``busiest_worker_cpu_s``, ``workers`` (processes that ran rows) and ``tasks`` (chunks).

    :param compiled: ``with_candidates(doc, candidates, source)`` when the caller has it (this process uses it)
    """
    compiled = compiled if compiled is not None else with_candidates(doc, candidates, source)
    park = SweepPark.of(doc, candidates, source, hours, exo_seed, specialise)
    with Rows(park, compiled=compiled, workers=workers, ray_address=ray_address, chunk=chunk) as rows:
        runs = rows(compiled[1], ["the park as it is", *(c.id for c in candidates)])
    return runs, {"workers_cpu_s": sum(rows.cpu.values()), "busiest_worker_cpu_s": max(rows.cpu.values(), default=0.0),
                  "workers": len(rows.cpu) or 1, "tasks": rows.tasks or 1}


def best_set(doc: dict, candidates: list[Candidate], k: int, *, hours: float = 8760.0, exo_seed: int = 0,
             specialise: str | None = None, source: str = "park", compiled: tuple | None = None,
             runs: list[GraphResult] | None = None, step=None,
             workers: int | None = None) -> list[tuple[str, float, float]]:
    """Grow the best set of up to ``k`` candidates greedily (one batch per round).

    :param compiled: ``with_candidates(doc, candidates)`` when the caller has it (not parsed again)
    :param runs: the batch of ``compiled``'s masks when the caller ran it (not run again)
    :param step: called with the round (0 first) before each
    :param workers: local worker processes sharing each round's rows, kept for all rounds (as :func:`simulate`)
    :returns: ``(candidate id, benefit alone, marginal benefit when added)`` in the order chosen;
        it stops early when no candidate adds a positive benefit
    """
    cp, masks = compiled if compiled is not None else with_candidates(doc, candidates, source)
    park = SweepPark.of(doc, candidates, source, hours, exo_seed, specialise)
    with Rows(park, compiled=(cp, masks), workers=workers) as run:
        return _grow(candidates, k, masks, runs or run(masks, ["the park as it is", *(c.id for c in candidates)]),
                     run, step)


def _grow(candidates: list[Candidate], k: int, masks: np.ndarray, alone_runs: list[GraphResult], run: Rows,
          step) -> list[tuple[str, float, float]]:
    alone = {c.id: alone_runs[0].objective - r.objective for c, r in zip(candidates, alone_runs[1:], strict=True)}
    chosen: list[int] = []
    current, current_obj = masks[0].copy(), alone_runs[0].objective
    picked: list[tuple[str, float, float]] = []
    while len(chosen) < k:
        left = [i for i in range(len(candidates)) if i not in chosen]
        if not left:
            break
        if step is not None:
            step(len(chosen))
        rows = np.tile(current, (len(left), 1))
        for j, i in enumerate(left):
            rows[j] = np.maximum(current, masks[1 + i])
        in_set = "+".join(candidates[i].id for i in chosen)
        runs = run(rows, [f"{in_set}+{candidates[i].id}" if in_set else candidates[i].id for i in left])
        gains = [current_obj - r.objective for r in runs]
        j = int(np.argmax(gains))
        if gains[j] <= 0.0:
            break
        i = left[j]
        chosen.append(i)
        current, current_obj = rows[j].copy(), runs[j].objective
        picked.append((candidates[i].id, alone[candidates[i].id], gains[j]))
    return picked


def optimum_benefits(doc: dict, candidates: list[Candidate], *, hours: float = 168.0, start: int = 0,
                     exo_seed: int = 0, relax: bool = True, source: str = "park",
                     compiled: tuple | None = None) -> tuple[list[float], dict[str, float]]:
    """Each candidate's benefit under the perfect-foresight optimum: the LP is built once with
    every candidate at capacity 0 and re-solved with one candidate's capacities switched on.

    :param compiled: ``with_candidates(doc, candidates)`` when the caller has it (not parsed again)
    :returns: the saving (cost + carbon) per candidate, and timings (build, base solve, re-solves)
    """
    from .lp import Optimum

    cp, _ = compiled if compiled is not None else with_candidates(doc, candidates, source)
    coef = cp.exogenous(seed=exo_seed)
    T = max(1, round(hours / cp.dt_h))
    opt = Optimum(cp, coef, T, start=start, relax=relax)
    base = opt.solve().objective
    out, t0 = [], time.perf_counter()
    for c in candidates:
        caps = {e["id"]: cp.LF[cp.link_ids.index(e["id"]), 0] for e in c.exchanges}
        for eid, cap in caps.items():
            opt.set_capacity(eid, cap)
        out.append(base - opt.solve().objective)
        for eid in caps:
            opt.set_capacity(eid, 0.0)
    resolve_s = (time.perf_counter() - t0) / max(len(candidates), 1)
    return out, {"build_s": opt.build_s, "resolve_s_per_candidate": resolve_s}
