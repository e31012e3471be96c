"""The schedule of one step: the order in which the kernel resolves a compiled park.

The schedule is a topological order of the rules in docs/twin.md ("Step semantics"): what a
component needs is known before it acts, stores take waste heat before the heat pump, and a
store's discharge is shared once its consumers' needs are known. Ties are broken by id, so
the order of the file never matters. Where the rules form a loop (a digester heated by the CHP
that burns its gas, no holder between), the loop's ops (a strongly connected component of the
rules) become one segment of the schedule, marked ``(OP_LOOP, first member)`` and followed by
its ops with their codes offset by ``OP_IN_LOOP``: the kernel repeats the segment within the
step until its flows settle (:func:`sim_env.graph.kernel._loop`, Gauss-Seidel). A loop that
can have no solution is refused when the park is validated (:mod:`aisym.park.graph.loops`).
:func:`loop_plans` gives, for a batch row whose mask removes exchanges, the order the park
without them would use, so a masked exchange is exactly a removed one.
"""

from __future__ import annotations

import copy
import itertools

import numpy as np

from .compile import (
    B_PUSHED,
    B_STORE,
    C_FOLLOW_INPUT,
    C_FOLLOW_OUTPUT,
    C_MUST_RUN,
    I_BUS,
    I_CONTROL,
    I_P0,
    I_P1,
    I_REF,
    I_TYPE,
    OP_CONV_LOAD,
    OP_CONV_SETTLE,
    OP_DEMAND_PLAN,
    OP_DEMAND_SETTLE,
    OP_DISPOSAL,
    OP_IN_LOOP,
    OP_LOOP,
    OP_NAMES,
    OP_SOURCE,
    OP_STORE_CLOSE,
    OP_STORE_IN,
    OP_STORE_OPEN,
    OP_STORE_OUT,
    T_CONVERTER,
    T_DEMAND,
    T_DISPOSAL,
    T_SOURCE,
    T_STORAGE,
    CompiledPark,
    CompileError,
    _csr,
)
from .order import components, kahn

Op = tuple[int, int]


class _Rules:
    """The dependencies between one step's ops, built rule by rule (docs/twin.md)."""

    def __init__(self, cp: CompiledPark):
        self.cp = cp
        nb = len(cp.bus_ids)
        self.deps: dict[Op, set[Op]] = {}
        self.producers: list[list[Op]] = [[] for _ in range(nb)]  # ops that put supply on a bus
        self.planners: list[list[Op]] = [[] for _ in range(nb)]  # ops that state needs on a bus
        self.pullers: list[list[Op]] = [[] for _ in range(nb)]  # converter loads taking from a bus at once

    def op(self, code: int, n: int) -> Op:
        self.deps.setdefault((code, n), set())
        return (code, n)

    def after(self, a: Op, b: Op) -> None:
        """``a`` runs after ``b``."""
        self.op(*a)
        self.op(*b)
        if a != b:
            self.deps[a].add(b)

    def roles(self) -> None:
        cp, NI = self.cp, self.cp.NI
        for n in range(cp.n_nodes):
            t, b = NI[n, I_TYPE], NI[n, I_BUS]
            if t == T_SOURCE:
                self.producers[b].append(self.op(OP_SOURCE, n))
            elif t == T_DEMAND:
                self.planners[b].append(self.op(OP_DEMAND_PLAN, n))
                self.op(OP_DEMAND_SETTLE, n)
            elif t == T_STORAGE:
                chain = [self.op(c, n) for c in (OP_STORE_OPEN, OP_STORE_IN, OP_STORE_OUT, OP_STORE_CLOSE)]
                for a, b2 in itertools.pairwise(chain):
                    self.after(b2, a)
                self.producers[b] += chain[:2]
            elif t == T_DISPOSAL and NI[n, I_CONTROL] == 1:
                self.op(OP_DISPOSAL, n)
            elif t == T_CONVERTER:
                self.after(self.op(OP_CONV_SETTLE, n), self.op(OP_CONV_LOAD, n))
                for p in range(NI[n, I_P0], NI[n, I_P1]):
                    role = self.producers if cp.PD[p] == 1 else self.planners if cp.PDEF[p] else self.pullers
                    role[cp.PB[p]].append((OP_CONV_LOAD, n))

    def supply_ready(self, b: int) -> list[Op]:
        """Ops after which bus ``b``'s supply (local, and through its incoming exchanges) is known."""
        cp = self.cp
        out = list(self.producers[b])
        for j in cp.BIN_LINK[cp.BIN_PTR[b]:cp.BIN_PTR[b + 1]]:
            out += self.producers[cp.LS[j]]
            st = cp.BI[cp.LS[j], B_STORE]
            if st >= 0 and cp.LA[j] >= 0:
                out.append((OP_STORE_OUT, st))
        return out

    def rules(self) -> None:
        cp, NI = self.cp, self.cp.NI
        for n in range(cp.n_nodes):
            t, b = NI[n, I_TYPE], NI[n, I_BUS]
            if t == T_DEMAND:
                for o in self.supply_ready(b):
                    self.after((OP_DEMAND_SETTLE, n), o)
            elif t == T_STORAGE:
                self.store(n, b)
            elif t == T_DISPOSAL and NI[n, I_CONTROL] == 1:
                for o in self.producers[b] + self.pullers[b]:
                    self.after((OP_DISPOSAL, n), o)
            elif t == T_CONVERTER:
                self.converter(n)

    def residues(self) -> None:
        """Free residue goes to the consumers that state a need for it before any store takes it."""
        cp = self.cp
        for j in range(len(cp.LS)):
            st = cp.BI[cp.LD[j], B_STORE]
            if cp.LPASS[j] == 1:  # into a store's bus: its demands take what passes before the store (finding 3)
                for o in (o for o in self.planners[cp.LD[j]] if o[0] == OP_DEMAND_PLAN):
                    for p in self.producers[cp.LS[j]]:
                        if p[1] != st:
                            self.after(o, p)
                    self.after((OP_STORE_IN, st), o)
            if cp.LPASS[j] != 2:
                continue
            src = cp.LS[j]
            prio = cp.graph.links[j].priority
            for o in self.planners[cp.LD[j]]:
                for p in self.producers[src]:
                    if p != o:
                        self.after(o, p)
                # a converter that takes from the same residue at once through an exchange of higher
                # priority (a lower number) takes first (issue 22, finding 9)
                for i in range(len(cp.LS)):
                    if cp.LS[i] == src and i != j and cp.graph.links[i].priority < prio:
                        for c in self.pullers[cp.LD[i]]:
                            self.after(o, c)
                for i in range(len(cp.LS)):
                    if cp.LS[i] == src and cp.LPASS[i] == 1:
                        self.after((OP_STORE_IN, cp.BI[cp.LD[i], B_STORE]), o)

    def store(self, n: int, b: int) -> None:
        cp = self.cp
        for j in cp.BIN_LINK[cp.BIN_PTR[b]:cp.BIN_PTR[b + 1]]:
            if cp.LPASS[j]:  # must-go inflows (waste heat) are taken once they are made
                for o in self.producers[cp.LS[j]]:
                    # what the far store takes in puts nothing on the bus this one takes from (two
                    # stores sending each other heat are no loop)
                    if o[0] != OP_STORE_IN:
                        self.after((OP_STORE_IN, n), o)
        for j in range(len(cp.LS)):  # discharge once what its consumers need is known
            if cp.LS[j] == b and cp.LA[j] >= 0:
                for o in self.planners[cp.LD[j]]:
                    self.after((OP_STORE_OUT, n), o)
        for o in self.pullers[b]:  # converters taking from it at once (a CHP on the gas holder) come first
            self.after((OP_STORE_OUT, n), o)

    def converter(self, n: int) -> None:
        cp, NI, BI = self.cp, self.cp.NI, self.cp.BI
        load = (OP_CONV_LOAD, n)
        for p in range(NI[n, I_P0], NI[n, I_P1]):
            b = cp.PB[p]
            if cp.PD[p] == 0:
                target = (OP_CONV_SETTLE, n) if cp.PDEF[p] else load
                for o in self.supply_ready(b):
                    if o[1] != n:
                        self.after(target, o)
                continue
            if BI[b, B_PUSHED]:  # into stores after their must-go inflows, before their discharge
                stores = [BI[cp.LD[j], B_STORE] for j in range(len(cp.LS)) if cp.LS[j] == b] + [BI[b, B_STORE]]
                for st in (x for x in stores if x >= 0):
                    self.after(load, (OP_STORE_IN, st))
                    self.after((OP_STORE_OUT, st), load)
            if NI[n, I_CONTROL] == C_FOLLOW_OUTPUT and p == NI[n, I_REF]:
                # it runs to meet what is asked of it: after the needs and the other supplies there,
                # including what units that do not follow the ask deliver there through exchanges
                # (a must-run boiler on the same header goes first: issue 22, finding 5)
                for tb in [b] + [cp.LD[j] for j in range(len(cp.LS)) if cp.LS[j] == b]:
                    given = [o for o in self.supply_ready(tb) if o[0] != OP_CONV_LOAD
                             or NI[o[1], I_CONTROL] != C_FOLLOW_OUTPUT]
                    for o in self.planners[tb] + self.producers[tb] + given:
                        if o != load:
                            self.after(load, o)


def schedule(cp: CompiledPark) -> tuple[np.ndarray, list[str]]:
    """The step's op order: a topological order of the rules, ties broken by (op, id)."""
    deps = _rules(cp)
    if not cp.LE.all():
        _switched_off_loops(cp, deps)
    return _order(cp, deps)


def _switched_off_loops(cp: CompiledPark, deps: dict) -> None:
    """Refuse a loop that only exchanges switched off (``enabled: false``, a sweep's candidates) close.

    A mask switches an exchange on or off per batch row, but the schedule is one for every row:
    a loop's ops are repeated until they settle, which is not the order the park without those
    exchanges runs in, so a masked exchange would no longer be exactly a removed one."""
    on = _without(cp, {j for j in range(len(cp.LS)) if cp.LE[j] == 0.0})
    loops_on = [set(c) for c in components(_rules(on)) if len(c) > 1]
    for c in (c for c in components(deps) if len(c) > 1):
        if not any(set(c) <= other for other in loops_on):
            buses = {int(cp.PB[p]) for _, n in c for p in range(cp.NI[n, I_P0], cp.NI[n, I_P1])} | {
                int(cp.NI[n, I_BUS]) for _, n in c}
            off = [cp.link_ids[j] for j in range(len(cp.LS)) if cp.LE[j] == 0.0 and {cp.LS[j], cp.LD[j]} & buses]
            off = off or [cp.link_ids[j] for j in range(len(cp.LS)) if cp.LE[j] == 0.0]
            names = ", ".join(sorted(f"{OP_NAMES[o]}({cp.node_keys[n]})" for o, n in c))
            raise CompileError(f"{cp.graph.source}: the assets wait on each other in a cycle ({names}) only through "
                               f"exchanges switched off ({', '.join(off[:6])}{', ...' if len(off) > 6 else ''}); a mask "
                               "cannot switch a loop on or off exactly: enable them, or make one controllable")


def _without(cp: CompiledPark, off: set[int]) -> CompiledPark:
    """``cp`` as the rules see it with the exchanges ``off`` removed (its tables and classification
    kept: a mask changes neither)."""
    keep = [j for j in range(len(cp.LS)) if j not in off]
    at = {j: i for i, j in enumerate(keep)}
    on = copy.copy(cp)  # the rules read the links, their per-bus lists and the graph's link priorities
    on.LS, on.LD, on.LA, on.LF, on.LPASS, on.LE = (a[keep] for a in (cp.LS, cp.LD, cp.LA, cp.LF, cp.LPASS, cp.LE))
    on.link_ids = [cp.link_ids[j] for j in keep]
    on.graph = copy.copy(cp.graph)
    on.graph.links = [cp.graph.links[j] for j in keep]
    for ptr, link in (("BIN_PTR", "BIN_LINK"), ("BOUT_PTR", "BOUT_LINK")):
        P, L = getattr(cp, ptr), getattr(cp, link)
        new = _csr([[at[j] for j in L[P[b]:P[b + 1]] if j in at] for b in range(len(cp.bus_ids))])
        setattr(on, ptr, new[0])
        setattr(on, link, new[1])
    return on


def loop_plans(cp: CompiledPark, off: frozenset[int]) -> list[tuple[list[int], list[int]]]:
    """How each loop of ``cp`` (in schedule order) runs in a batch row whose mask switches the
    exchanges ``off`` off: exactly as the park without them orders the loop's ops (issue 22, item 2).

    A mask is data, the schedule one for every row; but a removed exchange may open a loop (its ops
    then run once each, in the removed park's order) or reorder it (two load-followers serving
    two buses in opposite priority orders are a loop; without one exchange the other bus's
    priority alone orders them, and a Gauss-Seidel pass in the loop's own order would settle on
    another split). Per loop: the positions of its ops in the segment, in the order the park
    without ``off`` runs them; and at each position the size of the group that starts there (2 or
    more: a loop still, its ops repeated until they settle; 1: run once), 0 inside a group."""
    segs = [i for i in range(len(cp.OPS)) if cp.OPS[i, 0] == OP_LOOP]
    pos = [{(int(cp.OPS[i, 0]) - OP_IN_LOOP, int(cp.OPS[i, 1])): j for j, i in enumerate(range(i0 + 1, i0 + 1 + len(
        cp.loops[i0])))} for i0 in segs]
    if not off:
        return [(list(range(len(p))), [len(p)] + [0] * (len(p) - 1)) for p in pos]
    on = _without(cp, set(off))
    ops, _ = _order(on, _rules(on))
    seg, where = -1, []  # each op of the removed park's order with its loop segment (else a unique negative)
    for i, (code, n) in enumerate(ops):
        if code == OP_LOOP:
            seg = i
        elif code >= OP_IN_LOOP:
            where.append(((int(code) - OP_IN_LOOP, int(n)), seg))
        else:
            where.append(((int(code), int(n)), -1 - i))
    plans = []
    for p in pos:
        mine = [(p[o], s) for o, s in where if o in p]
        order = [j for j, _ in mine]
        sizes = [0] * len(order)
        q = 0
        while q < len(mine):  # a removed park's loop is a group, repeated; any other op runs once
            g = 1
            while mine[q][1] >= 0 and q + g < len(mine) and mine[q + g][1] == mine[q][1]:
                g += 1
            sizes[q] = g
            q += g
        plans.append((order, sizes))
    return plans


def _rules(cp: CompiledPark) -> dict:
    """The dependencies of one step's ops (docs/twin.md, "Step semantics")."""
    r = _Rules(cp)
    r.roles()
    r.rules()
    r.residues()
    # must-run and follow-input units share an input taken on demand in the same order (issue 22)
    sharing = [q + [o for o in d if o[0] == OP_CONV_LOAD and o not in q and cp.NI[o[1], I_CONTROL] in
                    (C_MUST_RUN, C_FOLLOW_INPUT)] for q, d in zip(r.pullers, r.planners, strict=True)]
    _priorities(cp, sharing, r.after, r.deps)
    ops = list(r.deps)
    for c in (o for o in ops if o[0] == OP_STORE_CLOSE):  # stores close once all else is done
        for o in ops:
            if o[0] != OP_STORE_CLOSE:
                r.after(c, o)
    return r.deps


def _order(cp: CompiledPark, deps: dict) -> tuple[np.ndarray, list[str]]:
    """The rules' order, each loop (a strongly connected component of more than one op) one segment:
    ``(OP_LOOP, its first op's component)``, then its ops with codes offset by ``OP_IN_LOOP``. A
    park without loops gets exactly the topological order it always had (each component one op)."""
    key = lambda o: (o[0], cp.node_keys[o[1]])  # noqa: E731
    comps = components(deps)
    of = {o: c for c, ms in enumerate(comps) for o in ms}
    cdeps: dict = {c: {of[x] for o in ms for x in deps[o] if of[x] != c} for c, ms in enumerate(comps)}
    rows: list[tuple[int, int]] = []
    names: list[str] = []
    for c in kahn(cdeps, lambda c: min(key(o) for o in comps[c])):
        ms = comps[c]
        if len(ms) == 1:
            rows.append(ms[0])
            names.append(f"{OP_NAMES[ms[0][0]]}({cp.node_keys[ms[0][1]]})")
            continue
        inner = kahn({o: deps[o] & set(ms) for o in ms}, key)
        rows.append((OP_LOOP, inner[0][1]))
        names.append(f"loop({', '.join(cp.node_keys[n] for n in sorted({o[1] for o in ms}))})")
        rows += [(code + OP_IN_LOOP, n) for code, n in inner]
        names += [f"{OP_NAMES[code]}({cp.node_keys[n]})" for code, n in inner]
    return np.array(rows, dtype=np.int64).reshape(-1, 2), names


def _waits(deps: dict, a: Op, b: Op) -> bool:
    """Whether ``a`` already runs after ``b``."""
    seen, todo = set(), [a]
    while todo:
        o = todo.pop()
        if o == b:
            return True
        if o not in seen:
            seen.add(o)
            todo += deps.get(o, ())
    return False


def _priorities(cp: CompiledPark, conv_pullers, after, deps: dict) -> None:
    """Converters pulling from one store or bus go in their exchanges' priority order, where no
    other rule orders them the other way."""
    for b in range(len(cp.bus_ids)):
        pullers = []
        for j in range(len(cp.LS)):
            if cp.LS[j] != b:
                continue
            for o in conv_pullers[cp.LD[j]]:
                pullers.append((cp.graph.links[j].priority, cp.link_ids[j], o))
        pullers.sort()
        for (_, _, a), (_, _, b2) in itertools.pairwise(pullers):
            if a != b2 and not _waits(deps, a, b2):
                after(b2, a)
    # Converters that follow what one bus asks of them serve it in their exchanges' priority order.
    for d in range(len(cp.bus_ids)):
        followers = []
        for j in range(len(cp.LS)):
            if cp.LD[j] != d:
                continue
            for n in range(cp.n_nodes):
                ref = cp.NI[n, I_REF]
                if (cp.NI[n, I_TYPE] == T_CONVERTER and cp.NI[n, I_CONTROL] == C_FOLLOW_OUTPUT
                        and cp.PB[ref] == cp.LS[j] and cp.PD[ref] == 1):
                    followers.append((cp.graph.links[j].priority, cp.link_ids[j], (OP_CONV_LOAD, n)))
        followers.sort()
        for (_, _, a), (_, _, b2) in itertools.pairwise(followers):
            if a != b2:
                after(b2, a)
