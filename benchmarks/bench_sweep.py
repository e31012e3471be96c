"""Candidate exchanges simulated per minute, a year each, under the rules, through the batched kernel.

Candidates: every exchange of the park proposed again beside itself (a second pipe) at 8
capacities (25 % … 200 %), so each candidate can carry something and the LP stays feasible.
Prints, side by side in one run, candidate-years per wall minute and per CPU minute (this process
and its workers) for each ``--workers`` count (default 1 and 2: one process, then the rows shared
by two), and per minute of the critical path (this process's CPU and its busiest worker's: the wall
rate if each process had an idle core of its own), with the load average at the start of each run;
``--repeat`` alternates the counts again. With ``--fold``, the generated kernel on one process (its cold
compile for this park with every candidate, 10+ min on 2 busy cores, timed apart); and, with the
optimum, the re-solve time per candidate against a full rebuild and solve.

    .venv/bin/python benchmarks/bench_sweep.py [--park aisym/parks/kalundborg.yaml] [--workers 1,2] [--fold]
"""

from __future__ import annotations

import argparse
import copy
import os
import time

from rich.console import Console
from rich.table import Table

from sim_env.graph.sweep import Candidate, optimum_benefits, park_document, simulate
from sim_env.graph.sweep_workers import usable_cores

SCALES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)


def candidates_of(doc: dict) -> tuple[dict, list[Candidate]]:
    cands = []
    for e in doc["exchanges"]:
        for s in SCALES:
            cap = e.get("capacity")
            new = {k: v for k, v in e.items() if k not in ("id", "enabled", "meter_tag")}
            if isinstance(cap, (int, float)):
                new["capacity"] = cap * s
            elif isinstance(cap, str):
                num, _, unit = cap.partition(" ")
                new["capacity"] = f"{float(num) * s:g} {unit}".strip()
            cid = f"{e['id']}_x{int(s * 100)}"
            cands.append(Candidate(cid, [{**new, "id": cid}]))
    return copy.deepcopy(doc), cands


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--park", default="aisym/parks/kalundborg.yaml")
    ap.add_argument("--fold", action="store_true")
    ap.add_argument("--hours", type=float, default=8760.0)
    ap.add_argument("--workers", default="1,2", help="worker counts run side by side, comma separated")
    ap.add_argument("--repeat", type=int, default=1, help="run the counts this many times, alternating")
    ap.add_argument("--lp-hours", type=float, default=168.0)
    ap.add_argument("--lp-candidates", type=int, default=10, help="candidates re-solved by the optimum (0: none)")
    args = ap.parse_args()
    doc = park_document(args.park)
    off, cands = candidates_of(doc)
    console = Console(width=150)
    table = Table(title=f"{len(cands)} candidates on {args.park}, {args.hours:g} h each, rules, generic kernel, "
                        f"{usable_cores()} usable cores")
    for c in ("workers", "load at start", "wall s", "CPU s", "cand-years / wall min", "/ CPU min",
              "/ critical-path min", "goal"):
        table.add_column(c, justify="right")
    same = None
    for _ in range(args.repeat):
        for n in (int(w) for w in args.workers.split(",")):
            load = os.getloadavg()[0]
            _, out, t = simulate(off, cands, hours=args.hours, source=args.park, workers=n)
            figures = [(b.saved, b.totals) for b in out]
            same = figures if same is None else same
            years = len(cands) * args.hours / 8760
            table.add_row(str(t["workers"]), f"{load:.1f}", f"{t['seconds']:.1f}", f"{t['cpu_s']:.1f}",
                          f"{t['candidate_years_per_min']:,.0f}", f"{60 * years / t['cpu_s']:,.0f}",
                          f"{60 * years / t['critical_cpu_s']:,.0f}", "≥ 1,000 on 2 cores")
            if figures != same:  # the rows are independent: any split gives the same numbers, bit for bit
                raise SystemExit(f"workers={n} gave other figures than the first run: a bug")
    if args.fold:
        t0 = time.perf_counter()
        simulate(off, cands, hours=1.0, specialise="fold", source=args.park, workers=1)  # the cold compile of this park
        cold = time.perf_counter() - t0
        _, _, t = simulate(off, cands, hours=args.hours, specialise="fold", source=args.park, workers=1)
        table.add_row(f"1, fold (cold compile {cold:.0f} s apart)", f"{os.getloadavg()[0]:.1f}", f"{t['seconds']:.1f}",
                      f"{t['cpu_s']:.1f}", f"{t['candidate_years_per_min']:,.0f}",
                      f"{60 * len(cands) * args.hours / 8760 / t['cpu_s']:,.0f}", "", "≥ 1,000")
    console.print(table)
    console.print("every run gave the same benefits and totals, bit for bit")
    if args.lp_candidates < 1:  # the optimum's re-solves left out
        return
    sub = cands[: args.lp_candidates]
    t0 = time.perf_counter()
    _, timing = optimum_benefits(off, sub, hours=args.lp_hours, source=args.park)
    rebuild0 = time.perf_counter()
    from sim_env.graph.lp import Optimum
    from sim_env.graph.sweep import with_candidates

    cp, masks = with_candidates(off, sub[:1], args.park)
    opt = Optimum(cp, cp.exogenous(seed=0), round(args.lp_hours), relax=True, mask=masks[1])
    opt.solve()
    rebuild = time.perf_counter() - rebuild0
    lp = Table(title=f"optimum, {args.lp_hours:g} h LP relaxation, {len(sub)} candidates")
    for c in ("re-solve s / candidate", "rebuild + solve s", "ratio"):
        lp.add_column(c, justify="right")
    per = timing["resolve_s_per_candidate"]
    lp.add_row(f"{per:.3f}", f"{rebuild:.3f}", f"{rebuild / per:.1f}×")
    console.print(lp)
    console.print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
