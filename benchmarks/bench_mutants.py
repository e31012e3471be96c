"""Mutation benchmark of the compiled twin's physics (issue 22, item 5): would the tests notice a
wrong formula?

Each mutant is one physically meaningful change to the kernel, the compiler or the LP (a loss
ignored, a limit dropped, two rates swapped, an order reversed, a cost forgotten), applied as a
source patch to a temporary copy of the packages. The physics tests (``tests/sim_env/physics``:
hand-calculated parks, bus balance, the LP's schedule replayed, masked = removed on generated parks; the shipped parks' masking
test is left out, 40 s without Numba) run against the copy with Numba off (the small parks
need no compile), and a mutant is killed when they
fail. Prints the mutation table and how many were killed; the goal is all of them.

``.venv/bin/python benchmarks/bench_mutants.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
K, C, L = "sim_env/graph/kernel.py", "sim_env/graph/compile.py", "sim_env/graph/lp.py"

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("kernel: exchange loss ignored when pulled", K,
     "        if y > 0.0:\n            _take_local(BI, NF, WB, WN, k, LS[e], y, dt)\n            WL[k, _FLOW, e] += y\n"
     "            got += y * keep", "        if y > 0.0:\n            _take_local(BI, NF, WB, WN, k, LS[e], y, dt)\n"
     "            WL[k, _FLOW, e] += y\n            got += y"),
    ("kernel: exchange loss ignored when pushed", K, "_deliver(BI, WB, WN, k, LD[e], y * keep)",
     "_deliver(BI, WB, WN, k, LD[e], y)"),
    ("kernel: exchange loss ignored for free residue", K,
     "            WB[k, _OFFER, b] += y * keep\n            got += y * keep",
     "            WB[k, _OFFER, b] += y\n            got += y"),
    ("kernel: exchange capacity ignored for free residue", K,
     "y = min((x - got) / keep, LF[e, L_CAP] * MASK[k, e] * dt - WL[k, _FLOW, e], WB[k, _OFFER, LS[e]])",
     "y = min((x - got) / keep, WB[k, _OFFER, LS[e]])"),
    ("kernel: market export limit ignored", K,
     "spill = max(0.0, exp_ - (NF[n, F_EXP_MAX] * dt if NV[n, V_EXPORT] >= 0 else 0.0))", "spill = 0.0"),
    ("kernel: export price ignored", K, "WN[k, _COST, n] -= exp_ * COEF[s, ti, NV[n, V_EXPORT]]",
     "WN[k, _COST, n] -= 0.0"),
    ("kernel: import price ignored", K, "WN[k, _COST, n] += net * COEF[s, ti, NV[n, V_IMPORT]]",
     "WN[k, _COST, n] += 0.0"),
    ("kernel: store charge limit ignored", K, "room = NF[n, F_MAX_CH] * dt - WN[k, _INP, n] - WN[k, _INC, n]",
     "room = math.inf"),
    ("kernel: store discharge limit ignored", K, "a = min(NF[st, F_MAX_DIS] * dt - WN[k, _OUT, st], ",
     "a = min(math.inf, "),
    ("kernel: charge and discharge rates swapped", K, "a = min(NF[st, F_MAX_DIS] * dt - WN[k, _OUT, st], ",
     "a = min(NF[st, F_MAX_CH] * dt - WN[k, _OUT, st], "),
    ("kernel: store standing loss ignored", K, "WN[k, _BACK, n] = lv * NF[n, F_LOSS] * dt", "WN[k, _BACK, n] = 0.0"),
    ("kernel: min load ignored", K, "    if x < p_min - _EPS:\n        return 0.0 if x < 0.5 * p_min else p_min",
     "    if x < 0.0:\n        return 0.0"),
    ("kernel: below min load always off", K, "return 0.0 if x < 0.5 * p_min else p_min", "return 0.0"),
    ("kernel: converter ratio ignored", K, "            WP[k, p] = COEF[s, ti, PV[p]] * L\n",
     "            WP[k, p] = L\n"),
    ("kernel: source surplus cost ignored", K, "WN[k, _COST, n] += left * COEF[s, ti, NV[n, V_COST]]",
     "WN[k, _COST, n] += 0.0"),
    ("kernel: backup cost ignored", K, "WN[k, _COST, n] += short * COEF[s, ti, cost_v]", "WN[k, _COST, n] += 0.0"),
    ("kernel: transport cost ignored", K, "cost += WL[k, _FLOW, e] * LF[e, L_COST]", "cost += 0.0"),
    ("kernel: purchase limit ignored", K, "a += max(NF[BI[b, B_PURCHASE], F_MAX] * dt - WB[k, _DRAWN, b], 0.0)",
     "a = math.inf"),
    ("kernel: inputs taken on demand do not bound the load (finding 1)", K,
     "elif PD[p] == 0 and PBC[p] < 0:  # taken on demand", "elif False:  # taken on demand"),
    ("kernel: a masked exchange still carries", K,
     "lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[k, _FLOW, e]\n        y = min(rest, lim,",
     "lim = LF[e, L_CAP] * dt - WL[k, _FLOW, e]\n        y = min(rest, lim,"),
    ("kernel: a dump asks a load-following unit for all it can make (finding 5)", K,
     "        L = min(_asked(NF, BI,", "        L = min(_accept(NF, BI,"),
    ("compile: a load-following unit runs before a must-run one on its header (finding 5)", C,
     "                    for o in self.planners[tb] + self.producers[tb] + given:",
     "                    for o in self.planners[tb] + self.producers[tb]:"),
    ("compile: a need takes free residue before a converter of higher priority (finding 9)", C,
     "if cp.LS[i] == src and i != j and cp.graph.links[i].priority < prio:", "if False:"),
    ("compile: exchange priority reversed", C, "key=lambda j: (links[j].priority, links[j].id)",
     "key=lambda j: (-links[j].priority, links[j].id)"),
    ("compile: free residue not taken first", C, "            cp.LPASS[j] = 2  #", "            cp.LPASS[j] = 0  #"),
    ("compile: loss read as capacity's share", C, "[[link.capacity, link.loss, link.cost]",
     "[[link.capacity * (1 - link.loss), 0.0, link.cost]"),
    ("lp: exchange loss ignored", L, "self._on_bus(cp.LD[e], c, 1.0 - cp.LF[e, L_LOSS], supply=True)",
     "self._on_bus(cp.LD[e], c, 1.0, supply=True)"),
    ("lp: transport cost ignored", L, "c = m.cols_(0.0, cp.LF[e, L_CAP] * self.mask[e] * dt, cp.LF[e, L_COST])",
     "c = m.cols_(0.0, cp.LF[e, L_CAP] * self.mask[e] * dt, 0.0)"),
    ("lp: min-load row dropped", L, "            m.put(r, u, p_min)\n", "            m.put(r, u, 0.0)\n"),
    ("lp: store standing loss ignored", L, "keep = 1.0 - NF[n, F_LOSS] * dt", "keep = 1.0"),
    ("lp: store charge limit ignored", L, "ch = m.cols_(0.0, NF[n, F_MAX_CH] * dt)", "ch = m.cols_(0.0, INF)"),
    ("lp: store discharge limit ignored", L, "dis = m.cols_(0.0, INF if rel > 0.0 else NF[n, F_MAX_DIS] * dt)",
     "dis = m.cols_(0.0, INF)"),
    ("lp: export limit ignored", L, "exp_hi = NF[n, F_EXP_MAX] * dt if NV[n, V_EXPORT] >= 0 else 0.0",
     "exp_hi = INF if NV[n, V_EXPORT] >= 0 else 0.0"),
    ("lp: demand backup cost ignored", L, "bk = m.cols_(0.0, d, self._c(NV[n, V_COST]) + co2)",
     "bk = m.cols_(0.0, d, 0.0)"),
    ("lp: source surplus cost ignored", L, "s = m.cols_(0.0, INF, self._c(NV[n, V_COST]) + co2)",
     "s = m.cols_(0.0, INF, 0.0)"),
    ("lp: converter ratio ignored", L, "coefL[p], coefU[p] = self.C[:, cp.PV[p]].copy(), np.zeros(T)",
     "coefL[p], coefU[p] = np.ones(T), np.zeros(T)"),
    ("kernel: value of lost load ignored (finding 4)", K, "WN[k, _COST, n] += short * COEF[s, ti, voll_v]",
     "WN[k, _COST, n] += 0.0"),
    ("kernel: import limit not binding (finding 4)", K,
     "a += max(NF[m, F_IMP_MAX] * dt - WB[k, _DRAWN, b] + WB[k, _GIVEN, b], 0.0)", "a = math.inf"),
    ("lp: value of lost load ignored (finding 4)", L, "lost = m.cols_(0.0, d, self.C[:, cp.BI[b, B_VOLL]])",
     "lost = m.cols_(0.0, d, 0.0)"),
    ("lp: import limit ignored", L, "imp_hi = NF[n, F_IMP_MAX] * dt if NV[n, V_IMPORT] >= 0 else 0.0",
     "imp_hi = INF if NV[n, V_IMPORT] >= 0 else 0.0"),
    ("kernel: heat passing a store's bus enters the store first (finding 3)", K,
     "        if LPASS[e] == 0 or got >= x:", "        if LPASS[e] != 2 or got >= x:"),
    ("kernel: a push onto a store's bus enters the store first (finding 3)", K,
     "o = min(x, max(WB[k, _NEED, b] - WB[k, _OFFER, b], 0.0))", "o = 0.0"),
    ("compile: a store takes its inflow before the need on its bus (finding 3)", C,
     "            if cp.LPASS[j] == 1:  # into a store's bus", "            if False:  # into a store's bus"),
]


def _copy(dst: Path) -> None:
    for d in ("aisym", "sim_env"):
        shutil.copytree(ROOT / d, dst / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for f in ("tests/__init__.py", "tests/sim_env/__init__.py"):
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f, dst / f)
    shutil.copytree(ROOT / "tests/sim_env/physics", dst / "tests/sim_env/physics",
                    ignore=shutil.ignore_patterns("__pycache__"))


def _run(tree: Path, timeout: float) -> tuple[bool, str]:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--noconftest", "-p", "no:cacheprovider",
                            "tests/sim_env/physics/test_hand_parks.py", "tests/sim_env/physics/test_mask.py",
                            "-k", "not shipped"], cwd=tree, env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return True, "timed out (counted as killed)"
    last = (r.stdout.strip().splitlines() or [""])[-1]
    failed = [ln.split("::")[-1].split(" ")[0] for ln in r.stdout.splitlines() if ln.startswith("FAILED")]
    return r.returncode != 0, (failed[0] if failed else last)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated substrings of mutant names")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--timeout", type=float, default=600.0)
    a = ap.parse_args()
    chosen = [m for m in MUTANTS if not a.only or any(s in m[0] for s in a.only.split(","))]
    if a.list:
        print("\n".join(m[0] for m in chosen))
        return
    for name, f, old, _ in chosen:  # every patch must still apply to today's source
        n = (ROOT / f).read_text(encoding="utf-8").count(old)
        if n != 1:
            sys.exit(f"{f}: mutant '{name}': its text occurs {n} times (expected once); update bench_mutants.py")
    with tempfile.TemporaryDirectory(prefix="aisym-mutants-") as tmp:
        tree = Path(tmp)
        _copy(tree)
        t0 = time.perf_counter()
        ok, why = _run(tree, a.timeout)
        print(f"unmutated: {'tests FAIL: ' + why if ok else 'tests pass'} ({time.perf_counter() - t0:.0f} s)")
        if ok:
            sys.exit("the physics tests fail without any mutant: fix them first")
        killed = 0
        print(f"{'mutant':86s} {'killed':7s} by")
        for name, f, old, new in chosen:
            path = tree / f
            src = path.read_text(encoding="utf-8")
            path.write_text(src.replace(old, new), encoding="utf-8")
            try:
                dead, why = _run(tree, a.timeout)
            finally:
                path.write_text(src, encoding="utf-8")
            killed += dead
            print(f"{name:86s} {'yes' if dead else 'NO':7s} {why if dead else ''}", flush=True)
        print(f"\nkilled {killed} of {len(chosen)} mutants ({100 * killed / max(len(chosen), 1):.0f} %)")


if __name__ == "__main__":
    main()
