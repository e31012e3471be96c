"""Recall of matchmaking on documented exchanges: leave one park out, hide each exchange, rank.

For each park, the sector prior and the model's weights are learned from the other parks only
(the weights themselves leave one park out inside them). Every exchange of the held-out park is
hidden in turn and every other company of that park is ranked as its receiver (the other
documented receivers of the same output are left out of that turn). Reported: recall@1/3/10
and mean reciprocal rank (MRR) for AISYM, the sector co-occurrence baseline (receivers ranked by
how often their NACE division received from the giver's division in the other parks), AISYM's
learned sector prior alone (``prior``: no knowledge base, so nothing written from the same
papers as the exchanges can help it) and random
ordering (exact expectation), overall and per resource family, with 95 % bootstrap intervals
resampled over parks. Ties count as their expected rank under a random order.

    python benchmarks/bench_match_recall.py [EXCHANGES.csv] [--boot 1000] [--seed 0]

Any table with the columns of ``sim_env/match/data/exchanges.csv`` can be given.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim_env.match import corpus, ranking
from sim_env.match.prior import SectorPrior

KS = (1, 3, 10)


def expected(scores: np.ndarray, true: int) -> tuple[float, ...]:
    """Reciprocal rank and recall@k of ``true`` in expectation over a random order of ties."""
    b = int(np.sum(scores > scores[true]))
    t = int(np.sum(scores == scores[true]))
    ranks = np.arange(b + 1, b + t + 1)
    return (float(np.mean(1 / ranks)), *(float(np.mean(ranks <= k)) for k in KS))


def evaluate(xs: list[corpus.Exchange]) -> list[dict]:
    parks = ranking.companies(xs)
    rows = []
    for held in sorted(parks):
        train = [x for x in xs if x.park != held]
        if not train:
            continue
        model = ranking.fit(train)
        prior = SectorPrior(train)
        cooc = Counter((x.giver_nace[:2], x.receiver_nace[:2]) for x in train)
        for x in (x for x in xs if x.park == held and not x.rejected and x.receiver != x.giver):
            cands = ranking.candidates(x, parks[held], xs)
            names = [n for n, _ in cands]
            true = names.index(x.receiver)
            X = np.array([ranking.features(x.giver_nace, x.resource, c, prior) for _, c in cands])
            aisym = model.score(X)
            base = np.array([cooc[(x.giver_nace[:2], c[:2])] for _, c in cands], dtype=float)
            rnd = np.zeros(len(cands))
            rows.append({"park": held, "family": x.family, "n": len(cands), "aisym": expected(aisym, true),
                         "prior": expected(X[:, 1], true), "sector": expected(base, true),
                         "random": expected(rnd, true)})
    return rows


def table(rows: list[dict], boot: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    methods = ("aisym", "prior", "sector", "random")
    groups = {"all": rows}
    for fam in corpus.FAMILIES:
        groups[fam] = [r for r in rows if r["family"] == fam]
    lines = [f"{'family':<11} {'n':>4} {'method':<7} {'MRR':>18} {'R@1':>6} {'R@3':>6} {'R@10':>6}"]
    for g, rs in groups.items():
        if not rs:
            continue
        by_park = defaultdict(list)
        for r in rs:
            by_park[r["park"]].append(r)
        parks = sorted(by_park)
        for m in methods:
            v = np.array([r[m] for r in rs])
            mean = v.mean(axis=0)
            draws = []
            for _ in range(boot):
                pick = rng.choice(len(parks), len(parks))
                sample = [r[m] for i in pick for r in by_park[parks[i]]]
                draws.append(np.mean([s[0] for s in sample]))
            lo, hi = np.percentile(draws, [2.5, 97.5])
            lines.append(f"{g if m == 'aisym' else '':<11} {len(rs) if m == 'aisym' else '':>4} {m:<7} "
                         f"{mean[0]:5.2f} [{lo:4.2f}, {hi:4.2f}] {mean[1]:6.2f} {mean[2]:6.2f} {mean[3]:6.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exchanges", nargs="?", default=str(corpus.EXCHANGES))
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        xs = corpus.load(a.exchanges)
    except (corpus.CorpusError, OSError) as e:
        print(e, file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    rows = evaluate(xs)
    parks = len({x.park for x in xs})
    print(f"{len(xs)} exchanges in {parks} parks ({a.exchanges}); {len(rows)} ranked, "
          f"{np.mean([r['n'] for r in rows]):.1f} candidates each on average; "
          f"95 % intervals of MRR from {a.boot} resamples of parks; {time.perf_counter() - t0:.1f} s")
    print(table(rows, a.boot, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
