"""``aisym control``: run the controller against a park's broker (passwords from env or files)."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import typer


def control(
    park: Path = typer.Argument(..., help="Park file (v1 or v2)."),
    gateway: list[Path] = typer.Option(..., help="Gateway config(s) whose setpoints.writes say which node writes which tag."),
    strategy: str = typer.Option("rule", help="rule, mpc, NAME=POLICY_FOLDER (ONNX) or module:Class."),
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
) -> None:
    """Control the park: levels from telemetry, the strategy's setpoints to the gateways, acks tracked."""
    from aisym.influx import InfluxV1
    from cloud.ingest.config import secret

    from .controller import Controller, MqttSettings, PlantClock, WallClock, gateway_writes, make_strategy

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        writes = gateway_writes(list(gateway))
        strat = make_strategy(strategy, "")
    except (OSError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    settings = MqttSettings(mqtt_host, mqtt_port, mqtt_user, secret("MQTT_PASSWORD") or "", ca_file)
    influx = None
    if influx_url:
        influx = InfluxV1(influx_url, influx_db, secret("INFLUX_USER") or None, secret("INFLUX_PASSWORD") or None)
    clock = PlantClock(plant_port, start) if plant_port else WallClock()
    try:
        ctl = Controller(park, writes, strat, settings, clock, influx=influx, exo_seed=exo_seed, stale_after_s=stale_after)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    signal.signal(signal.SIGTERM, lambda *_: ctl.stop())
    try:
        ctl.run(max_steps=steps)
    except KeyboardInterrupt:
        ctl.stop()
    c = ctl.counters
    typer.echo(f"{c.steps} steps, {c.commands} commands, {c.applied} setpoints applied, {c.rejected} rejected, "
               f"{c.failed} failed, {c.ack_timeouts} unacknowledged, {c.blind_steps} steps blind")
