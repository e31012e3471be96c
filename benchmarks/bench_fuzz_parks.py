"""Random parks no one wrote, checked the way the hand parks are.

    python benchmarks/bench_fuzz_parks.py [--seeds 0:240] [--steps 48] [--show]

Each seed builds a v2 park of four to nine assets: markets (import always, export, import and
export limits at random), purchases of chips, sources of heat, steam or electricity with a costed
surplus, demands with or without a backup, stores of heat or chips (losses, rates, start levels at
random), converters of every control (setpoint with or without a min load, must_run, follow_output,
follow_input) with one or two inputs and one or two outputs, dumps beside some outputs, and
exchanges between ports of one carrier (capacity, loss, priority, transport cost at random). A port
no exchange reaches gets one, or a market, purchase or dump beside it, so most parks are valid.

For each park: it compiles, or is refused with a ``file:line: field: why`` message (counted by
message); ``--steps`` hours of random actions keep every bus in balance (``balance.run_balanced``,
1e-9); the optimum over those hours solves; and it is at or below the kernel's cost of its own
schedule and of three constant schedules (all off, half, all on). Anything else is printed with
its seed; ``--show`` prints a seed's park as YAML.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEAT = {"resource": "heat", "temperature_c": 80}
STEAM = {"resource": "heat", "temperature_c": 180}
CARRIERS = {"el": "electricity", "heat": HEAT, "steam": STEAM, "chips": "biomass"}


def random_park(seed: int) -> dict:
    """The park of ``seed`` (plain data, as a user writes it)."""
    rng = np.random.default_rng(seed)
    comps: list[tuple[str, list[dict]]] = []
    ports: dict[str, dict[str, list[str]]] = {c: {"give": [], "take": []} for c in CARRIERS}

    def u(a: float, b: float) -> float:
        return float(np.round(rng.uniform(a, b), 3))

    def pick(options: list[str], size: int | None = None):
        if size is None:
            return str(rng.choice(options))
        return [str(x) for x in rng.choice(options, size=size, replace=False)]

    for i in range(int(rng.integers(4, 10))):
        kind = pick(["market", "purchase", "source", "demand", "store", "conv", "conv", "conv"])
        aid = f"{kind}{i}"
        if kind == "market":
            m = {"type": "market", "id": "el", "carrier": "electricity", "import_price": u(0.1, 1.0)}
            if rng.random() < 0.5:
                m["export_price"] = u(0.0, 0.3)
            if rng.random() < 0.4:
                m["import_max"] = u(5, 50)
            if rng.random() < 0.4 and "export_price" in m:
                m["export_max"] = u(5, 50)
            comps.append((aid, [m]))
            ports["el"]["give"].append(f"{aid}.el")
            if "export_price" in m:
                ports["el"]["take"].append(f"{aid}.el")
        elif kind == "purchase":
            comps.append((aid, [{"type": "source", "id": "chips", "carrier": "biomass", "price": u(0.1, 1),
                                 "max": u(5, 60)}]))
            ports["chips"]["give"].append(f"{aid}.chips")
        elif kind == "source":
            c = pick(["heat", "steam", "el"])
            comps.append((aid, [{"type": "source", "id": c, "carrier": CARRIERS[c], "profile": u(1, 30),
                                 "surplus": {"cost": u(0, 0.2)}}]))
            ports[c]["give"].append(f"{aid}.{c}")
        elif kind == "demand":
            c = pick(["heat", "steam", "el", "chips"])
            d = {"type": "demand", "id": c, "carrier": CARRIERS[c], "profile": u(1, 30)}
            if rng.random() < 0.7:
                d["backup"] = {"cost": u(0.5, 3)}
            comps.append((aid, [d]))
            ports[c]["take"].append(f"{aid}.{c}")
        elif kind == "store":
            c = pick(["heat", "chips"])
            comps.append((aid, [{"type": "storage", "id": c, "carrier": CARRIERS[c], "capacity": u(10, 200),
                                 "max_charge": u(1, 20), "max_discharge": u(1, 20), "loss": u(0, 0.05),
                                 "initial": u(0, 1), "end": {"rule": "free"}}]))
            ports[c]["give"].append(f"{aid}.{c}")
            ports[c]["take"].append(f"{aid}.{c}")
        else:
            comps.append((aid, _converter(rng, pick, u, ports, aid)))
    _join(rng, u, comps, ports, exchanges := [])
    return {"schema_version": 2, "park": {"id": f"fuzz{seed}", "name": "fuzz", "currency": "DKK"},
            "companies": [{"id": a, "name": a, "assets": [{"id": a, "components": cs}]} for a, cs in comps],
            "exchanges": exchanges}


def _converter(rng, pick, u, ports: dict, aid: str) -> list[dict]:
    ins = pick(["el", "chips", "steam"], int(rng.integers(1, 3)))
    outs = [c for c in pick(["heat", "steam", "el"], int(rng.integers(1, 3))) if c not in ins] or \
        (["heat"] if "heat" not in ins else ["el"])
    ctrl = pick(["setpoint", "follow_output", "must_run", "follow_input"])
    ref = ins[0] if ctrl == "follow_input" else outs[0]
    conv = {"type": "converter", "id": "unit", "control": ctrl, "reference": ref, "rated": u(5, 40),
            "inputs": {c: {"carrier": CARRIERS[c]} if c == ref else {"carrier": CARRIERS[c], "ratio": u(0.3, 1.5)}
                       for c in ins},
            "outputs": {c: {"carrier": CARRIERS[c]} if c == ref else {"carrier": CARRIERS[c], "ratio": u(0.2, 0.9)}
                        for c in outs}}
    if ctrl == "setpoint" and rng.random() < 0.5:
        conv["min_load"] = u(0.1, 0.6)
    for c in ins:
        if c != "steam" and rng.random() < 0.3:
            conv["inputs"][c]["backup"] = {"cost": u(1, 3)}
    out = [conv]
    if rng.random() < 0.4:
        out.append({"type": "disposal", "id": "dump", "port": outs[-1], "carrier": CARRIERS[outs[-1]],
                    "cost": u(0, 0.05)})
    for c in ins:
        ports[c]["take"].append(f"{aid}.{c}")
    for c in outs:
        ports[c]["give"].append(f"{aid}.{c}")
    return out


def _join(rng, u, comps: list, ports: dict, exchanges: list) -> None:
    """Random exchanges, then one for every port left alone (or a supply or dump beside it)."""
    def link(a: str, b: str, **more) -> None:
        exchanges.append({"id": f"x{len(exchanges)}", "from": a, "to": b, "capacity": u(2, 40), **more})

    for p in ports.values():
        for g in p["give"]:
            for t in p["take"]:
                if g.split(".")[0] != t.split(".")[0] and rng.random() < 0.5:
                    link(g, t, loss=u(0, 0.1), priority=int(rng.integers(0, 3)), transport_cost=u(0, 0.05))
    of = dict(comps)
    for c, p in ports.items():
        for t in p["take"]:
            if any(x["to"] == t for x in exchanges):
                continue
            givers = [g for g in p["give"] if g.split(".")[0] != t.split(".")[0]]
            if not givers:
                aid = f"supply_{c}_{len(comps)}"
                comps.append((aid, [{"type": "market", "id": c, "carrier": CARRIERS[c], "import_price": u(0.5, 2)}]
                              if c == "el" else [{"type": "source", "id": c, "carrier": CARRIERS[c],
                                                  "price": u(0.2, 2), "max": u(5, 60)}]))
                givers = [f"{aid}.{c}"]
            link(givers[0], t)
        for g in p["give"]:
            if any(x["from"] == g for x in exchanges):
                continue
            takers = [t for t in p["take"] if t.split(".")[0] != g.split(".")[0]]
            aid, port = g.split(".")
            if takers:
                link(g, takers[0])
            elif of[aid][0]["type"] == "converter" and not any(x.get("port") == port for x in of[aid][1:]):
                of[aid].append({"type": "disposal", "id": f"dump_{port}", "port": port, "carrier": CARRIERS[c],
                                "cost": u(0, 0.05)})


def check(seed: int, steps: int) -> tuple[str, str]:
    """``(outcome, detail)``: outcome one of refused, ok, unchecked, imbalance, not_lower, error."""
    from aisym.park.graph import parse_graph
    from sim_env.graph.balance import run_balanced
    from sim_env.graph.compile import compile_park
    from sim_env.graph.kernel import Y_CARBON, Y_COST, Batch
    from sim_env.graph.lp import Optimum

    src = yaml.safe_dump(random_park(seed), sort_keys=False)
    try:
        cp = compile_park(parse_graph(src, f"fuzz{seed}.yaml"))
    except ValueError as ex:  # ParkError and CompileError are ValueErrors: a refusal naming file, line, field
        return "refused", str(ex).split(":", 2)[-1].strip()[:80]
    coef = cp.exogenous(seed=0)
    A = np.random.default_rng(seed).random((steps, cp.n_actions))
    try:
        worst = run_balanced(cp, coef, A)[0]
    except ValueError as ex:  # a park the balance check cannot read back from the outputs alone
        return "unchecked", str(ex)[:120]
    if worst > 1e-9:
        return "imbalance", f"worst unexplained imbalance {worst:.3g}"
    sol = Optimum(cp, coef, steps).solve(time_limit_s=60)

    def replay(acts: np.ndarray) -> float:
        b = Batch(cp, coef, 1)
        return sum(float(y[Y_COST] + y[Y_CARBON]) for y in (b.step(a[None])[0] for a in acts))

    best = min([replay(sol.actions)] + [replay(np.full((steps, cp.n_actions), c)) for c in (0.0, 0.5, 1.0)])
    if sol.objective > best + 1e-7 * max(abs(best), 1.0):
        return "not_lower", f"optimum {sol.objective:.8g} above a schedule's {best:.8g}"
    return "ok", ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0:240", help="first:last (default 0:240)")
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--show", type=int, help="print this seed's park and stop")
    args = ap.parse_args()
    if args.show is not None:
        print(yaml.safe_dump(random_park(args.show), sort_keys=False))
        return
    warnings.simplefilter("ignore")  # the optimum's notes on end rules are not findings here
    lo, hi = (int(x) for x in args.seeds.split(":"))
    outcomes: Counter = Counter()
    refusals: Counter = Counter()
    for seed in tqdm(range(lo, hi), desc="parks", unit="park"):
        try:
            outcome, detail = check(seed, args.steps)
        except Exception as ex:  # any other failure is a finding, printed with its seed
            outcome, detail = "error", f"{type(ex).__name__}: {ex}"[:300] + "\n" + traceback.format_exc(limit=4)
        outcomes[outcome] += 1
        if outcome == "refused":
            refusals[detail] += 1
        elif outcome not in ("ok",):
            tqdm.write(f"seed {seed}: {outcome}: {detail}")
    print(f"\n{hi - lo} parks, {args.steps} h each: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    for msg, n in refusals.most_common(8):
        print(f"  refused {n:3d}: {msg}")


if __name__ == "__main__":
    main()
