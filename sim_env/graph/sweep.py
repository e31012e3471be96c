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
switched from 0 to its value instead (no rebuild). ``ray_address`` spreads chunks of candidates
over a Ray cluster.
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
             source: str = "park", own_base: bool = False) -> tuple[GraphResult, list[Benefit], dict[str, float]]:
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
    :param ray_address: run chunks of ``chunk`` candidates as Ray tasks on this cluster
    :param own_base: the base is the park run without the candidates compiled in (else row 0 of the batch)
    :returns: the base run, each candidate's benefit (in the given order) and timings
    """
    from .baselines import GraphRules

    t0 = time.perf_counter()
    if ray_address is not None:
        return _simulate_ray(doc, candidates, hours, exo_seed, specialise, ray_address, chunk, source)
    cp, masks = with_candidates(doc, candidates, source)
    runs = evaluate_batch(GraphRules(), cp, masks, hours=hours, exo_seed=exo_seed, specialise=specialise)
    base, base_cp = runs[0], None
    if own_base:
        base_cp, _ = with_candidates(doc, [], source)
        base = evaluate_batch(GraphRules(), base_cp, base_cp.LE[None, :], hours=hours, exo_seed=exo_seed,
                              specialise=specialise)[0]
    out = benefits(cp, base, runs[1:], [c.id for c in candidates], candidates, base_cp)
    seconds = time.perf_counter() - t0
    return base, out, {"seconds": seconds, "candidate_years_per_min": 60.0 * len(candidates) * hours / 8760 / seconds}


def _chunk_task(doc, candidates, hours, exo_seed, specialise, source):
    base, out, _ = simulate(doc, candidates, hours=hours, exo_seed=exo_seed, specialise=specialise, source=source)
    return base, out


RAY_CONNECT_TIMEOUT_S = 10.0  # a cluster's head answers a TCP connect at once; silence this long means none is there


class RayUnreachable(ConnectionError):
    """No Ray cluster answers at the address given; the message names it."""


def check_ray(address: str | None, timeout_s: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """Refuse, within ``timeout_s``, a Ray address where nothing answers (``ray.init`` would wait for minutes).

    ``auto``/``local`` (or None) are left to Ray, which finds or starts a local cluster itself.
    """
    import socket

    if address in (None, "", "auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnreachable(f"--ray {address!r}: give HOST:PORT of the cluster's head (or ray://HOST:PORT, auto)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise RayUnreachable(f"--ray {address}: no Ray cluster answers ({why} within {timeout_s:g} s)") from None


def _simulate_ray(doc, candidates, hours, exo_seed, specialise, address, chunk, source):
    import ray

    t0 = time.perf_counter()
    started = not ray.is_initialized()
    if started:
        check_ray(address)
        try:
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        except (ConnectionError, RuntimeError, TimeoutError) as e:  # something answered, but not a Ray head
            raise RayUnreachable(f"--ray {address}: {' '.join(str(e).split())[:300]}") from None
    try:
        task = ray.remote(_chunk_task)
        parts = [candidates[i:i + chunk] for i in range(0, len(candidates), chunk)]
        results = ray.get([task.remote(doc, p, hours, exo_seed, specialise, source) for p in parts])
    finally:
        if started:
            ray.shutdown()
    base = results[0][0]
    out = [b for _, bs in results for b in bs]
    seconds = time.perf_counter() - t0
    return base, out, {"seconds": seconds, "tasks": len(parts),
                       "candidate_years_per_min": 60.0 * len(candidates) * hours / 8760 / seconds}


def best_set(doc: dict, candidates: list[Candidate], k: int, *, hours: float = 8760.0, exo_seed: int = 0,
             specialise: str | None = None, source: str = "park", compiled: tuple | None = None,
             runs: list[GraphResult] | None = None, step=None) -> list[tuple[str, float, float]]:
    """Grow the best set of up to ``k`` candidates greedily (one batch per round).

    :param compiled: ``with_candidates(doc, candidates)`` when the caller has it (not parsed again)
    :param runs: the batch of ``compiled``'s masks when the caller ran it (not run again)
    :param step: called with the round (0 first) before each
    :returns: ``(candidate id, benefit alone, marginal benefit when added)`` in the order chosen;
        it stops early when no candidate adds a positive benefit
    """
    from .baselines import GraphRules

    cp, masks = compiled if compiled is not None else with_candidates(doc, candidates, source)
    base_mask = masks[0]
    alone_runs = runs if runs is not None else evaluate_batch(GraphRules(), cp, masks, hours=hours, exo_seed=exo_seed,
                                                              specialise=specialise)
    alone = {c.id: alone_runs[0].objective - r.objective for c, r in zip(candidates, alone_runs[1:], strict=True)}
    chosen: list[int] = []
    current, current_obj = base_mask.copy(), alone_runs[0].objective
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
        runs = evaluate_batch(GraphRules(), cp, rows, hours=hours, exo_seed=exo_seed, specialise=specialise)
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
