"""``aisym forecast fit|show|backtest PARK``: forecasts of every metered series, from InfluxDB history.

Reading uses the read-only account (``AISYM_INFLUX_READER``, default ``dashboards``, with
``AISYM_INFLUX_READER_PASSWORD``); writing forecasts and their health uses ``AISYM_INFLUX_USER``
and ``AISYM_INFLUX_PASSWORD`` (an account that may write the database, e.g. the ingestor's).
"""

from __future__ import annotations

import importlib.util
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

# Without the forecast extra the command is listed as not installed, with its pip command
# (aisym.usererror.load_plugins); find_spec, because importing statsforecast takes seconds.
for _module in ("statsforecast", "lightgbm"):
    if importlib.util.find_spec(_module) is None:
        raise ModuleNotFoundError(f"No module named {_module!r}", name=_module)

forecast_app = typer.Typer(help="Forecasts learned from the park's telemetry (hourly 1-48 h, daily 1-14 d).",
                           no_args_is_help=True)
ParkArg = typer.Argument(None, help="Park file (default: the shipped Kråkøya park).")
InfluxUrl = typer.Option("http://127.0.0.1:8086", envvar="AISYM_INFLUX_URL", help="InfluxDB URL [env AISYM_INFLUX_URL].")
Database = typer.Option("aisym", envvar="AISYM_INFLUX_DB", help="Database [env AISYM_INFLUX_DB].")
Until = typer.Option(None, help="End of the history: ISO time (UTC) or epoch ms (default: now).")
Workers = typer.Option(2, min=1, help="Processes the series are fitted in (a 2-core gateway or VM: 2).")


def _until_ms(until: str | None) -> int:
    if until is None:
        return time.time_ns() // 1_000_000
    if until.isdigit():
        return int(until)
    try:
        t = datetime.fromisoformat(until)
    except ValueError:
        typer.echo(f"error: --until: {until!r} is neither an ISO time nor epoch milliseconds", err=True)
        raise typer.Exit(2) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1000)


def _db(url: str, database: str, user_var: str, secret_name: str, default_user: str | None):
    from aisym.influx import InfluxV1
    from cloud.ingest.config import secret

    return InfluxV1(url, database, os.environ.get(user_var, default_user), secret(secret_name))


def _fail(e: Exception) -> None:
    typer.echo(f"error: {e}", err=True)
    raise typer.Exit(1) from None


def _history(park, url, database, until, days):
    from aisym.influx import InfluxError

    from .store import read_history

    reader = _db(url, database, "AISYM_INFLUX_READER", "INFLUX_READER_PASSWORD", "dashboards")
    try:
        return read_history(reader, park, _until_ms(until), days)
    except InfluxError as e:
        _fail(e)


def _progress(total: int, what: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    p = Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False)
    task = p.add_task(what, total=total)
    return p, lambda: p.advance(task)


@forecast_app.command("fit")
def fit(
    park: Path = ParkArg,
    influx_url: str = InfluxUrl,
    database: str = Database,
    until: str = Until,
    days: int = typer.Option(70, min=3, help="Days of history to read (8 weeks fit, the rest backtests)."),
    origins: int = typer.Option(7, min=1, help="Daily rolling origins of the backtest that chooses each model."),
    state: Path = typer.Option(None, help="Refit state (last good model per series); default .aisym/forecast/PARK.json."),
    reselect_hours: float = typer.Option(24.0, min=0.0, help="Hours a chosen model is kept before a new backtest "
                                         "chooses again (0: every fit)."),
    workers: int = Workers,
) -> None:
    """Choose and fit a model per metered series, write its forecasts and health to InfluxDB."""
    from aisym.cli import graph_or_exit
    from aisym.influx import InfluxError

    from .refit import RefitState, health_lines, refit
    from .store import forecast_lines

    g = graph_or_exit(park)
    hist = _history(g, influx_url, database, until, days)
    st = RefitState.load(state or Path(".aisym/forecast") / f"{g.id}.json")
    now = _until_ms(until)
    bar, step = _progress(2 * len(hist), f"fitting {len(hist)} series of {g.id}")
    with bar:
        outcomes = refit(hist, st, now, origins, progress=step, reselect_ms=int(reselect_hours * 3_600_000),
                         workers=workers)
    writer = _db(influx_url, database, "AISYM_INFLUX_USER", "INFLUX_PASSWORD", None)
    lines = forecast_lines(g.id, [(o.forecast, o.history) for o in outcomes], now)
    try:
        for i in range(0, len(lines), 5000):
            writer.write(lines[i : i + 5000])
        writer.write(health_lines(g.id, outcomes, now))
    except InfluxError as e:
        _fail(e)
    st.save()
    counts = {k: sum(o.status == k for o in outcomes) for k in ("ok", "kept", "none")}
    for o in outcomes:
        if o.status != "ok":
            typer.echo(f"{o.forecast.series} ({o.forecast.freq.name}): {o.status}: {o.message}", err=True)
    typer.echo(f"wrote {len(lines)} forecast points of {counts['ok'] + counts['kept']} series forecasts "
               f"({counts['ok']} refitted, {counts['kept']} kept the last good model, {counts['none']} none) "
               f"to {influx_url}/{database}")


@forecast_app.command("show")
def show(
    park: Path = ParkArg,
    influx_url: str = InfluxUrl,
    database: str = Database,
    series: str = typer.Option(None, help="One series, <asset>.<tag> (default: all)."),
) -> None:
    """The stored forecasts: per series and resolution, the model, issue time and the next steps with 80 % intervals."""
    from rich.console import Console
    from rich.table import Table

    from aisym.cli import graph_or_exit
    from aisym.influx import InfluxError

    from .store import read_forecasts

    g = graph_or_exit(park)
    if series is not None and series not in g.tags:
        typer.echo(f"error: --series: {series!r} is not a tag of park {g.id}", err=True)
        raise typer.Exit(2)
    reader = _db(influx_url, database, "AISYM_INFLUX_READER", "INFLUX_READER_PASSWORD", "dashboards")
    try:
        rows = read_forecasts(reader, g.id, series)
    except InfluxError as e:
        _fail(e)
    if not rows:
        typer.echo(f"no forecasts stored for park {g.id}: run aisym forecast fit first", err=True)
        raise typer.Exit(1)
    t = Table(title=f"forecasts of {g.id}")
    for c in ("series", "resolution", "model", "issued (UTC)", "lead 1", "last lead"):
        t.add_column(c)
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["series"], r["resolution"]), []).append(r)

    def cell(r):
        return f"{r['mean']:.4g} [{r['lo80']:.4g}, {r['hi80']:.4g}]"

    for (s, res), rs in sorted(groups.items()):
        rs.sort(key=lambda r: r["time"])
        issued = datetime.fromtimestamp(rs[0]["issued"] / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        t.add_row(s, res, rs[0]["model"], issued, cell(rs[0]), cell(rs[-1]))
    Console().print(t)


@forecast_app.command("backtest")
def backtest(
    park: Path = ParkArg,
    influx_url: str = InfluxUrl,
    database: str = Database,
    until: str = Until,
    days: int = typer.Option(90, min=3, help="Days of history to read (8 weeks of fit + the origins + 2 days)."),
    origins: int = typer.Option(28, min=1, help="Daily rolling origins (at least 28 for a fair score)."),
    out: Path = typer.Option(Path("forecast-backtest"), help="Folder for backtest.csv and backtest.png."),
    workers: int = Workers,
) -> None:
    """Rolling-origin backtest of every metered series: MAE relative to the better seasonal naive, MASE, coverage."""
    from rich.console import Console

    from aisym.cli import graph_or_exit

    from .refit import RefitState, refit
    from .report import rich_table, rows, write_csv, write_png

    g = graph_or_exit(park)
    hist = _history(g, influx_url, database, until, days)
    bar, step = _progress(2 * len(hist), f"backtesting {len(hist)} series of {g.id} on {origins} origins")
    with bar:
        outcomes = refit(hist, RefitState(out / "unused.json"), _until_ms(until), origins, progress=step,
                         workers=workers)
    table = rows([o.forecast for o in outcomes])
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "backtest.csv")
    write_png(table, out / "backtest.png", f"{g.id}: {origins} daily origins")
    Console().print(rich_table(table, f"backtest of {g.id} ({origins} daily origins)"))
    typer.echo(f"wrote {out / 'backtest.csv'} and {out / 'backtest.png'}")


def register(app: typer.Typer) -> None:
    app.add_typer(forecast_app, name="forecast")
