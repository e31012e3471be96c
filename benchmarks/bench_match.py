"""Symbiosis discovery benchmark: candidates simulated per minute, rediscovery on Kalundborg, optimum re-solves.

1. **Rediscovery.** Kalundborg with its real exchanges between companies removed (every one the
   park stays valid without: 25 of 35; the 10 left feed inputs nothing else would, such as the
   lake water and the grid power), matchmaking on what is left, every simulable candidate
   simulated for a year under the rules in one batch, re-ranked by simulated net benefit: are
   the real exchanges among the top?
2. **Throughput.** Candidate-years per minute through the batched kernel on 2 cores: the
   simulable candidates, each at several sizes (a sizing sweep: capacity × 0.25 ... × 2), in one
   batch for a year. Goal: >= 1,000 candidate-years per minute.
3. **Optimum.** On Kalundborg as shipped (without its real exchanges the LP is infeasible), the
   LP built once with every candidate at capacity 0 and re-solved per candidate, against a full
   rebuild (compile, build and solve the park with the candidate) per candidate, as a ratio.
4. **Both shipped parks**: the ranked simulated candidates (as the park files are).

Run: ``.venv/bin/python benchmarks/bench_match.py [--hours 8760] [--sizes 8] [--specialise fold] [--lp-hours 168]
[--out FILE.json] [--only rediscovery,throughput,optimum,parks]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

from aisym.park import ParkError
from aisym.park.graph import load_graph
from sim_env.graph import sweep
from sim_env.match.batches import batches
from sim_env.match.park import match_park, park_options, without_exchanges
from sim_env.match.simulate import park_doc, plan, simulate_plans

KALUNDBORG = "aisym/parks/kalundborg.yaml"
KRAAKOYA = "aisym/parks/kraakoya.yaml"


def removable(graph) -> list[str]:
    """The exchanges between two companies the park stays valid without, removed one after another."""
    company = {n.key.split(".")[0]: n.company for n in graph.nodes}
    gone: set[str] = set()
    for link in graph.links:
        if company[link.src.split(".")[0]] == company[link.dst.split(".")[0]]:
            continue
        try:
            without_exchanges(graph, gone | {link.id})
            gone.add(link.id)
        except ParkError:
            pass
    return sorted(gone)


def ranked(path_or_graph, hours: float, set_size: int = 0, top: int | None = None, existing: str = "exclude"):
    g = load_graph(path_or_graph) if isinstance(path_or_graph, str) else path_or_graph
    opts = park_options(g, existing=existing)
    cands, _, _ = match_park(g, opts)
    plans = plan(g, cands[:top] if top else cands, opts.rate)
    out = simulate_plans(park_doc(g), g, plans, hours=hours, set_size=set_size)
    return g, out


def rediscovery(hours: float) -> dict:
    g0 = load_graph(KALUNDBORG)
    gone = removable(g0)
    real = {(link.src, link.dst): link.id for link in g0.links if link.id in gone}
    g = without_exchanges(g0, set(gone))
    t0 = time.perf_counter()
    _, out = ranked(g, hours, set_size=5)
    seconds = time.perf_counter() - t0
    rows = [{"rank": i, "id": s.plan.id, "match_rank": s.plan.rank, "from": s.plan.match.output.port,
             "to": s.plan.match.input.port, "how": s.plan.match.conversion.kind, "saved": s.saved, "net": s.net,
             "co2_t": s.benefit.co2_avoided_t * s.per_year, "real": real.get((s.plan.match.output.port,
                                                                              s.plan.match.input.port))}
            for i, s in enumerate(out.simulated, start=1)]
    found = {r["real"]: r["rank"] for r in rows if r["real"]}
    match_found = {}
    for p in out.simulated + [type("S", (), {"plan": p}) for p in out.skipped]:
        m = p.plan.match
        key = (m.output.port, m.input.port if m.input else None)
        if key in real:
            match_found[real[key]] = p.plan.rank
    return {"removed": gone, "simulated": len(out.simulated), "not_simulated": len(out.skipped), "seconds": seconds,
            "real_in_top": {k: sum(1 for r in found.values() if r <= k) for k in (5, 10, 20, len(gone))},
            "real_found_simulated": found, "real_found_by_matchmaking": match_found,
            "real_missed": sorted(set(gone) - set(match_found)), "ranking": rows,
            "best_set": out.best, "shapley": out.shapley,
            "not_simulated_why": [(p.rank, p.match.output.port, p.match.input.port if p.match.input else None, p.why_not)
                                  for p in out.skipped]}


def throughput(hours: float, sizes: int, specialise: str | None = None) -> dict:
    """The simulable candidates of Kalundborg (real exchanges removed) at ``sizes`` capacities each, one batch."""
    g0 = load_graph(KALUNDBORG)
    g = without_exchanges(g0, set(removable(g0)))
    opts = park_options(g)
    cands, _, _ = match_park(g, opts)
    plans = [p for p in plan(g, cands, opts.rate) if p.candidate is not None]
    doc = park_doc(g)
    ok = [p.candidate for p in max(batches(doc, plans, g.source), key=len)]  # the largest batch that compiles
    batch = [_sized(c, k, 0.25 + 1.75 * k / max(sizes - 1, 1)) for k in range(sizes) for c in ok]
    try:
        sweep.with_candidates(doc, batch)
    except Exception as e:  # sizes of one candidate that loop together
        return {"error": str(e)[:300]}
    t0 = time.perf_counter()
    sweep.simulate(doc, batch, hours=2, specialise=specialise)  # compile (the fold kernel: for this park) and warm
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, _, timing = sweep.simulate(doc, batch, hours=hours, specialise=specialise)
    return {"candidates": len(batch), "distinct": len(ok), "sizes": sizes, "hours": hours, "kernel": specialise or "generic",
            "compile_and_warm_s": warm,
            "seconds": time.perf_counter() - t0, "candidate_years_per_min": timing["candidate_years_per_min"]}


def _sized(c, k: int, f: float):
    """Candidate ``c`` at ``f`` times its capacity, its ids suffixed ``_s<k>``."""
    c2, suffix = copy.deepcopy(c), f"_s{k}"
    mine = {a["id"] for _, a in c2.assets}
    for e in c2.exchanges:
        e["id"] += suffix
        e["capacity"] = float(e["capacity"]) * f
        for end in ("from", "to"):
            asset, _, port = e[end].partition(".")
            if asset in mine:
                e[end] = f"{asset}{suffix}.{port}"
    for _, a in c2.assets:
        a["id"] += suffix
        for comp in a.get("components", []):
            comp["rated"] = float(comp["rated"]) * f if "rated" in comp else comp.get("rated")
        if "params" in a and "rated" in a["params"]:
            a["params"]["rated"] = float(a["params"]["rated"]) * f
    c2.id += suffix
    return c2


def _compiles(doc, c) -> bool:
    try:
        sweep.with_candidates(doc, [c])
    except Exception:
        return False
    return True


def optimum(lp_hours: float, n: int = 6) -> dict:
    """Re-solve per candidate against a full rebuild (build + solve of the park with it) per candidate."""
    from sim_env.graph.lp import Optimum

    # the park as shipped: without its real exchanges the LP has no feasible point (a residue with nowhere to go)
    g = load_graph(KALUNDBORG)
    opts = park_options(g, existing="exclude")
    cands, _, _ = match_park(g, opts)
    doc = park_doc(g)
    plans = [p for p in plan(g, cands, opts.rate) if p.candidate is not None]
    chosen = [p.candidate for p in max(batches(doc, plans, g.source), key=len)][:n]
    saved, timing = sweep.optimum_benefits(doc, chosen, hours=lp_hours)
    t0 = time.perf_counter()
    for c in chosen[:3]:  # a full rebuild: compile the park with the candidate on, build the LP, solve
        built = copy.deepcopy(doc)
        built["exchanges"] = [*built["exchanges"], *copy.deepcopy(c.exchanges)]
        for company, asset in c.assets:
            next(x for x in built["companies"] if x["id"] == company)["assets"].append(copy.deepcopy(asset))
        cp, _ = sweep.with_candidates(built, [])
        Optimum(cp, cp.exogenous(seed=0), round(lp_hours / cp.dt_h), relax=True).solve()
    rebuild = (time.perf_counter() - t0) / min(3, len(chosen))
    return {"candidates": len(chosen), "lp_hours": lp_hours, "saved": saved, **timing, "rebuild_s_per_candidate": rebuild,
            "resolve_over_rebuild": timing["resolve_s_per_candidate"] / rebuild}


def parks(hours: float) -> dict:
    out = {}
    for path in (KALUNDBORG, KRAAKOYA):
        _, o = ranked(path, hours, set_size=3)
        out[o.park] = {"ranking": [(i, s.plan.id, s.plan.match.conversion.kind, round(s.saved), round(s.net),
                                    round(s.benefit.co2_avoided_t * s.per_year, 1)) for i, s in enumerate(o.simulated, 1)],
                       "not_simulated": [(p.rank, p.why_not[:160]) for p in o.skipped], "best_set": o.best,
                       "shapley": o.shapley, "seconds": o.timings.get("seconds")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=8760.0)
    ap.add_argument("--sizes", type=int, default=8)
    ap.add_argument("--lp-hours", type=float, default=168.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--specialise", default=None, help="kernel of the throughput part: fold (cold compile 1-3 min)")
    ap.add_argument("--only", default="rediscovery,throughput,optimum,parks")
    a = ap.parse_args()
    res = {}
    for part in a.only.split(","):
        t0 = time.perf_counter()
        res[part] = {"rediscovery": lambda: rediscovery(a.hours),
                     "throughput": lambda: throughput(a.hours, a.sizes, a.specialise),
                     "optimum": lambda: optimum(a.lp_hours), "parks": lambda: parks(a.hours)}[part]()
        res[part]["wall_s"] = time.perf_counter() - t0
        print(json.dumps({part: res[part]}, indent=1, default=str)[:6000], flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1, default=str)


if __name__ == "__main__":
    main()
