"""Loops of units that each follow what is asked of them, and have no solution (issue 22 item 3).

The twin resolves a loop of its rules within the step (a digester heated by the CHP that burns
its gas: sim_env/graph/kernel.py, ``_loop``). One kind of loop has no solution at all: units
that each make what the next one asks (``control: follow_output``), each needing the next
one's output, where one unit delivered asks at least one unit back round the loop (its gain).
Serving a demand D then asks D (1 + g + g² + ...) of the loop, a series that converges only for
g < 1. The gain of one step round the loop, from a unit v to the unit u that supplies its input,
is v's input ratio per unit of its load, over what reaches v per unit u sends (1 − the loss),
over u's reference ratio; the loop's gain is the product round it, at full load (constant
ratios; a ratio given by a series is left to the twin, which stops with the loop named if it
does not settle).
"""

from __future__ import annotations

from collections.abc import Sequence


def _ratio(node, pname: str) -> float | None:
    """The port's constant ratio per unit of the node's load (through ``of``), None for a series."""
    port = node.ports[pname]
    r = port.ratio
    if r.is_series:
        return None
    if port.of:
        of = _ratio(node, port.of)
        return None if of is None else r.const * of
    return r.const


def _steps(nodes: dict, links: Sequence) -> dict[str, list[tuple[str, float]]]:
    """Per load-following unit, the load-following units that supply an input of it, with the gain."""
    makers: dict[str, list[tuple[str, float]]] = {}  # bus -> (unit, units of the unit's load per unit there)
    for key, n in nodes.items():
        if n.type == "converter" and n.text.get("control") == "follow_output":
            ref = n.text["reference"]
            r = _ratio(n, ref)
            if r:
                makers.setdefault(n.ports[ref].bus, []).append((key, 1.0 / r))
    steps: dict[str, list[tuple[str, float]]] = {}
    for key, n in nodes.items():
        if n.type != "converter" or n.text.get("control") != "follow_output":
            continue
        for pname, port in n.ports.items():
            need = _ratio(n, pname) if port.direction == "in" else None
            if not need:
                continue
            reach = [(port.bus, 1.0)] + [(link.src, 1.0 / (1.0 - link.loss)) for link in links
                                         if link.dst == port.bus and link.enabled and link.loss < 1.0]
            for bus, sent in reach:
                for u, per in makers.get(bus, []):
                    steps.setdefault(key, []).append((u, need * sent * per))
    return steps


def impossible_loops(nodes: dict, links: Sequence) -> list[tuple[list[str], float]]:
    """The loops of load-following units whose gain round the loop is 1 or more: (members, gain)."""
    steps = _steps(nodes, links)
    out: dict[tuple[str, ...], float] = {}

    def walk(start: str, at: str, path: list[str], gain: float) -> None:
        for u, g in steps.get(at, []):
            if u == start and gain * g >= 1.0 - 1e-12:
                members = tuple(sorted(path))
                out[members] = max(out.get(members, 0.0), gain * g)
            elif u > start and u not in path and len(path) < 12:  # each loop once, from its least member
                walk(start, u, [*path, u], gain * g)

    for start in sorted(steps):
        walk(start, start, [start], 1.0)
    return [(list(m), g) for m, g in sorted(out.items())]


def _suppliers(bus: str, buses: dict, links: Sequence) -> set[str]:
    """What gives to ``bus``: its own givers, and those of the buses an enabled exchange brings from."""
    at = [bus] + [link.src for link in links if link.dst == bus and link.enabled]
    return {key for b in at for key, _, d in buses[b].members if d in ("out", "both")}


def unstarted_loops(nodes: dict, buses: dict, links: Sequence) -> list[list[str]]:
    """Loops of units each of which takes an input, with no backup, only from the loop's other
    units. The twin resolves a loop from nothing (its first pass sees nothing the loop makes), so
    such a loop never starts, as a plant with no start-up boiler would not: the check says so
    (a biogas plant whose digester's heat comes only from the CHP that burns its gas)."""
    needs: dict[str, list[set[str]]] = {}  # unit -> the suppliers of each of its inputs that are units only
    for key, n in nodes.items():
        if n.type != "converter":
            continue
        for port in n.ports.values():
            if port.direction != "in" or port.backup is not None:
                continue
            got = _suppliers(port.bus, buses, links)
            if got and all(nodes[k].type == "converter" for k in got):
                needs.setdefault(key, []).append(got)
    # the largest set of units each of which has an input supplied only from within the set
    loop = set(needs)
    while True:
        keep = {k for k in loop if any(got <= loop - {k} for got in needs[k])}
        if keep == loop:
            break
        loop = keep
    # one note per group of units that feed each other
    group = {k: k for k in loop}

    def root(k: str) -> str:
        while group[k] != k:
            k = group[k]
        return k

    for k in sorted(loop):
        for got in needs[k]:
            for j in got & loop:
                group[root(j)] = root(k)
    out: dict[str, list[str]] = {}
    for k in sorted(loop):
        out.setdefault(root(k), []).append(k)
    return sorted(out.values())
