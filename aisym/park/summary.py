"""A readable summary of a park description (rich tables)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from .model import Park
from .units import RESOURCE_UNITS

_SKIP = {"id", "name", "kind", "tags"}


def _params(asset) -> str:
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in asset.model_dump().items() if k not in _SKIP
    )


def render(park: Park, source: str = "") -> Group:
    head = f"[b]{park.park.name}[/b] ({park.park.id}) — {park.park.location}"
    counts = (
        f"{len(park.companies)} companies, {len(park.assets)} assets, {len(park.tags)} tags "
        f"({sum(t.controllable for t in park.tags.values())} controllable), {len(park.exchanges)} exchanges"
    )
    assets = Table(title="Assets", expand=True)
    for col in ("company", "asset", "kind", "parameters"):
        assets.add_column(col, overflow="fold")
    for c in park.companies:
        for a in c.assets:
            assets.add_row(c.id, a.id, a.kind, _params(a))
    tags = Table(title="Tags")
    for col in ("tag", "quantity", "unit", "min", "max", "control (safe default, max rate/s)"):
        tags.add_column(col)
    for tid, t in park.tags.items():
        ctl = f"{t.control.safe_default:g}, {t.control.max_rate_per_s or '-'}" if t.control else ""
        tags.add_row(tid, t.quantity, t.unit, f"{t.min:g}", f"{t.max:g}", ctl)
    ex = Table(title="Exchanges")
    for col in ("exchange", "resource", "from → to", "capacity", "quality", "meter"):
        ex.add_column(col)
    for e in park.exchanges:
        q = ", ".join(f"{k}={v:g}" for k, v in e.quality.model_dump(exclude_none=True).items())
        ex.add_row(
            e.id + ("" if e.enabled else " (off)"),
            e.resource.value,
            f"{e.source} → {e.sink}",
            f"{e.capacity:g} {RESOURCE_UNITS[e.resource]}",
            q,
            e.meter_tag or "",
        )
    m = park.market
    market = (
        f"electricity {m.electricity_price_eur_per_mwh.mean:g} EUR/MWh mean (+{m.grid_fee_eur_per_mwh:g} fee), "
        f"grid CO2 {m.grid_co2_g_per_kwh.mean:g} g/kWh, carbon {m.carbon_price_eur_per_t:g} EUR/t, "
        f"water {m.water_price_eur_per_m3:g} EUR/m3"
    )
    return Group(Panel(f"{head}\n{counts}\n{market}\n[dim]{source}[/dim]", title="Park", expand=True), assets, tags, ex)


def graph_tags(graph) -> Table:
    """The tags of a v2 park (a :class:`~aisym.park.graph.ParkGraph`): what the gateway polls and
    InfluxDB stores, with the exchange each one meters."""
    meters = {link.meter_tag: link.id for link in graph.links if link.meter_tag}
    table = Table(title="Tags")
    for col in ("tag", "quantity", "unit", "min", "max", "control (safe default, max rate/s)", "meters"):
        table.add_column(col)
    for tid, t in graph.tags.items():
        ctl = f"{t.control.safe_default:g}, {t.control.max_rate_per_s or '-'}" if t.control else ""
        table.add_row(tid, t.quantity, t.unit, f"{t.min:g}", f"{t.max:g}", ctl, meters.get(tid, ""))
    return table


def print_summary(park: Park, source: str = "", console: Console | None = None) -> None:
    (console or Console()).print(render(park, source))
