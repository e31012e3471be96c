"""Graph orders for the step's schedule (:mod:`.compile`): Kahn's topological order and the
strongly connected components of the rules (a component of more than one op is a loop)."""

from __future__ import annotations

import heapq


def kahn(deps: dict, key) -> list:
    """Kahn's algorithm, always taking the ready item lowest in ``key``; when none is ready (only
    inside a loop), the lowest of those left: one deterministic order."""
    waiting = {o: set(d) for o, d in deps.items()}
    users: dict = {o: [] for o in deps}
    for o, d in deps.items():
        for x in d:
            users[x].append(o)
    heap = [(key(o), o) for o, d in waiting.items() if not d]
    heapq.heapify(heap)
    order: list = []
    done: set = set()
    while len(order) < len(deps):
        if not heap:  # a loop: its first op runs on what the others did in the previous pass
            o = min((o for o in deps if o not in done), key=key)
            heap.append((key(o), o))
            waiting[o] = set()
        _, o = heapq.heappop(heap)
        if o in done:
            continue
        order.append(o)
        done.add(o)
        for u in users[o]:
            waiting[u].discard(o)
            if not waiting[u] and u not in done:
                heapq.heappush(heap, (key(u), u))
    return order


def components(deps: dict) -> list[list]:
    """The strongly connected components of the rules (Tarjan's algorithm, iterative)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on: set = set()
    out: list[list] = []
    for root in deps:
        if root in index:
            continue
        work = [(root, iter(sorted(deps[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(deps[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out
