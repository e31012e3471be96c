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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

K, C, L = "sim_env/graph/kernel.py", "sim_env/graph/compile.py", "sim_env/graph/lp.py"
S = "sim_env/graph/schedule.py"

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
    ("kernel: a converter cut back by a full store keeps its lost input", K, "back = min(d, Y[k, j])",
     "back = 0.0"),
    ("kernel: a store's overflow vanishes at its capacity, unreported", K, "WB[k, _OFFER, b] += level - cap",
     "WB[k, _OFFER, b] += 0.0"),
    ("kernel: a store's level is set at its own close: inputs given back to it later vanish", K,
     "                WN[k, _OUT, BI[src, B_STORE]] -= r / keep", "                pass"),
    ("kernel: a store overfilled by inputs given back after its close does not close again", K,
     "                if _overfull(NF, WN, k0, k1, n):", "                if False:"),
    ("kernel: stores close again in one pass only (a chain of stores up the supply left over)", K,
     "        if not again:\n            break", "        break"),
    ("kernel: a unit overfilling a store is cut by all it pushed anywhere, not what it sent there", K,
     "            if LD[BOUT_LINK[j]] == b:\n                sent += WL[k, _FLOW, BOUT_LINK[j]]",
     "            if LD[BOUT_LINK[j]] == b:\n                sent += WP[k, p] * dt"),
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
     "    if BI[b, B_DISPOSAL] >= 0 and BI[b, B_MARKET] < 0:\n        a = max(", "    if False:\n        a = max("),
    ("schedule: a load-following unit runs before a must-run one on its header (finding 5)", S,
     "                    for o in self.planners[tb] + self.producers[tb] + given:",
     "                    for o in self.planners[tb] + self.producers[tb]:"),
    ("schedule: a need takes free residue before a converter of higher priority (finding 9)", S,
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
    ("compile: a load-following unit missing from its bus's follower table (issue 22 item 6)", C,
     "        if cp.NI[n, I_CONTROL] == C_FOLLOW_OUTPUT:\n            fo[", "        if False:\n            fo["),
    ("schedule: a store takes its inflow before the need on its bus (finding 3)", S,
     "            if cp.LPASS[j] == 1:  # into a store's bus", "            if False:  # into a store's bus"),
    # loops resolved within the step (issue 22 item 3: tests/sim_env/physics/test_loops.py)
    ("kernel: a park's loops never run (LOOPS passed as None, the loop-free kernel)", K,
     "self._loops = len(cp.loops) if cp.loops else None", "self._loops = None"),
    ("kernel: a loop runs one pass only (item 3)", K, "        if p > 0 and worst <= LOOP_TOL:",
     "        if True:"),
    ("kernel: a loop stops after two passes, its convergence untested (item 3)", K,
     "        if p > 0 and worst <= LOOP_TOL:", "        if p > 0:"),
    ("kernel: a loop's snapshot not restored between passes (item 3)", K,
     "                _walk(WB, WN, WL, WP, Y, WQ, k, snap, snap, 3)\n", "                pass\n"),
    ("kernel: an op of a loop sees its own change of the last pass (item 3)", K,
     "                _walk(WB, WN, WL, WP, Y, WQ, k, change, 0, 2)\n", "                pass\n"),
    ("kernel: a loop that does not settle is not reported (item 3)", K,
     "        WQ[k, WQ.shape[1] - 1] = i0 + 1", "        WQ[k, WQ.shape[1] - 1] = 0.0"),
    ("park check: a loop of gain >= 1 accepted (item 3)", "aisym/park/graph/loops.py",
     "if u == start and gain * g >= 1.0 - 1e-12:", "if u == start and gain * g >= 1e12:"),
    ("park check: an exchange's loss left out of a loop's gain (item 3)", "aisym/park/graph/loops.py",
     "(link.src, 1.0 / (1.0 - link.loss))", "(link.src, 1.0)"),
    ("schedule: a store's intake waits for what the far store takes in (a false loop, item 3)", S,
     "                    if o[0] != OP_STORE_IN:\n", "                    if True:\n"),
    ("schedule: a loop closed only by exchanges switched off accepted (masked != removed, item 3)", S,
     "    if not cp.LE.all():\n        _switched_off_loops", "    if False:\n        _switched_off_loops"),
    # a masked exchange of a loop is exactly a removed one (issue 22 item 2: tests/sim_env/physics/test_mask.py)
    ("schedule: a row's masked exchanges ignored in its loops' plan (masked != removed, item 2)", S,
     "    if not off:\n        return [(list(", "    if True:\n        return [(list("),
    ("schedule: a loop the removed park still has run once, not settled (item 2)", S,
     "            while mine[q][1] >= 0 and q + g < len(mine)", "            while False and q + g < len(mine)"),
    ("kernel: an op a row's mask takes out of a loop runs in the loop's own order (item 2)", K,
     "                j = int(WQ[ka, base + q])", "                j = q"),
    ("kernel: a block runs its loops as its first row's mask says, whatever the others' (item 2)", K,
     "    rows = k1 - k0 if same else 1", "    rows = k1 - k0"),
    ("kernel: loops planned from the file's enabled flags, not each row's mask (item 2)", K,
     "loop_plans_of(cp, self.mask)", "loop_plans_of(cp, np.tile(cp.LE, (K, 1)))"),
    ("park check: a loop that cannot start itself not said (item 3)", "aisym/park/graph/build.py",
     "for members in unstarted_loops(nodes, self.buses, links):", "for members in []:"),
    ("kernel: a converter's lost input not reported in its column (issue 22)", K,
     "Y[k, lost0 + _n_lost(PD, PDEF, PBC, p)] = lost", "Y[k, lost0 + _n_lost(PD, PDEF, PBC, p)] = 0.0"),
    ("kernel: lost input reported in the wrong port's column (issue 22)", K,
     "Y[k, lost0 + _n_lost(PD, PDEF, PBC, p)] = lost", "Y[k, lost0] = lost"),
    ("kernel: must-run units on one supply each see all of it (issue 22)", K,
     "shared = 1.0 if ctrl in (C_MUST_RUN, C_FOLLOW_INPUT) else 0.0", "shared = 0.0"),
    ("kernel: a claim on a shared supply ignores the exchange loss (issue 22)", K,
     "y = min(lim, (x - got) / keep, _avail_local(BI, NF, WB, WN, k, LS[e], dt) - WB[k, _CLAIM, LS[e]])",
     "y = min(lim, x - got, _avail_local(BI, NF, WB, WN, k, LS[e], dt) - WB[k, _CLAIM, LS[e]])"),
    ("schedule: units sharing a supply on demand ignore exchange priority (issue 22)", S,
     "_priorities(cp, sharing, r.after, r.deps)", "_priorities(cp, r.pullers, r.after, r.deps)"),
    # a unit cut back by a full store makes less of its other outputs too (tests/sim_env/physics/test_cut_by_products.py)
    ("kernel: a cut leaves its by-product's fall where it went (made from nothing)", K,
     "            _take_back(NI, NV, BI, COEF, s, ti, BOUT_PTR, BOUT_LINK, LD, LF, Y, WB, WN, WL, k, PB[p], d)",
     "            pass"),
    ("kernel: a cut takes back only what is left on the by-product's bus, not what a need drew", K,
     "        if rest > 0.0 and m >= 0:\n            t = min(rest, WN[k, _ACT, m])",
     "        if False:\n            t = min(rest, WN[k, _ACT, m])"),
    ("kernel: a cut spread over every pushed output, not those into the store", K,
     "and old > 0.0 and _reaches(BOUT_PTR, BOUT_LINK, LD, PB[p], b):", "and old > 0.0:"),
    ("kernel: a cut ignores the by-product a unit already ran on", K,
     "                floor = max(floor, _load_limit(NI, NF, PV, COEF, s, ti, n, p, taken))",
     "                floor = floor"),
]


if __name__ == "__main__":
    # the shipped parks' masking test is left out: 40 s without Numba
    main(__doc__, MUTANTS, ["tests/sim_env/physics/test_hand_parks.py", "tests/sim_env/physics/test_mask.py",
                            "tests/sim_env/physics/test_followers.py", "tests/sim_env/physics/test_loops.py",
                            "tests/sim_env/physics/test_lost_input.py", "tests/sim_env/physics/test_shared_supply.py",
                            "tests/sim_env/physics/test_store_returns.py",
                            "tests/sim_env/physics/test_cut_by_products.py", "-k", "not shipped"], width=86)
