"""Trained policies of the compiled twin against the rules and the optimum, on held-out full years.

Every strategy runs through the compiled twin's one harness (sim_env/graph/evaluate.py) on the
years BENCH_SEEDS (never seen in training); the optimum is the year's MILP replayed in the twin.
A policy is a shipped name (``kraakoya_ppo``), an export folder or a run folder of
``aisym train --env aisym/Park-v1``. The optimum's objectives are kept in
runs/bench_rl_graph/<park>_optimum.json (delete it after changing the park or the kernel).

    .venv/bin/python benchmarks/bench_rl_graph.py --park aisym/parks/kraakoya.yaml \\
        --policy ppo=kraakoya_ppo --policy run=runs/kk-res --years 2

``--checkpoints RUN`` instead ranks a run's checkpoints by their full-year cost on the
evaluation year (EVAL_SEED, held out from training and apart from BENCH_SEEDS), which is how
the shipped policy was chosen; each checkpoint is written as a run folder RUN-<steps> that
``aisym export`` and ``--policy`` take.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sim_env.graph.baselines import make_graph_strategy
from sim_env.graph.evaluate import evaluate
from sim_env.graph.twin import resolve
from sim_env.rl.envs import BENCH_SEEDS, EVAL_SEED
from sim_env.rl.strategy import GraphPolicyStrategy


def optimum_objective(cp, park: Path, seed: int, hours: float) -> float:
    """The optimum's objective of one held-out year, solved once and kept in a JSON file."""
    cache = Path("runs/bench_rl_graph") / f"{park.stem}_optimum.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(cache.read_text()) if cache.exists() else {}
    key = f"{seed}:{hours:g}"
    if key not in known:
        known[key] = evaluate(make_graph_strategy("optimum"), cp, hours=hours, exo_seed=seed).objective
        cache.write_text(json.dumps(known, indent=1))
    return known[key]


def checkpoint_runs(run: Path) -> list[Path]:
    """Each checkpoint of ``run`` as a run folder ``<run>-<steps>`` (config, model, its VecNormalize)."""
    import re
    import shutil

    out = []
    for zip_ in sorted((run / "checkpoints").glob("model_*_steps.zip"), key=lambda p: int(re.findall(r"\d+", p.name)[0])):
        steps = re.findall(r"\d+", zip_.name)[0]
        folder = run.parent / f"{run.name}-{steps}"
        folder.mkdir(exist_ok=True)
        shutil.copy(run / "config.yml", folder / "config.yml")
        shutil.copy(zip_, folder / "model.zip")
        stats = run / "checkpoints" / f"model_vecnormalize_{steps}_steps.pkl"
        if stats.exists():
            shutil.copy(stats, folder / "vecnormalize.pkl")
        out.append(folder)
    return out


def rank_checkpoints(run: Path, cp, specialise: str | None) -> None:
    """Print each checkpoint's and the rules' full-year objective on the evaluation year, best first."""
    rows = [("rule", evaluate(make_graph_strategy("rule"), cp, hours=8760.0, exo_seed=EVAL_SEED,
                              specialise=specialise).objective)]
    for folder in checkpoint_runs(run):
        r = evaluate(GraphPolicyStrategy(folder), cp, hours=8760.0, exo_seed=EVAL_SEED, specialise=specialise)
        rows.append((str(folder), r.objective))
        print(f"{folder}: {r.objective:,.0f} on year {EVAL_SEED}", flush=True)
    print(f"ranked on year {EVAL_SEED}:")
    for name, objective in sorted(rows, key=lambda r: r[1]):
        print(f"  {objective:>14,.0f}  {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--park", default="aisym/parks/kraakoya.yaml")
    ap.add_argument("--policy", action="append", default=[], help="NAME=FOLDER_OR_SHIPPED_NAME (repeat)")
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--hours", type=float, default=8760.0)
    ap.add_argument("--no-rule", action="store_true")
    ap.add_argument("--generic", action="store_true", help="step the generic kernel (no 1-3 min cold compile per park)")
    ap.add_argument("--checkpoints", type=Path, help="rank this run's checkpoints on the evaluation year instead")
    args = ap.parse_args()
    park = Path(args.park)
    cp = resolve(park)
    if args.checkpoints:
        rank_checkpoints(args.checkpoints, cp, None if args.generic else "fold")
        return
    strategies = [] if args.no_rule else [("rule", lambda: make_graph_strategy("rule"))]
    for spec in args.policy:
        name, _, folder = spec.partition("=")
        strategies.append((name, lambda folder=folder or name, name=name: GraphPolicyStrategy(folder, name)))
    print(f"{park}: {args.years} held-out years of {args.hours:g} h; gap to the optimum of the same year")
    print(f"{'year':>5} {'strategy':>12} {'objective':>14} {'gap %':>8} {'wall s':>7}")
    gaps: dict[str, list[float]] = {}
    for seed in BENCH_SEEDS[: args.years]:
        t0 = time.perf_counter()
        best = optimum_objective(cp, park, seed, args.hours)
        print(f"{seed:>5} {'optimum':>12} {best:>14,.0f} {0.0:>8.2f} {time.perf_counter() - t0:>7.1f}", flush=True)
        for name, factory in strategies:
            r = evaluate(factory(), cp, hours=args.hours, exo_seed=seed, specialise=None if args.generic else "fold")
            gap = 100.0 * (r.objective - best) / max(abs(best), 1e-9)
            gaps.setdefault(name, []).append(gap)
            print(f"{seed:>5} {name:>12} {r.objective:>14,.0f} {gap:>8.2f} {r.seconds:>7.1f}", flush=True)
    for name, g in gaps.items():
        print(f"mean gap {name}: {sum(g) / len(g):.2f} % over years {', '.join(map(str, BENCH_SEEDS[: args.years]))}")


if __name__ == "__main__":
    main()
