"""The report's plotly figures: the park's flows, storage levels, setpoints against actuals, cumulative cost and CO2.

Each function takes what one run folder holds (:class:`~cloud.demo.runfiles.Run`) and returns a
``plotly.graph_objects.Figure``; :mod:`cloud.demo.report` places them in the HTML.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim_env.graph.compile import CompiledPark
from sim_env.graph.report import ExchangeUse

from .runfiles import Run

# One colour per carrier, so that a reader follows heat or water through the whole diagram.
RESOURCE_COLOURS = {
    "electricity": "#e6a700", "heat": "#d9434f", "steam": "#f08a24", "water": "#2f6db5", "biogas": "#7b3f98",
    "biomethane": "#12a37a", "hydrogen": "#5fb246", "oxygen": "#8c96a8", "sludge": "#8c5a3c", "biomass": "#3f8f4f",
    "material": "#c2338f", "co2": "#555555",
}
OTHER_COLOUR = "#888888"
LINE_COLOURS = {"loop": "#1f4e9c", "offline": "#7fb2e5", "rule": "#d9434f", "optimum": "#2b9b5b"}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def hours_of(run: Run, t: int) -> float:
    """Simulated hours since the run's start at the beginning of step ``t`` (an hour of the generated year).

    Steps in the half year before the start are negative: the controller's steps while it waited for
    fresh levels, before the run began. A run across the year's end wraps to positive hours.
    """
    dt = float(run.meta["dt_h"])
    per_year = round(8760.0 / dt)
    k = (int(t) - int(run.meta["start"])) % per_year
    return (k - per_year if k > per_year // 2 else k) * dt


def sankey(cp: CompiledPark, uses: list[ExchangeUse], by: str = "asset") -> go.Figure:
    """The exchanges that carried something, summed over the run, between assets (or companies).

    Link widths are each exchange's share of the largest exchange of the same carrier: carriers are
    counted in their own units (kWh, m3, kg, Nm3), so widths compare only within one colour; the
    hover gives the amount and its unit. Exchanges inside one node (a company's own pipes, with
    ``by="company"``) cannot be drawn as links and are left out.

    :param cp: the compiled park
    :param uses: each exchange's total (:func:`~sim_env.graph.report.exchange_use` of the run)
    :param by: ``"asset"`` or ``"company"``
    """
    if by not in ("asset", "company"):
        raise ValueError(f"sankey by {by!r}: use asset or company")
    g = cp.graph
    links = {lk.id: lk for lk in g.links}

    def node_of(bus: str) -> str:
        asset = bus.split(".", 1)[0]
        return asset if by == "asset" else g.company_of.get(asset, asset)

    carried = [u for u in uses if u.total > 1e-9 and node_of(links[u.id].src) != node_of(links[u.id].dst)]
    largest: dict[str, float] = {}
    for u in carried:
        r = links[u.id].resource.value
        largest[r] = max(largest.get(r, 0.0), u.total)
    names: list[str] = []
    for u in carried:
        for end in (links[u.id].src, links[u.id].dst):
            if node_of(end) not in names:
                names.append(node_of(end))
    index = {n: i for i, n in enumerate(names)}
    company = [g.company_of.get(n, n) for n in names]
    src, dst, value, colour, text = [], [], [], [], []
    for u in carried:
        lk = links[u.id]
        r = lk.resource.value
        src.append(index[node_of(lk.src)])
        dst.append(index[node_of(lk.dst)])
        value.append(u.total / largest[r])
        colour.append(_rgba(RESOURCE_COLOURS.get(r, OTHER_COLOUR), 0.55))
        text.append(f"{u.id}: {u.total:,.1f} {u.unit} of {r}")
    x, y = columns(len(names), list(zip(src, dst, strict=True)))
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": names, "customdata": company, "pad": 14, "thickness": 14, "color": "#4a4a4a", "x": x, "y": y,
              "hovertemplate": "%{label} (%{customdata})<extra></extra>"},
        link={"source": src, "target": dst, "value": value, "color": colour, "customdata": text,
              "hovertemplate": "%{source.label} → %{target.label}<br>%{customdata}<extra></extra>"}))
    for r in sorted(largest):  # a legend of the carriers: invisible points, one per colour
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=r, showlegend=True,
                                 marker={"size": 10, "color": RESOURCE_COLOURS.get(r, OTHER_COLOUR)}))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=f"Exchanges over the run, by {by} (width: share of the carrier's largest exchange)",
                      height=max(420, 26 * len(names)), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      plot_bgcolor="white", legend={"title": {"text": "carrier"}})
    return fig


def columns(n: int, edges: list[tuple[int, int]]) -> tuple[list[float], list[float]]:
    """Node positions in (0, 1) for a Sankey of ``n`` nodes: columns by the longest path from the sources.

    A park's exchanges form cycles (water treated and sent back, sludge to the digester), which
    plotly's own layout draws as loops across the whole figure. Here each cycle is cut at the edge
    a depth-first walk from the nodes fed by nothing (then the most giving ones) meets last, and
    every node goes one column right of its furthest fed-from node.
    """
    outs: dict[int, list[int]] = {i: [] for i in range(n)}
    indeg = [0] * n
    for a, b in edges:
        outs[a].append(b)
        indeg[b] += 1
    order = sorted(range(n), key=lambda i: (indeg[i] > 0, indeg[i] - len(outs[i]), i))
    state = [0] * n  # 0 new, 1 on the walk's stack, 2 done
    forward: list[tuple[int, int]] = []
    for root in order:
        if state[root]:
            continue
        stack = [(root, iter(outs[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state[nxt] == 0:
                forward.append((node, nxt))
                state[nxt] = 1
                stack.append((nxt, iter(outs[nxt])))
            elif state[nxt] == 2:
                forward.append((node, nxt))  # a cross edge; only edges back onto the stack close a cycle
    depth = [0] * n
    for _ in range(n):  # longest path on the acyclic rest (at most n passes)
        changed = False
        for a, b in forward:
            if depth[b] < depth[a] + 1:
                depth[b], changed = depth[a] + 1, True
        if not changed:
            break
    top = max(depth, default=0) or 1
    x = [0.02 + 0.96 * d / top for d in depth]
    y = [0.0] * n
    for d in set(depth):
        col = [i for i in range(n) if depth[i] == d]
        for k, i in enumerate(col):
            y[i] = 0.05 + 0.9 * (k + 0.5) / len(col)
    return x, y


def storage(run: Run) -> go.Figure:
    """Each store's level as a fraction of its capacity after each step."""
    fig = go.Figure()
    cap = run.meta.get("store_capacity", {})
    dt = float(run.meta["dt_h"])
    x = [(i + 1) * dt for i in range(len(run.plant))]
    width = len(run.meta["stores"])
    if any(len(rec.get("S", ())) != width for rec in run.plant):  # said on the figure, not raised: the rest still reports
        fig.add_annotation(text=f"plant.jsonl: some steps lack the {width} store levels of run.json's stores",
                           showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        fig.update_layout(title="Storage levels (fraction of capacity)", height=380)
        return fig
    for j, key in enumerate(run.meta["stores"]):
        c = float(cap.get(key, 0.0))
        if c <= 0:
            continue
        y = [rec["S"][j] / c for rec in run.plant]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=key,
                                 hovertemplate=f"{key}<br>%{{x:g}} h: %{{y:.1%}} of {c:,.0f}<extra></extra>"))
    fig.update_layout(title="Storage levels (fraction of capacity)", xaxis_title="simulated hours",
                      yaxis={"title": "fraction of capacity", "tickformat": ".0%", "rangemode": "tozero"},
                      height=380, margin={"t": 50})
    return fig


def blind_spans(run: Run) -> list[tuple[float, float]]:
    """Simulated-hour spans in which the controller was blind (commanding safe defaults)."""
    dt = float(run.meta["dt_h"])
    spans: list[list[float]] = []
    for rec in run.controller:
        if not rec.get("blind"):
            continue
        h = hours_of(run, rec["t"])
        if spans and abs(spans[-1][1] - h) < 1e-9:
            spans[-1][1] = h + dt
        else:
            spans.append([h, h + dt])
    return [(a, b) for a, b in spans]


def setpoints(run: Run, units: dict[str, str]) -> go.Figure:
    """Per setpoint tag, what the controller commanded against what the plant applied, blind spans shaded.

    :param run: the run folder
    :param units: setpoint tag -> its unit (the axis titles)
    """
    tags = sorted({t for rec in run.plant for t in rec.get("setpoints", {})}
                  | {t for rec in run.controller for t in rec.get("setpoints", {})})
    fig = make_subplots(rows=max(1, len(tags)), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=tags or ["no setpoint tags"])
    for row, tag in enumerate(tags, 1):
        cx = [hours_of(run, r["t"]) for r in run.controller if tag in r.get("setpoints", {})]
        cy = [r["setpoints"][tag] for r in run.controller if tag in r.get("setpoints", {})]
        px = [hours_of(run, r["t"]) for r in run.plant if tag in r.get("setpoints", {})]
        py = [r["setpoints"][tag] for r in run.plant if tag in r.get("setpoints", {})]
        first = row == 1
        fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", line={"shape": "hv", "color": "#1f4e9c"}, name="commanded",
                                 legendgroup="commanded", showlegend=first), row=row, col=1)
        fig.add_trace(go.Scatter(x=px, y=py, mode="lines", line={"shape": "hv", "color": "#e6a700", "dash": "dot"},
                                 name="applied by the plant", legendgroup="applied", showlegend=first), row=row, col=1)
        fig.update_yaxes(title_text=units.get(tag, ""), row=row, col=1)
    for a, b in blind_spans(run):
        fig.add_vrect(x0=a, x1=b, fillcolor="#999999", opacity=0.25, line_width=0, row="all", col=1)
    fig.update_xaxes(title_text="simulated hours", row=max(1, len(tags)), col=1)
    fig.update_layout(title="Setpoints: commanded against applied (grey: controller blind, safe defaults)",
                      height=160 + 190 * max(1, len(tags)), margin={"t": 70})
    return fig


def cumulative(dt_h: float, series: dict[str, dict[str, list[float]]], currency: str, base: str = "rule baseline"
               ) -> go.Figure:
    """Cumulative cost and CO2 of the loop and the offline runs, and below, each one's difference to ``base``.

    Over a week the runs differ by a few tenths of a percent, which the totals' curves hide; the
    differences to the rule baseline show who gains where.

    :param dt_h: step length (h)
    :param series: run label -> ``{"cost": [...], "co2_kg": [...]}`` per step
    :param currency: the park's currency
    :param base: the label of the run the second row is measured against (no second row without it)
    """
    ref = series.get(base)
    rows = 2 if ref is not None else 1
    titles = [f"cumulative cost ({currency})", "cumulative CO2 (t)"]
    if ref is not None:
        titles += [f"cost minus the {base} ({currency})", f"CO2 minus the {base} (t)"]
    fig = make_subplots(rows=rows, cols=2, subplot_titles=titles, vertical_spacing=0.14)
    for label, s in series.items():
        key = label.split(" ", 1)[0]
        line = {"color": LINE_COLOURS.get(key), "dash": "dash" if key == "offline" else None}
        x = [(i + 1) * dt_h for i in range(len(s["cost"]))]
        cost, co2 = np.cumsum(s["cost"]), np.cumsum(s["co2_kg"]) / 1000.0
        fig.add_trace(go.Scatter(x=x, y=cost.tolist(), mode="lines", name=label, legendgroup=label, line=line),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=co2.tolist(), mode="lines", name=label, legendgroup=label, showlegend=False,
                                 line=line), row=1, col=2)
        if ref is not None:
            n = min(len(cost), len(ref["cost"]))
            fig.add_trace(go.Scatter(x=x[:n], y=(cost[:n] - np.cumsum(ref["cost"])[:n]).tolist(), mode="lines",
                                     name=label, legendgroup=label, showlegend=False, line=line), row=2, col=1)
            fig.add_trace(go.Scatter(x=x[:n], y=(co2[:n] - np.cumsum(ref["co2_kg"])[:n] / 1000.0).tolist(),
                                     mode="lines", name=label, legendgroup=label, showlegend=False, line=line),
                          row=2, col=2)
    fig.update_xaxes(title_text="simulated hours", row=rows)
    fig.update_layout(title="Cost and CO2 against the rule baseline and the optimum", height=380 * rows,
                      margin={"t": 70})
    return fig
