"""Rules, MPC and random against the perfect-foresight optimum on both shipped parks, held-out years.

Every strategy runs through the one harness of the compiled twin (sim_env/graph/evaluate.py);
the optimum is the MILP of the whole year replayed in the twin. Prints a table per park and
writes the leaderboard (CSV, Markdown, PNG) under runs/bench_graph/<park>/.

    .venv/bin/python benchmarks/bench_graph_baselines.py [--years 2] [--hours 8760] [--no-mpc]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from sim_env.graph.bench import bench_any_park
from sim_env.rl.envs import BENCH_SEEDS

PARKS = ("aisym/parks/kraakoya.yaml", "aisym/parks/kalundborg.yaml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--hours", type=float, default=8760.0)
    ap.add_argument("--no-mpc", action="store_true")
    ap.add_argument("--park", action="append")
    args = ap.parse_args()
    console = Console()
    strategies = ["random", "rule"] + ([] if args.no_mpc else ["mpc"])
    for park in args.park or PARKS:
        t0 = time.perf_counter()
        files = bench_any_park(Path(park), strategies, ["base"], BENCH_SEEDS[: args.years], args.hours,
                               Path("runs/bench_graph") / Path(park).stem, console)
        console.print(f"{park}: {time.perf_counter() - t0:.0f} s; wrote {files['markdown']}")


if __name__ == "__main__":
    main()
