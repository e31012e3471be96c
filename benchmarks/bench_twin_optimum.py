"""The year-long perfect-foresight optimum, and every baseline's annual optimality gap against it.

    python benchmarks/bench_twin_optimum.py [--hours 8760] [--skip-mpc]

Prints the MILP's size and wall time (dual simplex, HiGHS), the replay check (the schedule's
cost in the Numba twin against the MILP objective), the LP-relaxation time beside it, for the
shipped park (where upgrading beats the CHP, so the CHP binaries stay at 0) and for the park
without its upgrader (where they decide the schedule), and the annual KPIs and gaps of random,
rule-based and MPC control side by side.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description="year-long optimum benchmark")
    ap.add_argument("--hours", type=float, default=8760.0)
    ap.add_argument("--skip-mpc", action="store_true", help="MPC re-plans 1,460 times a year (about a minute or two)")
    args = ap.parse_args()

    from sim_env.baselines import make_strategy
    from sim_env.baselines.optimum import OptimumStrategy
    from sim_env.evaluate import evaluate
    from sim_env.scenario import load_scenario

    results = {}
    no_upgrader = load_scenario(Path(__file__).resolve().parents[1] / "sim_env/scenarios/no_upgrader.yaml").park
    for park, integer, label in (
        (None, True, "MILP"),
        (None, False, "LP relaxation"),
        (no_upgrader, True, "MILP, no upgrader"),
        (no_upgrader, False, "LP relax., no upgrader"),
    ):
        strategy = OptimumStrategy(integer=integer)
        t0 = time.perf_counter()
        res = evaluate(strategy, park, hours=args.hours)
        wall = time.perf_counter() - t0
        plan = strategy.plan
        gap = 100 * (res.kpis["objective_eur"] - plan.objective_eur) / abs(plan.objective_eur)
        print(
            f"{label:<24} {plan.n_vars:,} vars, {plan.n_rows:,} rows: solve {plan.seconds:6.2f} s, "
            f"profile+build+solve+replay {wall:6.2f} s (target < 60 s); objective {plan.objective_eur:,.0f} EUR, "
            f"twin replay {res.kpis['objective_eur']:,.0f} EUR ({gap:+.2e} %), {plan.status}, MIP gap {plan.mip_gap:.1e}"
        )
        if integer and park is None:
            results["optimum"] = res
    names = ["random", "rule"] + ([] if args.skip_mpc else ["mpc"])
    for name in names:
        t0 = time.perf_counter()
        results[name] = evaluate(make_strategy(name), hours=args.hours, progress=True)
        print(f"ran {name} over {args.hours:g} h in {time.perf_counter() - t0:.1f} s")
    best = results["optimum"]
    keys = ["objective_eur", "cost_eur", "co2_t", "fresh_water_m3", "heat_recovered_mwh", "unmet_heat_mwh", "o2_purchased_t",
            "resource_efficiency"]  # fmt: skip
    print(f"\n{'strategy':<10}" + "".join(f"{k:>20}" for k in keys) + f"{'gap %':>10}")
    for name, r in results.items():
        print(f"{name:<10}" + "".join(f"{r.kpis[k]:>20,.2f}" for k in keys) + f"{r.gap_to(best):>10.2f}")


if __name__ == "__main__":
    main()
