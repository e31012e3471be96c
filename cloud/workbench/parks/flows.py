"""The park's exchanges between companies as a Sankey diagram, drawn as SVG on the server.

The park is read back through the CLI's loader (:func:`aisym.park.graph.loader.parse_graph` of
the exported file), and the columns come from the demo report's Sankey layout
(:func:`cloud.demo.plots.columns`), so the workbench and the report draw one park alike. Widths
compare only within one colour: each resource is counted in its own unit (kW, kg/h, m3/h...),
and an exchange's width is its share of the largest exchange of its resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from aisym.park.graph.carriers import FLOW_UNITS

WIDTH, NODE_W, NODE_H, MAX_STROKE = 900, 14, 26, 22


@dataclass
class Flow:
    src: str
    dst: str
    resource: str
    capacity: float  # canonical flow unit of the resource
    unit: str
    exchanges: list[str]


def park_flows(park, with_links: bool = False):
    """(company names, flows between companies summed by resource) of the park's exchanges
    (and the graph's links, for their meters, with ``with_links``)."""
    from aisym.park.graph.loader import parse_graph
    from cloud.workbench.parks.export import export_park

    g = parse_graph(export_park(park, private_of=set()), f"{park.slug}.yaml")
    names = {c.id: c.name for c in g.doc.companies}
    summed: dict[tuple[str, str, str], Flow] = {}
    for lk in g.links:
        a = g.company_of.get(lk.src.split(".", 1)[0])
        b = g.company_of.get(lk.dst.split(".", 1)[0])
        if a is None or b is None or a == b:  # a company's own pipes are not an exchange between companies
            continue
        key = (a, b, lk.resource.value)
        f = summed.setdefault(key, Flow(names[a], names[b], lk.resource.value, 0.0, FLOW_UNITS[lk.resource], []))
        f.capacity += lk.capacity
        f.exchanges.append(lk.id)
    flows = list(summed.values())
    order = list(dict.fromkeys(n for f in flows for n in (f.src, f.dst)))
    return (order, flows, g.links) if with_links else (order, flows)


def sankey_svg(names: list[str], flows: list[Flow]) -> dict:
    """Positions for the template: nodes (x, y, label) and links (path, colour, width, title)."""
    from cloud.demo.plots import OTHER_COLOUR, RESOURCE_COLOURS, columns

    index = {n: i for i, n in enumerate(names)}
    xs, ys = columns(len(names), [(index[f.src], index[f.dst]) for f in flows]) if names else ([], [])
    height = max(360, 44 * len(names))
    pos = [(40 + x * (WIDTH - 260), 20 + y * (height - 60)) for x, y in zip(xs, ys, strict=True)]
    largest: dict[str, float] = {}
    for f in flows:
        largest[f.resource] = max(largest.get(f.resource, 0.0), f.capacity)
    links = []
    for f in flows:
        (x1, y1), (x2, y2) = pos[index[f.src]], pos[index[f.dst]]
        x1, x2 = x1 + NODE_W, x2
        mid = (x1 + x2) / 2
        width = 2 + MAX_STROKE * (f.capacity / largest[f.resource] if largest[f.resource] else 0)
        links.append({"d": f"M{x1:.1f},{y1 + NODE_H / 2:.1f} C{mid:.1f},{y1 + NODE_H / 2:.1f} {mid:.1f},"
                           f"{y2 + NODE_H / 2:.1f} {x2:.1f},{y2 + NODE_H / 2:.1f}",
                      "colour": RESOURCE_COLOURS.get(f.resource, OTHER_COLOUR), "width": round(width, 1), "flow": f})
    nodes = [{"x": x, "y": y, "label": n, "label_x": x + NODE_W + 6, "label_y": y + NODE_H / 2 + 5}
             for n, (x, y) in zip(names, pos, strict=True)]
    legend = [{"resource": r, "colour": RESOURCE_COLOURS.get(r, OTHER_COLOUR)} for r in sorted(largest)]
    return {"width": WIDTH, "height": height, "nodes": nodes, "links": links, "legend": legend,
            "node_w": NODE_W, "node_h": NODE_H}
