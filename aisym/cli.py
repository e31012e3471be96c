"""The ``aisym`` command line. Each part of the platform registers its own commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from . import usererror
from .park import DEFAULT_PARK, ParkError, load_park

app = typer.Typer(
    name="aisym",
    help="AISYM: measure, test and schedule the flows of an industrial symbiosis park.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=usererror.UserErrorGroup,
)
park_app = typer.Typer(help="Check and show a park description.", no_args_is_help=True)
services_app = typer.Typer(help="Run Mosquitto and InfluxDB locally as plain processes.", no_args_is_help=True)
app.add_typer(park_app, name="park")
app.add_typer(services_app, name="services")

console = Console()
err = Console(stderr=True)

ParkFile = typer.Argument(None, help="Park YAML file (default: the shipped Kråkøya park).", show_default=False)


def load_or_exit(path: Path):
    """Load a park or print its error (no traceback) and exit with code 2."""
    try:
        return load_park(path)
    except ParkError as e:
        err.print(usererror.message(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _is_v2(path: Path | None) -> bool:
    import yaml

    try:
        data = yaml.safe_load(Path(path or DEFAULT_PARK).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("schema_version") == 2


def graph_or_exit(path: Path | None):
    """Load a park (v1 or v2) as a graph, or print its error and exit with code 2."""
    from .park.graph import load_graph

    try:
        return load_graph(path)
    except ParkError as e:
        err.print(usererror.message(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def view_or_exit(path: Path | None):
    """A park file (v1 or v2) as the edge and the cloud read it (:func:`aisym.park.load_view`), or
    its error printed (no traceback) and exit code 2."""
    from .park import load_view

    try:
        return load_view(path)
    except ParkError as e:
        err.print(usererror.message(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@park_app.command("validate")
def park_validate(path: Path = ParkFile) -> None:
    """Validate a park file (v1 or v2); exit 2 with each problem's file:line and field path."""
    if _is_v2(path):
        g = graph_or_exit(path)
        console.print(
            f"[green]ok[/green] {path or DEFAULT_PARK}: {len(g.doc.companies)} companies "
            f"({len(set(g.company_of.values()))} with assets), "
            f"{len(g.company_of)} assets, "
            f"{len(g.nodes)} components, {len(g.buses)} ports, {len(g.links)} exchanges, {len(g.tags)} tags"
        )
        for note in g.notes:
            console.print(f"  note: {note}", markup=False, highlight=False)
        return
    park = load_or_exit(path)
    graph_or_exit(path)  # the v2 twin must accept it too
    console.print(
        f"[green]ok[/green] {path}: {len(park.assets)} assets, {len(park.tags)} tags, "
        f"{len(park.exchanges)} exchanges"
    )


def _show_graph(g) -> None:
    from rich.table import Table

    info = g.doc.park
    where = ", ".join(x for x in (info.location, info.country, info.timezone) if x)
    console.print(f"[bold]{info.name}[/bold] ({g.id}, {g.currency}; {where}): {len(g.company_of)} assets, "
                  f"{len(g.links)} exchanges", highlight=False)
    if info.description:
        console.print(info.description, markup=False, highlight=False)
    companies = {c.id: c for c in g.doc.companies}
    assets = Table("company", "NACE", "location", "asset", "components", title="Assets")
    for a, c in g.company_of.items():
        comp = companies[c]
        assets.add_row(c, comp.nace, comp.location, a,
                       ", ".join(f"{n.key.split('.', 1)[1]} ({n.type})" for n in g.nodes if n.asset == a))
    for c in companies.values():  # companies described by their sector and flows alone (matchmaking)
        if c.id not in set(g.company_of.values()):
            flows = len(getattr(c, "outputs", None) or []) + len(getattr(c, "inputs", None) or [])
            assets.add_row(c.id, c.nace, c.location, "", f"{flows} flows for matchmaking, no assets")
    console.print(assets)
    from .park.summary import graph_tags

    console.print(graph_tags(g))
    links = Table("exchange", "from", "to", "carrier", "capacity", "control", title="Exchanges")
    from .park.graph import FLOW_UNITS

    for link in g.links:
        carrier = g.buses[link.src].carrier
        links.add_row(link.id, link.src, link.dst, carrier.label(), f"{link.capacity:,.6g} {FLOW_UNITS[carrier.resource]}",
                      "controllable" if link.controllable else "passive")
    console.print(links)
    for note in g.notes:
        console.print(f"note: {note}", markup=False, highlight=False)


@park_app.command("migrate")
def park_migrate(
    path: Path = ParkFile,
    out: Path = typer.Option(None, "--out", "-o", help="Write the v2 file here (default: print it)."),
) -> None:
    """Write a v1 park file in the v2 form (schema_version 2), checked by loading it back."""
    from .park.graph import migrate_text, parse_graph

    if _is_v2(path):
        err.print(f"{path or DEFAULT_PARK}: already a v2 park file (schema_version 2): nothing to migrate",
                  markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    park = load_or_exit(path)
    text = migrate_text(park, str(path))
    try:
        parse_graph(text, str(out or "<migrated>"))
    except ParkError as e:
        err.print(str(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if out is None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"[green]wrote[/green] {out}")


@park_app.command("show")
def park_show(path: Path = ParkFile) -> None:
    """Validate a park file and print its assets, tags and exchanges."""
    from .park.summary import print_summary

    if _is_v2(path):
        _show_graph(graph_or_exit(path))
        return
    park = load_or_exit(path)
    print_summary(park, str(path), console)


@services_app.command("up")
def services_up(
    folder: Path = typer.Option(Path(".aisym/services"), help="Config, data and logs go here."),
    park_file: Path = typer.Option(None, "--park", help="Park whose ACL to write."),
    node: list[str] = typer.Option(["gateway", "sensor-node"], help="Node accounts to create (repeat)."),
    mqtt_port: int = typer.Option(None, help="Plain MQTT port (default: a free one)."),
    influx_port: int = typer.Option(None, help="InfluxDB HTTP port (default: a free one)."),
    tls_only: bool = typer.Option(False, "--tls-only", help="No plain MQTT listener: every client must use TLS."),
    ingestors: int = typer.Option(1, min=1, help="Ingest accounts (ingest, ingest-2, ...): one per running ingestor."),
) -> None:
    """Start Mosquitto (password file, per-account ACL, TLS) and InfluxDB (auth on) on 127.0.0.1."""
    from .services import Stack

    park = view_or_exit(park_file)  # v1 or v2
    try:
        st = Stack(folder).up(park.park.id, node, mqtt_port, influx_port, tls_only=tls_only, ingestors=ingestors)
    except (FileNotFoundError, RuntimeError, TimeoutError, ValueError, OSError) as e:
        err.print(f"error: {e}", markup=False)
        raise typer.Exit(1) from None
    plain = f"mqtt://127.0.0.1:{st['mqtt_port']}  " if st.get("mqtt_port") else "(no plain listener)  "
    console.print(
        f"mosquitto  {plain}mqtts://127.0.0.1:{st['mqtt_tls_port']}  (pid {st['mosquitto_pid']}, CA {st['ca_file']})",
        markup=False,
    )
    iso = st.get("influx_isolation", "?")
    console.print(f"influxdb   {st['influx_url']}/{st['influx_db']}  (pid {st['influx_pid']}, auth on, behind the gate "
                  f"pid {st.get('influx_gate_pid')}; influxd {'in a private network' if iso == 'netns' else iso})",
                  markup=False)
    if iso != "netns":
        err.print("warning: influxd is not isolated: its backup port and API are reachable by local processes "
                  "(see docs/services.md)", markup=False)
    if st.get("repaired"):
        err.print(f"warning: a half-dead stack was stopped and started again: {', '.join(map(str, st['repaired']))}",
                  markup=False)
    console.print(f"accounts   {', '.join(st['users'])}  (passwords in {folder / 'state.json'})", markup=False)
    console.print(f"influx     {', '.join(st['influx_users'])}", markup=False)


@services_app.command("check")
def services_check(
    user: str = typer.Argument(..., help="Broker account."),
    topic: str = typer.Argument(..., help="Topic to publish to, or filter to subscribe to (with --subscribe)."),
    subscribe: bool = typer.Option(False, "--subscribe", help="Check a subscription instead of a publish."),
    folder: Path = typer.Option(Path(".aisym/services")),
) -> None:
    """Check a publish or subscription against the stack's ACL (the broker grants every SUBSCRIBE).

    Exit 0: allowed (all of the filter's topics delivered); 1: denied or only some topics delivered.
    """
    from .services.acl import check_subscribe, may_publish, parse_acl

    st = _stack_state(folder)
    acl_file = Path(st.get("acl_file") or folder / "mosquitto" / "acl")
    try:
        rules = parse_acl(acl_file.read_text())
    except (OSError, ValueError) as e:
        err.print(f"error: {acl_file}: {e}", markup=False)
        raise typer.Exit(2) from None
    if subscribe:
        got = check_subscribe(rules, user, topic)
        what = {"all": "delivers every topic", "some": "delivers only some topics", "none": "delivers nothing"}[got]
        console.print(f"subscribe {topic} as {user}: {what} (the broker grants it either way)", markup=False)
        raise typer.Exit(0 if got == "all" else 1)
    ok = may_publish(rules, user, topic)
    console.print(f"publish {topic} as {user}: {'allowed' if ok else 'refused (PUBACK 135 for MQTT v5)'}", markup=False)
    raise typer.Exit(0 if ok else 1)


def _stack_state(folder: Path) -> dict:
    from .services import Stack

    return Stack(folder).state() or {}


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
    from .services.stack import PROCESSES

    for key, name in PROCESSES.items():
        pid = st.get(key)
        console.print(f"{name:<14} pid {pid} {'running' if pid and pid_alive(pid) else 'stopped'}")
    console.print(json.dumps({k: v for k, v in st.items() if k not in ("users", "influx_users")}, indent=2))


# Parts of the platform add their commands here, with the commands each adds. A part whose
# dependencies are not installed (a Raspberry Pi has no numpy) is left out and named in --help
# with the extra that brings it; an import error inside our own packages is a bug and shows.
_PLUGINS = (
    ("edge.gateway.cli", ("gateway",)),
    ("edge.node.cli", ("node",)),
    ("cloud.cli", ("ingest", "control", "demo", "dashboards")),
    ("sim_env.cli", ("twin",)),
    ("sim_env.rl.cli", ("train", "export", "bench")),
    ("sim_env.match.cli", ("match",)),
    ("sim_env.plant.cli", ("plant", "plant-fault")),
    ("cloud.workbench.cli", ("workbench",)),
    ("cloud.forecast.cli", ("forecast",)),
)
usererror.load_plugins(app, _PLUGINS)

if __name__ == "__main__":
    app()
