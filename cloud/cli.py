"""``aisym ingest`` and ``aisym dashboards build|push``: registered into the ``aisym`` app.

Heavy imports (paho, grafana-foundation-sdk, grafana-client) stay inside the commands, so
``aisym --help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

dashboards_app = typer.Typer(help="Grafana dashboards generated from the park description.", no_args_is_help=True)
DEFAULT_OUT = Path(__file__).parent / "dashboards" / "generated"


def ingest(
    park: Path = typer.Option(None, "--park", help="Park YAML (default: the shipped Kråkøya park)."),
    mqtt_host: str = typer.Option(None, help="Broker host [env AISYM_MQTT_HOST, default 127.0.0.1]."),
    mqtt_port: int = typer.Option(None, help="Broker port [env AISYM_MQTT_PORT, 1883; 8883 with a CA]."),
    mqtt_user: str = typer.Option(None, help="Broker account [env AISYM_MQTT_USER, default ingest]."),
    ca_file: Path = typer.Option(None, help="CA certificate: connect with TLS [env AISYM_MQTT_CA_FILE]."),
    influx_url: str = typer.Option(None, help="InfluxDB URL [env AISYM_INFLUX_URL]."),
    influx_db: str = typer.Option(None, help="InfluxDB database [env AISYM_INFLUX_DB, default aisym]."),
    group: str = typer.Option(None, help="Shared-subscription group; instances in a group split the load; "
                              "'none': a plain subscription (one instance; survives a broker restart)."),
    client_id: str = typer.Option(None, help="MQTT client id, stable across restarts (default from host and group)."),
    state_dir: Path = typer.Option(None, help="Folder of the spill queue and dead letters (SQLite)."),
    batch_points: int = typer.Option(None, help="Points per InfluxDB write (default 5000)."),
    linger: float = typer.Option(None, help="Longest wait before a batch is written, s (default 0.1)."),
    health_interval: float = typer.Option(None, help="Period of the health series, s (default 10)."),
    gap_grace: float = typer.Option(None, help="Wait for late readings before a seq gap is reported, s (default 30)."),
    no_gaps: bool = typer.Option(False, "--no-gaps", help="No gap detection (all but one instance of a group)."),
    ownership: Path = typer.Option(None, help="YAML map node -> tags each node may report [env AISYM_INGEST_OWNERSHIP]."),
    max_ahead: float = typer.Option(None, help="Refuse timestamps more than this far ahead of arrival, s (default 300)."),
    dead_letter_max_bytes: int = typer.Option(None, help="Cap of the dead-letter table; oldest pruned (default 64 MiB)."),
    conflict_window: int = typer.Option(None, help="Seqs per node remembered to catch conflicting duplicates (16384)."),
    show_dead_letters: int = typer.Option(0, help="Print the N latest dead letters of --state-dir and exit."),
    spill_max_bytes: int = typer.Option(None, help="Cap of the spill queue; oldest batches deleted, counted (default 1 GiB)."),
    max_health_names: int = typer.Option(None, help="Distinct health counter names one node may report (default 512)."),
    replay_dead_letters: bool = typer.Option(
        False, "--replay-dead-letters", help="Write the telemetry kept whole in the dead letters that passes now, and exit."
    ),
    replay_node: str = typer.Option(None, help="With --replay-dead-letters: only this node's letters."),
    replay_shift_s: float = typer.Option(0.0, help="With --replay-dead-letters and --replay-node: move every reading's "
                                         "time by this many seconds first (a gateway's clock step, negated)."),
) -> None:
    """Ingest the park's telemetry, health and status from MQTT into InfluxDB (passwords from env or files)."""
    import logging
    import signal
    import threading

    from aisym.cli import view_or_exit
    from aisym.influx import InfluxError

    from .errors import ConfigError
    from .ingest import IngestConfig, Ingestor, Store

    if show_dead_letters:
        store = Store((state_dir or IngestConfig.state_dir) / "ingest.sqlite")
        counts = f"{store.dead_letter_count()} dead letters ({store.dead_bytes} bytes, {store.pruned_total()} pruned)"
        typer.echo(f"{counts}; spill queue {store.spill_depth()} (batches, points)")
        for d in store.dead_letters(show_dead_letters):
            size = f" [{d.size} bytes, sha256 {d.sha256[:16]}]" if d.truncated else ""
            typer.echo(f"#{d.id} {d.received_ms} {d.code} {d.topic} {d.field or '-'}: {d.reason}  {d.payload[:120]!r}{size}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if (replay_node or replay_shift_s) and not replay_dead_letters:
            raise ConfigError("--replay-node and --replay-shift-s need --replay-dead-letters")
        cfg = IngestConfig.from_env(
            park_file=park,
            mqtt_host=mqtt_host,
            mqtt_port=mqtt_port,
            mqtt_user=mqtt_user,
            mqtt_ca_file=ca_file,
            influx_url=influx_url,
            influx_db=influx_db,
            group=group,
            client_id=client_id,
            state_dir=state_dir,
            batch_points=batch_points,
            linger_s=linger,
            health_interval_s=health_interval,
            gap_grace_s=gap_grace,
            detect_gaps=False if no_gaps else None,
            ownership_file=ownership,
            max_ahead_s=max_ahead,
            dead_letter_max_bytes=dead_letter_max_bytes,
            conflict_window=conflict_window,
            spill_max_bytes=spill_max_bytes,
            max_health_names=max_health_names,
            mqtt_password="(a replay does not connect)" if replay_dead_letters else None,
        )
        if replay_dead_letters:
            from .ingest.replay import replay_with

            parsed = view_or_exit(park)  # v1 or v2
            try:
                res = replay_with(cfg, parsed, node=replay_node, shift_ms=round(replay_shift_s * 1000))
            except ValueError as e:
                raise ConfigError(str(e)) from None
            except InfluxError as e:  # the letters stay; nothing was deleted that InfluxDB did not take
                typer.echo(f"error: {cfg.influx_url}: {e} (the dead letters are kept; run it again)", err=True)
                raise typer.Exit(1) from None
            typer.echo(res.summary())
            return
        ing = Ingestor(cfg, view_or_exit(park))  # v1 or v2
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    ing.start()
    typer.echo(f"ingesting park {ing.park_id} as {cfg.client_id} (group {cfg.group}) into {cfg.influx_url}/{cfg.influx_db}")
    done.wait()
    ing.stop()


@dashboards_app.command("build")
def dashboards_build(
    park: Path = typer.Option(None, "--park", help="Park YAML (default: the shipped Kråkøya park)."),
    out: Path = typer.Option(
        None, help="Folder for the dashboard JSON and provisioning YAML (default: cloud/dashboards/generated in a "
        "source checkout, ./grafana on an installed package)."),
    database: str = typer.Option("aisym", help="InfluxDB database the datasource points at."),
    influx_url: str = typer.Option("http://127.0.0.1:8086", help="InfluxDB URL for the datasource provisioning."),
) -> None:
    """Generate the dashboards (JSON) and Grafana provisioning files (YAML)."""
    from aisym.cli import graph_or_exit

    from .dashboards import write_all

    written = write_all(graph_or_exit(park), out or _default_out(), database=database, influx_url=influx_url)
    for p in written:
        typer.echo(f"wrote {p}")


def _default_out() -> Path:
    """The source tree's generated folder, never an installed package's (site-packages is no place to write)."""
    installed = {"site-packages", "dist-packages"} & set(DEFAULT_OUT.parts)
    return Path("grafana") if installed else DEFAULT_OUT


@dashboards_app.command("push")
def dashboards_push(
    url: str = typer.Argument(..., help="Grafana base URL, e.g. http://grafana:3000"),
    token: str = typer.Option(None, envvar="AISYM_GRAFANA_TOKEN", help="Service-account token [env AISYM_GRAFANA_TOKEN]."),
    folder: Path = typer.Option(DEFAULT_OUT, help="Folder written by 'dashboards build'."),
    grafana_folder: str = typer.Option("AISYM", help="Grafana folder the dashboards go into."),
) -> None:
    """Upload the generated dashboards (and the InfluxDB datasource) to Grafana with a token."""
    from .dashboards.push import push
    from .errors import CloudError

    if not token:
        typer.echo("error: a token is required (--token or AISYM_GRAFANA_TOKEN)", err=True)
        raise typer.Exit(2)
    try:
        for line in push(url, token, folder, grafana_folder):
            typer.echo(line)
    except CloudError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


@dashboards_app.command("demo")
def dashboards_demo(
    influx_url: str = typer.Option(
        "http://127.0.0.1:8086", help="InfluxDB URL [env AISYM_INFLUX_URL].", envvar="AISYM_INFLUX_URL"
    ),
    database: str = typer.Option("aisym", help="Database to fill (created if missing)."),
    minutes: int = typer.Option(60, help="Minutes of demo data, ending now."),
    park: Path = typer.Option(None, "--park", help="Park YAML (default: the shipped Kråkøya park)."),
) -> None:
    """Write demo readings for every tag, and the ingestor's series, so every panel has data."""
    import time

    from aisym.cli import graph_or_exit
    from aisym.influx import InfluxError, InfluxV1

    from .dashboards.demo import demo_lines
    from .ingest.config import secret

    lines = demo_lines(graph_or_exit(park), time.time_ns() // 1_000_000, minutes=minutes)
    # InfluxDB runs with auth on: an account that may create and write the database (e.g. admin)
    db = InfluxV1(influx_url, database, os.environ.get("AISYM_INFLUX_USER"), secret("INFLUX_PASSWORD"))
    try:
        db.create_database()
        for i in range(0, len(lines), 5000):
            db.write(lines[i : i + 5000])
    except InfluxError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {len(lines)} points of demo data to {influx_url}/{database}")


def demo(
    park: Path = typer.Argument(None, help="Park file (default: the shipped Kråkøya park)."),
    out: Path = typer.Option(Path("demo-out"), help="Run folder: report, dashboards, logs, services."),
    hours: float = typer.Option(168.0, help="Simulated hours (a week: 168)."),
    speed: float = typer.Option(3600.0, help="Simulated seconds per wall second (3600: an hour per second)."),
    strategy: str = typer.Option(None, help="rule, mpc, mpc_perfect, mpc_learned (MPC on forecasts learned from "
                                "the series' past), "
                                "NAME=POLICY_FOLDER (default: the park's shipped policy, else rule)."),
    start: int = typer.Option(0, help="First hour of the year."),
    exo_seed: int = typer.Option(0, help="Seed of the weather and price year."),
    fault: list[str] = typer.Option(
        [], help="STEP:broker[:STEPS], STEP:gateway[:STEPS], STEP:ingest or STEP:device=ID:MODE[:STEPS]."),
) -> None:
    """Run the park in the loop (twin as devices, gateway, MQTT, InfluxDB, controller) and write its report."""
    from .demo.run import DemoConfig, Fault, run_demo

    try:
        faults = [Fault.parse(f) for f in fault]
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    from aisym.cli import graph_or_exit

    graph_or_exit(park)  # a bad park file: its file:line: field: why, exit 2, before anything starts
    cfg = DemoConfig(park, out, hours, speed, strategy, start, exo_seed, faults)
    try:
        d = run_demo(cfg)
    except KeyboardInterrupt:
        typer.echo(f"stopped; what was written is in {out}", err=True)
        raise typer.Exit(130) from None
    run = (d.out / "run.json")
    typer.echo(f"wrote {run}" + (f", {d.out / 'report.html'}" if (d.out / "report.html").exists() else "")
               + f" and {d.out / 'grafana'}")


def register(app: typer.Typer) -> None:
    from .controller.cli import control

    app.command("ingest")(ingest)
    app.command("control")(control)
    app.command("demo")(demo)
    app.add_typer(dashboards_app, name="dashboards")
