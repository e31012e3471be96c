"""``aisym twin``: run any park's compiled twin, and put a park beside its what-if before investing."""

from __future__ import annotations

import json
from pathlib import Path

import typer

twin_app = typer.Typer(help="Run any park's digital twin and its what-ifs.", no_args_is_help=True)

def register(app: typer.Typer) -> None:
    """Add ``aisym twin`` to the platform CLI."""
    app.add_typer(twin_app, name="twin")


def _run_compiled(path: Path | None, strategy: str, hours: float, exo_seed: int, gap: bool, out: Path | None,
                  exo: Path | None = None) -> None:
    """``twin run``: any park (v1 or v2) or a what-if overlay (the shipped Kråkøya's by name).

    ``exo`` is a CSV of the park's own series (columns named by series id, as ``twin series``
    writes them for a v2 park): it replaces the generated series over the run.
    """
    from rich.console import Console
    from rich.table import Table

    from aisym.park import ParkError

    from .graph.baselines import make_graph_strategy
    from .graph.bench import resolve_graph_scenario
    from .graph.evaluate import evaluate
    from .graph.exogenous import load_series_csv

    try:
        name, graph = resolve_graph_scenario(path if path is not None else "base", None)  # a name: the shipped park's
        strat = make_graph_strategy(strategy)
        given = None if exo is None else load_series_csv(exo, graph, max(1, round(hours)), exo_seed)
    except (ParkError, ValueError, FileNotFoundError) as e:  # SeriesError is a ValueError
        typer.echo(str(e).rstrip(), err=True)
        raise typer.Exit(2) from None
    res = evaluate(strat, graph, hours=hours, exo_seed=exo_seed, given=given, progress=True)
    if gap and strategy != "optimum":  # as the leaderboard: the stores' end content valued at the optimum's prices
        from .graph.bench import fair_gap

        optimum = make_graph_strategy("optimum", end_values=True)
        best = evaluate(optimum, graph, hours=hours, exo_seed=exo_seed, given=given, progress=True)
        res.extra["gap_pct"] = fair_gap(res, best, optimum.end_values)
    cur = res.currency
    what = f"series from {exo}" if exo is not None else f"generated year, seed {exo_seed}"
    table = Table(title=f"{graph.park.name}: {strategy}, {hours:g} h (compiled twin, {what})")
    for col in ("KPI", "value", "unit"):
        table.add_column(col, justify="right" if col == "value" else "left")
    rows = [("cost + carbon", res.objective, cur), ("cost", res.cost, cur), ("carbon cost", res.carbon_cost, cur),
            ("CO2", res.co2_t, "t")]
    # kWh, kg and m3 are never added together (issue 22, finding 10): one row per unit
    rows += [("bought as backup", v, unit) for unit, v in res.backup_by_unit.items()]
    rows += [("unmet (no backup)", v, unit) for unit, v in res.unmet_by_unit.items()] or [("unmet (no backup)", 0.0, "")]
    rows += [("spilled", res.spilled, "carriers' units")]
    for label, v, unit in rows:
        table.add_row(label, _fmt(v), unit)
    if "gap_pct" in res.extra:
        table.add_row("optimality gap (stores' end content valued)", f"{res.extra['gap_pct']:.2f}", "%")
    Console().print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"scenario": name, "strategy": strategy, "exo": None if exo is None else str(exo),
                                   "kpis": res.kpis(), "totals": res.totals, **res.extra}, indent=2))


def _fmt(v: float) -> str:
    return f"{v:,.1f}" if abs(v) < 1e5 else f"{v:,.0f}"


@twin_app.command("run")
def run(
    scenario: Path = typer.Argument(None, help="Park file (v1 or v2), what-if overlay, or a Kråkøya what-if by name "
                                               "(default: the shipped park)."),
    strategy: str = typer.Option("rule", help="random, rule, mpc or optimum."),
    hours: float = typer.Option(8760.0, help="Simulated hours from 1 January."),
    exo_seed: int = typer.Option(0, help="Seed of the generated year of the park's series."),
    exo: Path = typer.Option(None, help="CSV of the park's series instead of generated ones (columns named by its "
                                        "series ids, as 'twin series --park' writes them)."),
    gap: bool = typer.Option(False, help="Also solve the optimum and print the optimality gap."),
    out: Path = typer.Option(None, help="Write the KPIs as JSON here."),
) -> None:
    """Run one strategy on one park or scenario on the compiled twin and print its KPIs."""
    _run_compiled(scenario, strategy, hours, exo_seed, gap, out, exo)


@twin_app.command("compare", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def compare(ctx: typer.Context) -> None:
    """Retired with the hand-written twin: use 'aisym twin whatif OVERLAY' or 'aisym twin run PARK'."""
    given = " ".join(["aisym twin compare", *ctx.args])  # named back, so nothing the user gave passes unseen
    typer.echo(f"{given}: 'twin compare' ran the retired hand-written Kråkøya twin; use 'aisym twin whatif OVERLAY' "
               "(a park and its what-if side by side) or 'aisym twin run PARK'", err=True)
    raise typer.Exit(2)


@twin_app.command("series")
def series(
    out: Path = typer.Argument(..., help="CSV file to write."),
    park: Path = typer.Option(None, help="Park file, v1 or v2 (default: the shipped park): its own series, one column "
                                         "per series id, as 'twin run PARK --exo' replays them."),
    exo_seed: int = typer.Option(0, help="Seed of the generated year."),
    dt_h: float = typer.Option(1.0, help="Step length (hours)."),
) -> None:
    """Write a generated year of the park's series as CSV: the format ``twin run --exo`` replays (e.g. real telemetry)."""
    from aisym.park import DEFAULT_PARK

    _series_v2(park if park is not None else DEFAULT_PARK, out, exo_seed, dt_h)


def _series_v2(park: Path, out: Path, exo_seed: int, dt_h: float) -> None:
    from aisym.park import ParkError

    from .graph.exogenous import SeriesError, generate, save_series_csv

    try:
        from aisym.park.graph import load_graph

        graph = load_graph(park)
        series = generate(graph, exo_seed, 1, dt_h)
    except (ParkError, SeriesError) as e:
        typer.echo(str(e).rstrip(), err=True)
        raise typer.Exit(2) from None
    save_series_csv(series, out, dt_h)
    steps = next(iter(series.values())).shape[-1] if series else 0
    typer.echo(f"wrote {out} ({steps} steps, columns {', '.join(sorted(series))}); replay it with "
               f"'aisym twin run {park} --exo {out}'")


@twin_app.command("whatif")
def whatif(
    overlay: Path = typer.Argument(..., help="A what-if overlay of a v2 park (see sim_env/graph/whatif.py)."),
    action: float = typer.Option(0.5, min=0.0, max=1.0, help="Every action of both parks held at this fraction."),
    hours: float = typer.Option(8760.0, help="Simulated hours (a year: 8760)."),
    exo_seed: int = typer.Option(0, help="Seed of the park's series (the same year for both)."),
    out: Path = typer.Option(Path("twin-whatif"), help="Folder for whatif.png and whatif.json."),
) -> None:
    """Run a v2 park and its what-if on the compiled twin over the same year; print the deltas."""
    from rich.console import Console
    from rich.table import Table

    from aisym.park import ParkError

    from .graph.compile import CompileError
    from .graph.exogenous import SeriesError
    from .graph.whatif import compare as run_both
    from .graph.whatif_plot import whatif_plot

    try:
        base, other = run_both(overlay, action=action, seed=exo_seed, steps=round(hours))
    except (ParkError, SeriesError, CompileError) as e:
        typer.echo(str(e).rstrip(), err=True)
        raise typer.Exit(2) from None
    rows = [("cost", f"{base.currency}/period", base.cost, other.cost), ("CO2", "t", base.co2_t, other.co2_t),
            ("water bought", "m3", base.water_bought_m3, other.water_bought_m3),
            ("residues disposed", "t", base.residues_disposed_t, other.residues_disposed_t)]
    rows += _by_unit_rows("bought as backup", base.backup_by_unit, other.backup_by_unit)
    rows += _by_unit_rows("unmet (no backup)", base.unmet_by_unit, other.unmet_by_unit)
    table = Table(title=f"{other.name} vs {base.name} (every action at {action:g}, {hours:g} h)")
    for col in ("", base.name, other.name, "what-if minus base"):
        table.add_column(col, justify="right" if col else "left")
    for label, unit, a, b in rows:
        table.add_row(f"{label} ({unit})", _fmt(a), _fmt(b), _fmt(b - a))
    Console().print(table)
    for note in (n for n in other.notes if n not in base.notes):  # a unit the what-if leaves with no outlet
        Console().print(f"what-if note: {note}", markup=False, highlight=False, soft_wrap=True)
    out.mkdir(parents=True, exist_ok=True)
    png = whatif_plot(rows, base.name, other.name, out / "whatif.png")
    summary = {"overlay": str(overlay), "action": action, "hours": hours,
               "rows": {label if i < 4 else f"{label} ({unit})": {"unit": unit, "base": a, "whatif": b}
                        for i, (label, unit, a, b) in enumerate(rows)},
               "backup_base": base.backup, "backup_whatif": other.backup,
               "notes_whatif": [n for n in other.notes if n not in base.notes]}
    (out / "whatif.json").write_text(json.dumps(summary, indent=2))
    Console().print(f"plot: {png}\nfigures: {out / 'whatif.json'}")


def _by_unit_rows(label: str, base: dict[str, float], other: dict[str, float]) -> list[tuple[str, str, float, float]]:
    """One row per unit of ``label`` (backup bought, unmet) in either park: kg and kWh never summed."""
    return [(label, unit, base.get(unit, 0.0), other.get(unit, 0.0)) for unit in sorted({*base, *other})]


@twin_app.command("export")
def export(
    park: Path = typer.Argument(..., help="Park file (v1 or v2)."),
    out: Path = typer.Option(..., "--out", help="File to write (.nc for PyPSA)."),
    fmt: str = typer.Option("pypsa", "--format", help="Export format: pypsa (a PyPSA network as netCDF)."),
    hours: int = typer.Option(168, help="Horizon (h)."),
    start: int = typer.Option(0, help="First hour of the year."),
    seed: int = typer.Option(0, help="Seed of the generated series."),
) -> None:
    """Write PARK's perfect-foresight problem over HOURS as a PyPSA network (netCDF); see docs/pypsa.md."""
    from aisym.park import ParkError

    from .graph.compile import CompileError
    from .graph.pypsa_export import FORMATS, PypsaExportError
    from .graph.pypsa_export import export as write

    if fmt not in FORMATS:  # refused before the park is read or PyPSA imported
        typer.echo(f"--format {fmt!r} is not supported; formats: {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    try:
        n = write(park, out, hours=hours, start=start, seed=seed, fmt=fmt)
    except (PypsaExportError, ParkError, CompileError) as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    extras = n.meta["aisym"]
    typer.echo(f"wrote {out}: {len(n.buses)} buses, {len(n.links)} links, {len(n.stores)} stores, "
               f"{len(n.generators)} generators, {len(n.loads)} loads, {len(n.snapshots)} snapshots "
               f"(from hour {start}, seed {seed}); AISYM constraints in n.meta['aisym']: "
               f"{len(extras['release'])} release, {len(extras['on_off'])} on/off, {len(extras['offset'])} offset")
