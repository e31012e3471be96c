"""``aisym control``: run the controller against a park's broker (passwords from env or files)."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import typer


def control(
    park: Path = typer.Argument(..., help="Park file (v1 or v2)."),
    gateway: list[Path] = typer.Option(..., help="Gateway config(s) whose setpoints.writes say which node writes which tag."),
    strategy: str = typer.Option("rule", help="rule, mpc, mpc_learned (MPC on learned forecasts), "
                                  "NAME=POLICY_FOLDER (ONNX) or module:Class."),
    plant_port: int = typer.Option(None, help="Follow a software plant's clock (its control port); default: the wall clock."),
    start: int = typer.Option(0, help="The plant's first step (as it was started)."),
    exo_seed: int = typer.Option(0, help="Seed of the park's generated series (as the plant's)."),
    stale_after: float = typer.Option(5.0, help="A level older than this (wall s) is stale: hold safe defaults."),
    steps: int = typer.Option(None, help="Stop after this many steps (default: run until Ctrl-C)."),
    mqtt_host: str = typer.Option("127.0.0.1", help="Broker host."),
    mqtt_port: int = typer.Option(1883, help="Broker port."),
    mqtt_user: str = typer.Option("controller", help="Broker account."),
    ca_file: Path = typer.Option(None, help="CA certificate: connect with TLS."),
    influx_url: str = typer.Option(None, help="InfluxDB URL (levels after a restart, controller_health)."),
    influx_db: str = typer.Option("aisym", help="InfluxDB database."),
    ownership: Path = typer.Option(None, help="The ingestor's ownership file (which node reports which tag); "
                                              "default: each --gateway config's node owns its devices' tags."),
) -> None:
    """Control the park: levels from telemetry, the strategy's setpoints to the gateways, acks tracked."""
    from aisym.influx import InfluxV1
    from aisym.park import load_view
    from aisym.yamlfile import DocumentError
    from cloud.errors import ConfigError
    from cloud.ingest.config import secret
    from cloud.ingest.ownership import load_ownership

    from .controller import Controller, MqttSettings, PlantClock, WallClock, gateway_writes, make_strategy
    from .trust import gateway_ownership

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        writes = gateway_writes(list(gateway))
        park_view = load_view(park)
        # levels only from the node that owns the tag: the ingestor's map, or the gateways' own tags
        owners = load_ownership(ownership, park_view) if ownership else gateway_ownership(gateway, park_view)
        strat = make_strategy(strategy, "")
    except (OSError, ValueError, DocumentError, ConfigError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    settings = MqttSettings(mqtt_host, mqtt_port, mqtt_user, secret("MQTT_PASSWORD") or "", ca_file)
    influx = None
    if influx_url:
        influx = InfluxV1(influx_url, influx_db, secret("INFLUX_USER") or None, secret("INFLUX_PASSWORD") or None)
    clock = PlantClock(plant_port, start) if plant_port else WallClock()
    try:
        ctl = Controller(park, writes, strat, settings, clock, influx=influx, exo_seed=exo_seed, stale_after_s=stale_after,
                         ownership=owners)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    signal.signal(signal.SIGTERM, lambda *_: ctl.stop())
    try:
        ctl.run(max_steps=steps)
    except KeyboardInterrupt:
        ctl.stop()
    c = ctl.counters
    typer.echo(f"{c.steps} steps, {c.commands} commands; setpoints: {c.setpoints_decided} decided, {c.setpoints_sent} "
               f"sent, {c.setpoints_held} held (gateway offline), {c.applied} applied, {c.rejected} rejected, {c.failed} "
               f"failed, {c.setpoints_timed_out} unacknowledged; {c.blind_steps} steps blind; "
               f"{sum(c.refused.values())} messages refused")
