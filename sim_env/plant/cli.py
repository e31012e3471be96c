"""``aisym plant PARK``: serve a park's twin as devices; ``aisym plant-fault``: make one fail."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import typer


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def plant(
    park: Path = typer.Argument(None, help="Park file, v1 or v2 (default: the shipped Kråkøya park).", show_default=False),
    speed: float = typer.Option(3600.0, help="Simulated seconds per wall second (3600: an hour per second)."),
    out: Path = typer.Option(Path("plant-out"), help="Folder for profiles, gateway.yaml, plant.json and the pty links."),
    rtu_asset: str = typer.Option(None, help="Asset whose devices join the RTU line (socat pty)."),
    opcua_asset: str = typer.Option(None, help="Asset served as an OPC UA server."),
    devices: str = typer.Option("auto", help="Gateway config naming shipped profiles ('auto': the sample for its park; "
                                             "'none': generate every profile)."),
    hold: float = typer.Option(None, min=0.0, max=1.0, help="Fraction at which actions no tag drives are held "
                                                             "(default: flares 0, valves and units 1)."),
    start: int = typer.Option(0, min=0, help="First step of the twin (hour of its year)."),
    seed: int = typer.Option(0, help="Seed of the generated weather and price year."),
    poll: float = typer.Option(1.0, min=0.01, help="Poll period written into gateway.yaml (wall seconds)."),
    restart: float = typer.Option(2.0, min=0.0, help="How long a restarting device is gone (wall seconds)."),
    control_port: int = typer.Option(0, help="Control socket port on 127.0.0.1 (0: a free one, see plant.json)."),
    steps: int = typer.Option(None, min=1, help="Stop after this many twin steps (default: run until Ctrl-C)."),
    node: str = typer.Option("gateway", help="Node account gateway.yaml publishes as (`aisym services up` makes "
                                              "'gateway')."),
    broker_port: int = typer.Option(None, min=1, max=65535, help="Broker port in gateway.yaml (default: the plain "
                                    "MQTT port of the local services in --services, else 1883)."),
    services: Path = typer.Option(Path(".aisym/services"), help="Local services folder (`aisym services up`) whose "
                                  "broker gateway.yaml points at."),
) -> None:
    """Serve PARK's twin as Modbus TCP, Modbus RTU and OPC UA devices, stepped by an accelerated clock."""
    import logging

    from aisym.park import ParkError
    from edge.profiles import ConfigError

    from .layout import LayoutError
    from .plant import Plant

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        broker = broker_section(services, node, broker_port)
        p = Plant(park, out, speed=speed, devices_file=None if devices == "none" else devices, rtu_asset=rtu_asset,
                  opcua_asset=opcua_asset, hold=hold, start=start, exo_seed=seed, poll_s=poll, restart_s=restart,
                  control_port=control_port, broker=broker)
    except (ParkError, ConfigError, LayoutError, ValueError) as e:
        _err(str(e))
        raise typer.Exit(2) from None

    def ready() -> None:
        d = p.describe()
        print(f"plant {d['park']}: {len(d['devices'])} devices, one step of {p.clock.dt_h:g} h every "
              f"{p.clock.period_s:g} s; control port {p.control_port}", flush=True)
        for dev in d["devices"]:
            where = dev.get("port") or dev.get("serial") or dev.get("url")
            print(f"  {dev['id']:<20} {dev['transport']:<6} {where} unit {dev.get('unit_id', '-')}", flush=True)
        b = broker
        print(f"gateway config: {d['gateway_config']} (broker {b['host']}:{b['port']}, node {b['username']}, "
              "password in $AISYM_MQTT_PASSWORD)", flush=True)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, p.stop)
        await p.run(ready, max_steps=steps)

    try:
        asyncio.run(main())
    except RuntimeError as e:  # a port that is not its device's own (PortTaken) included
        _err(str(e))
        raise typer.Exit(1) from None
    st = p.status()
    print(f"stopped after {st['steps']} steps ({st['sim_hours']:g} simulated h in {st['wall_s']:.1f} s)", flush=True)


def broker_section(services: Path, node: str, port: int | None) -> dict:
    """The broker section of the plant's gateway config: ``port`` if given, else the local services'
    broker when ``services/state.json`` names one (its TLS port and CA when it has no plain
    listener), else 127.0.0.1:1883."""
    section: dict = {"host": "127.0.0.1", "port": port or 1883, "username": node}
    if port is None:
        try:
            st = json.loads((services / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return section
        if st.get("mqtt_port"):
            section["port"] = int(st["mqtt_port"])
        elif st.get("mqtt_tls_port") and st.get("ca_file"):
            section |= {"port": int(st["mqtt_tls_port"]), "tls": {"ca_file": str(st["ca_file"])}}
    if not _known_account(services, node):
        print(f"note: the local services have no account {node!r} (`aisym services up --node {node}` creates it)",
              file=sys.stderr)
    return section


def _known_account(services: Path, node: str) -> bool:
    try:
        return node in json.loads((services / "state.json").read_text(encoding="utf-8")).get("users", {})
    except (OSError, ValueError):
        return True  # no local services: nothing to compare against


def plant_fault(
    device: str = typer.Argument(..., help="Device id (see plant.json)."),
    mode: str = typer.Argument(..., help="ok, silent, exception or restart."),
    out: Path = typer.Option(Path("plant-out"), help="The plant's --out folder (its plant.json names the control port)."),
) -> None:
    """Make one device of a running plant fail (or recover with 'ok')."""
    try:
        port = json.loads((out / "plant.json").read_text(encoding="utf-8"))["control_port"]
    except (OSError, ValueError, KeyError) as e:
        _err(f"{out / 'plant.json'}: cannot read the control port ({e}); is the plant running with --out {out}?")
        raise typer.Exit(2) from None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall((json.dumps({"cmd": "fault", "device": device, "mode": mode}) + "\n").encode())
            reply = json.loads(s.makefile().readline())
    except (OSError, ValueError) as e:
        _err(f"control port {port}: {e}")
        raise typer.Exit(1) from None
    if "error" in reply:
        _err(reply["error"])
        raise typer.Exit(2)
    print(json.dumps(reply))


def register(app: typer.Typer) -> None:
    """Add ``aisym plant`` and ``aisym plant-fault`` to the platform CLI."""
    app.command("plant")(plant)
    app.command("plant-fault")(plant_fault)
