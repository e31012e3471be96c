"""``aisym match``: candidate exchanges of a park, ranked, with the reasons and the ranking's inputs."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer

FORMATS = ("table", "csv", "json")
EXISTING = ("mark", "exclude", "ignore")


def register(app: typer.Typer) -> None:
    """Add ``aisym match`` to the platform CLI."""
    app.command("match", help="Find and rank candidate exchanges between the companies of a park.")(match_command)


def _fail(msg: str) -> None:
    typer.echo(msg, err=True)
    raise typer.Exit(2)


def match_command(
    park: Path = typer.Argument(None, help="park file (v1 or v2); default: the shipped Kråkøya-like park"),
    top: int = typer.Option(None, "--top", "-k", min=1, help="how many candidates to show (default 10)"),
    explain: bool = typer.Option(False, "--explain", help="show each candidate's reason and the rejected pairs"),
    fmt: str = typer.Option("table", "--format", help="table, csv or json"),
    existing: str = typer.Option("mark", "--existing", help="the park's exchanges: mark, exclude or ignore them"),
    without: str = typer.Option("", "--without", help="exchange ids to remove from the park first, comma separated"),
    profiles: list[Path] = typer.Option(None, "--profiles", help="a filled-in CSV/XLSX template (repeatable)"),
    no_heat_pump: bool = typer.Option(False, "--no-heat-pump", help="propose no heat pumps"),
    eur_rate: float = typer.Option(None, "--eur-rate", help="park currency per EUR (the cited costs are in EUR)"),
    rate: list[str] = typer.Option(None, "--rate", help="park currency per unit of another currency, CUR=VALUE "
                                   "(repeatable): template costs in it convert"),
    estimate: list[str] = typer.Option(None, "--estimate", help="a company known by its sector and size, "
                                       "ID:NACE:EMPLOYEES or ID:NACE:5000t/yr of production (repeatable; NACE empty: the "
                                       "company's own): its flows "
                                       "estimated from cited sector figures until it states its own"),
    distance_km: float = typer.Option(2.0, "--distance-km", help="route length between sites without coordinates"),
    seed: int = typer.Option(0, "--seed", help="seed of the year of series behind hourly profiles"),
    write_template: Path = typer.Option(None, "--write-template", help="write the company template (XLSX) and exit"),
    simulate: bool = typer.Option(False, "--simulate", help="simulate the top candidates in the twin for a year and "
                                  "re-rank them by simulated benefit"),
    optimum: bool = typer.Option(False, "--optimum", help="with --simulate: rank by the optimum re-solved per candidate"),
    ray: str = typer.Option(None, "--ray", help="with --simulate: run the batch on the Ray cluster at ADDRESS"),
    workers: int = typer.Option(None, "--workers", min=1, help="with --simulate: local processes sharing each batch's "
                                "rows (default: the usable cores once a batch pays for their start; 1: this one)"),
    set_size: int = typer.Option(0, "--set", min=0, help="with --simulate: grow the best set of K candidates "
                                 "(alone vs marginal) and split it by Shapley"),
    report: Path = typer.Option(None, "--report", help="with --simulate: write the per-company HTML report here"),
    hours: float = typer.Option(8760.0, "--hours", min=1.0, help="with --simulate: hours simulated (scaled to a year)"),
    receivers: int = typer.Option(0, "--receivers", min=0, help="rank every other company as the receiver of each "
                                  "output and show the best K of each (all are ranked)"),
    outcomes: list[Path] = typer.Option(None, "--outcomes", help="with --receivers: the park's recorded outcomes "
                                        "(the exchanges table's columns; status accepted, implemented or "
                                        "'rejected: why'), refitted with the documented exchanges (repeatable)"),
    telemetry: bool = typer.Option(False, "--telemetry", help="metered flows' profiles from their meters' readings in "
                                   "InfluxDB (read-only account: AISYM_INFLUX_READER, AISYM_INFLUX_READER_PASSWORD), "
                                   "with the band of their latest forecast"),
    influx_url: str = typer.Option("http://127.0.0.1:8086", "--influx-url", envvar="AISYM_INFLUX_URL",
                                   help="with --telemetry: InfluxDB URL [env AISYM_INFLUX_URL]"),
    influx_db: str = typer.Option("aisym", "--influx-db", envvar="AISYM_INFLUX_DB",
                                  help="with --telemetry: database [env AISYM_INFLUX_DB]"),
    telemetry_days: int = typer.Option(365, "--telemetry-days", min=2, help="with --telemetry: days of readings fitted"),
) -> None:
    """Rank candidate exchanges of PARK: every output against every input of the other companies."""
    if write_template is not None:
        from .template import write_template as write

        typer.echo(f"wrote {write(write_template)}")
        return
    if fmt not in FORMATS:
        _fail(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if existing not in EXISTING:
        _fail(f"--existing: {existing!r} is not one of {', '.join(EXISTING)}")
    _check_receivers(receivers, outcomes, simulate or optimum or ray or workers or set_size or report,
                     top is not None or explain)
    top = 10 if top is None else top
    from aisym.cli import graph_or_exit
    from aisym.park import ParkError

    from .importers import EmptyTemplate, read_profiles
    from .park import match_park, park_options, without_exchanges

    graph = graph_or_exit(park)
    if without.strip():
        try:
            graph = without_exchanges(graph, {x.strip() for x in without.split(",") if x.strip()})
        except ParkError as e:
            _fail(str(e))
    try:
        opts = park_options(graph, eur_rate, existing=existing, allow_heat_pump=not no_heat_pump, distance_km=distance_km)
        rates = {"EUR": opts.rate, **_rates(rate or [])}
    except ValueError as e:
        _fail(str(e))
    extra, sized = [], {}
    for path in profiles or []:
        try:
            found, problems = read_profiles(path, graph.currency, rates)
        except EmptyTemplate as e:
            _fail(str(e))
        except ValueError as e:
            _fail(str(e))
        for p in problems:
            typer.echo(f"{path}: {p} (row left out)", err=True)
        extra += found
        sized |= _sized(path, found)
    metered = _metered(graph, seed, influx_url, influx_db, telemetry_days) if telemetry else None
    estimated = _estimated(estimate or [], graph, extra)
    given = {e.id for e in estimated}  # --estimate is the later word on a template company's size
    estimated += [p for cid, p in sized.items() if cid not in given]
    cands, rejected, profs = match_park(graph, opts, extra, seed, metered, estimated)
    shown = cands[:top]
    if receivers:
        _receivers(profs, cands, receivers, fmt, outcomes or [])
        return
    if simulate or optimum or ray or workers or set_size or report:
        _simulate(graph, cands, top, existing, opts, fmt, seed, simulate, optimum, ray, set_size, report, hours, workers)
        return
    if fmt == "json":
        _json(graph, shown, rejected if explain else [], profs, len(cands))
    elif fmt == "csv":
        _csv(shown)
    else:
        _table(graph, shown, rejected, explain, len(cands), profs)


def _estimated(given: list[str], graph, extra) -> list:
    """``--estimate ID:NACE:EMPLOYEES``: profiles estimated from sector and size (one line and exit 2 if wrong)."""
    from .estimates import estimate_profile, parse_size

    known = {c.id: (c.nace, c.name) for c in graph.doc.companies} | {p.id: (p.nace, p.name) for p in extra}
    out = []
    for g in given:
        parts = g.split(":")
        if len(parts) != 3:
            _fail(f"--estimate: write ID:NACE:EMPLOYEES, like bakery:10.71:12 (got {g!r})")
        cid, nace, n = (x.strip() for x in parts)
        nace = nace or known.get(cid, ("", ""))[0]
        if not nace:
            _fail(f"--estimate {g}: {cid} is not a company of the park or a template: state its NACE code")
        try:
            employees, tonnes = parse_size(n)  # 12 employees, or 5000t/yr of production
            prof, notes = estimate_profile(cid, nace, employees, known.get(cid, ("", ""))[1], tonnes=tonnes)
        except ValueError as e:
            _fail(f"--estimate {g}: {e}")
        for note in notes:
            typer.echo(f"--estimate {g}: {note}", err=True)
        if not prof.flows:
            typer.echo(f"--estimate {g}: no sector figure covers NACE {prof.nace}: nothing estimated", err=True)
        out.append(prof)
    return out


def _sized(path: Path, found) -> dict:
    """A template's companies that state their employees: their flows estimated, by company id."""
    from .estimates import from_templates

    estimated, notes = from_templates(found)
    for note in notes:
        typer.echo(f"{path}: {note}", err=True)
    return {p.id: p for p in estimated}


def _metered(graph, seed: int, url: str, database: str, days: int) -> dict:
    """The meters' years from InfluxDB, their notes on stderr; one line and exit 2 when it cannot be read."""
    import os

    from aisym.influx import InfluxError, InfluxV1
    from aisym.secret import SecretError, secret

    from .metered import read_meters
    from .park import park_profiles

    try:
        client = InfluxV1(url, database, os.environ.get("AISYM_INFLUX_READER", "dashboards"),
                          secret("INFLUX_READER_PASSWORD"))
        metered, notes = read_meters(client, graph, park_profiles(graph, seed), days=days)
    except (InfluxError, SecretError, ValueError) as e:
        _fail(f"--telemetry: {e}")
    for n in notes:
        typer.echo(f"--telemetry: {n}", err=True)
    typer.echo(f"--telemetry: {len(metered)} meter(s) read from {url}/{database}", err=True)
    return metered


def _check_receivers(receivers: int, outcomes, simulating, table_options: bool) -> None:
    if receivers and table_options:
        # nothing given is silently ignored: --receivers K has its own count and shows its reasons
        _fail("--receivers K shows the best K receivers of each output with their reasons: "
              "--top and --explain go with the candidate table")
    if outcomes and not receivers:
        _fail("--outcomes goes with --receivers K")
    if receivers and simulating:
        _fail("--receivers ranks companies for each output; --simulate (and its options) simulate candidates: one at a time")


def _receivers(profs, cands, k: int, fmt: str, outcomes: list[Path]) -> None:
    from .corpus import CorpusError
    from .receivers import as_json, lines, rank_outputs

    try:
        rankings = rank_outputs(profs, cands, tuple(outcomes), top=None if fmt == "json" else k)
    except (CorpusError, OSError, ImportError) as e:
        _fail(str(e))
    if fmt == "json":
        typer.echo(json.dumps(as_json(rankings), indent=2))
    elif fmt == "csv":  # one row per output and ranked company, the best K of each
        w = csv.writer(sys.stdout)
        w.writerow(["supplier", "output", "resource", "companies_ranked", "rank", "company", "nace", "score", "band",
                    "reasons"])
        for o in as_json(rankings):
            for r in o["ranked"][:k]:
                w.writerow([o["supplier"], o["output"], o["resource"], o["companies_ranked"], r["rank"], r["company"],
                            r["nace"], r["score"], r["band"], "; ".join(r["reasons"])])
    else:
        for line in lines(rankings, profs, k):
            typer.echo(line)


def _rates(given: list[str]) -> dict[str, float]:
    """``--rate SEK=0.69``: park currency per unit of another currency."""
    out = {}
    for g in given:
        cur, _, value = g.partition("=")
        try:
            out[cur.strip().upper()] = float(value)
        except ValueError:
            raise ValueError(f"--rate: write CUR=VALUE, like SEK=0.69 (got {g!r})") from None
        if out[cur.strip().upper()] <= 0:
            raise ValueError(f"--rate: a rate is above 0 (got {g!r})")
    return out


def _simulate(graph, cands, top, existing, opts, fmt, seed, simulate, optimum, ray, set_size, report, hours,
              workers) -> None:
    if not simulate:
        _fail("--optimum, --ray, --workers, --set and --report go with --simulate")
    if ray and workers:
        _fail("--workers shares the batch between local processes, --ray runs it on a cluster: give one")
    from sim_env.graph.sweep import RayUnreachable, check_ray

    from .simulate_cli import run_simulation

    # the park's own exchanges are the base the candidates are simulated against: not among the K
    shown = [c for c in cands if c.existing is None][:top] if existing == "mark" else cands[:top]
    try:
        check_ray(ray)  # a cluster that is not there is said within seconds, in one line, before any simulation
        run_simulation(graph, shown, opts, fmt=fmt, hours=hours, seed=seed, optimum=optimum, ray=ray,
                       set_size=set_size, report=report, workers=workers)
    except RayUnreachable as e:
        _fail(str(e))


def _json(graph, shown, rejected, profs, total: int) -> None:
    from .score import describe_inputs

    out = {"park": graph.id, "currency": graph.currency, "candidates_found": total,
           "flows": sum(len(p.flows) for p in profs.values()),
           "candidates": [{"rank": i + 1, **describe_inputs(c), "exchange": c.as_exchange(),
                           "estimate": {"output": c.output.estimate or None,
                                        "input": c.input.estimate or None if c.input else None}}
                          for i, c in enumerate(shown)],
           "rejected": [{"output": r.output.label(), "input": r.input.label(), "reason": r.reason} for r in rejected]}
    typer.echo(json.dumps(out, indent=2, default=float))


def _csv(shown) -> None:
    from .score import describe_inputs

    rows = [{"rank": i + 1, **describe_inputs(c)} for i, c in enumerate(shown)]
    if not rows:
        return
    w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)


def _table(graph, shown, rejected, explain: bool, total: int, profs) -> None:
    from rich.console import Console
    from rich.table import Table

    from .readable import amount, grouped, money
    from .score import _amount

    # 100 columns: a facilitator's terminal; the details of each candidate come with --explain
    con = Console(soft_wrap=False, width=100)
    cur = graph.currency
    flows = sum(len(p.flows) for p in profs.values())
    con.print(f"{graph.id}: {len(profs)} companies, {flows} flows; {total} candidates, {len(rejected)} pairs rejected",
              markup=False, highlight=False)

    def name(company: str) -> str:
        p = profs.get(company)
        return (p.name if p is not None and p.name else company)

    t = Table("#", "from", "to", "what", "how", "per year", "benefit/yr", box=None, pad_edge=False)
    for i, c in enumerate(shown, start=1):
        est = "≈" if c.output.estimate or (c.input is not None and c.input.estimate) else ""
        t.add_row(f"{i}{'*' if c.existing else ''}", name(c.supplier), name(c.receiver), c.output.carrier.label(),
                  c.conversion.kind, est + amount(c.annual, _amount(c.output)), money(c.benefit, cur))
    con.print(t)
    if any(c.existing for c in shown):
        con.print("* an exchange the park already has", markup=False, highlight=False)
    if any(c.output.estimate or (c.input is not None and c.input.estimate) for c in shown):
        con.print("≈ an estimate from a company's sector and size (--explain says from what)", markup=False,
                  highlight=False)
    flagged = [r for r in rejected if r.reason.startswith("implausible: ")]
    if flagged:  # never ranked silently: said whether or not --explain is asked
        con.print(f"\nFlagged, not ranked ({len(flagged)}):", markup=False)
        for r in flagged:
            con.print(f"- {name(r.output.company)} -> {name(r.input.company)}: {r.reason}", markup=False, highlight=False)
    if not explain:
        return
    con.print("\nWhy each candidate (the ranking's inputs):", markup=False)
    for i, c in enumerate(shown, start=1):
        con.print(f"{i}. {c.reason()}; money {money(c.money, cur)}/yr, CO2 {amount(c.co2, 'kg')}/yr, "
                  f"score {c.score:.2f}" + (f", existing exchange {c.existing}" if c.existing else ""),
                  markup=False, highlight=False)
    con.print(f"\nRejected pairs ({len(rejected)}), by reason:", markup=False)
    for kind, n, example in grouped(rejected):
        con.print(f"- {n} × {kind}: e.g. {example}", markup=False, highlight=False)
