"""Technician commands: ``aisym gateway scan | probe | validate | run``.

Heavy imports (pymodbus, paho, asyncua) stay inside the commands so ``aisym --help`` is fast.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

gateway_app = typer.Typer(help="Raspberry Pi gateway: find, probe and run Modbus/OPC UA devices.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

ConfigArg = typer.Argument(..., help="Gateway config YAML (see edge/gateway/sample.yaml).")


def register(app: typer.Typer) -> None:
    """Add the ``gateway`` command group to the ``aisym`` app."""
    app.add_typer(gateway_app, name="gateway")


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error as plain lines on stderr (never wrapped: each problem stays one line that
    grep and journald keep whole) and return the exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def _load(path: Path):
    from edge.profiles import ConfigError

    from .config import load_config

    try:
        return load_config(path)
    except (ConfigError, ValueError) as e:
        raise _fail(str(e)) from None


def format_value(reg, words) -> str:
    """A decoded value at full precision, in plain notation (250, never 2.5e+02): integers exactly
    (a counter of 12345678 is 12345678), float32 with the fewest digits that read back to the same
    float32, float64 as its shortest ``repr``, scaled integers with the decimals of their scale."""
    import struct

    from edge.profiles import decode, raw_value

    from .units import decimals_of

    value = decode(words, reg)
    if reg.type == "bit" or (reg.type != "float32" and reg.type != "float64" and _is_int(reg.scale) and _is_int(reg.offset)):
        return str(int(raw_value(words, reg)) * int(reg.scale) + int(reg.offset))
    if reg.type == "float32" and reg.scale == 1 and reg.offset == 0:
        for digits in range(1, 10):
            text = f"{value:.{digits}g}"
            if struct.unpack(">f", struct.pack(">f", float(text)))[0] == value:
                return _plain(text)
    if not reg.type.startswith("float"):
        places = [decimals_of(reg.scale), decimals_of(reg.offset)]
        if None not in places:
            return f"{value:.{max(places)}f}"  # type: ignore[type-var]
    return _plain(repr(value))


def _plain(text: str) -> str:
    """``2.5e+02`` -> ``250``, ``1e-07`` -> ``0.0000001``: a number as a technician reads it."""
    from decimal import Decimal

    return format(Decimal(text), "f")


def _is_int(x: float) -> bool:
    return float(x).is_integer()


def _bus(host: str | None, port: int, serial: str | None, baudrate: int, parity: str, timeout: float):
    from .config import SerialBus, TcpBus

    if (host is None) == (serial is None):
        err.print("give either --host or --serial")
        raise typer.Exit(2)
    if serial is not None:
        return SerialBus(type="serial", port=serial, baudrate=baudrate, parity=parity, timeout_s=timeout)  # type: ignore[arg-type]
    return TcpBus(type="tcp", host=host or "", port=port, timeout_s=timeout)


def _hosts(spec: str) -> list[str]:
    """``192.168.1.10-20`` -> the 11 addresses; a plain host name is itself."""
    if "-" in spec.rsplit(".", 1)[-1]:
        head, rng = spec.rsplit(".", 1)
        lo, hi = (int(x) for x in rng.split("-"))
        return [str(ipaddress.ip_address(f"{head}.{i}")) for i in range(lo, hi + 1)]
    return [spec]


def _units(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return [u for u in out if 1 <= u <= 247]


@gateway_app.command("validate")
def validate(config: Path = ConfigArg) -> None:
    """Check a config against the park and the device profiles; exit 2 naming each problem's line."""
    from edge.profiles import plan_reads

    r = _load(config)
    cfg = r.config
    table = Table(title=f"{config}: node {cfg.node}, park {cfg.park}")
    for col in ("device", "bus", "profile", "unit", "poll s", "tags", "requests/poll"):
        table.add_column(col)
    for dev in cfg.devices:
        prof = r.profile_of(dev)
        blocks = plan_reads([prof.register(v) for v in dev.tags], prof.max_block, prof.max_gap)
        table.add_row(dev.id, dev.bus, dev.profile, str(dev.unit_id), f"{dev.poll_s:g}", str(len(dev.tags)), str(len(blocks)))
    for ep in cfg.opcua:
        table.add_row(ep.id, ep.url, "OPC UA", "-", f"{ep.publishing_ms / 1000:g}", str(len(ep.nodes)), "subscription")
    console.print(table)
    writes = list(cfg.setpoints.writes) + [n.tag for ep in cfg.opcua for n in ep.nodes if n.writable]
    summary = f"{len(cfg.devices)} devices, {len(cfg.opcua)} OPC UA endpoints, setpoints: {', '.join(writes) or '-'}"
    console.print(f"[green]ok[/green]: {summary}")


@gateway_app.command("probe")
def probe(
    profile: str = typer.Option(..., help="Profile id (hardware/devices) or YAML file."),
    unit: int = typer.Option(1, help="Modbus unit id."),
    host: str = typer.Option(None, help="Modbus TCP host."),
    port: int = typer.Option(502, help="Modbus TCP port."),
    serial: str = typer.Option(None, help="Serial port of the RS485 adapter (/dev/ttyUSB0)."),
    baudrate: int = typer.Option(9600),
    parity: str = typer.Option("N"),
    timeout: float = typer.Option(1.0, help="Seconds per request."),
) -> None:
    """Read every value of a profile from one device and print value and quality."""
    from edge.profiles import ConfigError, load_profile, plan_reads, split_block

    from .modbus import DeviceError, Link

    try:
        prof = load_profile(profile)
    except ConfigError as e:
        raise _fail(str(e)) from None
    bus = _bus(host, port, serial, baudrate, parity, timeout)
    _quiet_pymodbus()

    async def go() -> list[tuple[str, str, str, str, str, str]]:
        link = Link(bus)
        rows: list[tuple[str, str, str, str, str, str]] = []
        try:
            for block in plan_reads(prof.registers, prof.max_block, prof.max_gap):
                try:
                    words = await link.read(block, unit)
                except DeviceError as e:
                    rows += [(r.name, f"{r.fc}:{r.address}", r.type, "", r.unit, f"comm_error ({e})") for r in block.registers]
                    continue
                for name, raw in split_block(block, words).items():
                    r = prof.register(name)
                    try:
                        rows.append((name, f"{r.fc}:{r.address}", r.type, format_value(r, raw), r.unit, "good"))
                    except ValueError as e:
                        rows.append((name, f"{r.fc}:{r.address}", r.type, "", r.unit, f"comm_error ({e})"))
        finally:
            link.close()
        return rows

    rows = asyncio.run(go())
    table = Table(title=f"{prof.manufacturer} {prof.model}, unit {unit}")
    for col in ("value name", "fc:address", "type", "value", "unit", "quality"):
        table.add_column(col, no_wrap=col != "quality")  # a number is never cut or folded
    for row in rows:
        table.add_row(*row, style=None if row[5] == "good" else "red")
    console.print(table)
    good = sum(1 for r in rows if r[5] == "good")
    console.print(f"{good}/{len(rows)} values good")
    if good == 0:
        raise typer.Exit(1)


@gateway_app.command("scan")
def scan(
    host: str = typer.Option(None, help="Modbus TCP host, or a range of the last octet: 192.168.1.10-20."),
    port: int = typer.Option(502),
    serial: str = typer.Option(None, help="Serial port of the RS485 adapter."),
    baudrate: int = typer.Option(9600),
    parity: str = typer.Option("N"),
    units: str = typer.Option("1-247", help="Unit ids to try: 1-10,20."),
    fc: int = typer.Option(3, help="Function code of the probe read (3 or 4)."),
    address: int = typer.Option(0, help="Register the probe reads."),
    timeout: float = typer.Option(0.2, help="Seconds to wait for each unit."),
) -> None:
    """Find which unit ids answer (with data or with a Modbus exception: both mean a device is there).

    Prints one line per unit tried (``answers``, ``present, refuses ...`` or ``no answer``) and a
    summary; pymodbus's own log lines are silenced, since each outcome is on its unit's line.
    """
    from edge.profiles import Block

    from .modbus import DeviceError, Link

    _quiet_pymodbus()
    ids = _units(units)
    targets = _hosts(host) if host else [None]

    async def go() -> tuple[int, int]:
        found = tried = 0
        for h in targets:
            where = h or serial
            link = Link(_bus(h, port, serial, baudrate, parity, timeout))
            block = Block(fc=fc, address=address, count=1, registers=())
            try:
                for u in ids:
                    tried += 1
                    try:
                        words = await link.read(block, u)
                        line = f"answers, register {address} = {words[0]}"
                    except DeviceError as e:
                        msg = str(e)
                        # exception 10/11 is a TCP gateway saying "no such device behind me"
                        if "exception code" in msg and not msg.endswith(("code 10", "code 11")):
                            line = f"present, refuses the probe read ({msg.split(': ', 1)[-1]})"
                        elif "cannot connect" in msg:
                            if h is None:  # the adapter itself cannot be opened: the user's to fix
                                raise SerialUnavailable(f"{where}: {msg}: no unit tried") from None
                            typer.echo(f"{where}: {msg}: units {units} not tried")
                            tried -= 1
                            break
                        else:
                            line = "no answer"
                    found += not line.startswith("no answer")
                    typer.echo(f"{where} unit {u}: {line}")
            finally:
                link.close()
        return found, tried

    try:
        found, tried = asyncio.run(go())
    except SerialUnavailable as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{found} of {tried} unit ids answered")
    if targets != [None] and not tried:
        raise typer.Exit(1)  # no host of the range could be reached at all


class SerialUnavailable(Exception):
    """The RS485 adapter named by --serial cannot be opened (missing, busy or not permitted)."""


def _quiet_pymodbus() -> None:
    """pymodbus logs every timeout (with its last frames, or a traceback) on stderr; the commands
    report each request's outcome themselves, one line each."""
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL + 1)


@gateway_app.command("run")
def run(
    config: Path = ConfigArg,
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING..."),
) -> None:
    """Run the gateway until SIGTERM (what the systemd unit starts)."""
    from edge.profiles import ConfigError

    from .gateway import serve

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    r = _load(config)
    try:
        r.check_secrets()  # before anything is created: no spool, no connection
    except ConfigError as e:
        raise _fail(str(e)) from None
    code = asyncio.run(serve(r))
    if code:
        raise typer.Exit(code)  # a task kept crashing: systemd sees a failed unit and restarts it
