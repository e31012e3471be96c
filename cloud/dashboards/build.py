"""Grafana dashboards generated from the park graph (grafana-foundation-sdk + InfluxQL targets).

Any park, v1 or v2 (a v1 file is read as its migrated graph). Four kinds, all InfluxQL on the
measurements of the telemetry contract and the ingestor's own:

- **overview**: a row per carrier family with a flow panel per carrier, every metered exchange
  in exactly one of them, in one unit per panel (:mod:`cloud.dashboards.flows` states the
  rules); the amount exchanged over the range per unit; a table of the latest flows (the park's
  Sankey-style view: Grafana ships no Sankey panel); storage levels; cost and CO2 KPIs
  (:mod:`cloud.dashboards.kpis`);
- **company**: one per company: what it gives and takes (latest), then a row per asset with a
  panel per tag;
- **data quality**: stale and comm_error shares, unsynced clocks, seq gaps and duplicates, last seen;
- **health**: gateway/node counters (``node_health``), node status, and the ingestor's own series.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import bargauge, common, dashboard, gauge, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.common import GraphDrawStyle, StackingMode
from grafana_foundation_sdk.models.dashboard import Dashboard, DataTransformerConfig, GridPos

from aisym.park.graph import ParkGraph
from aisym.park.tags import Tag

from .flows import Flow, FlowPanel, flow_panels
from .influxql import DATASOURCE, InfluxQL
from .influxql import quote_ident as qi
from .influxql import quote_str as qs
from .kpis import park_kpis

# park unit -> Grafana unit id (the rest are shown as a suffix)
GRAFANA_UNITS = {
    "degC": "celsius",
    "%": "percent",
    "W": "watt",
    "kW": "kwatt",
    "MW": "megwatt",
    "Wh": "watth",
    "kWh": "kwatth",
    "MWh": "mwatth",
    "V": "volt",
    "Hz": "hertz",
    "mbar": "pressurembar",
    "bar": "pressurebar",
    "kPa": "pressurekpa",
    "kg": "masskg",
    "t": "masst",
}
WHERE_TIME = "$timeFilter"
BY_TIME = "GROUP BY time($__interval)"


def grafana_unit(unit: str) -> str:
    return GRAFANA_UNITS.get(unit, f"suffix: {unit}")


@dataclass
class Board:
    """A dashboard under construction that places panels left to right, rows of 24 columns."""

    uid: str
    title: str
    park: ParkGraph
    tags: list[str] = field(default_factory=list)
    _b: dashboard.Dashboard = field(init=False)
    _x: int = 0
    _y: int = 0
    _row_h: int = 0
    _id: int = 0

    def __post_init__(self) -> None:
        self._b = (
            dashboard.Dashboard(self.title)
            .uid(self.uid)
            .tags(["aisym", self.park.id, *self.tags])
            .time("now-6h", "now")
            .refresh("30s")
            .timezone(self.park.doc.park.timezone)
            .readonly()
        )

    def row(self, title: str) -> Board:
        self._newline()
        self._id += 1
        self._b.with_row(dashboard.Row(title).id(self._id).grid_pos(GridPos(h=1, w=24, x=0, y=self._y)))
        self._y += 1
        return self

    def add(self, panel: Builder, w: int = 8, h: int = 8) -> Board:
        if self._x + w > 24:
            self._newline()
        self._id += 1
        panel.id(self._id).datasource(DATASOURCE).grid_pos(GridPos(h=h, w=w, x=self._x, y=self._y))  # type: ignore[attr-defined]
        self._b.with_panel(panel)  # type: ignore[arg-type]
        self._x += w
        self._row_h = max(self._row_h, h)
        return self

    def _newline(self) -> None:
        if self._x:
            self._y += self._row_h
        self._x, self._row_h = 0, 0

    def build(self) -> Dashboard:
        return self._b.build()


# -- queries -----------------------------------------------------------------------------------
def _park(park: ParkGraph) -> str:
    return f'"park" = {qs(park.id)}'


def _sel(agg: str, scale: float | None) -> str:
    return f"{agg} * {scale!r}" if scale is not None and scale != 1.0 else agg


def tag_series(
    park: ParkGraph, tag_id: str, agg: str = 'mean("value")', by_node: bool = True, scale: float | None = None
) -> str:
    """``agg`` of one tag over time (times ``scale``, a unit conversion or a price); one series per node."""
    asset, name = tag_id.split(".", 1)
    group = f'{BY_TIME}, "node"' if by_node else BY_TIME
    where = f'{_park(park)} AND "signal" = {qs(name)} AND {WHERE_TIME}'
    return f"SELECT {_sel(agg, scale)} FROM {qi(asset)} WHERE {where} {group} fill(none)"


def tag_total(park: ParkGraph, tag_id: str, agg: str, scale: float | None = None) -> str:
    """One value over the whole time range (``integral``, ``last``)."""
    asset, name = tag_id.split(".", 1)
    return f'SELECT {_sel(agg, scale)} FROM {qi(asset)} WHERE {_park(park)} AND "signal" = {qs(name)} AND {WHERE_TIME}'


def _ts(title: str, unit: str, targets: Iterable[InfluxQL], description: str = "", bars: bool = False) -> timeseries.Panel:
    p = timeseries.Panel().title(title).unit(unit).description(description)
    if bars:
        p.draw_style(GraphDrawStyle.BARS).fill_opacity(80).stacking(common.StackingConfig().mode(StackingMode.NORMAL))
    return _with(p, targets)


def _with(panel, targets: Iterable[InfluxQL]):
    for i, t in enumerate(targets):
        t.build().ref_id = _ref(i)
        panel.with_target(t)
    return panel


def _ref(i: int) -> str:
    return chr(ord("A") + i % 26) + (str(i // 26) if i >= 26 else "")


def _last() -> common.ReduceDataOptions:
    return common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def _assets_regex(park: ParkGraph) -> str:
    return "/^(" + "|".join(park.assets) + ")$/"


def _latest_table(park: ParkGraph, title: str, items: list[tuple[Flow, FlowPanel]], description: str) -> table.Panel:
    """A table of the latest reading of each flow, one row each: ``giver → taker: carrier [unit]``, value."""
    targets = [
        InfluxQL(tag_total(park, f.tag_id, 'last("value")', f.factor), f"{f.label}: {p.carrier.label()} [{p.unit}]")
        for f, p in items
    ]
    rows = DataTransformerConfig(id_val="reduce", options={"mode": "seriesToRows", "reducers": ["lastNotNull"]})
    return _with(table.Panel().title(title).description(description).with_transformation(rows), targets)


# -- the dashboards ----------------------------------------------------------------------------
def overview(park: ParkGraph) -> Dashboard:
    name = park.doc.park.name
    b = Board(f"aisym-{park.id}-overview", f"{name}: park overview", park, ["overview"])
    panels = flow_panels(park)
    every = [(f, p) for p in panels for f in p.flows]
    if every:
        b.row("Latest flows")
        b.add(_latest_table(park, "Latest flow of every metered exchange (giver → taker)", every,
                            "the park's flows in the latest reading of the range, each in its panel's unit"), w=24, h=12)
    for family in dict.fromkeys(p.family for p in panels):
        fam = [p for p in panels if p.family == family]
        b.row(f"Exchanges: {family}")
        for p in fam:
            targets = [InfluxQL(tag_series(park, f.tag_id, by_node=False, scale=f.factor), f"{f.label} ({f.link.id})")
                       for f in p.flows]
            conv = ", ".join(f"{f.tag_id} [{f.tag.unit}] x {f.factor:g}" for f in p.flows if f.factor != 1.0)
            desc = f"every metered exchange of {p.carrier.label()}, in {p.unit}" + (f"; converted: {conv}" if conv else "")
            b.add(_ts(f"Flows: {p.title}", grafana_unit(p.unit), targets, desc), w=12)
        for amount in dict.fromkeys(p.amount_unit for p in fam if p.amount_unit):
            volumes = [InfluxQL(tag_total(park, f.tag_id, 'integral("value", 1h)', f.factor), f"{f.link.id} [{amount}]")
                       for p in fam if p.amount_unit == amount for f in p.flows]
            g = bargauge.Panel().title(f"Exchanged {family} over the time range [{amount}]").unit(grafana_unit(amount))
            b.add(_with(g.reduce_options(_last()), volumes).description("integral of each meter tag over the range"), w=12)

    storage = {n.asset for n in park.nodes if n.type == "storage"}
    names = {a.id: a.name for c in park.doc.companies for a in c.assets}
    levels = [(a, t) for a in sorted(storage) for t_id, t in park.tags.items()
              if t_id.split(".")[0] == a and t.quantity == "level"]
    if levels:
        b.row("Storage")
        for a, t in levels:
            g = gauge.Panel().title(f"{names.get(a) or a}: {t.name}").unit(grafana_unit(t.unit)).min(t.min).max(t.max)
            b.add(_with(g.reduce_options(_last()), [InfluxQL(tag_total(park, f"{a}.{t.name}", 'last("value")'), t.name)]), w=6)
        for unit in dict.fromkeys(t.unit for _, t in levels):
            b.add(_ts(f"Storage levels [{unit}]", grafana_unit(unit),
                      [InfluxQL(tag_series(park, f"{a}.{t.name}", by_node=False), a) for a, t in levels if t.unit == unit]),
                  w=24 - 6 * (len(levels) % 4) if len(levels) % 4 else 24)

    kpis = park_kpis(park)
    if kpis:
        b.row(f"Cost and CO2 ({park.currency})")
    for k in kpis:
        rate = InfluxQL(tag_series(park, k.tag, by_node=False, scale=k.factor), f"{k.id} [{k.unit}/h]")
        b.add(_ts(f"{k.title} per hour", f"suffix: {k.unit}/h", [rate], k.why), w=8, h=7)
        total = InfluxQL(tag_total(park, k.tag, 'integral("value", 1h)', scale=k.factor), k.id)
        s = stat.Panel().title(f"{k.title} over the range").unit(f"suffix: {k.unit}").description(k.why)
        b.add(_with(s.reduce_options(_last()), [total]), w=4, h=7)
    return b.build()


def company(park: ParkGraph, company_id: str) -> Dashboard:
    c = next(c for c in park.doc.companies if c.id == company_id)
    b = Board(f"aisym-{park.id}-company-{c.id}"[:40], f"{park.doc.park.name}: {c.name}", park, ["company", c.id])
    mine = {a.id for a in c.assets}
    every = [(f, p) for p in flow_panels(park) for f in p.flows]
    gives = [(f, p) for f, p in every if f.link.src.split(".")[0] in mine]
    takes = [(f, p) for f, p in every if f.link.dst.split(".")[0] in mine]
    if gives or takes:
        b.row(f"What {c.name} gives and takes")
        for what, items in (("gives", gives), ("takes", takes)):
            if items:
                b.add(_latest_table(park, f"{c.name} {what} (latest)", items, f"metered exchanges {c.id} {what}"), w=12)
    for a in c.assets:
        b.row(f"{a.name or a.id} ({a.id}, {a.template or 'components'})")
        for t in a.tags:
            b.add(_tag_panel(park, f"{a.id}.{t.name}", t), w=8, h=7)
    return b.build()


def _tag_panel(park: ParkGraph, tag_id: str, t: Tag) -> timeseries.Panel:
    title = f"{tag_id} [{t.unit}]" + (" (setpoint)" if t.controllable else "")
    desc = t.description or f"{t.quantity}, {t.min} to {t.max} {t.unit}"
    p = _ts(title, grafana_unit(t.unit), [InfluxQL(tag_series(park, tag_id), "$tag_node")], desc)
    if t.quantity == "level":
        p.min(t.min).max(t.max)
    return p


def data_quality(park: ParkGraph) -> Dashboard:
    pid = park.id
    b = Board(f"aisym-{pid}-data-quality", f"{park.doc.park.name}: data quality", park, ["quality"])
    P, A = _park(park), _assets_regex(park)
    dq = f'FROM "data_quality" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "node" fill(none)'
    b.row("Quality of readings")
    b.add(_ts("Stale share by node", "percentunit", [InfluxQL(f'SELECT mean("stale_share") {dq}', "$tag_node")]), w=12)
    b.add(
        _ts("comm_error share by node", "percentunit", [InfluxQL(f'SELECT mean("comm_error_share") {dq}', "$tag_node")]), w=12
    )
    by_q = [
        InfluxQL(f'SELECT sum({qi(q)}) FROM "data_quality" WHERE {P} AND {WHERE_TIME} {BY_TIME} fill(none)', q)
        for q in ("good", "stale", "comm_error")
    ]
    b.add(_ts("Readings by quality", "short", by_q, bars=True), w=12)
    per_asset = [
        InfluxQL(
            f'SELECT count("seq") FROM {A} WHERE {P} AND "quality" = {qs(q)} AND {WHERE_TIME} {BY_TIME} fill(none)', f"$m {q}"
        )
        for q in ("stale", "comm_error")
    ]
    b.add(_ts("Stale and comm_error readings by asset", "short", per_asset, bars=True), w=12)
    unsynced = f'SELECT count("seq") FROM {A} WHERE {P} AND "ts_synced" = false AND {WHERE_TIME} {BY_TIME} fill(none)'
    b.add(_ts("Readings with an unsynced clock, by asset", "short", [InfluxQL(unsynced, "$m")], bars=True), w=12)

    b.row("Sequence gaps and duplicates")
    gaps = f'SELECT sum("missing") FROM "seq_gap" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "node" fill(none)'
    b.add(_ts("Missing readings (seq gaps) by node", "short", [InfluxQL(gaps, "$tag_node")], bars=True), w=8)
    dups = f'SELECT sum("duplicates") FROM "ingest_seq" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "node" fill(none)'
    b.add(_ts("Duplicate readings by node", "short", [InfluxQL(dups, "$tag_node")], bars=True), w=8)
    gap_list = f'SELECT "first", "last", "missing" FROM "seq_gap" WHERE {P} AND {WHERE_TIME} GROUP BY "node"'
    b.add(
        _with(table.Panel().title("Gaps (first and last seq missing)"), [InfluxQL(gap_list, "", result_format="table")]), w=8
    )

    b.row("Last seen")
    fields = 'last("age_s") AS "age_s", last("last_seen_ms") AS "last_seen_ms"'
    seen = f'SELECT {fields} FROM "node_last_seen" WHERE {P} AND {WHERE_TIME} GROUP BY "node"'
    b.add(
        _with(
            table.Panel().title("Node last seen (age in s at the ingestor's last report)"),
            [InfluxQL(seen, "", result_format="table")],
        ),
        w=12,
    )
    age = f'SELECT max("age_s") FROM "node_last_seen" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "node" fill(none)'
    b.add(_ts("Seconds since each node was last heard", "s", [InfluxQL(age, "$tag_node")]), w=12)
    return b.build()


def health(park: ParkGraph) -> Dashboard:
    pid = park.id
    b = Board(f"aisym-{pid}-health", f"{park.doc.park.name}: gateway and ingest health", park, ["health"])
    P = _park(park)
    b.row("Gateways and nodes")
    counters = f'SELECT mean(*) FROM "node_health" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "node" fill(none)'
    b.add(_ts("Node counters (node_health)", "short", [InfluxQL(counters, "$tag_node $col")]), w=16)
    spool = [
        InfluxQL(
            f'SELECT max({qi(f)}) FROM "node_health" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "node" fill(none)', f"$tag_node {f}"
        )
        for f in ("sent", "queued_total", "dropped")  # the gateway spool's counters (edge/gateway/spool.py)
    ]
    b.add(_ts("Gateway spool: sent, queued, dropped (a drop is data lost at the edge)", "short", spool), w=8)
    online = f'SELECT last("online") FROM "node_status" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "node" fill(previous)'
    b.add(_with(statetimeline.Panel().title("Online (1) / offline (0)"), [InfluxQL(online, "$tag_node")]), w=8)

    b.row("Ingest")
    ih = f'FROM "ingest_health" WHERE {P} AND {WHERE_TIME} {BY_TIME}, "instance" fill(none)'
    for title, fld, unit, agg in [
        ("Ingest rate", "rate", "suffix: readings/s", "mean"),
        ("Lag: reading age on arrival", "lag_ms", "ms", "mean"),
        ("Spill queue (points waiting for InfluxDB)", "spill_points", "short", "max"),
        ("Dead letters (total)", "dead_letters", "short", "max"),
        ("Points refused by InfluxDB (total)", "refused_points", "short", "max"),
        ("InfluxDB write errors (total)", "write_errors", "short", "max"),
        ("Messages waiting in memory", "pending", "short", "max"),
        ("Seq gaps and duplicates (total)", "gaps", "short", "max"),
    ]:
        targets = [InfluxQL(f"SELECT {agg}({qi(fld)}) {ih}", f"$tag_instance {fld}")]
        if fld == "gaps":
            targets.append(InfluxQL(f'SELECT max("duplicates") {ih}', "$tag_instance duplicates"))
        b.add(_ts(title, unit, targets), w=6, h=7)
    written = f'SELECT last("points_written") FROM "ingest_health" WHERE {P} AND {WHERE_TIME} GROUP BY "instance"'
    b.add(
        _with(stat.Panel().title("Points written since start").reduce_options(_last()), [InfluxQL(written, "$tag_instance")]),
        w=6,
        h=7,
    )
    return b.build()


def build_all(park: ParkGraph) -> dict[str, Dashboard]:
    """File stem -> dashboard: the overview, data quality, health, and one per company that has data."""
    from .forecasts import forecasts

    out = {"overview": overview(park), "data-quality": data_quality(park), "health": health(park),
           "forecasts": forecasts(park)}
    metered = {a for f in flow_panels(park) for ln in f.flows for a in (ln.link.src.split(".")[0], ln.link.dst.split(".")[0])}
    for c in park.doc.companies:  # a company with no tag and no metered exchange has nothing to show
        if any(a.tags or a.id in metered for a in c.assets):
            out[f"company-{c.id}"] = company(park, c.id)
    return out
