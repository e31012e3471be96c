"""The ``aisym`` command line. Each part of the platform registers its own commands."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import typer
from rich.console import Console

from .park import DEFAULT_PARK, ParkError, load_park

app = typer.Typer(
    name="aisym",
    help="AISYM: measure, test and schedule the flows of an industrial symbiosis park.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
park_app = typer.Typer(help="Check and show a park description.", no_args_is_help=True)
services_app = typer.Typer(help="Run Mosquitto and InfluxDB locally as plain processes.", no_args_is_help=True)
app.add_typer(park_app, name="park")
app.add_typer(services_app, name="services")

console = Console()
err = Console(stderr=True)

ParkFile = typer.Argument(None, help="Park YAML file (default: the shipped Kråkøya park).", show_default=False)


def load_or_exit(path: Path | None):
    """Load a park or print its error (no traceback) and exit with code 2."""
    try:
        return load_park(path)
    except ParkError as e:
        err.print(str(e), markup=False, highlight=False)
        raise typer.Exit(2) from None


@park_app.command("validate")
def park_validate(path: Path = ParkFile) -> None:
    """Validate a park file; exit 2 with each problem's file:line and field path."""
    park = load_or_exit(path)
    console.print(
        f"[green]ok[/green] {path or DEFAULT_PARK}: {len(park.assets)} assets, {len(park.tags)} tags, "
        f"{len(park.exchanges)} exchanges"
    )


@park_app.command("show")
def park_show(path: Path = ParkFile) -> None:
    """Validate a park file and print its assets, tags and exchanges."""
    from .park.summary import print_summary

    park = load_or_exit(path)
    print_summary(park, str(path or DEFAULT_PARK), console)


@services_app.command("up")
def services_up(
    folder: Path = typer.Option(Path(".aisym/services"), help="Config, data and logs go here."),
    park_file: Path = typer.Option(None, "--park", help="Park whose ACL to write."),
    node: list[str] = typer.Option(["gateway", "sensor-node"], help="Node accounts to create (repeat)."),
    mqtt_port: int = typer.Option(None, help="Plain MQTT port (default: a free one)."),
    influx_port: int = typer.Option(None, help="InfluxDB HTTP port (default: a free one)."),
) -> None:
    """Start Mosquitto (password file, per-node ACL, TLS) and InfluxDB on 127.0.0.1."""
    from .services import Stack

    park = load_or_exit(park_file)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        st = Stack(folder).up(park.park.id, node, mqtt_port, influx_port)
    except (FileNotFoundError, RuntimeError, TimeoutError) as e:
        err.print(f"error: {e}", markup=False)
        raise typer.Exit(1) from None
    console.print(
        f"mosquitto  mqtt://127.0.0.1:{st['mqtt_port']}  mqtts://127.0.0.1:{st['mqtt_tls_port']}  "
        f"(pid {st['mosquitto_pid']}, CA {st['ca_file']})"
    )
    console.print(f"influxdb   {st['influx_url']}  (pid {st['influx_pid']})")
    console.print(f"accounts   {', '.join(st['users'])}  (passwords in {folder / 'state.json'})")


@services_app.command("down")
def services_down(folder: Path = typer.Option(Path(".aisym/services"))) -> None:
    """Stop the services started by ``up`` (by PID)."""
    from .services import Stack

    stopped = Stack(folder).down()
    console.print("stopped " + (", ".join(stopped) if stopped else "nothing (not running)"))


@services_app.command("status")
def services_status(folder: Path = typer.Option(Path(".aisym/services"))) -> None:
    """Print ports and PIDs of the local services, and whether they answer."""
    from .services import Stack
    from .services._proc import pid_alive

    st = Stack(folder).state()
    if not st:
        console.print("not started")
        raise typer.Exit(1)
    for name in ("mosquitto", "influx"):
        pid = st[f"{name}_pid"]
        console.print(f"{name:<10} pid {pid} {'running' if pid_alive(pid) else 'stopped'}")
    console.print(json.dumps({k: v for k, v in st.items() if k != "users"}, indent=2))


# Parts of the platform add their commands here; a module that is not there yet is skipped.
_PLUGINS = ("edge.gateway.cli", "edge.node.cli", "cloud.cli", "sim_env.cli", "sim_env.rl.cli")
for _mod in _PLUGINS:
    try:
        importlib.import_module(_mod).register(app)
    except ModuleNotFoundError as _e:
        if _e.name is None or not _mod.startswith(_e.name):
            raise

if __name__ == "__main__":
    app()
