"""Build and solve times of the perfect-foresight optimum built from the compiled park arrays.

    python benchmarks/bench_graph_lp.py [--no-year] [--no-milp] [--time-limit S]
    python benchmarks/bench_graph_lp.py --goals [--threads N] [--progress]

``--goals`` runs only the year optimum (the MILP with the park's rules,
:class:`~sim_env.graph.baselines.GraphOptimum`'s gap) as ``twin run --strategy optimum`` solves
it (``primal_only``) and as ``aisym bench`` does (which then asks the stores' end prices), both
started from windows' bases (:mod:`sim_env.graph.lp_windows`, the default), and, side by side,
as before, from HiGHS's own start (``windows=0``: ``primal_only``'s LP through the MIP solver, and
the bench's LP with its end prices unless ``--no-cold-bench``, about a minute on Kalundborg). It
prints CPU and wall seconds beside the load average, issue 22's goals (Kråkøya ≤ 5 s, Kalundborg
≤ 30 s on 2 cores) and each objective's difference from the first; ``--progress`` prints the
solver's progress lines as they come.

Prints, in one run, for Kråkøya and the Kalundborg-like park: the model's size, build and solve
times for a week and a year (LP relaxation, MILP, and MILP with the park's rules: must-run and
follow-input converters run as the kernel runs them), the kernel's cost of the LP's actions
replayed against the LP objective, and a re-solve after one exchange's capacity goes to 0
against a rebuild with that exchange off and a fresh solve, as a ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# the exchange each park's re-solve switches off
EDGE = {"kraakoya": "electrolyser_heat_to_store", "kalundborg": "effluent_heat_to_heat_pump"}


def _parks():
    from aisym.park.graph import load_graph
    from sim_env.graph.compile import compile_park

    return {"kraakoya": compile_park(load_graph()),
            "kalundborg": compile_park(load_graph(ROOT / "aisym" / "parks" / "kalundborg.yaml"))}


def _replay(cp, coef, A: np.ndarray) -> float:
    from sim_env.graph.kernel import Y_CARBON, Y_COST, Batch

    b = Batch(cp, coef, 1)
    total = 0.0
    for a in A:
        Y = b.step(a[None])[0]
        total += Y[Y_COST] + Y[Y_CARBON]
    return total


def _row(name: str, label: str, opt, sol, replayed: float | None) -> None:
    rep = "" if replayed is None else (f"  replayed {replayed:14.6g} "
                                       f"({100 * (replayed - sol.objective) / max(abs(replayed), 1e-9):+.4f} %)")
    print(f"{name:11s} {label:16s} {opt.n_cols:8d} cols {opt.n_rows:8d} rows {opt.nnz:9d} nnz  "
          f"build {opt.build_s:7.3f} s  solve {sol.solve_s:8.3f} s  total {opt.build_s + sol.solve_s:8.3f} s  "
          f"objective {sol.objective:14.6g} {sol.status}{rep}")


GOALS_S = {"kraakoya": 5.0, "kalundborg": 30.0}  # issue 22, item 7: the year's MILP on 2 cores


def goals(parks: dict, threads: int, time_limit: float, progress: bool, cold_bench: bool = True) -> None:
    """The year optimum of each park: build and solve, CPU and wall seconds, against the goals."""
    import os

    from sim_env.graph.baselines import GraphOptimum
    from sim_env.graph.lp import Optimum

    gap = GraphOptimum().mip_rel_gap
    for name, cp in parks.items():
        coef = cp.exogenous(seed=0)
        first = None
        ways = [("twin run", True, None), ("bench", False, None), ("twin run, cold", True, 0)]
        ways += [("bench, cold", False, 0)] if cold_bench else []
        for how, primal_only, windows in ways:
            load0 = os.getloadavg()[0]
            c0, w0 = time.process_time(), time.perf_counter()
            opt = Optimum(cp, coef, 8760, rules=True, mip_rel_gap=gap, threads=threads, primal_only=primal_only,
                          windows=windows)
            c1 = time.process_time()
            say = (lambda line, name=name: print(f"  {name}: {line}", flush=True)) if progress else None
            sol = opt.solve(time_limit_s=time_limit, progress=say)
            c2, w2 = time.process_time(), time.perf_counter()
            cpu, wall = c2 - c0, w2 - w0
            ends = ""
            if not primal_only:  # the bench's end prices, after the solve
                opt.end_values()
                ends = f"  + end prices {time.process_time() - c2:5.1f} CPU s"
            first = sol.objective if first is None else first
            print(f"{name:11s} year MILP+rules ({how:14s}) {opt.n_cols:8d} cols {opt.n_rows:8d} rows "
                  f"{int(opt.integer.sum()):6d} integer  build {c1 - c0:5.1f} CPU s  solve {c2 - c1:6.1f} CPU s  "
                  f"total {cpu:6.1f} CPU s / {wall:6.1f} s wall  goal {GOALS_S[name]:4.0f} s: "
                  f"{'met' if cpu <= GOALS_S[name] else 'MISSED'} (CPU)  objective {sol.objective:.10g} "
                  f"(rel. diff {abs(sol.objective - first) / abs(first):.1e})  MIP gap {sol.mip_gap:.1e} "
                  f"(asked {gap:g})  {sol.status}  threads {threads}  load {load0:.1f}-{os.getloadavg()[0]:.1f}{ends}",
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-year", action="store_true", help="weeks only")
    ap.add_argument("--no-milp", action="store_true", help="LP relaxation only")
    ap.add_argument("--time-limit", type=float, default=300.0, help="HiGHS time limit per solve, s")
    ap.add_argument("--goals", action="store_true", help="only the year optimum, timed against issue 22's goals")
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads (--goals)")
    ap.add_argument("--progress", action="store_true", help="the solver's progress lines (--goals)")
    ap.add_argument("--parks", default="kraakoya,kalundborg", help="comma-separated parks")
    ap.add_argument("--no-cold-bench", action="store_true", help="--goals without the bench's LP from a cold start")
    args = ap.parse_args()
    from sim_env.graph.lp import Optimum

    parks = {k: v for k, v in _parks().items() if k in args.parks.split(",")}
    if args.goals:
        goals(parks, args.threads, args.time_limit, args.progress, not args.no_cold_bench)
        return
    horizons = [("week", 24 * 7)] + ([] if args.no_year else [("year", 8760)])
    for name, cp in parks.items():
        coef = cp.exogenous(seed=0)
        for hname, T in horizons:
            kinds = [(True, False), (False, False), (False, True)] if not args.no_milp else [(True, False), (True, True)]
            for relax, rules in kinds:
                opt = Optimum(cp, coef, T, relax=relax, rules=rules)
                sol = opt.solve(time_limit_s=args.time_limit)
                label = f"{hname}-{'LP' if relax else 'MILP'}{'+rules' if rules else ''}"
                _row(name, label, opt, sol, _replay(cp, coef, sol.actions))
        # re-solve after switching one exchange off vs a rebuild and a fresh solve
        e = EDGE[name]
        T = 24 * 7
        opt = Optimum(cp, coef, T, relax=True)
        opt.solve()
        t0 = time.perf_counter()
        opt.set_capacity(e, 0.0)
        a = opt.solve().objective
        t_re = time.perf_counter() - t0
        mask = cp.LE.copy()
        mask[cp.link_ids.index(e)] = 0.0
        t0 = time.perf_counter()
        b = Optimum(cp, coef, T, relax=True, mask=mask).solve().objective
        t_new = time.perf_counter() - t0
        print(f"{name:11s} week-LP          {e} off: re-solve {t_re * 1e3:8.1f} ms  rebuild + solve {t_new * 1e3:8.1f} ms  "
              f"ratio {t_new / t_re:5.1f}x  objectives {a:.10g} / {b:.10g} (rel {abs(a - b) / max(abs(b), 1e-9):.1e})")


if __name__ == "__main__":
    main()
