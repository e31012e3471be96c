"""Ranking a region's registry: every output of thousands of companies against every other company.

A synthetic region (seeded): companies drawn with the sectors of the documented exchanges and of
the knowledge base, each listing two outputs (an EWC code or a carrier that a known use names)
and two inputs, so a region of N companies lists 4 N outputs and inputs. Timed: fitting the model
on the documented exchanges (once per process), and ranking every output with the best 10 kept
(``receivers.rank_outputs(top=10)``; every company still gets its rank). The pairwise estimate
of amounts and money (``score.match``) is all pairs and is not part of this.

    python benchmarks/bench_match_region.py [--companies 1000 10000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aisym.park.graph.carriers import Carrier, Resource
from sim_env.match import corpus, knowledge, receivers
from sim_env.match.profiles import Flow, Profile


def region(n: int, seed: int) -> dict[str, Profile]:
    rng = np.random.default_rng(seed)
    xs = corpus.load()
    uses = knowledge.load()
    sectors = sorted({x.giver_nace for x in xs} | {x.receiver_nace for x in xs}
                     | {c for u in uses for c in u.receiver_nace if len(c) == 5})
    outputs = sorted({c.rstrip("*") for u in uses for c in u.ewc if len(c.replace(" ", "")) == 6}
                     | {u.resource.value for u in uses if u.resource})
    profiles = {}
    for i in range(n):
        cid = f"c{i}"
        p = Profile(cid, f"Company {i}", str(rng.choice(sectors)), "", None)
        for j, direction in enumerate(("output", "output", "input", "input")):
            r = str(rng.choice(outputs))
            carrier = Carrier(resource=Resource(r)) if r in Resource.__members__ else \
                Carrier(resource=Resource.material, ewc=r)
            p.flows.append(Flow(cid, f"f{j}", direction, carrier, "residue" if direction == "output" else "need"))
        profiles[cid] = p
    return profiles


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--companies", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    receivers.corpus_model()
    print(f"model fitted on the documented exchanges: {time.perf_counter() - t0:.1f} s (once per process)")
    # CPU seconds beside the wall clock: on shared cores the wall clock moves with the neighbours' load
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'companies':>9} {'listings':>8} {'outputs':>7} {'ranked pairs':>12} {'seconds':>7} {'CPU s':>6}")
    for n in a.companies:
        profiles = region(n, a.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        out = receivers.rank_outputs(profiles, top=10)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        pairs = sum(o.n_ranked for o in out)
        print(f"{n:>9,} {4 * n:>8,} {len(out):>7,} {pairs:>12,} {dt:>7.1f} {cpu:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
