"""Where a converter's output can go in one step of the twin (issue 22, finding 6).

A converter's output on a port without a dump is pushed: the unit runs only as far as something
takes it at once, there or one enabled exchange away. What takes a push is what the twin's
kernel asks on a bus before the unit runs (sim_env/graph/kernel.py, ``_accept``): a demand, a
store, a market, a dump, or another unit's input that follows its input, has a backup, or sits
where supply follows what is asked. A unit on a setpoint, or one that follows its output, pulls
only after its own load is set, so it never takes a push: a must-run unit feeding only such a
unit stays at 0 all year, and the park check says so instead.
"""

from __future__ import annotations

from collections.abc import Sequence


def _on_demand(bus, nodes) -> bool:
    """Supply there follows what is asked (the compiler's rule): a market, a purchase, or a unit
    whose reference output follows what is asked of it."""
    return any(nodes[k].type == "market" or (nodes[k].type == "source" and "price" in nodes[k].val) or (
        nodes[k].type == "converter" and d == "out" and nodes[k].text["control"] == "follow_output"
        and nodes[k].text["reference"] == pname) for k, pname, d in bus.members)


def takers(b: str, buses: dict, links: Sequence, nodes: dict) -> list[str]:
    """The components on bus ``b`` that take what is pushed into it."""
    srcs = [link.src for link in links if link.dst == b]
    asks = _on_demand(buses[b], nodes) or (bool(srcs) and all(_on_demand(buses[x], nodes) for x in srcs))
    out = []
    for key, pname, d in buses[b].members:
        n = nodes[key]
        port = n.ports[pname]
        if (d == "both" or n.type == "demand" or (n.type == "disposal" and n.text["control"] != "setpoint")
                or (n.type == "converter" and d == "in" and (asks or port.backup is not None or (
                    n.text["control"] == "follow_input" and n.text["reference"] == pname)))):
            out.append(key)
    return out


def dumped(bus, nodes) -> bool:
    """A dump (a disposal that takes what is left) is on the bus: nothing made there is stuck."""
    return any(nodes[k].type == "disposal" and nodes[k].text["control"] != "setpoint" for k, _, _ in bus.members)


def outlet(bus, buses: dict, links: Sequence, nodes: dict) -> tuple[list[str], str]:
    """``(takers reached, why there is none)`` for a pushed bus: the components that take its flow
    there or one enabled exchange away, and, when there are none, the reason in words."""
    out = [link for link in links if link.src == bus.id]
    reached = takers(bus.id, buses, links, nodes) + [
        k for link in out if link.enabled for k in takers(link.dst, buses, links, nodes)]
    if reached:
        return sorted(set(reached)), ""
    off = [link.id for link in out if not link.enabled]
    reach = [bus.id] + [link.dst for link in out if link.enabled]
    stuck = sorted({f"{k} ({nodes[k].text.get('control', nodes[k].type)})" for b in reach
                    for k, _, d in buses[b].members if d == "in"})
    if off and not stuck:
        return [], f"its exchanges {', '.join(off)} are disabled"
    return [], (f"nothing it reaches takes what is pushed to it: {', '.join(stuck)} neither follows its input nor "
                "has a backup on it" + (f" (disabled: {', '.join(off)})" if off else ""))
